import type { Complaint } from '../domain/complaint';
import { ComplaintSchema } from '../domain/complaint';
import { customerKey, deadlineShard } from '../domain/identifiers';
import { type ComplaintStatus, phaseOf } from '../domain/lifecycle';
import { nextDeadline } from '../domain/next-deadline';
import { type QueueItem, queuePosition } from './ports';
import { INDEXES } from './table-schema';
import { complaintPk, type Pending, packRecord, recordDocumentOf } from './timeline-items';

/**
 * The complaint record as a `C#<id>` / `META` item and back: its document and the attributes its
 * indexes and listings need, in one pure mapping so the index keys cannot disagree with the record
 * (docs/access-patterns.md).
 */

/** Department-queue key of a complaint without a lead department yet. */
export const UNROUTED = '_unrouted';

const META = 'META';

/** Partition prefix of the retention entries in gsi4 (its only entries). */
export const RETENTION_PARTITION_PREFIX = 'ERASE#';

/**
 * The complaint item with the attributes its indexes and listings need (one pure mapping, so the
 * index keys cannot disagree with the record).
 *
 * - gsi3 (customer index) only while the complaint is not erased: an erased complaint is no longer
 *   found by any customer key.
 * - gsi4 holds two sparse families of entries: `DUE#<shard>` for a complaint with something pending
 *   (the SLA sweep), and `ERASE#<shard>` ordered by the last change for a closed or rejected one
 *   whose personal data is still there (the retention run). The two never coexist on one item.
 */
export function complaintItem(
  c: Complaint,
  deadlineShards: number,
  pending?: Partial<Pending>,
): Record<string, unknown> {
  const next = nextDeadline(c);
  const nextDueAt = next?.dueAt;
  const department = c.assignment?.leadDepartment ?? UNROUTED;
  const item: Record<string, unknown> = {
    pk: complaintPk(c.id),
    sk: META,
    ...packRecord(c, pending),
    version: c.version,
    number: c.number,
    status: c.status,
    phase: phaseOf(c.status),
    channel: c.submission.channel,
    category: c.classification?.category,
    severity: c.classification?.severity,
    priority: c.classification?.priority,
    leadDepartment: c.assignment?.leadDepartment,
    assignee: c.assignment?.assignee,
    receivedAt: c.receivedAt,
    nextDueAt,
    fingerprint: c.fingerprint,
    [INDEXES.byDepartment.partitionKey]: `DEPT#${department}#${c.status}`,
    [INDEXES.byDepartment.sortKey]: queuePosition({ id: c.id, nextDueAt }),
  };
  if (c.erasure === undefined) {
    // Namespaced (#10): an anonymous claim of a customer id is indexed apart from verified ones.
    item[INDEXES.byCustomer.partitionKey] =
      `CUST#${customerKey(c.submission.customer.id, c.customerNamespace)}`;
    item[INDEXES.byCustomer.sortKey] = `${c.receivedAt}#${c.id}`;
  }
  if (c.assignment?.assignee !== undefined) {
    item[INDEXES.byAssignee.partitionKey] = `AGENT#${c.assignment.assignee}`;
    item[INDEXES.byAssignee.sortKey] = `${c.status}#${queuePosition({ id: c.id, nextDueAt })}`;
  }
  if ((c.status === 'closed' || c.status === 'rejected') && c.erasure === undefined) {
    // Sparse: closed or rejected complaints that still hold personal data, oldest change first (the
    // retention run). Written once when the complaint ends, so no other change moves it.
    item[INDEXES.retention.partitionKey] =
      `${RETENTION_PARTITION_PREFIX}${deadlineShard(c.id, deadlineShards)}`;
    item[INDEXES.retention.sortKey] = `${c.updatedAt}#${c.id}`;
  }
  return item;
}

/** The complaint record a `META` item holds, as stored (not validated). */
export const complaintOfItem = (item: Record<string, unknown>): unknown => recordDocumentOf(item)?.complaint;

/** The record as written: the update's timeline entries added to its count (policy.limits.maxTimelineEntries). */
export function withEntries(c: Complaint, entries: number): Complaint {
  if (entries === 0) return c;
  const usage = c.usage ?? { timelineEntries: 0, customerReplies: 0, recentReplies: [] };
  return { ...c, usage: { ...usage, timelineEntries: usage.timelineEntries + entries } };
}

export function fromItem(item: Record<string, unknown>): Complaint {
  return ComplaintSchema.parse(withCustomerNamespace(complaintOfItem(item)));
}

/**
 * Records stored before customer namespaces existed (#10) have none: a public-route one (source
 * `api`) was an anonymous claim, anything else came from an authenticated producer. Its index entry
 * moves to the anonymous namespace with its next write.
 */
function withCustomerNamespace(record: unknown): unknown {
  if (record === null || typeof record !== 'object' || 'customerNamespace' in record) return record;
  const source = (record as { source?: { system?: unknown } }).source;
  return source?.system === 'api' ? { ...record, customerNamespace: 'anonymous' } : record;
}

export function toQueueItem(i: Record<string, unknown>): QueueItem {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: String(i.pk).slice(2),
    number: String(i.number),
    status: i.status as ComplaintStatus,
    category: str(i.category),
    severity: str(i.severity),
    priority: typeof i.priority === 'number' ? i.priority : undefined,
    leadDepartment: str(i.leadDepartment),
    assignee: str(i.assignee),
    receivedAt: String(i.receivedAt),
    nextDueAt: str(i.nextDueAt),
    version: Number(i.version),
  };
}
