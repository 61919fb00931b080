/**
 * The cost estimate on a metered local runtime (`npm run cost`, scripts/cost.ts):
 *
 * 1. drives complaints through the public interfaces (the campaign's `drive`, every complaint worked
 *    by an agent to the end: acknowledge, sometimes ask the customer, resolve, survey answered);
 * 2. waits until everything has settled, and reads what was used: each function's invocations,
 *    duration and own AWS calls (DynamoDB capacity as AWS counts it), the events, queue requests,
 *    schedules and HTTP requests between them, and the function logs;
 * 3. runs each recurring job twice (sweep, reports, retention) and measures the second run, as the monthly cost
 *    of a deployment whatever the volume, with the template's alarms, dashboard and keys and the
 *    custom metrics the run published.
 */
import { readFileSync, statSync } from 'node:fs';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unpackDocument } from '../../../shared/storage/document-codec';
import { drive, driveTarget, newRunId, type SubmissionKind } from '../campaign/drive';
import { watchEventComplaints } from '../campaign/event-complaints';
import { awaitingClassification, runtimeProbe, settle } from '../campaign/settle';
import { LOCAL_CREDENTIALS } from '../dynamodb-local';
import type { LambdaStats } from '../lambda-runner';
import type { LocalRuntime } from '../runtime';
import {
  emfMetricIdentities,
  flowUsage,
  functionUsage,
  handlerMsPerInvocation,
  lambdaReadings,
  type RecurringTrigger,
  recurringTriggers,
  templateFixedCounts,
} from './collect';
import {
  addUsage,
  type CostRow,
  emptyUsage,
  priceFixed,
  priceUsage,
  type RecurringJob,
  recurringUsage,
  scaleUsage,
  totalOf,
  type Usage,
} from './cost-model';
import { ASSUMPTIONS, costOf } from './prices';
import type { UsageMeter } from './usage-meter';

export interface CostRunOptions {
  complaints: number;
  concurrency?: number;
  seed?: number;
  /** The file the function logs go to (`divertFunctionLogs`): its growth is the log volume. */
  functionLogFile: string;
  log?: (message: string) => void;
}

export interface CostEstimate {
  complaints: {
    submitted: number;
    accepted: number;
    worked: number;
    resolved: number;
    surveyed: number;
    /** Why journeys stopped short (counts). */
    abandoned: Record<string, number>;
  };
  /** Usage of one complaint, on average over the accepted ones. */
  perComplaint: Usage;
  perComplaintRows: CostRow[];
  usdPer1000: number;
  /** DynamoDB writes per complaint, per function (the largest share of the cost). */
  writeUnitsByFunction: Record<string, number>;
  /** Invocations per complaint and billed milliseconds per invocation, per function. */
  lambdaByFunction: Record<string, { invocations: number; billedMs: number; coldStarts: number }>;
  recurring: Array<{ name: string; runsPerMonth: number; usdPerRun: number }>;
  fixedRows: CostRow[];
  atRestRows: CostRow[];
  fixedUsdPerMonth: number;
  customMetrics: number;
  storageBytesPer1000: number;
  /** Items per kind (sort key up to its first `#`): count, average and largest size in bytes. */
  items: Record<string, { items: number; averageBytes: number; maxBytes: number }>;
  /** What fills a complaint's record item (`META`): average bytes per attribute (name and value). */
  recordAttributes: Record<string, number>;
  storageUsdPer1000PerMonth: number;
  settled: boolean;
  /** Transactions the meter could not replay (billed at DynamoDB Local's higher figure instead). */
  replayFailures: number;
}

/** Complaints driven one at a time to measure the handlers' durations without contention: one of each kind. */
const CALM_KINDS: readonly SubmissionKind[] = ['http-key', 'http', 'event'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fileSize = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};
const short = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

