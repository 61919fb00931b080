import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { TimelineEntry } from '../storage/ports';
import type { Complaint } from './complaint';

/**
 * Erasure of a customer's personal data (PIPL art. 47, GDPR art. 17), pure.
 *
 * What is personal in a complaint: the customer id and contact reference, everything the customer
 * wrote (title, description, demand, scenario, target reference, evidence references, replies, the
 * survey comment), what the agents wrote about the case (proposal, resolution, approval note,
 * messages and notes on the timeline), the tracking-token hash, and the links to the customer's other
 * complaints (repeat and duplicate references). Erasure replaces the texts with {@link ERASED_TEXT} or
 * drops them, replaces the customer id with a fresh random pseudonym (no key, no hash: nothing links
 * it back to the customer or to the customer's other complaints) and keeps what the anonymous figures
 * need: channel, tier, category, severity, priority, department, statuses, times, clocks, score,
 * amount. The report facts and aggregates hold none of the personal fields and are never touched.
 *
 * Both redactions are idempotent: applying one to its own result changes nothing, so a resumed or
 * repeated erasure erases nothing twice.
 */

/** What replaces a required text that was erased. */
export const ERASED_TEXT = '[erased]';

/** The fingerprint of an erased complaint: carries no information about the text it came from. */
export const ERASED_FINGERPRINT = '0000000000000000';

/** Why an erasure was asked for: a category, never free text (it would invite personal data). */
export const ERASURE_REASONS = [
  /** The customer asked (PIPL art. 47, GDPR art. 17). */
  'customer_request',
  /** The customer withdrew consent. */
  'consent_withdrawn',
  /** A court or regulator ordered it. */
  'legal_order',
  /** The retention period after closing passed (the daily retention run). */
  'retention',
  'other',
] as const;
export const ErasureReasonSchema = z.enum(ERASURE_REASONS);
export type ErasureReason = z.infer<typeof ErasureReasonSchema>;

/** `POST /privacy/erasures`: whose data, and why (a category: `retention` is the schedule's own). */
export const ErasureRequestSchema = z
  .object({
    /** The customer's id in the company's systems, as complaints carry it. */
    customerId: z.string().min(1).max(128),
    reason: ErasureReasonSchema.exclude(['retention']),
  })
  .strict();
export type ErasureRequest = z.infer<typeof ErasureRequestSchema>;

/** Erasure ids are ULIDs. */
export const ERASURE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** What one erasure did, by kind of item: the only figures the audit record and the event carry. */
export const ERASURE_COUNTERS = [
  /** Complaint records redacted (and taken out of the customer and retention indexes). */
  'complaints',
  /** Timeline entries whose data (texts, replayable events) was removed. */
  'timelineEntries',
  /** Idempotency claims stripped of their request fingerprint and token. */
  'idempotencyClaims',
  /** Tracking pointers deleted: the customer's link no longer opens anything. */
  'trackingPointers',
  /** Customer directory entries deleted. */
  'customerDirectoryEntries',
] as const;
export type ErasureCounter = (typeof ERASURE_COUNTERS)[number];
export type ErasureCounts = Record<ErasureCounter, number>;

export const ErasureCountsSchema = z.object(
  Object.fromEntries(ERASURE_COUNTERS.map((c) => [c, z.number().int().min(0)])) as Record<
    ErasureCounter,
    z.ZodNumber
  >,
);

export function emptyCounts(): ErasureCounts {
  return Object.fromEntries(ERASURE_COUNTERS.map((c) => [c, 0])) as ErasureCounts;
}

/**
 * Which complaints an erasure covers, resolved without a scan:
 * - `customer`: the complaints found under these customer-index keys (`customerKeysFor`, gsi3);
 * - `retention`: the closed or rejected complaints whose retention index entry (gsi4 `ERASE#<shard>`)
 *   is at or before `closedBefore`.
 * A complaint leaves both indexes when it is redacted, so "what is still to do" is always what the
 * index returns: that is what makes the worker resumable without a cursor.
 */
export type ErasureScope =
  | { kind: 'customer'; customerKeys: string[] }
  | { kind: 'retention'; closedBefore: string };

export type ErasureStatus = 'running' | 'completed';

