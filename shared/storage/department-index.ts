import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { HANDOFF_GRACE_SECONDS, HANDOFF_KIND } from '../domain/handoff';
import { type ComplaintStatus, OPEN_STATUSES } from '../domain/lifecycle';
import { UNROUTED } from './complaint-item';
import type { BacklogGroup, DueDeadline } from './ports';
import { INDEXES } from './table-schema';

/**
 * Reads across the department index (gsi1) for the SLA sweep: what is due, and the open backlog.
 * The index holds every complaint under `DEPT#<department>#<status>`, ordered by its next deadline.
 */

/** Statuses whose complaints can have something due: a running clock, or a resolved one's survey. */
const SWEPT_STATUSES: readonly ComplaintStatus[] = [...OPEN_STATUSES, 'resolved'];
/** The kind of a due entry found in a queue (the record tells which deadline it is). */
export const DEADLINE_KIND = 'deadline';

/**
 * What the backstop sweep must look at (docs/sla.md): the department queues (gsi1) order every
 * complaint by its next deadline, so one query per department and status that can have something
 * due finds what is due by `until` — no index of its own, whose entries every change would move
 * (two billed writes each). Plus the complaints still `received` past the hand-off grace
 * (`shared/domain/handoff.ts`; the sweep reads each and decides). Each id once, earliest first, at
 * most `limit` in all: under a backlog (thousands due at once) a sweep run must stay bounded, or it
 * outlasts its interval and the next run piles onto the same work.
 */
export async function dueForSweep(
  db: DynamoDBDocumentClient,
  table: string,
  departments: readonly string[],
  until: string,
  limit: number,
): Promise<DueDeadline[]> {
  const index = INDEXES.byDepartment;
  const names = { '#pk': index.partitionKey, '#sk': index.sortKey };
  const due = new Map<string, DueDeadline>();
  const note = (entry: DueDeadline) => {
    const known = due.get(entry.complaintId);
    if (known === undefined || entry.dueAt < known.dueAt) due.set(entry.complaintId, entry);
  };
  const partitions = [...new Set([...departments, UNROUTED])].flatMap((d) =>
    SWEPT_STATUSES.map((status) => `DEPT#${d}#${status}`),
  );
  const handoffsBefore = new Date(Date.parse(until) - HANDOFF_GRACE_SECONDS * 1000).toISOString();
  await Promise.all([
    ...partitions.map(async (pk) => {
      const result = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: index.name,
          // `~` sorts after the `#<id>` suffix, so a deadline exactly at `until` is included.
          KeyConditionExpression: '#pk = :pk AND #sk <= :until',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':pk': pk, ':until': `${until}~` },
          ProjectionExpression: '#sk',
          Limit: limit,
        }),
      );
      for (const item of result.Items ?? []) {
        const [dueAt = '', id = ''] = String(item[index.sortKey]).split('#');
        note({ complaintId: id, dueAt, kind: DEADLINE_KIND });
      }
    }),
    (async () => {
      const result = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey, '#r': 'receivedAt', '#sk': index.sortKey },
          ExpressionAttributeValues: { ':pk': `DEPT#${UNROUTED}#received` },
          ProjectionExpression: '#r, #sk',
          Limit: limit,
        }),
      );
      for (const item of result.Items ?? []) {
        const receivedAt = String(item.receivedAt);
        if (receivedAt > handoffsBefore) continue;
        const id = String(item[index.sortKey]).split('#')[1] ?? '';
        note({ complaintId: id, dueAt: receivedAt, kind: HANDOFF_KIND });
      }
    })(),
  ]);
  return [...due.values()]
    .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
    .slice(0, limit);
}

/**
 * The department index (gsi1) is keyed by `DEPT#<department>#<status>` and covers every
 * complaint, so the open backlog is one query per (department, open status), reading only the
 * projected `receivedAt`: (departments + 1) × 7 queries whose cost grows with the open backlog
 * (about 0.05 read units per open complaint), never with the closed history.
 */
export async function openBacklog(
  db: DynamoDBDocumentClient,
  table: string,
  departments: readonly string[],
): Promise<BacklogGroup[]> {
  const keys: { key: string; department?: string }[] = [
    ...[...new Set(departments)].map((department) => ({ key: department, department })),
    { key: UNROUTED },
  ];
  return Promise.all(
    keys.flatMap(({ key, department }) =>
      OPEN_STATUSES.map(async (status): Promise<BacklogGroup> => {
        const items = await queryAll(db, {
          TableName: table,
          IndexName: INDEXES.byDepartment.name,
          KeyConditionExpression: '#pk = :pk',
          ProjectionExpression: '#receivedAt',
          ExpressionAttributeNames: {
            '#pk': INDEXES.byDepartment.partitionKey,
            '#receivedAt': 'receivedAt',
          },
          ExpressionAttributeValues: { ':pk': `DEPT#${key}#${status}` },
        });
        let oldest: number | undefined;
        for (const item of items) {
          const at = typeof item.receivedAt === 'string' ? Date.parse(item.receivedAt) : Number.NaN;
          if (!Number.isNaN(at) && (oldest === undefined || at < oldest)) oldest = at;
        }
        return {
          ...(department === undefined ? {} : { department }),
          status,
          count: items.length,
          ...(oldest === undefined ? {} : { oldestReceivedAt: new Date(oldest).toISOString() }),
        };
      }),
    ),
  );
}

/** Every item a query matches, page after page. */
export async function queryAll(
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const result = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(result.Items ?? []));
    start = result.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}