export async function runCostEstimate(
  runtime: LocalRuntime,
  meter: UsageMeter,
  options: CostRunOptions,
): Promise<CostEstimate> {
  const log = options.log ?? (() => undefined);
  const { template } = runtime.stack;
  const tables = Object.values(runtime.endpoints.tables);
  if (tables.length !== 1) throw new Error(`Expected one table, found ${tables.length}`);
  const tableName = tables[0] as string;
  const base = new DynamoDBClient({
    endpoint: runtime.endpoints.dynamodb,
    region: runtime.endpoints.region,
    credentials: LOCAL_CREDENTIALS,
  });
  const dynamodb = DynamoDBDocumentClient.from(base);
  const events = watchEventComplaints(runtime, dynamodb, tableName);
  const triggers = recurringTriggers(template);
  const recurringIds = new Set(triggers.map((t) => t.functionId));
  const recurringSchedules = () =>
    new Set(
      runtime.scheduler
        .schedules()
        .filter((s) => !s.expression.startsWith('at('))
        .map((s) => `${s.group}/${s.name}`),
    );
  const timerFirings = () => {
    const recurring = recurringSchedules();
    return runtime.scheduler
      .fired()
      .filter((f) => !recurring.has(`${f.group}/${f.name}`))
      .reduce((sum, f) => sum + f.attempts, 0);
  };
  try {
    // --- The complaints -------------------------------------------------------------------------
    meter.reset();
    const before = lambdaReadings(runtime);
    const sourcesBefore = runtime.eventSourceStats();
    const firingsBefore = timerFirings();
    const logBefore = fileSize(options.functionLogFile);
    const runId = newRunId();
    log(`cost: driving ${options.complaints} complaints (every one worked to the end by an agent)`);
    const driven = await drive({
      ...driveTarget(runtime, dynamodb, tableName),
      complaints: options.complaints,
      runId,
      poisonRate: 0,
      agentShare: 1,
      concurrency: options.concurrency ?? 4,
      seed: options.seed ?? 1,
      lookUpEventComplaint: (marker) => events.lookUp(marker),
      log,
    });
    log('cost: drive done; letting the system settle');
    const settled = await settle(runtimeProbe(runtime, awaitingClassification(dynamodb, tableName)), {
      capMs: 180_000,
      log,
    });
    if (!settled.settled) log(`cost: NOT settled; last look: ${JSON.stringify(settled.last)}`);
    const accepted = driven.submissions.filter((s) => s.accepted).length;
    if (accepted === 0) throw new Error('No complaint was accepted: nothing to measure');
    const after = lambdaReadings(runtime);
    await meter.settled();
    const snapshot = meter.snapshot();
    const replayFailures = meter.replayFailures();
    const sourcesAfter = runtime.eventSourceStats();
    const logBytes = fileSize(options.functionLogFile) - logBefore;
    const stored = await storedBytes(base, tableName);
    const storageBytes = stored.total;

    // --- The handlers' time, measured with one complaint in flight ------------------------------
    // Above, many complaints share this machine's cores and the handlers wait for them; on Lambda
    // each instance has its own share. Duration is priced from a calm run.
    log(`cost: measuring handler durations with one complaint in flight (${CALM_KINDS.length} complaints)`);
    const calmBefore = lambdaReadings(runtime);
    for (const [n, kind] of CALM_KINDS.entries()) {
      await drive({
        ...driveTarget(runtime, dynamodb, tableName),
        complaints: 1,
        runId: `${runId}q${n}`,
        poisonRate: 0,
        agentShare: 1,
        concurrency: 1,
        kind,
        seed: (options.seed ?? 1) + 1 + n,
        lookUpEventComplaint: (marker) => events.lookUp(marker),
      });
      await settle(runtimeProbe(runtime, awaitingClassification(dynamodb, tableName)), { capMs: 60_000 });
    }
    const calmMs = handlerMsPerInvocation(calmBefore, lambdaReadings(runtime));

    let perRun = emptyUsage();
    const writeUnitsByFunction: Record<string, number> = {};
    const lambdaByFunction: CostEstimate['lambdaByFunction'] = {};
    let invocations = 0;
    for (const fn of runtime.functions.values()) {
      if (recurringIds.has(fn.logicalId)) continue;
      const usage = functionUsage({
        template,
        functionId: fn.logicalId,
        before: before.get(fn.logicalId),
        after: after.get(fn.logicalId),
        snapshot,
        ...(calmMs.has(fn.logicalId) && { handlerMs: calmMs.get(fn.logicalId) }),
      });
      invocations += usage.lambdaRequests;
      if (usage.lambdaRequests > 0) {
        const delta = (field: 'billedMs' | 'instanceMs' | 'coldStarts') =>
          (after.get(fn.logicalId)?.[field] ?? 0) - (before.get(fn.logicalId)?.[field] ?? 0);
        lambdaByFunction[short(fn.logicalId)] = {
          invocations: usage.lambdaRequests / accepted,
          billedMs:
            calmMs.get(fn.logicalId) ?? (delta('billedMs') - delta('instanceMs')) / usage.lambdaRequests,
          coldStarts: delta('coldStarts') / accepted,
        };
      }
      if (usage.dynamodbWrites > 0)
        writeUnitsByFunction[short(fn.logicalId)] = usage.dynamodbWrites / accepted;
      perRun = addUsage(perRun, usage);
    }
    const flow = flowUsage({
      snapshot,
      eventSources: sourcesAfter.map((s, i) => ({
        receivesWithMessages: s.receivesWithMessages - (sourcesBefore[i]?.receivesWithMessages ?? 0),
        batchCalls: s.batchCalls - (sourcesBefore[i]?.batchCalls ?? 0),
      })),
      schedulerInvocations: timerFirings() - firingsBefore,
    });
    perRun = addUsage(perRun, flow);
    perRun.logBytes = logBytes + invocations * ASSUMPTIONS.platformLogBytesPerInvocation;
    const perComplaint = scaleUsage(perRun, 1 / accepted);
    const perComplaintRows = priceUsage(perComplaint);

    // --- The recurring jobs, once each ---------------------------------------------------------
    const jobs: RecurringJob[] = [];
    for (const trigger of triggers) {
      // The first run may repair what the drive left (a lost timer, a hand-off): work that is not
      // there every time. The second run is what a quiet month repeats.
      await measureRun(runtime, meter, trigger, options.functionLogFile, () => undefined);
      jobs.push(await measureRun(runtime, meter, trigger, options.functionLogFile, log));
    }
    const identities = emfMetricIdentities(readFileSync(options.functionLogFile, 'utf8').split('\n'));
    const fixedRows = priceFixed({ ...templateFixedCounts(template), customMetrics: identities.size });
    const atRestRows = priceUsage(recurringUsage(jobs));
    const storageBytesPer1000 = (storageBytes / accepted) * 1000;
    return {
      complaints: {
        submitted: driven.submissions.length,
        accepted,
        worked: driven.journeys.started - driven.journeys.abandoned,
        resolved: driven.journeys.resolved,
        surveyed: driven.journeys.surveysAnswered,
        abandoned: driven.journeys.reasons,
      },
      perComplaint,
      perComplaintRows,
      usdPer1000: totalOf(perComplaintRows) * 1000,
      writeUnitsByFunction,
      lambdaByFunction,
      recurring: jobs.map((job) => ({
        name: job.name,
        runsPerMonth: job.runsPerMonth,
        usdPerRun: totalOf(priceUsage(job.perRun)),
      })),
      fixedRows,
      atRestRows,
      fixedUsdPerMonth: totalOf(fixedRows) + totalOf(atRestRows),
      customMetrics: identities.size,
      storageBytesPer1000,
      items: Object.fromEntries(
        Object.entries(stored.bySortKey).map(([kind, v]) => [
          kind,
          { items: v.items, averageBytes: Math.round(v.bytes / v.items), maxBytes: v.maxBytes },
        ]),
      ),
      recordAttributes: stored.recordAttributes,
      storageUsdPer1000PerMonth: costOf('dynamodbStorage', storageBytesPer1000 / 1024 ** 3),
      settled: settled.settled,
      replayFailures,
    };
  } finally {
    events.close();
    base.destroy();
  }
}

