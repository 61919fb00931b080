/**
 * Billable usage as the local runtime sees it happen, for the cost estimate (`npm run cost`,
 * `cost-model.ts`). Counted from the calls themselves, where AWS would bill them:
 *
 * - each function's AWS calls, per operation, at its authorizing proxy (`iam-proxy.ts` observer),
 *   DynamoDB's with the capacity the table reports (`dynamodb-capacity.ts`);
 * - events accepted on a bus (PutEvents entries, in 64 KB chunks), whoever published them;
 * - messages the runtime itself sends to queues (rule and Scheduler targets, DLQs): SQS requests;
 * - HTTP API requests (in 512 KB chunks).
 *
 * What the runtime counts elsewhere is read at the end: Lambda invocations and billed milliseconds
 * (`LambdaStats`), the event source mappings' receives and batch calls, Scheduler invocations.
 */

import { operationOf } from '../aws-error-answer';
import type { AwsRequest, AwsService } from '../aws-request-actions';
import { accessKeyIdOf } from '../aws-request-actions';
import {
  type CapacityMeter,
  capacityOf,
  createCapacityMeter,
  withCapacityRequested,
} from './dynamodb-capacity';
import type { TransactionShadow } from './transaction-shadow';

/** PutEvents bills each 64 KB of an entry as one event. */
export const EVENT_CHUNK_BYTES = 64 * 1024;
/** HTTP APIs bill each 512 KB of a request as one request. */
export const HTTP_CHUNK_BYTES = 512 * 1024;

export interface EventEntryLike {
  source: string;
  'detail-type': string;
  detail: unknown;
  resources?: readonly string[];
}

/** The size AWS bills for a PutEvents entry: source, detail-type, detail and resources, in UTF-8 bytes. */
export function eventEntryBytes(event: EventEntryLike): number {
  const text = [event.source, event['detail-type'], JSON.stringify(event.detail), ...(event.resources ?? [])];
  return text.reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0);
}

export const chunksOf = (bytes: number, chunk: number): number => Math.max(1, Math.ceil(bytes / chunk));

export interface UsageSnapshot {
  /** Per caller (function logical id, or `other` for unsigned callers): `<service>:<operation>` → requests. */
  calls: Record<string, Record<string, number>>;
  /** Per caller: DynamoDB units. */
  dynamodb: Record<
    string,
    { readUnits: number; writeUnits: number; refusedWrites: number; requests: number }
  >;
  /** Events accepted on the buses, per source; `chunks` is what PutEvents bills. */
  events: Record<string, { entries: number; chunks: number; bytes: number }>;
  /** Messages the runtime sent to queues itself (rule and Scheduler targets, DLQs). */
  queueDeliveries: number;
  http: { requests: number; chunks: number };
}

export interface UsageMeter {
  /** The observer for the authorizing proxy of `service` (`iam-proxy.ts`). */
  proxyObserver(service: AwsService): {
    requestBody?: (request: AwsRequest) => string | undefined;
    answered: (request: AwsRequest, status: number, body: Buffer) => void;
  };
  /** An event a bus accepted. */
  eventAccepted(event: EventEntryLike): void;
  /** A message the runtime sent to a queue on its own (not a function's call). */
  queueDelivery(): void;
  /** An HTTP API request and the bytes of its body. */
  httpRequest(bodyBytes: number): void;
  snapshot(): UsageSnapshot;
  /** Forgets everything counted so far (to measure one period). */
  reset(): void;
  /**
   * Bills transactions by AWS's rules, replayed on a shadow table (`transaction-shadow.ts`); without
   * it, DynamoDB Local's own figure for a transaction is taken, which overstates it.
   */
  useTransactionShadow(shadow: TransactionShadow): void;
  /** Resolves once every replay in flight has been counted (before reading a snapshot). */
  settled(): Promise<void>;
  /** Transactions whose replay failed, billed at DynamoDB Local's own figure instead. */
  replayFailures(): number;
}

/** The function a request came from, by the local access key it signed with (`wiring/iam.ts`). */
export type CallerOf = (accessKeyId: string | undefined) => string | undefined;

