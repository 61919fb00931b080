/**
 * Storage of the report aggregates, in the same single table (docs/access-patterns.md):
 *
 *   FACTS#<complaint id>        FACTS   the complaint's report facts + a version (optimistic lock)
 *   AGG#<DAY|MONTH>#<date>#<n>  AGG     counters of one bucket shard, as attributes `c:<counter>`
 *   REPORT#<kind>#<id>          REPORT  a generated report (JSON) and when it was generated
 *   REPORTING                   META    the first day with data (where backlog prefix sums start)
 *
 * A fact change and its bucket deltas are written in one transaction conditional on the facts'
 * version, so the buckets always equal the sum of the contributions of the stored facts.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Contributions, Counters } from '../domain/reporting/contributions';
import type { ComplaintFacts } from '../domain/reporting/facts';
import type { Report } from '../domain/reporting/report';
import { packDocument, unpackDocument } from './document-codec';
import { ConcurrencyConflictError } from './ports';
import { isRetryableCancellation } from './transactions';

export interface StoredFacts {
  facts: ComplaintFacts;
  /** 0 when nothing is stored yet. */
  version: number;
}

export interface ReportingStore {
  getFacts(complaintId: string): Promise<StoredFacts | undefined>;
  /** Writes the facts (conditional on `expectedVersion`) and adds `delta` to the buckets, atomically. */
  saveFacts(facts: ComplaintFacts, expectedVersion: number, delta: Contributions): Promise<void>;
  /** Counters of each bucket key (missing buckets are empty). */
  getBuckets(keys: readonly string[]): Promise<Map<string, Counters>>;
  /** Lowers the first day with data to `day` when it is earlier (idempotent). */
  noteFirstDay(day: string): Promise<void>;
  firstDay(): Promise<string | undefined>;
  putReport(report: Report): Promise<void>;
  getReport(kind: string, id: string): Promise<Report | undefined>;
}

/** The facts a `FACTS#` item holds: packed (`document-codec.ts`), or a JSON string as first stored. */
export function factsOfItem(item: Record<string, unknown>): ComplaintFacts {
  const stored = unpackDocument(item.facts);
  return (typeof stored === 'string' ? JSON.parse(stored) : stored) as ComplaintFacts;
}

const COUNTER_PREFIX = 'c:';
/** DynamoDB's limit on items in one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

export class DynamoDbReportingStore implements ReportingStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getFacts(complaintId: string): Promise<StoredFacts | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `FACTS#${complaintId}`, sk: 'FACTS' },
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    return { facts: factsOfItem(Item), version: Number(Item.version) };
  }

  async saveFacts(facts: ComplaintFacts, expectedVersion: number, delta: Contributions): Promise<void> {
    const buckets = [...delta.entries()];
    if (buckets.length + 1 > MAX_TRANSACTION_ITEMS) {
      throw new Error(
        `One fact change touches ${buckets.length} buckets (limit ${MAX_TRANSACTION_ITEMS - 1})`,
      );
    }
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: `FACTS#${facts.complaintId}`,
                  sk: 'FACTS',
                  facts: packDocument(facts),
                  version: expectedVersion + 1,
                },
                ConditionExpression:
                  expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
                ...(expectedVersion === 0
                  ? {}
                  : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
              },
            },
            ...buckets.map(([key, counters]) => {
              const entries = Object.entries(counters);
              return {
                Update: {
                  TableName: this.tableName,
                  Key: { pk: `AGG#${key}`, sk: 'AGG' },
                  UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :v${i}`).join(', ')}`,
                  ExpressionAttributeNames: Object.fromEntries(
                    entries.map(([name], i) => [`#c${i}`, `${COUNTER_PREFIX}${name}`]),
                  ),
                  ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
                },
              };
            }),
          ],
        }),
      );
    } catch (error) {
      // The facts moved on (ConditionalCheckFailed), or another transaction was writing one of the
      // same items (TransactionConflict: busy buckets are shared by every complaint of the day).
      // Either way the caller retries from a fresh read.
      if (isRetryableCancellation(error)) {
        throw new ConcurrencyConflictError(facts.complaintId, expectedVersion);
      }
      throw error;
    }
  }

  async getBuckets(keys: readonly string[]): Promise<Map<string, Counters>> {
    const out = new Map<string, Counters>(keys.map((k) => [k, {}]));
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[] }> | undefined = {
        [this.tableName]: { Keys: unique.slice(i, i + 100).map((k) => ({ pk: `AGG#${k}`, sk: 'AGG' })) },
      };
      for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const result = await this.db.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const counters: Counters = {};
          for (const [name, value] of Object.entries(item)) {
            if (name.startsWith(COUNTER_PREFIX) && Number(value) !== 0) {
              counters[name.slice(COUNTER_PREFIX.length)] = Number(value);
            }
          }
          out.set(String(item.pk).slice('AGG#'.length), counters);
        }
        request = result.UnprocessedKeys as typeof request;
      }
    }
    return out;
  }

  async noteFirstDay(day: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: 'REPORTING', sk: 'META' },
          UpdateExpression: 'SET firstDay = :day',
          ConditionExpression: 'attribute_not_exists(firstDay) OR firstDay > :day',
          ExpressionAttributeValues: { ':day': day },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async firstDay(): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: 'REPORTING', sk: 'META' },
        ConsistentRead: true,
      }),
    );
    return Item?.firstDay === undefined ? undefined : String(Item.firstDay);
  }

  async putReport(report: Report): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `REPORT#${report.period.kind}#${report.period.id}`,
          sk: 'REPORT',
          report: JSON.stringify(report),
          generatedAt: report.generatedAt,
        },
      }),
    );
  }

  async getReport(kind: string, id: string): Promise<Report | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `REPORT#${kind}#${id}`, sk: 'REPORT' } }),
    );
    return Item === undefined ? undefined : (JSON.parse(String(Item.report)) as Report);
  }
}
