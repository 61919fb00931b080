/**
 * Storage of the report aggregates, in the same single table (docs/access-patterns.md):
 *
 *   FACTS#<complaint id>        FACTS   the complaint's report facts + a version (optimistic lock)
 *   AGG#<DAY|MONTH>#<date>#<n>|<family>
 *                               AGG     counters of one family of one bucket shard, as attributes
 *                                       `c:<counter>` (`familyOf`)
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

/**
 * Counter families: each bucket is stored as one item per family, so an event's write touches only
 * the families it changes, and each item stays small however busy the day. An `ADD` is billed by the
 * size of the whole item (before or after, the larger), so a day bucket holding every counter grew to
 * several KB, and every event of that day paid for all of it (2 → 10 write units per event at 1,600
 * complaints a day). Most events change one family (an acknowledgement only `ack`, a survey answer
 * only `out`); receipt and resolution also move the backlog (`net`).
 */
export const COUNTER_FAMILIES = ['in', 'ack', 'frs', 'res', 'out', 'net'] as const;
export type CounterFamily = (typeof COUNTER_FAMILIES)[number];

export function familyOf(counter: string): CounterFamily {
  const metric = counter.split('|')[0] ?? counter;
  if (metric === 'net') return 'net';
  if (metric.startsWith('acknowledge.') || metric.startsWith('sla.acknowledge.')) return 'ack';
  if (metric.startsWith('firstResponse.') || metric.startsWith('sla.firstResponse.')) return 'frs';
  if (
    metric.startsWith('resolution.') ||
    metric.startsWith('sla.resolution.') ||
    metric === 'resolved' ||
    metric.startsWith('fcr.')
  ) {
    return 'res';
  }
  if (['received', 'rejected', 'repeat', 'assigned'].includes(metric)) return 'in';
  return 'out';
}

/** The item keys of one bucket: one per family. */
const familyItemKey = (bucket: string, family: CounterFamily) => `AGG#${bucket}|${family}`;

/** A bucket's counters split by family (families without a counter left out). */
function byFamily(counters: Counters): Map<CounterFamily, Counters> {
  const out = new Map<CounterFamily, Counters>();
  for (const [name, value] of Object.entries(counters)) {
    const family = familyOf(name);
    out.set(family, { ...(out.get(family) ?? {}), [name]: value });
  }
  return out;
}
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
    const items = [...delta.entries()].flatMap(([bucket, counters]) =>
      [...byFamily(counters)].map(([family, part]) => [familyItemKey(bucket, family), part] as const),
    );
    if (items.length + 1 > MAX_TRANSACTION_ITEMS) {
      throw new Error(
        `One fact change touches ${items.length} bucket items (limit ${MAX_TRANSACTION_ITEMS - 1})`,
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
            ...items.map(([pk, counters]) => {
              const entries = Object.entries(counters);
              return {
                Update: {
                  TableName: this.tableName,
                  Key: { pk, sk: 'AGG' },
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
    const bucketOf = new Map<string, string>();
    for (const bucket of new Set(keys)) {
      for (const family of COUNTER_FAMILIES) bucketOf.set(familyItemKey(bucket, family), bucket);
      // Buckets stored whole, before the split by family.
      bucketOf.set(`AGG#${bucket}`, bucket);
    }
    const itemKeys = [...bucketOf.keys()];
    for (let i = 0; i < itemKeys.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[] }> | undefined = {
        [this.tableName]: { Keys: itemKeys.slice(i, i + 100).map((pk) => ({ pk, sk: 'AGG' })) },
      };
      for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const result = await this.db.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const bucket = bucketOf.get(String(item.pk));
          if (bucket === undefined) continue;
          const counters = out.get(bucket) ?? {};
          for (const [name, value] of Object.entries(item)) {
            if (name.startsWith(COUNTER_PREFIX) && Number(value) !== 0) {
              const counter = name.slice(COUNTER_PREFIX.length);
              counters[counter] = (counters[counter] ?? 0) + Number(value);
            }
          }
          out.set(bucket, counters);
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