export function createUsageMeter(options: {
  callerOf: CallerOf;
  /** Called with every DynamoDB answer (caller, operation, the answer's `ConsumedCapacity`): where the units go. */
  traceDynamoDb?: (caller: string, operation: string, status: number, consumed: unknown) => void;
}): UsageMeter {
  const calls = new Map<string, Map<string, number>>();
  const capacity = new Map<string, CapacityMeter>();
  const events = new Map<string, { entries: number; chunks: number; bytes: number }>();
  let queueDeliveries = 0;
  const http = { requests: 0, chunks: 0 };
  let shadow: TransactionShadow | undefined;
  const pending = new Set<Promise<void>>();
  let failures = 0;
  const callerOfRequest = (request: AwsRequest) =>
    options.callerOf(accessKeyIdOf(request.headers, request.path)) ?? 'other';

  return {
    proxyObserver(service) {
      return {
        ...(service === 'dynamodb' && {
          requestBody: (request: AwsRequest) =>
            withCapacityRequested(operationOf(service, request), request.body),
          beforeForward: async (request: AwsRequest) => {
            if (shadow === undefined || operationOf(service, request) !== 'TransactWriteItems') return;
            // The state before, for the replay; a failure here fails the replay (Local's figure then).
            await shadow.prepare(request.body).catch(() => undefined);
          },
        }),
        answered(request, status, body) {
          const caller = callerOfRequest(request);
          const operation = operationOf(service, request);
          const perCaller = calls.get(caller) ?? new Map<string, number>();
          const key = `${service}:${operation}`;
          perCaller.set(key, (perCaller.get(key) ?? 0) + 1);
          calls.set(caller, perCaller);
          if (service === 'dynamodb') {
            const meter = capacity.get(caller) ?? createCapacityMeter();
            const text = body.toString('utf8');
            capacity.set(caller, meter);
            if (shadow !== undefined && operation === 'TransactWriteItems' && status === 200) {
              const replay = shadow.replay(request.body).then(
                (writeUnits: number) => meter.add(operation, { readUnits: 0, writeUnits, refusedWrites: 0 }),
                () => {
                  failures++;
                  meter.add(operation, capacityOf(operation, status, text));
                },
              );
              pending.add(replay);
              void replay.finally(() => pending.delete(replay));
            } else meter.record(operation, status, text, request.body);
            if (options.traceDynamoDb !== undefined) {
              let consumed: unknown;
              try {
                consumed = (JSON.parse(text) as { ConsumedCapacity?: unknown }).ConsumedCapacity;
              } catch {
                consumed = undefined;
              }
              options.traceDynamoDb(caller, operation, status, consumed);
            }
          }
        },
      };
    },
    eventAccepted(event) {
      const bytes = eventEntryBytes(event);
      const total = events.get(event.source) ?? { entries: 0, chunks: 0, bytes: 0 };
      total.entries++;
      total.chunks += chunksOf(bytes, EVENT_CHUNK_BYTES);
      total.bytes += bytes;
      events.set(event.source, total);
    },
    queueDelivery() {
      queueDeliveries++;
    },
    httpRequest(bodyBytes) {
      http.requests++;
      http.chunks += chunksOf(bodyBytes, HTTP_CHUNK_BYTES);
    },
    useTransactionShadow(given) {
      shadow = given;
    },
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    replayFailures: () => failures,
    reset() {
      failures = 0;
      calls.clear();
      capacity.clear();
      events.clear();
      queueDeliveries = 0;
      http.requests = 0;
      http.chunks = 0;
    },
    snapshot() {
      return {
        calls: Object.fromEntries([...calls].map(([caller, ops]) => [caller, Object.fromEntries(ops)])),
        dynamodb: Object.fromEntries([...capacity].map(([caller, meter]) => [caller, meter.totals()])),
        events: Object.fromEntries([...events].map(([source, total]) => [source, { ...total }])),
        queueDeliveries,
        http: { ...http },
      };
    },
  };
}