/** Starts one run of a recurring job now and measures it (its own calls and what it published). */
async function measureRun(
  runtime: LocalRuntime,
  meter: UsageMeter,
  trigger: RecurringTrigger,
  logFile: string,
  log: (message: string) => void,
): Promise<RecurringJob> {
  const fn = runtime.functions.get(trigger.functionId);
  if (fn === undefined) throw new Error(`No local function ${trigger.functionId}`);
  meter.reset();
  const before = fn.lambda.stats();
  const logBefore = fileSize(logFile);
  log(`cost: one run of ${short(trigger.triggerId)} (${trigger.expression})`);
  if ('rule' in trigger.start) await runtime.fireScheduledRule(trigger.start.rule);
  else await runtime.invokeAsync(fn.arn, trigger.start.input);
  let after: LambdaStats = fn.lambda.stats();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    after = fn.lambda.stats();
    if (after.invocations > before.invocations && after.busy === 0 && after.waiting === 0) break;
    await sleep(200);
  }
  await sleep(500); // what it published reaches the bus and the queues
  const runs = Math.max(1, after.invocations - before.invocations);
  await meter.settled();
  const snapshot = meter.snapshot();
  const usage = addUsage(
    functionUsage({ template: runtime.stack.template, functionId: fn.logicalId, before, after, snapshot }),
    flowUsage({ snapshot, eventSources: [], schedulerInvocations: 'input' in trigger.start ? runs : 0 }),
  );
  usage.logBytes = fileSize(logFile) - logBefore + runs * ASSUMPTIONS.platformLogBytesPerInvocation;
  return {
    name: short(trigger.triggerId),
    runsPerMonth: trigger.runsPerMonth,
    perRun: scaleUsage(usage, 1 / runs),
  };
}

