/**
 * DynamoDB capacity as AWS bills it, read from the calls themselves: for the cost estimate
 * (`npm run cost`, docs/cost.md). DynamoDB Local answers `ReturnConsumedCapacity` of plain reads and
 * writes with AWS's rules (checked: a 2.5 KB put 3 WRU, an update of it 3 — the larger of the item
 * before and after —, an index entry put or deleted by its projected size, an eventually consistent
 * get 0.5 RRU, a strongly consistent one 1), so the meter asks for it on every request (`INDEXES`: the
 * table's and each index's units) and adds up what comes back. A write refused by its condition
 * answers without capacity although AWS bills it: it is counted as 1 WRU (its item's size in KB,
 * rounded up, for items under 1 KB). Its figure for a transaction is right for items under 1 KB only
 * (2 per item) and about twice AWS's beyond (a 2.5 KB item 12 instead of 6): the usage meter replays
 * transactions on a shadow table instead (`transaction-shadow.ts`).
 */

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface CapacityUse {
  readUnits: number;
  writeUnits: number;
  /** Writes refused by their condition (or transactions cancelled): billed, not applied. */
  refusedWrites: number;
}

/** The operation of a DynamoDB JSON-protocol request, from its `x-amz-target` header. */
export function operationOfTarget(target: string | undefined): string {
  return (target ?? '').split('.').at(-1) ?? '';
}

/** The request body with `ReturnConsumedCapacity: INDEXES`, or undefined when it asks already or is not JSON. */
export function withCapacityRequested(operation: string, body: string): string | undefined {
  if (!READS.has(operation) && !WRITES.has(operation)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const request = parsed as Record<string, unknown>;
  if (request.ReturnConsumedCapacity === 'INDEXES' || request.ReturnConsumedCapacity === 'TOTAL')
    return undefined;
  return JSON.stringify({ ...request, ReturnConsumedCapacity: 'INDEXES' });
}

/**
 * The least a read is billed: a `GetItem`, `Query` or `Scan` that finds nothing still costs one unit
 * (half of one when eventually consistent), where DynamoDB Local reports zero. An assumption from
 * AWS's rounding rule (reads round up to the next 4 KB), not a documented figure.
 */
export function minimumReadUnits(operation: string, requestBody: string | undefined): number {
  if (!['GetItem', 'Query', 'Scan'].includes(operation)) return 0;
  try {
    return (JSON.parse(requestBody ?? '{}') as { ConsistentRead?: unknown }).ConsistentRead === true
      ? 1
      : 0.5;
  } catch {
    return 0.5;
  }
}

/** What one answered request consumed (zero for operations that are not item reads or writes). */
export function capacityOf(
  operation: string,
  status: number,
  responseBody: string,
  requestBody?: string,
): CapacityUse {
  const use: CapacityUse = { readUnits: 0, writeUnits: 0, refusedWrites: 0 };
  const isRead = READS.has(operation);
  if (!isRead && !WRITES.has(operation)) return use;
  let response: Record<string, unknown> = {};
  try {
    response = JSON.parse(responseBody) as Record<string, unknown>;
  } catch {
    return use;
  }
  if (status !== 200) {
    const type = String(response.__type ?? '');
    if (!isRead && /ConditionalCheckFailed|TransactionCanceled/.test(type)) {
      use.refusedWrites = 1;
      use.writeUnits = 1;
    }
    return use;
  }
  const consumed = response.ConsumedCapacity;
  const entries = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  // `CapacityUnits` is the entry's total (table and indexes); DynamoDB Local also sets
  // Read/WriteCapacityUnits to the same figure, which must not be added a second time.
  const units = entries.reduce(
    (sum, entry) => sum + Number((entry as { CapacityUnits?: unknown }).CapacityUnits ?? 0),
    0,
  );
  if (isRead) use.readUnits = Math.max(units, minimumReadUnits(operation, requestBody));
  else use.writeUnits = units;
  return use;
}

/** Adds up the capacity of every request it is shown, per operation. */
export function createCapacityMeter() {
  const byOperation = new Map<string, CapacityUse & { requests: number }>();
  return {
    record(operation: string, status: number, responseBody: string, requestBody?: string): void {
      this.add(operation, capacityOf(operation, status, responseBody, requestBody));
    },
    /** Adds units known otherwise (a transaction's, replayed: `transaction-shadow.ts`). */
    add(operation: string, use: CapacityUse): void {
      const total = byOperation.get(operation) ?? {
        readUnits: 0,
        writeUnits: 0,
        refusedWrites: 0,
        requests: 0,
      };
      total.readUnits += use.readUnits;
      total.writeUnits += use.writeUnits;
      total.refusedWrites += use.refusedWrites;
      total.requests += 1;
      byOperation.set(operation, total);
    },
    byOperation: () => Object.fromEntries(byOperation),
    totals(): CapacityUse & { requests: number } {
      const sum = { readUnits: 0, writeUnits: 0, refusedWrites: 0, requests: 0 };
      for (const t of byOperation.values()) {
        sum.readUnits += t.readUnits;
        sum.writeUnits += t.writeUnits;
        sum.refusedWrites += t.refusedWrites;
        sum.requests += t.requests;
      }
      return sum;
    },
  };
}

export type CapacityMeter = ReturnType<typeof createCapacityMeter>;
