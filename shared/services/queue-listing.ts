import * as z from 'zod';
import type { QueueItemView } from '../api/schemas';
import { toQueueItemView } from '../api/views';
import { authorizeList } from '../auth/authorization';
import type { Principal } from '../auth/principal';
import type { ComplaintStatus } from '../domain/lifecycle';
import { openCursor, SealedCursorError, sealCursor } from '../security/sealed-cursor';
import { type QueueItem, type QueuePage, type QueueRead, queuePosition } from '../storage/ports';
import { ComplaintAccessError, RequestValidationError } from './actions';
import type { ServiceContext } from './context';

/** The statuses a queue shows by default: every status an owned complaint can be in. */
export const QUEUE_STATUSES: readonly ComplaintStatus[] = [
  'assigned',
  'in_progress',
  'waiting_on_customer',
  'pending_approval',
  'reopened',
];

export interface QueueQuery {
  statuses?: readonly ComplaintStatus[];
  department?: string;
  assignee?: string;
  overdue?: boolean;
  limit: number;
  cursor?: string;
}

/** The cursor is not one this service sealed for this caller and query, is damaged or expired: 400. */
export class InvalidQueueCursorError extends RequestValidationError {
  override name = 'InvalidQueueCursorError';
  constructor(reason: string) {
    super([{ field: 'cursor', reason }]);
  }
}

/** One queue the listing reads: a (department, status) or (agent, status) partition of an index. */
type QueueSource = (read: QueueRead) => Promise<QueuePage>;

/** What a sealed queue cursor holds: the position the next page starts after. Nothing else. */
const CursorPayloadSchema = z.object({ a: z.string().min(1).max(200) }).strict();

/** Reads per source and page; bounded so a run of items the caller may not see cannot loop long. */
const MAX_READS_PER_SOURCE = 10;
/** Items per store read. */
const MAX_STORE_PAGE = 100;

/**
 * A work queue, nearest deadline first. The store keeps one queue per (department,
 * status) and per (agent, status), each sorted by {@link queuePosition} (next deadline,
 * then id); a query over several statuses (or, for an admin, all departments) reads each
 * of those queues and merges them.
 *
 * Authorized before anything is read (`authorizeList`): a refused listing costs no read.
 * Paging is by position, never by store key: each queue is read *after* the position of
 * the last item of the previous page, and the cursor the caller gets is that position
 * sealed ({@link sealCursor}) for this caller and this query, so it reveals nothing and
 * opens for no one else. A page never goes past the point up to which every queue was
 * read (its horizon), so paging neither skips nor repeats items; when a queue yields
 * nothing visible for a while (an agent's queue filtered to the caller's department),
 * the cursor moves to the horizon, so every page makes progress.
 *
 * `overdue` keeps the items whose next deadline has passed: a prefix of every sorted
 * queue, so the listing stops at the first item that is not overdue.
 */
