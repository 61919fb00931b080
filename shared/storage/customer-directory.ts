import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { customerKey } from '../domain/identifiers';
import type { CustomerDirectoryEntry, DirectoryWriteOutcome } from './ports';

/**
 * The customer directory in the single table: one item per known customer,
 *
 *   CUSTDIR#<customerKey(id, 'verified')>   CUSTDIR   tier, updatedAt, source
 *
 * keyed by the pseudonymous verified customer key (never the raw id). Writes are conditional on
 * `updatedAt`, so they are idempotent (the same update twice is `unchanged`) and order-safe (an older
 * update arriving late is `stale` and changes nothing). Two different updates with the same `updatedAt`:
 * the first stored wins.
 */

const SK = 'CUSTDIR';

export function customerDirectoryPk(customerId: string): string {
  return `CUSTDIR#${customerKey(customerId, 'verified')}`;
}

export async function getDirectoryEntry(
  db: DynamoDBDocumentClient,
  table: string,
  customerId: string,
): Promise<CustomerDirectoryEntry | undefined> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: table,
      Key: { pk: customerDirectoryPk(customerId), sk: SK },
      ConsistentRead: true,
    }),
  );
  return Item === undefined ? undefined : toEntry(Item);
}

export async function putDirectoryEntry(
  db: DynamoDBDocumentClient,
  table: string,
  customerId: string,
  entry: CustomerDirectoryEntry,
): Promise<{ outcome: DirectoryWriteOutcome; current: CustomerDirectoryEntry }> {
  const item = { tier: entry.tier, updatedAt: entry.updatedAt, source: entry.source };
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: { pk: customerDirectoryPk(customerId), sk: SK, ...item },
        // ISO 8601 UTC timestamps of one format compare as strings in time order.
        ConditionExpression: 'attribute_not_exists(pk) OR #u < :u',
        ExpressionAttributeNames: { '#u': 'updatedAt' },
        ExpressionAttributeValues: { ':u': entry.updatedAt },
      }),
    );
    return { outcome: 'applied', current: item };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const current = await getDirectoryEntry(db, table, customerId);
  if (current === undefined) throw new Error('The customer directory entry vanished during a write');
  const same =
    current.updatedAt === item.updatedAt && current.tier === item.tier && current.source === item.source;
  return { outcome: same ? 'unchanged' : 'stale', current };
}

function toEntry(item: Record<string, unknown>): CustomerDirectoryEntry {
  return { tier: String(item.tier), updatedAt: String(item.updatedAt), source: String(item.source) };
}
