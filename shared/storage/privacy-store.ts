/**
 * Storage of erasures, in the same single table (docs/access-patterns.md, patterns 18–21):
 *
 *   ERASURE#<erasure id>   ERASURE    the audit record: status, trigger, reason category, who asked,
 *                                     when, counters `n:<kind>`; while running also the scope
 *   ERASEREQ#<claim>       ERASEREQ   the natural idempotency claim of a request → erasure id (TTL)
 *
 * and the erasure's own writes on the complaint items. Every write that erases something is one
 * transaction with the `ADD` of its counter on the erasure record, conditional on the thing not being
 * erased yet: a resumed or concurrent worker never erases (or counts) anything twice.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Complaint } from '../domain/complaint';
import {
  ERASURE_COUNTERS,
  type ErasureCounter,
  type ErasureCounts,
  type ErasureReason,
  type ErasureRecord,
  type ErasureScope,
  emptyCounts,
} from '../domain/privacy';
import { packDocument } from './document-codec';
import { complaintItem, RETENTION_PARTITION_PREFIX } from './dynamodb-store';
import { ConcurrencyConflictError, type TimelineEntry } from './ports';
import { INDEXES, TTL_ATTRIBUTE } from './table-schema';
import { complaintPk, readPending, settleReplaced, timelineEntryOfItem } from './timeline-items';
import { isRetryableCancellation } from './transactions';

/** A stored timeline entry with its sort key (erasure rewrites it in place). */
export interface StoredTimelineEntry {
  sk: string;
  entry: TimelineEntry;
  /** Set once the erasure rewrote it. */
  erasedAt?: string;
}

export interface PrivacyStore {
  /**
   * Writes the erasure record and its idempotency claim together. When the claim exists (the same
   * request again), nothing is written and the existing erasure's id is returned.
   */
  startErasure(
    record: ErasureRecord,
    claim: { key: string; expiresAt: number },
  ): Promise<{ erasureId: string; started: boolean }>;
  getErasure(erasureId: string): Promise<ErasureRecord | undefined>;
  /** Ids of complaints the scope still covers (index reads, never a scan), at most `limit`. */
  pendingComplaints(scope: ErasureScope, shards: number, limit: number): Promise<string[]>;
  /** Strips an idempotency claim down to its complaint id (and TTL); false when absent or done. */
  scrubIdempotencyClaim(erasureId: string, idempotencyKey: string, at: string): Promise<boolean>;
  /** Deletes a tracking pointer; false when it was already gone. */
  deleteTrackingPointer(erasureId: string, tokenHash: string): Promise<boolean>;
  /** Deletes the customer directory entries of these customer keys; how many there were. */
  deleteCustomerDirectoryEntries(erasureId: string, customerKeys: readonly string[]): Promise<number>;
  timeline(complaintId: string): Promise<StoredTimelineEntry[]>;
  /** Rewrites these entries (≤ 99) in place, each only if not rewritten yet; throws a conflict otherwise. */
  redactTimelineEntries(
    erasureId: string,
    complaintId: string,
    entries: ReadonlyArray<{ sk: string; entry: TimelineEntry }>,
    at: string,
  ): Promise<void>;
  /** Writes the redacted complaint, conditional on `expectedVersion`, and counts it. */
  redactComplaint(erasureId: string, next: Complaint, expectedVersion: number): Promise<void>;
  /** Marks the erasure completed and forgets its scope; false when it was not running. */
  completeErasure(erasureId: string, at: string): Promise<boolean>;
}

/** Transactions hold at most 100 items; one is the erasure record's counter. */
export const MAX_REDACTIONS_PER_TRANSACTION = 99;

const ERASURE_SK = 'ERASURE';
const CLAIM_SK = 'ERASEREQ';
const COUNTER_PREFIX = 'n:';

const erasureKey = (erasureId: string) => ({ pk: `ERASURE#${erasureId}`, sk: ERASURE_SK });

/**
 * The customer directory entry of a customer key (the "trust" work package keeps the directory).
 * Erasure deletes it whatever it holds.
 */
export const customerDirectoryKey = (customerKey: string) => ({
  pk: `CUSTDIR#${customerKey}`,
  sk: 'CUSTDIR',
});