export async function listQueue(
  ctx: ServiceContext,
  principal: Principal,
  query: QueueQuery,
): Promise<{ items: QueueItemView[]; cursor?: string }> {
  const roster = ctx.policy.routing.departments;
  const decision = authorizeList(
    principal,
    { department: query.department, assignee: query.assignee },
    roster,
  );
  if (!decision.allow) throw new ComplaintAccessError(403, decision.reason);
  const known = roster.map((d) => d.id);
  if (query.department !== undefined && !known.includes(query.department)) {
    throw new RequestValidationError([
      { field: 'department', reason: `unknown department "${query.department}"` },
    ]);
  }
  const departments = decision.departments === 'all' ? known : decision.departments;
  const statuses = query.statuses ?? QUEUE_STATUSES;
  const assignee = query.assignee;
  // The store filters an agent's queue to the one department the caller may see…
  const leadDepartment = decision.departments === 'all' ? undefined : departments[0];
  const sources: QueueSource[] =
    assignee === undefined
      ? departments.flatMap((department) =>
          statuses.map((status) => (read: QueueRead) => ctx.store.listByDepartment(department, status, read)),
        )
      : statuses.map(
          (status) => (read: QueueRead) =>
            ctx.store.listByAssignee(assignee, status, {
              ...read,
              ...(leadDepartment === undefined ? {} : { leadDepartment }),
            }),
        );
  // …and this is the second line of defence: nothing led by another department is ever shown.
  const shown = (item: QueueItem) =>
    decision.departments === 'all' ||
    (item.leadDepartment !== undefined && departments.includes(item.leadDepartment));

  const now = ctx.now();
  const binding = {
    principal: JSON.stringify([principal.id, principal.role, principal.department ?? null]),
    query: JSON.stringify([
      query.department ?? null,
      assignee ?? null,
      [...statuses].sort(),
      query.overdue === true,
    ]),
  };
  const after =
    query.cursor === undefined ? undefined : await openQueueCursor(ctx, binding, query.cursor, now);

  const reads = await Promise.all(sources.map((source) => readSource(source, after, shown, query.limit)));
  // Every queue was read up to its horizon: only items up to the lowest one can be ordered.
  const horizon = reads
    .map((r) => r.horizon)
    .filter((h): h is string => h !== undefined)
    .reduce<string | undefined>((low, h) => (low === undefined || h < low ? h : low), undefined);
  const candidates = reads
    .flatMap((r) => r.items)
    .map((item) => ({ item, position: queuePosition(item) }))
    .filter((c) => horizon === undefined || c.position <= horizon)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));

  const nowIso = now.toISOString();
  const result: QueueItemView[] = [];
  let last: string | undefined;
  let cut = false;
  let moreAfterPage = false;
  for (const { item, position } of candidates) {
    if (query.overdue === true && !(item.nextDueAt !== undefined && item.nextDueAt < nowIso)) {
      // Sorted by due time: nothing after the first item that is not overdue is overdue.
      cut = true;
      break;
    }
    if (!shown(item)) continue;
    if (result.length === query.limit) {
      moreAfterPage = true;
      break;
    }
    result.push(toQueueItemView(item, now));
    last = position;
  }
  const next = cut ? undefined : moreAfterPage ? last : horizon;
  if (next === undefined) return { items: result };
  const key = await ctx.keys.key('cursor');
  return { items: result, cursor: sealCursor(key, binding, { a: next }, now) };
}

/** Reads one queue after `after` until it yields `limit` items the caller may see, ends, or the read budget is spent. */
async function readSource(
  source: QueueSource,
  after: string | undefined,
  shown: (item: QueueItem) => boolean,
  limit: number,
): Promise<{ items: QueueItem[]; horizon?: string }> {
  const items: QueueItem[] = [];
  let position = after;
  let visible = 0;
  for (let read = 0; read < MAX_READS_PER_SOURCE; read++) {
    const page = await source({
      limit: Math.min(MAX_STORE_PAGE, limit - visible),
      ...(position === undefined ? {} : { after: position }),
    });
    items.push(...page.items);
    visible += page.items.filter(shown).length;
    if (page.next === undefined) return { items };
    position = page.next;
    if (visible >= limit) break;
  }
  return { items, horizon: position };
}

export async function openQueueCursor(
  ctx: ServiceContext,
  binding: { principal: string; query: string },
  cursor: string,
  now: Date,
): Promise<string> {
  const key = await ctx.keys.key('cursor');
  let payload: unknown;
  try {
    payload = openCursor(key, binding, cursor, now);
  } catch (error) {
    if (error instanceof SealedCursorError) throw new InvalidQueueCursorError(error.reason);
    throw error;
  }
  const parsed = CursorPayloadSchema.safeParse(payload);
  // Authentic but not a queue position: sealed by another listing of this service.
  if (!parsed.success) throw new InvalidQueueCursorError(new SealedCursorError('not-valid').reason);
  return parsed.data.a;
}
