import type { Complaint } from '../domain/complaint';
import type { CustomerNamespace } from '../domain/identifiers';
import type { ComplaintPhase, ComplaintStatus } from '../domain/lifecycle';

/**
 * The storage port. Services depend on this interface, never on DynamoDB; the
 * adapter (`dynamodb-store.ts`) maps it onto the single table and its access
 * patterns (docs/access-patterns.md).
 */

/**
 * One append-only entry of a complaint's timeline. Never updated, never deleted — except once by an
 * erasure of personal data, which drops its `data` (docs/privacy.md).
 */
export interface TimelineEntry {
  at: string;
  /** What happened: received, classified, rejected, assigned, duplicate_submission, … */
  type: string;
  /** Who did it: `system:<function>`, `agent:<id>`, `customer`. */
  actor: string;
  /** A short human-readable line (no customer text). */
  summary: string;
  data?: Record<string, unknown>;
}

export interface TimelinePageOptions {
  limit: number;
  maxBytes: number;
  before?: string;
}

export interface TimelinePage {
  /** Oldest first. */
  entries: TimelineEntry[];
  /** Pass as `before` for the page of older entries; absent when there are none. */
  olderCursor?: string;
}

export interface NewComplaint {
  complaint: Complaint;
  /**
   * The idempotency claim's key: a keyed digest of the producer's scope and message id
   * (`shared/services/idempotency.ts`); the same key twice is the same producer message.
   */
  idempotencyKey: string;
  /** Keyed fingerprint of the request, stored with the claim (never the request or the token). */
  requestFingerprint: string;
  /** sha256 of the tracking token (the token itself is derived, never stored). */
  trackingTokenHash: string;
  timeline: TimelineEntry[];
  /**
   * Whether the idempotency record expires (TTL: 30 days after `receivedAt`; the default). The history
   * import passes `false`: its `receivedAt` lies in the past, and its keys must outlive every re-run.
   */
  idempotencyExpires?: boolean;
}

export type CreateResult =
  | { outcome: 'created' }
  /**
   * The idempotency key was claimed before: the complaint it was claimed for and the fingerprint of
   * the request that claimed it (absent on a claim written without one), for the caller to compare.
   */
  | { outcome: 'duplicate'; complaintId: string; requestFingerprint?: string }
  /** The random complaint number is taken (rare); retry with a new number. */
  | { outcome: 'number_taken' };

export interface ComplaintUpdate {
  /**
   * The new state of the record; its `version` must be `expectedVersion + 1`. The store adds the
   * update's timeline entries to `usage.timelineEntries` (callers check the cap before).
   */
  next: Complaint;
  expectedVersion: number;
  timeline: TimelineEntry[];
  /**
   * Changes to agents' open-complaint counters, applied in the same transaction.
   * With `capacity`, an increment is refused (as a conflict) when the agent is full.
   */
  agentLoadChanges?: Array<{ agentId: string; delta: number; capacity?: number }>;
  /** Timeline entries for other complaints (e.g. a duplicate submission noted on the original). */
  relatedTimeline?: Array<{ complaintId: string; entry: TimelineEntry }>;
}

export interface CustomerComplaintSummary {
  id: string;
  number: string;
  phase: ComplaintPhase;
  category?: string;
  receivedAt: string;
  fingerprint: string;
}

export interface QueueItem {
  id: string;
  number: string;
  status: ComplaintStatus;
  category?: string;
  severity?: string;
  priority?: number;
  leadDepartment?: string;
  assignee?: string;
  receivedAt: string;
  nextDueAt?: string;
  version: number;
}

/** Sort value of "no deadline" in a queue: after every ISO timestamp. */
export const NO_DUE = '9999-12-31T23:59:59.999Z';

/**
 * Where an item stands in every queue (department or assignee): `<nextDueAt>#<id>`, ordered as
 * strings. Queues are read *after* a position, never from a store key, so what a caller pages
 * with is a position the service sealed (shared/services/queue-listing.ts), not a raw key.
 */
export function queuePosition(item: { id: string; nextDueAt?: string }): string {
  return `${item.nextDueAt ?? NO_DUE}#${item.id}`;
}

/** One read of a queue. */
export interface QueuePage {
  /** In queue order, all after the position asked for. */
  items: QueueItem[];
  /**
   * Position of the last item the store evaluated, when more may follow (absent at the end). With
   * a filter it can lie beyond the last item returned: nothing between them matched.
   */
  next?: string;
}

export interface QueueRead {
  /** Items to evaluate (a filter may return fewer). */
  limit: number;
  /** Start strictly after this {@link queuePosition}; absent: from the start. */
  after?: string;
}

export interface DueDeadline {
  complaintId: string;
  dueAt: string;
  /** `deadline` (the record says which), or `handoff` (`shared/domain/handoff.ts`). */
  kind: string;
}

