import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Complaint } from '../domain/complaint';
import { type CustomerNamespace, customerKey } from '../domain/identifiers';
import { type ComplaintPhase, type ComplaintStatus, phaseOf } from '../domain/lifecycle';
import { nextDeadline } from '../domain/next-deadline';
import { applyLoadChanges, capacityClaim, type LoadChange, loadOfItem } from './agent-load';
import {
  complaintItem,
  complaintOfItem,
  fromItem,
  RETENTION_PARTITION_PREFIX,
  toQueueItem,
  UNROUTED,
  withEntries,
} from './complaint-item';
import { getDirectoryEntry, putDirectoryEntry } from './customer-directory';
import { dueForSweep, openBacklog, queryAll } from './department-index';
import type {
  BacklogGroup,
  ComplaintStore,
  ComplaintUpdate,
  CreateResult,
  CustomerComplaintSummary,
  CustomerDirectoryEntry,
  DirectoryWriteOutcome,
  DueDeadline,
  NewComplaint,
  QueuePage,
  QueueRead,
  TimelineEntry,
  TimelinePage,
  TimelinePageOptions,
} from './ports';
import { ConcurrencyConflictError, queuePosition } from './ports';
import { INDEXES, TTL_ATTRIBUTE } from './table-schema';
import {
  complaintPk,
  decodeTimelineCursor,
  encodeTimelineCursor,
  mergePending,
  type Pending,
  pendingOf,
  putEntries,
  readPending,
  type StagedEntry,
  settleReplaced,
  stageEntries,
  timelineEntryOfItem,
  timelineItem,
} from './timeline-items';
import { isRetryableWriteFailure } from './transactions';

/**
 * DynamoDB adapter of the store port: one table, keys as in docs/access-patterns.md.
 *
 * Items:
 *   C#<id>            META                 the complaint (+ index attributes)
 *   C#<id>            TL#<iso time>#<ulid> timeline entry (append-only)
 *   IDEMP#<digest>    IDEMP                keyed digest of a producer message id → complaint,
 *                                          keyed request fingerprint (TTL)
 *   NUM#<number>      NUM                  claims the human-readable number
 *   TRACK#<hash>      TRACK                tracking-token hash → complaint
 *   AGENT#<id>        LOAD                 open-complaint counter of an agent
 *   CUSTDIR#<custKey> CUSTDIR              the customer directory (customer-directory.ts)
 * (erasures: `privacy-store.ts`; report aggregates: `reporting-store.ts`)
 */

const META = 'META';
/** Attempts of a create cancelled by a concurrent transaction on the same keys. */
const CONFLICT_RETRIES = 4;
/** Idempotency records outlive any redelivery, retry or archive replay window we document (30 days). */
const IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600;

export {
  complaintItem,
  complaintOfItem,
  complaintPk,
  nextDeadline,
  RETENTION_PARTITION_PREFIX,
  timelineEntryOfItem,
  UNROUTED,
};

/** Records whose pending timeline entries this instance read, by complaint: `update` settles them. */
const PENDING_MEMO_SIZE = 64;

export interface DynamoDbStoreOptions {
  tableName: string;
  /** Shards of the open-deadline index; must match across writers and the sweep. */
  deadlineShards: number;
}

