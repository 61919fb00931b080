import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * An agent's open complaints (`AGENT#<id>` / `LOAD`): the set `open` of their complaint ids, whose
 * size is the agent's load (capacity, routing).
 *
 * A membership change is idempotent (adding or removing a set member twice is doing it once), so
 * only a claim that must respect the agent's capacity is written in one transaction with the
 * record; every other change (a resolution releasing the complaint, a reopening taking it back) is
 * applied after the record's single write, which carries it (`pendingLoad` in its document) so that it is never
 * lost: the next writer that changes loads applies the replaced record's changes before its own (so
 * the newer change wins), and a writer that changes none carries them forward.
 */

export interface LoadChange {
  agentId: string;
  complaintId: string;
  op: 'add' | 'remove';
}

const OPEN = 'open';

export const loadKey = (agentId: string) => ({ pk: `AGENT#${agentId}`, sk: 'LOAD' });

/** The load a counter item holds (items of the first format counted with `openCount`). */
export function loadOfItem(item: Record<string, unknown>): number {
  const open = item[OPEN];
  if (open instanceof Set) return open.size;
  return Number(item.openCount ?? 0);
}

/** The load changes in a record's document (none when absent or malformed). */
export function loadChangesOf(value: unknown): LoadChange[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (c): c is LoadChange =>
      typeof c?.agentId === 'string' &&
      typeof c?.complaintId === 'string' &&
      (c?.op === 'add' || c?.op === 'remove'),
  );
}

/** The transaction member that claims a place within `capacity` for the complaint (idempotent). */
export function capacityClaim(tableName: string, change: LoadChange, capacity: number) {
  return {
    Update: {
      TableName: tableName,
      Key: loadKey(change.agentId),
      UpdateExpression: 'ADD #open :ids',
      // Already a member: claiming again changes nothing and must not count against the capacity.
      ConditionExpression: 'attribute_not_exists(#open) OR size(#open) < :cap OR contains(#open, :id)',
      ExpressionAttributeNames: { '#open': OPEN },
      ExpressionAttributeValues: {
        ':ids': new Set([change.complaintId]),
        ':cap': capacity,
        ':id': change.complaintId,
      },
    },
  };
}

/** Applies changes, in order per agent and complaint (the later of two changes of one member wins). */
export async function applyLoadChanges(
  db: DynamoDBDocumentClient,
  tableName: string,
  changes: readonly LoadChange[],
): Promise<void> {
  for (const change of changes) {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: loadKey(change.agentId),
        UpdateExpression: `${change.op === 'add' ? 'ADD' : 'DELETE'} #open :ids`,
        ExpressionAttributeNames: { '#open': OPEN },
        ExpressionAttributeValues: { ':ids': new Set([change.complaintId]) },
      }),
    );
  }
}