/** The audit record of one erasure (`ERASURE#<id>`): who, when, why, what. Never whose data. */
export interface ErasureRecord {
  erasureId: string;
  status: ErasureStatus;
  trigger: 'request' | 'retention';
  reason: ErasureReason;
  /** `admin:<id>` or `system:retention`. */
  requestedBy: string;
  requestedAt: string;
  completedAt?: string;
  erased: ErasureCounts;
  /** Only while running: how the worker finds the complaints still to do (removed on completion). */
  scope?: ErasureScope;
}

/** A fresh pseudonym for an erased customer id: random, so it links to nothing (not even the customer's other complaints). */
export function erasedCustomerId(random: () => Buffer = () => randomBytes(16)): string {
  return `erased:${random().toString('base64url')}`;
}

export function isErased(c: Pick<Complaint, 'erasure'>): boolean {
  return c.erasure !== undefined;
}

/**
 * The complaint with its personal data removed. Already erased: returned unchanged (idempotent). The
 * version is not bumped here: the store writes it conditionally like any other change.
 */
export function redactComplaint(
  c: Complaint,
  erasure: { erasureId: string; at: string; pseudonym: string },
): Complaint {
  if (isErased(c)) return c;
  const { submission } = c;
  const next: Complaint = {
    ...c,
    submission: {
      channel: submission.channel,
      customer: {
        id: erasure.pseudonym,
        ...(submission.customer.tier === undefined ? {} : { tier: submission.customer.tier }),
        ...(submission.customer.language === undefined ? {} : { language: submission.customer.language }),
      },
      description: ERASED_TEXT,
      evidence: [],
      ...(submission.occurredAt === undefined ? {} : { occurredAt: submission.occurredAt }),
      ...(submission.amount === undefined ? {} : { amount: submission.amount }),
      ...(submission.affectedUsers === undefined ? {} : { affectedUsers: submission.affectedUsers }),
    },
    fingerprint: ERASED_FINGERPRINT,
    erasure: { erasureId: erasure.erasureId, erasedAt: erasure.at },
  };
  delete next.trackingTokenHash;
  if (c.classification !== undefined) {
    const classification = {
      ...c.classification,
      repeat: { isRepeat: c.classification.repeat.isRepeat, previous: [] },
    };
    delete classification.duplicateOf;
    delete classification.duplicateOfNumber;
    next.classification = classification;
  }
  if (c.proposal !== undefined) {
    const proposal = { ...c.proposal, solution: ERASED_TEXT };
    if (proposal.approval !== undefined) {
      const approval = { ...proposal.approval };
      delete approval.note;
      proposal.approval = approval;
    }
    next.proposal = proposal;
  }
  if (c.resolution !== undefined) {
    next.resolution = { ...c.resolution, rootCause: ERASED_TEXT, solution: ERASED_TEXT };
  }
  if (c.survey !== undefined) {
    const survey = { ...c.survey };
    delete survey.comment;
    next.survey = survey;
  }
  return next;
}

/**
 * The timeline entry without personal data, or `undefined` when it holds none (nothing to rewrite).
 * `data` goes entirely: it holds the customer's replies, agents' messages and notes, and the
 * replayable events of the write (which carry the customer id, contact reference and rendered texts).
 * The summary is the service's own line; a quoted value in it (e.g. an unknown tier the caller sent)
 * is caller input and is replaced. Type, time and actor stay: the timeline still proves what happened
 * and when.
 */
export function redactTimelineEntry(entry: TimelineEntry): TimelineEntry | undefined {
  const summary = entry.summary.replace(QUOTED, () => `"${ERASED_TEXT}"`);
  if (entry.data === undefined && summary === entry.summary) return undefined;
  return { at: entry.at, type: entry.type, actor: entry.actor, summary };
}

/** A double-quoted value (pairs taken left to right; a redacted summary maps to itself). */
const QUOTED = /"[^"]*"/g;

const DAY_MS = 24 * 3600 * 1000;

/** Complaints closed or rejected before this moment are past the retention period at `now`. */
export function retentionCutoff(now: Date, retentionDays: number): string {
  return new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
}

/**
 * Whether the retention run may erase `c`: closed or rejected, not erased yet, and last changed (the
 * close or rejection, or a later write in that state) at or before the cutoff. Checked again on the
 * record itself, so a complaint reopened or contested since the index was read is left alone.
 */
export function isDueForRetention(c: Complaint, closedBefore: string): boolean {
  return (c.status === 'closed' || c.status === 'rejected') && !isErased(c) && c.updatedAt <= closedBefore;
}