/**
 * The table's stored bytes as DynamoDB bills them, roughly: each item's attribute names and values
 * plus 100 bytes of overhead, once for the table and once for each index it is in (an upper bound:
 * indexes keep only their projected attributes).
 */
async function storedBytes(
  client: DynamoDBClient,
  tableName: string,
): Promise<{
  total: number;
  bySortKey: Record<string, { items: number; bytes: number; maxBytes: number }>;
  recordAttributes: Record<string, number>;
}> {
  let total = 0;
  const bySortKey: Record<string, { items: number; bytes: number; maxBytes: number }> = {};
  const attributeBytes = new Map<string, number>();
  let records = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const indexes = Object.keys(item).filter((name) => /^gsi\d+pk$/.test(name)).length;
      const size = itemBytes(item);
      total += (size + 100) * (1 + indexes);
      const sortKind = (item.sk?.S ?? '').replace(/#.*$/, '');
      // Timeline entries by their type: which kinds of entry are large.
      const kind = sortKind === 'TL' ? `TL:${timelineType(item.entry)}` : sortKind;
      const entry = bySortKey[kind] ?? { items: 0, bytes: 0, maxBytes: 0 };
      bySortKey[kind] = entry;
      entry.items++;
      entry.bytes += size;
      entry.maxBytes = Math.max(entry.maxBytes, size);
      if (kind === 'META' && (item.doc !== undefined || item.complaint !== undefined)) {
        records++;
        for (const [name, value] of Object.entries(item)) {
          attributeBytes.set(name, (attributeBytes.get(name) ?? 0) + itemBytes({ [name]: value }));
        }
      }
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  const recordAttributes = Object.fromEntries(
    [...attributeBytes]
      .sort(([, a], [, b]) => b - a)
      .map(([name, bytes]) => [name, Math.round(bytes / Math.max(1, records))]),
  );
  return { total, bySortKey, recordAttributes };
}

/** The type of a stored timeline entry, compressed or not. */
function timelineType(entry: AttributeValue | undefined): string {
  if (entry?.B !== undefined) return String((unpackDocument(entry.B) as { type?: unknown }).type ?? '?');
  return entry?.M?.type?.S ?? '?';
}

/** An item's size by DynamoDB's rules (names and values in UTF-8; numbers ≈ half their digits + 1). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueBytes(value),
    0,
  );
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[^0-9]/g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((s, v) => s + Buffer.byteLength(v, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((s, v) => s + Math.ceil(v.length / 2) + 1, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((s, v) => s + 1 + valueBytes(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemBytes(value.M);
  return 0;
}