export class DynamoDbComplaintStore implements ComplaintStore {
  /** The pending entries of the records this instance read last, by complaint id (`update`). */
  private readonly pendingRead = new Map<string, Pending & { version: number }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly options: DynamoDbStoreOptions,
  ) {}

  private get table(): string {
    return this.options.tableName;
  }

  async create(input: NewComplaint): Promise<CreateResult> {
    const { complaint } = input;
    const nowSeconds = Math.floor(Date.parse(complaint.receivedAt) / 1000);
    const request: TransactWriteCommandInput = {
      TransactItems: [
        {
          Put: {
            TableName: this.table,
            Item: {
              pk: `IDEMP#${input.idempotencyKey}`,
              sk: 'IDEMP',
              complaintId: complaint.id,
              requestFingerprint: input.requestFingerprint,
              ...(input.idempotencyExpires === false
                ? {}
                : { [TTL_ATTRIBUTE]: nowSeconds + IDEMPOTENCY_TTL_SECONDS }),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: { pk: `NUM#${complaint.number}`, sk: 'NUM', complaintId: complaint.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: complaintItem(withEntries(complaint, input.timeline.length), this.options.deadlineShards),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: { pk: `TRACK#${input.trackingTokenHash}`, sk: 'TRACK', complaintId: complaint.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...stageEntries(complaint.id, input.timeline).map((staged) => ({
          Put: { TableName: this.table, Item: timelineItem(staged) },
        })),
      ],
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(new TransactWriteCommand(request));
        return { outcome: 'created' };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // Two deliveries of one message racing: DynamoDB cancels one with TransactionConflict.
        // Retrying turns that into the ordinary "seen before" answer.
        if (reasons.some((r) => r.Code === 'TransactionConflict') && attempt < CONFLICT_RETRIES) {
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
          continue;
        }
        return this.createOutcome(error, input);
      }
    }
  }

  private async createOutcome(
    error: TransactionCanceledException,
    input: NewComplaint,
  ): Promise<CreateResult> {
    const reasons = error.CancellationReasons ?? [];
    if (reasons[0]?.Code === 'ConditionalCheckFailed') {
      const existing = await this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: `IDEMP#${input.idempotencyKey}`, sk: 'IDEMP' },
          ConsistentRead: true,
        }),
      );
      const item = existing.Item;
      if (item === undefined) throw error;
      return {
        outcome: 'duplicate',
        complaintId: String(item.complaintId),
        ...(typeof item.requestFingerprint === 'string'
          ? { requestFingerprint: item.requestFingerprint }
          : {}),
      };
    }
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return { outcome: 'number_taken' };
    throw error;
  }

  async get(id: string): Promise<Complaint | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: complaintPk(id), sk: META }, ConsistentRead: true }),
    );
    if (result.Item === undefined) return undefined;
    const complaint = fromItem(result.Item);
    this.rememberPending(id, complaint.version, pendingOf(result.Item));
    return complaint;
  }

  private rememberPending(id: string, version: number, pending: Pending): void {
    this.pendingRead.delete(id);
    this.pendingRead.set(id, { version, ...pending });
    if (this.pendingRead.size > PENDING_MEMO_SIZE) {
      const oldest = this.pendingRead.keys().next().value;
      if (oldest !== undefined) this.pendingRead.delete(oldest);
    }
  }

  async getByNumber(number: string): Promise<Complaint | undefined> {
    return this.getViaPointer(`NUM#${number}`, 'NUM');
  }

  async idempotencyTarget(idempotencyKey: string): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `IDEMP#${idempotencyKey}`, sk: 'IDEMP' },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.complaintId === 'string' ? Item.complaintId : undefined;
  }

  async getByTrackingTokenHash(hash: string): Promise<Complaint | undefined> {
    return this.getViaPointer(`TRACK#${hash}`, 'TRACK');
  }

  private async getViaPointer(pk: string, sk: string): Promise<Complaint | undefined> {
    const pointer = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk } }));
    const id = pointer.Item?.complaintId;
    return typeof id === 'string' ? this.get(id) : undefined;
  }

  /**
   * One conditional write of the record, carrying the change's timeline entries and its agent load
   * changes (`timeline-items.ts`, `agent-load.ts`), then the entry items and the load changes. A
   * transaction only where another item must change with the record: an agent's place claimed within
   * their capacity.
   */
  async update(update: ComplaintUpdate): Promise<void> {
    const { next, expectedVersion } = update;
    if (next.version !== expectedVersion + 1) {
      throw new Error(
        `Update of ${next.id} must bump the version from ${expectedVersion} to ${expectedVersion + 1}`,
      );
    }
    const staged = stageEntries(next.id, update.timeline, update.relatedTimeline);
    const changes = (update.agentLoadChanges ?? []).map((c) => ({
      change: { agentId: c.agentId, complaintId: next.id, op: c.delta > 0 ? 'add' : 'remove' } as LoadChange,
      capacity: c.delta > 0 ? c.capacity : undefined,
    }));
    const claims = changes.filter((c) => c.capacity !== undefined);
    const later = changes.filter((c) => c.capacity === undefined).map((c) => c.change);
    // The replaced record's load changes go first when this one has its own, so the newer wins; a
    // change of no load carries them forward (it may not be allowed to apply them).
    const before = await this.pendingBefore(next.id, expectedVersion);
    if (changes.length > 0) await applyLoadChanges(this.db, this.table, before.loads);
    const carried = changes.length > 0 ? later : before.loads;
    const record = {
      TableName: this.table,
      Item: complaintItem(withEntries(next, update.timeline.length), this.options.deadlineShards, {
        staged,
        loads: carried,
      }),
      ConditionExpression: '#v = :expected',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    };
    let replaced: StagedEntry[];
    try {
      if (claims.length === 0) {
        const { Attributes } = await this.db.send(new PutCommand({ ...record, ReturnValues: 'ALL_OLD' }));
        replaced = pendingOf(Attributes).staged;
      } else {
        replaced = before.staged;
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: record },
              ...claims.map((c) => capacityClaim(this.table, c.change, c.capacity as number)),
            ],
          }),
        );
      }
    } catch (error) {
      // A stale version, an agent who filled up meanwhile, or a concurrent transaction on the same
      // complaint or agent counter (TransactionConflict): all are retried from a fresh read.
      if (isRetryableWriteFailure(error)) {
        throw new ConcurrencyConflictError(next.id, expectedVersion);
      }
      throw error;
    }
    this.rememberPending(next.id, next.version, { staged, loads: carried });
    await Promise.all([
      putEntries(this.db, this.table, staged),
      settleReplaced(this.db, this.table, replaced),
      changes.length === 0 ? undefined : applyLoadChanges(this.db, this.table, later),
    ]);
  }

  /** What the record at `version` carries (read with it, or read now). */
  private async pendingBefore(id: string, version: number): Promise<Pending> {
    const known = this.pendingRead.get(id);
    if (known?.version === version) return known;
    return readPending(this.db, this.table, id);
  }

  async timeline(id: string): Promise<TimelineEntry[]> {
    const [items, pending] = await Promise.all([
      queryAll(this.db, {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tl)',
        ExpressionAttributeValues: { ':pk': complaintPk(id), ':tl': 'TL#' },
      }),
      readPending(this.db, this.table, id),
    ]);
    const stored = items.map((item) => ({ sk: String(item.sk), entry: timelineEntryOfItem(item) }));
    return mergePending(id, stored, pending.staged).map((i) => i.entry);
  }

  async timelinePage(id: string, options: TimelinePageOptions): Promise<TimelinePage> {
    const { limit, maxBytes } = options;
    const beforeKey = options.before === undefined ? undefined : decodeTimelineCursor(options.before);
    const query = this.db.send(
      new QueryCommand({
        TableName: this.table,
        // BETWEEN is inclusive: the cursor's own entry comes back and is dropped below.
        KeyConditionExpression:
          beforeKey === undefined
            ? 'pk = :pk AND begins_with(sk, :tl)'
            : 'pk = :pk AND sk BETWEEN :tl AND :before',
        ExpressionAttributeValues: {
          ':pk': complaintPk(id),
          ':tl': 'TL#',
          ...(beforeKey === undefined ? {} : { ':before': beforeKey }),
        },
        ScanIndexForward: false,
        // Right after a write, its entries must be there (the write's response and its replay check).
        ConsistentRead: true,
        // One more than asked tells whether an older page exists.
        Limit: limit + 1 + (beforeKey === undefined ? 0 : 1),
      }),
    );
    const [result, pending] = await Promise.all([query, readPending(this.db, this.table, id)]);
    const found = (result.Items ?? []).map((item) => ({
      sk: String(item.sk),
      entry: timelineEntryOfItem(item),
    }));
    // The newest change's entries may have no item yet; only those inside this page's range count.
    const lowest =
      found.length > 0 && result.LastEvaluatedKey !== undefined ? found[found.length - 1]?.sk : undefined;
    const inRange = pending.staged.filter(
      (s) => (beforeKey === undefined || s.sk < beforeKey) && (lowest === undefined || s.sk >= lowest),
    );
    const items = mergePending(id, found, inRange)
      .reverse()
      .filter((i) => i.sk !== beforeKey);
    const page: Array<{ sk: unknown; entry: TimelineEntry }> = [];
    let bytes = 0;
    for (const { sk, entry } of items.slice(0, limit)) {
      const size = Buffer.byteLength(JSON.stringify(entry));
      // Always at least one entry, or paging could not move on.
      if (page.length > 0 && bytes + size > maxBytes) break;
      page.push({ sk, entry });
      bytes += size;
    }
    const oldest = page[page.length - 1];
    // Older entries exist when the page was cut (count or bytes) or DynamoDB stopped at its 1 MB.
    const more = items.length > page.length || result.LastEvaluatedKey !== undefined;
    return {
      entries: page.map((i) => i.entry).reverse(),
      ...(more && oldest !== undefined ? { olderCursor: encodeTimelineCursor(String(oldest.sk)) } : {}),
    };
  }

  async recentByCustomer(
    customerId: string,
    since: string,
    namespace: CustomerNamespace,
  ): Promise<CustomerComplaintSummary[]> {
    const items = await queryAll(this.db, {
      TableName: this.table,
      IndexName: INDEXES.byCustomer.name,
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      ExpressionAttributeNames: { '#pk': INDEXES.byCustomer.partitionKey, '#sk': INDEXES.byCustomer.sortKey },
      ExpressionAttributeValues: { ':pk': `CUST#${customerKey(customerId, namespace)}`, ':since': since },
      ScanIndexForward: false,
    });
    return items.map((i) => ({
      id: String(i.pk).slice(2),
      number: String(i.number),
      // Entries written before the phase existed carry the status.
      phase: typeof i.phase === 'string' ? (i.phase as ComplaintPhase) : phaseOf(i.status as ComplaintStatus),
      category: typeof i.category === 'string' ? i.category : undefined,
      receivedAt: String(i.receivedAt),
      fingerprint: String(i.fingerprint),
    }));
  }

  async customerDirectoryEntry(customerId: string): Promise<CustomerDirectoryEntry | undefined> {
    return getDirectoryEntry(this.db, this.table, customerId);
  }

  async putCustomerDirectoryEntry(
    customerId: string,
    entry: CustomerDirectoryEntry,
  ): Promise<{ outcome: DirectoryWriteOutcome; current: CustomerDirectoryEntry }> {
    return putDirectoryEntry(this.db, this.table, customerId, entry);
  }

  async agentLoads(agentIds: readonly string[]): Promise<Map<string, number>> {
    const loads = new Map<string, number>();
    const unique = [...new Set(agentIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Array<Record<string, string>> | undefined = unique
        .slice(i, i + 100)
        .map((id) => ({ pk: `AGENT#${id}`, sk: 'LOAD' }));
      // BatchGet may return unprocessed keys under throttling: retry them with backoff.
      for (let attempt = 0; keys !== undefined && keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
        const result = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
        );
        for (const item of result.Responses?.[this.table] ?? []) {
          loads.set(String(item.pk).slice('AGENT#'.length), loadOfItem(item));
        }
        keys = result.UnprocessedKeys?.[this.table]?.Keys as Array<Record<string, string>> | undefined;
      }
    }
    return loads;
  }

  async listByDepartment(department: string, status: ComplaintStatus, read: QueueRead): Promise<QueuePage> {
    const index = INDEXES.byDepartment;
    return this.queue(
      {
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: read.after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames: {
          '#pk': index.partitionKey,
          ...(read.after === undefined ? {} : { '#sk': index.sortKey }),
        },
        ExpressionAttributeValues: {
          ':pk': `DEPT#${department}#${status}`,
          ...(read.after === undefined ? {} : { ':after': read.after }),
        },
        Limit: read.limit,
      },
      index.sortKey,
      '',
    );
  }

  async listByAssignee(
    agentId: string,
    status: ComplaintStatus,
    read: QueueRead & { leadDepartment?: string },
  ): Promise<QueuePage> {
    const index = INDEXES.byAssignee;
    const prefix = `${status}#`;
    // `after` is exclusive but BETWEEN is not: the item at `after` itself is dropped below, and one
    // more is read so a page still evaluates `limit` new items.
    const input: QueryCommandInput = {
      TableName: this.table,
      IndexName: index.name,
      KeyConditionExpression:
        read.after === undefined
          ? '#pk = :pk AND begins_with(#sk, :from)'
          : '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
      ExpressionAttributeValues: {
        ':pk': `AGENT#${agentId}`,
        ...(read.after === undefined
          ? { ':from': prefix }
          : // `<status>$` sorts right after every `<status>#…` key ('$' follows '#').
            { ':from': `${prefix}${read.after}`, ':to': `${status}$` }),
      },
      Limit: read.after === undefined ? read.limit : read.limit + 1,
    };
    if (read.leadDepartment !== undefined) {
      input.FilterExpression = '#lead = :lead';
      input.ExpressionAttributeNames = { ...input.ExpressionAttributeNames, '#lead': 'leadDepartment' };
      input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ':lead': read.leadDepartment };
    }
    const page = await this.queue(input, index.sortKey, prefix);
    return read.after === undefined
      ? page
      : { ...page, items: page.items.filter((item) => queuePosition(item) !== read.after) };
  }

  async dueForSweep(departments: readonly string[], until: string, limit: number): Promise<DueDeadline[]> {
    return dueForSweep(this.db, this.table, departments, until, limit);
  }

  async openBacklog(departments: readonly string[]): Promise<BacklogGroup[]> {
    return openBacklog(this.db, this.table, departments);
  }

  /** One query of a queue index; `next` is the last evaluated item's position (sort key without `prefix`). */
  private async queue(input: QueryCommandInput, sortKey: string, prefix: string): Promise<QueuePage> {
    const result = await this.db.send(new QueryCommand(input));
    const last = result.LastEvaluatedKey?.[sortKey];
    const items = (result.Items ?? []).map(toQueueItem);
    if (result.LastEvaluatedKey === undefined) return { items };
    if (typeof last !== 'string' || !last.startsWith(prefix)) {
      throw new Error(`Query of ${String(input.IndexName)} stopped at a key without ${sortKey}`);
    }
    return { items, next: last.slice(prefix.length) };
  }
}