export class DynamoDbPrivacyStore implements PrivacyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly deadlineShards: number,
  ) {}

  async startErasure(
    record: ErasureRecord,
    claim: { key: string; expiresAt: number },
  ): Promise<{ erasureId: string; started: boolean }> {
    const claimKey = { pk: `ERASEREQ#${claim.key}`, sk: CLAIM_SK };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...claimKey, erasureId: record.erasureId, [TTL_ATTRIBUTE]: claim.expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: recordItem(record),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return { erasureId: record.erasureId, started: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: claimKey, ConsistentRead: true }),
      );
      // A concurrent first request still writing (TransactionConflict): the caller retries.
      if (typeof Item?.erasureId !== 'string') throw error;
      return { erasureId: Item.erasureId, started: false };
    }
  }

  async getErasure(erasureId: string): Promise<ErasureRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: erasureKey(erasureId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : recordFrom(Item);
  }

  async pendingComplaints(scope: ErasureScope, shards: number, limit: number): Promise<string[]> {
    const ids = new Set<string>();
    const partitions =
      scope.kind === 'customer'
        ? scope.customerKeys.map((key) => ({
            index: INDEXES.byCustomer,
            pk: `CUST#${key}`,
            until: undefined,
          }))
        : Array.from({ length: shards }, (_, shard) => ({
            index: INDEXES.retention,
            pk: `${RETENTION_PARTITION_PREFIX}${shard}`,
            // `~` sorts after the `#<id>` suffix: a complaint changed exactly at the cutoff is included.
            until: `${scope.closedBefore}~`,
          }));
    for (const { index, pk, until } of partitions) {
      if (ids.size >= limit) break;
      const input: QueryCommandInput = {
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: until === undefined ? '#pk = :pk' : '#pk = :pk AND #sk <= :until',
        ExpressionAttributeNames:
          until === undefined
            ? { '#pk': index.partitionKey }
            : { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: until === undefined ? { ':pk': pk } : { ':pk': pk, ':until': until },
        ProjectionExpression: 'pk',
        Limit: limit - ids.size,
      };
      const result = await this.db.send(new QueryCommand(input));
      for (const item of result.Items ?? []) ids.add(String(item.pk).slice('C#'.length));
    }
    return [...ids].slice(0, limit);
  }

  async scrubIdempotencyClaim(erasureId: string, idempotencyKey: string, at: string): Promise<boolean> {
    const key = { pk: `IDEMP#${idempotencyKey}`, sk: 'IDEMP' };
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (Item === undefined || Item.erasedAt !== undefined) return false;
    // Only what keeps a replayed producer message from creating the complaint again: the complaint
    // id and the expiry. The request fingerprint and any token go (whatever attributes hold them).
    const scrubbed: Record<string, unknown> = { ...key, complaintId: Item.complaintId, erasedAt: at };
    if (Item[TTL_ATTRIBUTE] !== undefined) scrubbed[TTL_ATTRIBUTE] = Item[TTL_ATTRIBUTE];
    return this.eraseAndCount(erasureId, 'idempotencyClaims', 1, [
      {
        Put: {
          TableName: this.tableName,
          Item: scrubbed,
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(erasedAt)',
        },
      },
    ]);
  }

  async deleteTrackingPointer(erasureId: string, tokenHash: string): Promise<boolean> {
    return this.eraseAndCount(erasureId, 'trackingPointers', 1, [
      {
        Delete: {
          TableName: this.tableName,
          Key: { pk: `TRACK#${tokenHash}`, sk: 'TRACK' },
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
    ]);
  }

  async deleteCustomerDirectoryEntries(erasureId: string, customerKeys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const customerKey of customerKeys) {
      const done = await this.eraseAndCount(erasureId, 'customerDirectoryEntries', 1, [
        {
          Delete: {
            TableName: this.tableName,
            Key: customerDirectoryKey(customerKey),
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
      ]);
      if (done) deleted++;
    }
    return deleted;
  }

  async timeline(complaintId: string): Promise<StoredTimelineEntry[]> {
    // The newest change's entries get their items first: the redaction rewrites items in place, and
    // the redacted record no longer carries them (`timeline-items.ts`).
    const pending = await readPending(this.db, this.tableName, complaintId);
    await settleReplaced(this.db, this.tableName, pending.staged);
    const entries: StoredTimelineEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tl)',
          ExpressionAttributeValues: { ':pk': complaintPk(complaintId), ':tl': 'TL#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of result.Items ?? []) {
        entries.push({
          sk: String(item.sk),
          entry: timelineEntryOfItem(item),
          ...(typeof item.erasedAt === 'string' ? { erasedAt: item.erasedAt } : {}),
        });
      }
      start = result.LastEvaluatedKey;
    } while (start !== undefined);
    return entries;
  }

  async redactTimelineEntries(
    erasureId: string,
    complaintId: string,
    entries: ReadonlyArray<{ sk: string; entry: TimelineEntry }>,
    at: string,
  ): Promise<void> {
    if (entries.length === 0) return;
    if (entries.length > MAX_REDACTIONS_PER_TRANSACTION) {
      throw new Error(`At most ${MAX_REDACTIONS_PER_TRANSACTION} timeline entries per transaction`);
    }
    const done = await this.eraseAndCount(
      erasureId,
      'timelineEntries',
      entries.length,
      entries.map(({ sk, entry }) => ({
        Put: {
          TableName: this.tableName,
          Item: { pk: complaintPk(complaintId), sk, entry: packDocument(entry), erasedAt: at },
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(erasedAt)',
        },
      })),
    );
    // Another worker rewrote one of them meanwhile: re-read and continue from there.
    if (!done) throw new ConcurrencyConflictError(complaintId, -1);
  }

  async redactComplaint(erasureId: string, next: Complaint, expectedVersion: number): Promise<void> {
    if (next.version !== expectedVersion + 1 || next.erasure === undefined) {
      throw new Error(`Redaction of ${next.id} must be an erased record at version ${expectedVersion + 1}`);
    }
    const done = await this.eraseAndCount(erasureId, 'complaints', 1, [
      {
        Put: {
          TableName: this.tableName,
          Item: complaintItem(next, this.deadlineShards),
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        },
      },
    ]);
    if (!done) throw new ConcurrencyConflictError(next.id, expectedVersion);
  }

  async completeErasure(erasureId: string, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: erasureKey(erasureId),
          UpdateExpression: 'SET #status = :completed, completedAt = :at REMOVE #scope',
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { '#status': 'status', '#scope': 'scope' },
          ExpressionAttributeValues: { ':completed': 'completed', ':running': 'running', ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Runs the erasing writes and the counter's `ADD` in one transaction. False when a condition of
   * the writes failed (already erased, absent, or changed meanwhile): nothing was written or counted.
   */
  private async eraseAndCount(
    erasureId: string,
    counter: ErasureCounter,
    amount: number,
    writes: NonNullable<TransactWriteCommandInput['TransactItems']>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...writes,
            {
              Update: {
                TableName: this.tableName,
                Key: erasureKey(erasureId),
                UpdateExpression: 'ADD #n :amount',
                ConditionExpression: '#status = :running',
                ExpressionAttributeNames: { '#n': `${COUNTER_PREFIX}${counter}`, '#status': 'status' },
                ExpressionAttributeValues: { ':amount': amount, ':running': 'running' },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons.at(-1)?.Code === 'ConditionalCheckFailed') {
        throw new Error(`Erasure ${erasureId} is not running`);
      }
      if (reasons.slice(0, -1).some((r) => r.Code === 'ConditionalCheckFailed')) return false;
      if (isRetryableCancellation(error)) throw new ConcurrencyConflictError(erasureId, -1);
      throw error;
    }
  }
}

function recordItem(record: ErasureRecord): Record<string, unknown> {
  return {
    ...erasureKey(record.erasureId),
    erasureId: record.erasureId,
    status: record.status,
    trigger: record.trigger,
    reason: record.reason,
    requestedBy: record.requestedBy,
    requestedAt: record.requestedAt,
    ...(record.completedAt === undefined ? {} : { completedAt: record.completedAt }),
    ...(record.scope === undefined ? {} : { scope: record.scope }),
    ...Object.fromEntries(ERASURE_COUNTERS.map((c) => [`${COUNTER_PREFIX}${c}`, record.erased[c]])),
  };
}

function recordFrom(item: Record<string, unknown>): ErasureRecord {
  const erased: ErasureCounts = emptyCounts();
  for (const counter of ERASURE_COUNTERS) erased[counter] = Number(item[`${COUNTER_PREFIX}${counter}`] ?? 0);
  return {
    erasureId: String(item.erasureId),
    status: item.status === 'completed' ? 'completed' : 'running',
    trigger: item.trigger === 'retention' ? 'retention' : 'request',
    reason: String(item.reason) as ErasureReason,
    requestedBy: String(item.requestedBy),
    requestedAt: String(item.requestedAt),
    ...(typeof item.completedAt === 'string' ? { completedAt: item.completedAt } : {}),
    ...(item.scope === undefined ? {} : { scope: item.scope as ErasureScope }),
    erased,
  };
}
