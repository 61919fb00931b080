import type { QueueItemView } from '../api/schemas';
import { toQueueItemView } from '../api/views';
import { authorizeComplaint } from '../auth/authorization';
import type { Principal } from '../auth/principal';
import type { Complaint } from '../domain/complaint';
import { nextDeadline } from '../domain/next-deadline';
import { sealCursor } from '../security/sealed-cursor';
import type { QueueItem } from '../storage/ports';
import { scopeOf } from './actions';
import type { ServiceContext } from './context';
import { openQueueCursor } from './queue-listing';

/**
 * Finding a complaint by what a caller has: its number (`GET /complaints?number=`) or the customer's
 * id (`?customer=`). Results are queue items (no customer data); a complaint the caller may not see
 * is left out exactly as if it did not exist. Access patterns: docs/access-patterns.md.
 */

/** The complaint with this number as a one-item list, or an empty one (none, or not visible). */
export async function findByNumber(
  ctx: ServiceContext,
  principal: Principal,
  number: string,
): Promise<{ items: QueueItemView[] }> {
  const complaint = await ctx.store.getByNumber(number);
  if (complaint === undefined || !visible(principal, complaint)) return { items: [] };
  return { items: [toQueueItemView(queueItemOf(complaint), ctx.now())] };
}

/** Records examined per page, at most, for each item the page may hold (the rest may be invisible). */
const EXAMINED_PER_ITEM = 4;
const EPOCH = '1970-01-01T00:00:00.000Z';

/**
 * A customer's complaints the caller may see, newest first, page by page (`cursor`, sealed to the
 * caller and the customer id). Both the verified customer's and anonymous claims of the same id
 * (customer index, gsi3), then each record for the caller's visibility.
 */
export async function findByCustomer(
  ctx: ServiceContext,
  principal: Principal,
  customerId: string,
  read: { limit: number; cursor?: string },
): Promise<{ items: QueueItemView[]; cursor?: string }> {
  const now = ctx.now();
  const binding = {
    principal: JSON.stringify([principal.id, principal.role, principal.department ?? null]),
    query: JSON.stringify(['customer', customerId]),
  };
  const after = read.cursor === undefined ? undefined : await openQueueCursor(ctx, binding, read.cursor, now);
  const summaries = (
    await Promise.all(
      (['verified', 'anonymous'] as const).map((namespace) =>
        ctx.store.recentByCustomer(customerId, EPOCH, namespace),
      ),
    )
  ).flat();
  const candidates = summaries
    .map((s) => ({ id: s.id, position: `${s.receivedAt}#${s.id}` }))
    .filter((c) => after === undefined || c.position < after)
    .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0))
    .slice(0, read.limit * EXAMINED_PER_ITEM + 1);
  const items: QueueItemView[] = [];
  let last: string | undefined;
  for (let i = 0; i < candidates.length && items.length < read.limit; i += read.limit) {
    const chunk = candidates.slice(i, Math.min(i + read.limit, read.limit * EXAMINED_PER_ITEM));
    const records = await Promise.all(chunk.map((c) => ctx.store.get(c.id)));
    for (const [j, complaint] of records.entries()) {
      if (items.length === read.limit) break;
      last = chunk[j]?.position;
      if (complaint !== undefined && visible(principal, complaint)) {
        items.push(toQueueItemView(queueItemOf(complaint), now));
      }
    }
  }
  const more = last !== undefined && candidates.some((c) => c.position < last);
  if (!more || last === undefined) return { items };
  return { items, cursor: sealCursor(await ctx.keys.key('cursor'), binding, { a: last }, now) };
}

const visible = (principal: Principal, c: Complaint) =>
  authorizeComplaint(principal, 'view', scopeOf(c)).allow;

/** A record as its queue entry shows it. */
function queueItemOf(c: Complaint): QueueItem {
  const nextDueAt = nextDeadline(c)?.dueAt;
  return {
    id: c.id,
    number: c.number,
    status: c.status,
    receivedAt: c.receivedAt,
    version: c.version,
    ...(c.classification === undefined
      ? {}
      : {
          category: c.classification.category,
          severity: c.classification.severity,
          priority: c.classification.priority,
        }),
    ...(c.assignment?.leadDepartment === undefined ? {} : { leadDepartment: c.assignment.leadDepartment }),
    ...(c.assignment?.assignee === undefined ? {} : { assignee: c.assignment.assignee }),
    ...(nextDueAt === undefined ? {} : { nextDueAt }),
  };
}