export class ConcurrencyConflictError extends Error {
  override name = 'ConcurrencyConflictError';
  constructor(
    readonly complaintId: string,
    readonly expectedVersion: number,
  ) {
    super(`Complaint ${complaintId} changed since version ${expectedVersion}`);
  }
}

/** `before` is not the `olderCursor` of a timeline page: 400. */
export class InvalidTimelineCursorError extends Error {
  override name = 'InvalidTimelineCursorError';
  constructor() {
    super('is not an olderCursor of this complaint; start again without it');
  }
}

export class ComplaintNotFoundError extends Error {
  override name = 'ComplaintNotFoundError';
  constructor(readonly complaintId: string) {
    super(`Complaint ${complaintId} not found`);
  }
}

/** Open complaints of one lead department (undefined: not routed yet) in one status: the backlog gauge. */
export interface BacklogGroup {
  readonly department?: string;
  readonly status: ComplaintStatus;
  readonly count: number;
  /** Receipt of the oldest complaint of the group (absent when the group is empty). */
  readonly oldestReceivedAt?: string;
}

/**
 * A customer's entry in the directory the service keeps (item `CUSTDIR#<customerKey>`): the tier a
 * trusted source gave the customer. `updatedAt` orders the writes (an older one never overwrites a
 * newer one); `source` is the CRM's event source or `admin:<id>`.
 */
export interface CustomerDirectoryEntry {
  tier: string;
  updatedAt: string;
  source: string;
}

/** `applied`: stored. `unchanged`: the same entry was already stored. `stale`: a newer (or equally new, different) entry is stored. */
export type DirectoryWriteOutcome = 'applied' | 'unchanged' | 'stale';

export interface ComplaintStore {
  create(input: NewComplaint): Promise<CreateResult>;
  get(id: string): Promise<Complaint | undefined>;
  getByNumber(number: string): Promise<Complaint | undefined>;
  getByTrackingTokenHash(hash: string): Promise<Complaint | undefined>;
  /** The id of the complaint an idempotency key was claimed for, if any (the history import checks before intake). */
  idempotencyTarget(idempotencyKey: string): Promise<string | undefined>;
  /** Conditional on `expectedVersion`; throws `ConcurrencyConflictError` when the record moved on. */
  update(update: ComplaintUpdate): Promise<void>;
  timeline(id: string): Promise<TimelineEntry[]>;
  /**
   * The newest timeline entries (oldest first) before `options.before` (a previous page's
   * `olderCursor`; throws {@link InvalidTimelineCursorError} for anything else), at most `limit`
   * of them and `maxBytes` of JSON (at least one): what the views show, so a response stays
   * bounded whatever a complaint accumulates.
   */
  timelinePage(id: string, options: TimelinePageOptions): Promise<TimelinePage>;
  /**
   * The customer's complaints received at or after `since`, newest first (repeat and duplicate
   * detection), in one namespace: an anonymous claim of a customer id never sees verified history.
   */
  recentByCustomer(
    customerId: string,
    since: string,
    namespace: CustomerNamespace,
  ): Promise<CustomerComplaintSummary[]>;
  /** The directory's entry for a (verified) customer id, if any. */
  customerDirectoryEntry(customerId: string): Promise<CustomerDirectoryEntry | undefined>;
  /** Stores the entry unless the stored one is at least as new (conditional on `updatedAt`). */
  putCustomerDirectoryEntry(
    customerId: string,
    entry: CustomerDirectoryEntry,
  ): Promise<{ outcome: DirectoryWriteOutcome; current: CustomerDirectoryEntry }>;
  /** Open-complaint counters of these agents (absent agents have 0). */
  agentLoads(agentIds: readonly string[]): Promise<Map<string, number>>;
  /** A department's queue in one status, nearest deadline first. */
  listByDepartment(department: string, status: ComplaintStatus, read: QueueRead): Promise<QueuePage>;
  /**
   * An agent's queue in one status, nearest deadline first. `leadDepartment` keeps only the items
   * led by that department, filtered inside the store: the others never reach the caller's process.
   */
  listByAssignee(
    agentId: string,
    status: ComplaintStatus,
    read: QueueRead & { leadDepartment?: string },
  ): Promise<QueuePage>;
  /**
   * What the backstop sweep must look at by `until`: complaints of these departments (and the not
   * yet routed ones) with a deadline due, and those still `received` past the hand-off grace (kind
   * `handoff`). Earliest first, at most `limit`.
   */
  dueForSweep(departments: readonly string[], until: string, limit: number): Promise<DueDeadline[]>;
  /**
   * Every open complaint counted per (lead department, status), with its oldest receipt: the
   * given departments and the not yet routed ones, one group per open status each.
   */
  openBacklog(departments: readonly string[]): Promise<BacklogGroup[]>;
}
