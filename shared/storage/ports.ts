import type { Complaint } from '../domain/complaint';
import type { ComplaintStatus } from '../domain/lifecycle';

/**
 * The storage port. Services depend on this interface, never on DynamoDB; the
 * adapter (`dynamodb-store.ts`) maps it onto the single table and its access
 * patterns (docs/access-patterns.md).
 */

/** One append-only entry of a complaint's timeline. Never updated, never deleted. */
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
  /** `<source system>#<producer message id>`: the same key twice is the same complaint. */
  idempotencyKey: string;
  trackingToken: string;
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
  /** The idempotency key was seen before: the existing complaint and the token it was given. */
  | { outcome: 'duplicate'; complaintId: string; trackingToken: string }
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
  status: ComplaintStatus;
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

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  cursor?: string;
}

export interface DueDeadline {
  complaintId: string;
  dueAt: string;
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
  /** The customer's complaints received at or after `since`, newest first (repeat and duplicate detection). */
  recentByCustomer(customerId: string, since: string): Promise<CustomerComplaintSummary[]>;
  /** Open-complaint counters of these agents (absent agents have 0). */
  agentLoads(agentIds: readonly string[]): Promise<Map<string, number>>;
  /** A department's queue in one status, nearest deadline first. */
  listByDepartment(
    department: string,
    status: ComplaintStatus,
    limit: number,
    cursor?: string,
  ): Promise<Page<QueueItem>>;
  /** An agent's queue, optionally in one status, nearest deadline first within a status. */
  listByAssignee(
    agentId: string,
    status: ComplaintStatus | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<QueueItem>>;
  /** Deadlines due at or before `until` in one shard of the sparse index (backstop sweep). */
  dueDeadlines(shard: number, until: string, limit: number): Promise<DueDeadline[]>;
  /**
   * Every open complaint counted per (lead department, status), with its oldest receipt: the
   * given departments and the not yet routed ones, one group per open status each.
   */
  openBacklog(departments: readonly string[]): Promise<BacklogGroup[]>;
}
