import type { AgentAction } from '../auth/authorization';
import { rejectionMessage } from '../domain/classification';
import type { Complaint, Deadline } from '../domain/complaint';
import type { ComplaintStatus } from '../domain/lifecycle';
import type { Policy } from '../policy/schema';
import type { Language } from '../policy/vocabulary';
import type { QueueItem, TimelineEntry } from '../storage/ports';
import {
  type AgentComplaintView,
  type CustomerView,
  PUBLIC_STEPS,
  type PublicStatus,
  type PublicStep,
  type QueueItemView,
} from './schemas';

/**
 * What each audience is shown of a complaint. Pure functions from the stored record
 * and timeline to the response shapes of `shared/api/schemas.ts`.
 *
 * The customer view is built by *allow-listing*: only named fields and the public
 * step types are copied, never the record or a timeline entry as a whole, so a field
 * added to the record later (an internal note, an agent id, classification keywords,
 * clock internals) cannot leak to the tracking page by default.
 */

/** Timeline `data` keys the action services use for their own bookkeeping (replay of a lost response). */
export const TIMELINE_OUTBOX_KEY = 'outbox';
export const TIMELINE_REQUEST_KEY = 'requestId';
const BOOKKEEPING = new Set([TIMELINE_OUTBOX_KEY, TIMELINE_REQUEST_KEY]);

export function toQueueItemView(item: QueueItem, now: Date): QueueItemView {
  return {
    ...item,
    overdue: item.nextDueAt !== undefined && Date.parse(item.nextDueAt) < now.getTime(),
  };
}

/** The agent's view: everything but storage internals (token hash, fingerprint, timer map). */
export function toAgentView(
  c: Complaint,
  timeline: readonly TimelineEntry[],
  allowedActions: readonly AgentAction[],
): AgentComplaintView {
  const { trackingTokenHash: _hash, fingerprint: _fingerprint, timers: _timers, deadlines, ...rest } = c;
  return {
    ...rest,
    clocks: deadlines,
    clockLog: c.clockLog,
    timeline: timeline.map(agentTimelineEntry),
    allowedActions: [...allowedActions],
  };
}

function agentTimelineEntry(entry: TimelineEntry): TimelineEntry {
  if (entry.data === undefined) return entry;
  const data = Object.fromEntries(Object.entries(entry.data).filter(([key]) => !BOOKKEEPING.has(key)));
  return { ...entry, data };
}

const PUBLIC_STATUS: Record<ComplaintStatus, PublicStatus> = {
  received: 'received',
  classified: 'received',
  rejected: 'rejected',
  assigned: 'in_progress',
  in_progress: 'in_progress',
  pending_approval: 'in_progress',
  waiting_on_customer: 'waiting_on_customer',
  resolved: 'resolved',
  reopened: 'reopened',
  closed: 'closed',
};

/** Internal states (classification, approval) are folded into what the customer can act on. */
export function publicStatus(status: ComplaintStatus): PublicStatus {
  return PUBLIC_STATUS[status];
}

const STEP_LABELS: Record<PublicStep, Record<Language, string>> = {
  received: { zh: '已受理', en: 'Received' },
  classified: { zh: '已分类', en: 'Reviewed' },
  rejected: { zh: '未予受理', en: 'Not accepted' },
  assigned: { zh: '已分派专人处理', en: 'Assigned to a specialist' },
  acknowledged: { zh: '处理人员已接手', en: 'Being handled' },
  responded: { zh: '已答复', en: 'We replied' },
  info_requested: { zh: '需要您补充信息', en: 'We asked you for information' },
  customer_replied: { zh: '您已回复', en: 'You replied' },
  resolved: { zh: '已解决', en: 'Resolved' },
  reopened: { zh: '已重新处理', en: 'Reopened' },
  closed: { zh: '已结案', en: 'Closed' },
};

const MESSAGE_KINDS: Partial<
  Record<string, { from: 'agent' | 'customer'; kind: 'message' | 'info_request' | 'reply' }>
> = {
  responded: { from: 'agent', kind: 'message' },
  info_requested: { from: 'agent', kind: 'info_request' },
  customer_replied: { from: 'customer', kind: 'reply' },
};

function isPublicStep(type: string): type is PublicStep {
  return (PUBLIC_STEPS as readonly string[]).includes(type);
}

/** A clock the customer can still expect to be met: running, or already late but not yet met. */
function pending(d: Deadline | undefined): d is Deadline {
  return d !== undefined && (d.state === 'running' || d.state === 'breached');
}

const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * The customer's tracking page: status, public steps with times, the expected times
 * still ahead, the messages exchanged, and the outcome. Never internal notes, agent
 * ids, other customers, classification details or clock internals.
 */
export function toCustomerView(
  c: Complaint,
  timeline: readonly TimelineEntry[],
  policy: Policy,
  now: Date,
): CustomerView {
  const language = c.language;
  const view: CustomerView = {
    number: c.number,
    status: publicStatus(c.status),
    language,
    receivedAt: c.receivedAt,
    steps: [],
    expected: {},
    messages: [],
    canReply: c.status !== 'closed' && c.status !== 'rejected',
  };
  const classification = c.classification;
  if (classification?.validity === 'valid') {
    const category = policy.categories.find((k) => k.id === classification.category);
    if (category !== undefined) view.category = category.name[language];
  }
  for (const entry of timeline) {
    if (isPublicStep(entry.type)) {
      view.steps.push({ step: entry.type, at: entry.at, label: STEP_LABELS[entry.type][language] });
    }
    const message = MESSAGE_KINDS[entry.type];
    const text = entry.data?.message;
    if (message !== undefined && typeof text === 'string') {
      view.messages.push({ at: entry.at, from: message.from, kind: message.kind, text });
    }
  }
  const open = c.status !== 'resolved' && c.status !== 'closed' && c.status !== 'rejected';
  if (open) {
    const first = c.deadlines.firstResponse;
    // Never show an earlier time than the one promised in the acknowledgement.
    if (pending(first)) view.expected.firstResponseBy = later(first.dueAt, c.promisedResponseBy);
    else if (first === undefined && c.work.firstResponseAt === undefined) {
      view.expected.firstResponseBy = c.promisedResponseBy;
    }
    const resolution = c.deadlines.resolution;
    if (pending(resolution)) view.expected.resolutionBy = resolution.dueAt;
  }
  if (c.resolution !== undefined && (c.status === 'resolved' || c.status === 'closed')) {
    view.resolution = { solution: c.resolution.solution, resolvedAt: c.resolution.resolvedAt };
    if (c.resolution.compensation !== undefined) view.resolution.compensation = c.resolution.compensation;
  }
  if (c.status === 'rejected' && classification !== undefined && classification.validity !== 'valid') {
    view.rejection = {
      reason: rejectionMessage(policy, classification.validity, language, {
        number: classification.duplicateOfNumber ?? c.number,
      }),
    };
  }
  const survey = c.survey;
  if (survey !== undefined && (c.status === 'resolved' || c.status === 'closed')) {
    const windowOver = survey.closesAt !== undefined && Date.parse(survey.closesAt) < now.getTime();
    view.survey = {
      canAnswer: c.status === 'resolved' && survey.answeredAt === undefined && !windowOver,
      answered: survey.answeredAt !== undefined,
    };
    if (survey.score !== undefined) view.survey.score = survey.score;
  }
  return view;
}
