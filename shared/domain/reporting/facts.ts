/**
 * What the reports know about one complaint: the **facts** distilled from its lifecycle events.
 *
 * `mergeEvent` folds one event into the facts so that the result does not depend on how often or in
 * which order events arrive (at-least-once delivery, replays, out-of-order queues):
 * - values that happen once are set from their event (a duplicate sets the same value);
 * - "first" times keep the earliest (`acknowledgedAt`, `firstResponseAt`, a clock's breach);
 * - values that change over time (classification, department) keep the one with the latest
 *   `occurredAt` (ties broken by event id): last writer wins, whatever the arrival order;
 * - repeatable happenings (resolutions, reopenings, escalations, survey answers) are maps keyed by
 *   the event's deterministic id, so a duplicate overwrites itself.
 * The merge is therefore idempotent and commutative; aggregates are a pure function of the facts
 * (`contributions.ts`), which is what keeps them exact.
 */

export const CLOCKS = ['acknowledge', 'firstResponse', 'resolution'] as const;
export type ClockName = (typeof CLOCKS)[number];

/** A lifecycle event as it arrives from the bus (the envelope's detail-type and the versioned detail). */
export interface LifecycleEvent {
  detailType: string;
  detail: {
    metadata: { eventId: string; occurredAt: string };
    data: Record<string, unknown> & { complaintId: string };
  };
}

interface Versioned {
  /** `occurredAt` of the event that set it, for last-writer-wins. */
  at: string;
  eventId: string;
}

export interface ComplaintFacts {
  complaintId: string;
  received?: { at: string; channel: string; tier: string; sourceSystem?: string };
  rejected?: { at: string; verdict: string };
  /** Set once, by the first classification. */
  isRepeat?: boolean;
  classification?: Versioned & { category: string; severity: string };
  assignment?: Versioned & { department: string; assignee?: string };
  acknowledgedAt?: string;
  firstResponseAt?: string;
  /** The agent asked the customer for information at least once. */
  infoRequested?: boolean;
  resolutions: Record<string, string>;
  reopenings: Record<string, string>;
  closedAt?: string;
  /** When each clock was first breached. */
  breaches: Partial<Record<ClockName, string>>;
  escalations: Record<string, { level: number; at: string }>;
  surveys: Record<string, { score: number; at: string }>;
}

export function emptyFacts(complaintId: string): ComplaintFacts {
  return { complaintId, resolutions: {}, reopenings: {}, breaches: {}, escalations: {}, surveys: {} };
}

/** The detail-types the reports read (the aggregator's rule subscribes to exactly these). */
export const REPORTED_DETAIL_TYPES = [
  'Complaint Received',
  'Complaint Rejected',
  'Complaint Classified',
  'Complaint Reclassified',
  'Complaint Assigned',
  'Complaint Reassigned',
  'Complaint Acknowledged',
  'Complaint Responded',
  'Complaint Info Requested',
  'Complaint Resolved',
  'Complaint Reopened',
  'Complaint Closed',
  'Complaint SLA Breached',
  'Complaint Escalated',
  'Survey Answered',
] as const;

const earliest = (a: string | undefined, b: string): string => (a === undefined || b < a ? b : a);
const newer = (current: Versioned | undefined, at: string, eventId: string): boolean =>
  current === undefined || at > current.at || (at === current.at && eventId > current.eventId);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Folds one event into the facts (a new object; `facts` is not changed). Unknown events change nothing. */
export function mergeEvent(facts: ComplaintFacts, event: LifecycleEvent): ComplaintFacts {
  const { eventId, occurredAt } = event.detail.metadata;
  const data = event.detail.data;
  const at = toUtc(occurredAt);
  const next: ComplaintFacts = structuredClone(facts);
  switch (event.detailType) {
    case 'Complaint Received':
      next.received = {
        at: toUtc(str(data.receivedAt) ?? occurredAt),
        channel: str(data.channel) ?? 'unknown',
        tier: str(data.tier) ?? 'standard',
        ...(str(data.sourceSystem) ? { sourceSystem: str(data.sourceSystem) as string } : {}),
      };
      break;
    case 'Complaint Rejected':
      next.rejected = { at, verdict: str(data.verdict) ?? 'invalid' };
      break;
    case 'Complaint Classified':
    case 'Complaint Reclassified': {
      if (event.detailType === 'Complaint Classified' && typeof data.isRepeat === 'boolean') {
        next.isRepeat = data.isRepeat;
      }
      const category = str(data.category);
      const severity = str(data.severity);
      if (category && severity && newer(next.classification, at, eventId)) {
        next.classification = { at, eventId, category, severity };
      }
      break;
    }
    case 'Complaint Assigned':
    case 'Complaint Reassigned': {
      const department = str(data.leadDepartment);
      if (department && newer(next.assignment, at, eventId)) {
        const assignee = str(data.assignee);
        next.assignment = { at, eventId, department, ...(assignee ? { assignee } : {}) };
      }
      break;
    }
    case 'Complaint Acknowledged':
      next.acknowledgedAt = earliest(next.acknowledgedAt, at);
      break;
    case 'Complaint Responded':
      // A reply meets the acknowledgement too, when none came before (as the agent API's respond).
      next.firstResponseAt = earliest(next.firstResponseAt, at);
      next.acknowledgedAt = earliest(next.acknowledgedAt, at);
      break;
    case 'Complaint Info Requested':
      // An info request counts as the first response (and as the acknowledgement, when none came before).
      next.firstResponseAt = earliest(next.firstResponseAt, at);
      next.acknowledgedAt = earliest(next.acknowledgedAt, at);
      next.infoRequested = true;
      break;
    case 'Complaint Resolved':
      next.resolutions[eventId] = at;
      break;
    case 'Complaint Reopened':
      next.reopenings[eventId] = at;
      break;
    case 'Complaint Closed':
      next.closedAt = earliest(next.closedAt, at);
      break;
    case 'Complaint SLA Breached': {
      const clock = str(data.clock) as ClockName | undefined;
      if (clock && (CLOCKS as readonly string[]).includes(clock)) {
        next.breaches[clock] = earliest(next.breaches[clock], at);
      }
      break;
    }
    case 'Complaint Escalated':
      if (typeof data.level === 'number') next.escalations[eventId] = { level: data.level, at };
      break;
    case 'Survey Answered':
      if (typeof data.score === 'number') next.surveys[eventId] = { score: data.score, at };
      break;
    default:
      return facts;
  }
  return next;
}

/** ISO timestamp in UTC with milliseconds, so string order is time order. */
export function toUtc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`Not a timestamp: ${iso}`);
  return new Date(ms).toISOString();
}

/** Whether two fact records are the same (after a merge: did the event change anything?). */
export function sameFacts(a: ComplaintFacts, b: ComplaintFacts): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
