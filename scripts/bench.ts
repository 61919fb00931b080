import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../infra/local/dynamodb-local';
import { createLocalStore } from '../infra/local/local-store';
import { itemBytes } from '../infra/local/metering/cost-run';
import { BusinessCalendar } from '../shared/domain/business-calendar';
import { classify } from '../shared/domain/classification';
import { ComplaintSubmissionSchema } from '../shared/domain/complaint';
import { parseMapping } from '../shared/domain/history-import';
import {
  addCounters,
  type Counters,
  contributions,
  DEFAULT_AGGREGATE_SHARDS,
  diffContributions,
} from '../shared/domain/reporting/contributions';
import {
  type ComplaintFacts,
  emptyFacts,
  type LifecycleEvent,
  mergeEvent,
  sameFacts,
} from '../shared/domain/reporting/facts';
import {
  bucketKeysFor,
  computeFigures,
  type Period,
  parsePeriod,
  previousPeriod,
  sumCounters,
} from '../shared/domain/reporting/report';
import { DETAIL_TYPES } from '../shared/events/names';
import type { EventPublisher } from '../shared/events/publisher';
import { loadPolicyFile } from '../shared/policy/load';
import type { TimerScheduler } from '../shared/scheduling/timers';
import { StaticServiceKeys, UnconfiguredServiceKeys } from '../shared/security/service-keys';
import { assignComplaint } from '../shared/services/assignment';
import { classifyComplaint } from '../shared/services/classification';
import type { ServiceContext } from '../shared/services/context';
import {
  checkHeader,
  type HistoryImportContext,
  type ImportSummary,
  importHistory,
  readCsv,
} from '../shared/services/history-import';
import { receiveComplaint } from '../shared/services/intake';
import { generateReport, type ReportingContext, recordLifecycleEvent } from '../shared/services/reporting';
import type { ComplaintStore } from '../shared/storage/ports';
import { DynamoDbReportingStore, type ReportingStore } from '../shared/storage/reporting-store';
import { generateExport } from '../test/fixtures/import/generate-export';
import { benchBundles } from './bench/bundles';
import { benchRuntime } from './bench/runtime';

/**
 * `npm run bench`: prints throughput and memory figures. Nothing here asserts a
 * timing; compare the figures between runs on the same machine.
 *
 * - pure domain: classification, working-time deadline arithmetic, timer planning;
 * - the first half of the pipeline (intake → classification → assignment) through
 *   the real services against DynamoDB Local (whose own ceiling on 2 cores is
 *   ~540 sequential / ~1,300 parallel PutItems per second);
 * - reporting, pure: folding lifecycle events into report facts, their bucket
 *   contributions, a month's figures from in-memory aggregates;
 * - reporting against DynamoDB Local: complaints' lifecycle events through
 *   `recordLifecycleEvent`, then `generateReport` for the month at a quarter, half and
 *   all of the complaints (it reads the same buckets at any volume);
 * - the history import of a generated export: dry run (no table), first run and re-run.
 *
 * Sizes: BENCH_COMPLAINTS, BENCH_CONCURRENCY (pipeline and reporting feed),
 * BENCH_REPORT_COMPLAINTS, BENCH_IMPORT_ROWS.
 */

const policy = loadPolicyFile(new URL('../policy/default-policy.json', import.meta.url).pathname);
const calendar = new BusinessCalendar(policy.calendar);

const TEXTS = [
  '今天早上开始APP一直闪退，登录不了，提示网络错误',
  'I was charged twice for my subscription this month and want a refund of 58 yuan',
  '我的个人信息被泄露了，最近陆续接到诈骗电话',
  '客服态度很差，等了两个小时没人回复',
  'The app has too many steps to change my address',
  '会员自动续费多扣了我800元，要求退款',
];

function measure(name: string, iterations: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${name.padEnd(48)} ${Math.round(iterations / seconds)
      .toLocaleString('en-US')
      .padStart(12)} /s   ${((seconds / iterations) * 1e6).toFixed(2).padStart(9)} µs each`,
  );
}

function pureDomain(): void {
  console.log('Pure domain (one core)');
  const submissions = TEXTS.map((description, i) =>
    ComplaintSubmissionSchema.parse({ channel: 'app', customer: { id: `c${i}` }, description }),
  );
  const now = new Date('2026-11-24T02:00:00Z');
  measure('classify (zh/en mix, no history)', 20_000, (i) => {
    classify(
      policy,
      { submission: submissions[i % submissions.length] as never, tier: 'standard', now },
      { recent: [] },
    );
  });
  measure('calendar.add 12 working hours', 100_000, (i) => {
    calendar.add(new Date(now.getTime() + (i % 500) * 3_600_000), {
      value: 12,
      unit: 'hours',
      time: 'working',
    });
  });
  measure('calendar.add 5 working days', 100_000, (i) => {
    calendar.add(new Date(now.getTime() + (i % 500) * 3_600_000), {
      value: 5,
      unit: 'days',
      time: 'working',
    });
  });
}

async function pipeline(count: number, concurrency: number): Promise<void> {
  console.log(`\nPipeline: ${count} complaints, ${concurrency} in flight, DynamoDB Local`);
  const dynamo = await startDynamoDbLocal({ port: 0 });
  try {
    const store = await createLocalStore(dynamo.endpoint, 'bench');
    let events = 0;
    let timers = 0;
    const publisher: EventPublisher = {
      async publish(e) {
        events += e.length;
      },
    };
    const scheduler: TimerScheduler = {
      async apply(changes) {
        timers += changes.upsert.length;
      },
    };
    const ctx: ServiceContext = {
      policy,
      calendar,
      store,
      publisher,
      scheduler,
      keys: new StaticServiceKeys('benchmark-only-secret'),
      now: () => new Date(),
    };
    const before = process.memoryUsage().rss;
    const start = Date.now();
    let next = 0;
    let retriedBySqs = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const { complaintId } = await receiveComplaint(ctx, {
          submission: ComplaintSubmissionSchema.parse({
            channel: 'app',
            customer: { id: `bench-${i % 300}` },
            description: `${TEXTS[i % TEXTS.length]} #${i}`,
          }),
          sourceSystem: 'bench',
          messageId: `bench-${i}`,
          submitter: { kind: 'producer', source: 'bench' },
          idempotency: { kind: 'event', source: 'bench', messageId: `bench-${i}` },
        });
        await classifyComplaint(ctx, complaintId);
        try {
          await assignComplaint(ctx, complaintId);
        } catch {
          retriedBySqs++; // still conflicting after the in-process retries: SQS would redeliver it
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (Date.now() - start) / 1000;
    console.log(
      `${'intake → classification → assignment'.padEnd(48)} ${(count / seconds).toFixed(0).padStart(12)} complaints/s`,
    );
    console.log(`${'assignments left to an SQS retry'.padEnd(48)} ${String(retriedBySqs).padStart(12)}`);
    console.log(
      `${'events published / timers scheduled'.padEnd(48)} ${`${events} / ${timers}`.padStart(12)}`,
    );
    console.log(
      `${'RSS growth during the run'.padEnd(48)} ${((process.memoryUsage().rss - before) / 1e6).toFixed(1).padStart(12)} MB`,
    );
  } finally {
    await dynamo.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// Reporting

const TZ = policy.calendar.timeZone;
const REPORT_MONTH = '2026-10';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REPORT_CHANNELS = ['app', 'web', 'hotline', 'email', 'social_media', 'app'] as const;
const REPORT_ROUTES = [
  ['billing_dispute', 'billing', 'bill_wu'],
  ['technical_fault', 'technical_support', 'tech_zhao'],
  ['service_quality', 'customer_service', 'cs_li'],
  ['product_experience', 'product', 'pm_zhou'],
  ['information_security', 'security', 'sec_feng'],
  ['technical_fault', 'technical_support', 'tech_sun'],
] as const;
const REPORT_SEVERITIES = ['general', 'general', 'general', 'important', 'urgent', 'major'] as const;

/**
 * The eight lifecycle events of one complaint of `month` (received → classified → assigned →
 * acknowledged → responded → resolved → survey answered → closed), deterministic in `i`: received at
 * any hour of the month's first 28 days (business zone), acknowledged within 2 h, answered within a
 * day, resolved within 5 days (so some in the next month), surveyed and closed after that.
 */
function lifecycleEvents(i: number, month: string, days = 28): LifecycleEvent[] {
  let seed = (i + 1) * 2_654_435_761;
  const random = () => {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const complaintId = `bench-report-${i}`;
  const [category, department, assignee] = pick(REPORT_ROUTES);
  const received = Date.parse(`${month}-01T00:00:00+08:00`) + Math.floor(random() * days * DAY);
  const acknowledged = received + 5 * MINUTE + Math.floor(random() * 2 * HOUR);
  const responded = acknowledged + Math.floor(random() * 24 * HOUR);
  const resolved = responded + 2 * HOUR + Math.floor(random() * 5 * DAY);
  const surveyed = resolved + HOUR + Math.floor(random() * 2 * DAY);
  let n = 0;
  const ev = (detailType: string, at: number, data: Record<string, unknown> = {}): LifecycleEvent => ({
    detailType,
    detail: {
      metadata: { eventId: `${complaintId}:${++n}`, occurredAt: new Date(at).toISOString() },
      data: { complaintId, number: `BENCH-${i}`, ...data },
    },
  });
  return [
    ev(DETAIL_TYPES.complaintReceived, received, {
      receivedAt: new Date(received).toISOString(),
      channel: pick(REPORT_CHANNELS),
      tier: random() < 0.1 ? 'vip' : 'standard',
    }),
    ev(DETAIL_TYPES.complaintClassified, received + 2_000, {
      category,
      severity: pick(REPORT_SEVERITIES),
      isRepeat: random() < 0.12,
    }),
    ev(DETAIL_TYPES.complaintAssigned, received + 3_000, { leadDepartment: department, assignee }),
    ev(DETAIL_TYPES.acknowledged, acknowledged),
    ev(DETAIL_TYPES.responded, responded),
    ev(DETAIL_TYPES.resolved, resolved),
    ev(DETAIL_TYPES.surveyAnswered, surveyed, { score: 1 + Math.floor(random() * 5) }),
    ev(DETAIL_TYPES.closed, surveyed + 1_000),
  ];
}

/** The pure part of `generateReport` for one period: read its buckets from memory, sum, compute. */
function figuresFromMemory(buckets: Map<string, Counters>, period: Period, since: string) {
  const keys = bucketKeysFor(period, DEFAULT_AGGREGATE_SHARDS, since);
  const read = (list: string[]) => sumCounters(list.map((k) => buckets.get(k) ?? {}));
  return computeFigures(
    period,
    read(keys.days),
    sumCounters([read(keys.backlogMonths), read(keys.backlogDays)]),
  );
}

function pureReporting(): void {
  console.log('\nReporting, pure (one core)');
  const options = { timeZone: TZ, shards: DEFAULT_AGGREGATE_SHARDS };
  const sequences = Array.from({ length: 256 }, (_, i) => lifecycleEvents(i, REPORT_MONTH));
  // facts[k] = the facts after the first k events of the sequence.
  const chains = sequences.map((events) => {
    const facts: ComplaintFacts[] = [emptyFacts(events[0]?.detail.data.complaintId as string)];
    for (const e of events) facts.push(mergeEvent(facts.at(-1) as ComplaintFacts, e));
    return facts;
  });
  const at = (i: number) => {
    const s = (i >> 3) % sequences.length;
    const k = i & 7;
    return {
      event: sequences[s]?.[k] as LifecycleEvent,
      before: chains[s]?.[k] as ComplaintFacts,
      after: chains[s]?.[k + 1] as ComplaintFacts,
    };
  };
  let facts = emptyFacts('x');
  measure('mergeEvent (8-event lifecycle, per event)', 200_000, (i) => {
    const { event, before } = at(i);
    facts = mergeEvent(i & 7 ? facts : before, event);
  });
  measure('contributions ×2 + diff (per event)', 5_000, (i) => {
    const { before, after } = at(i);
    diffContributions(contributions(before, options), contributions(after, options));
  });
  // What `recordLifecycleEvent` computes per event between its read and its write.
  measure('merge + sameFacts + contributions ×2 + diff', 5_000, (i) => {
    const { event, before } = at(i);
    const next = mergeEvent(before, event);
    if (!sameFacts(before, next))
      diffContributions(contributions(before, options), contributions(next, options));
  });

  // A month of aggregates in memory: 1,000 complaints' final contributions, added bucket by bucket.
  const buckets = new Map<string, Counters>();
  for (let i = 0; i < 1000; i++) {
    const final = lifecycleEvents(i, REPORT_MONTH).reduce(mergeEvent, emptyFacts(`bench-report-${i}`));
    for (const [key, counters] of contributions(final, options)) {
      buckets.set(key, addCounters(buckets.get(key) ?? {}, counters));
    }
  }
  const counterCount = [...buckets.values()].reduce((n, c) => n + Object.keys(c).length, 0);
  const period = parsePeriod('monthly', REPORT_MONTH, TZ);
  const previous = previousPeriod(period);
  const keys = bucketKeysFor(period, DEFAULT_AGGREGATE_SHARDS, previous.firstDay);
  const monthCounters = sumCounters(keys.days.map((k) => buckets.get(k) ?? {}));
  const backlogNet = sumCounters(
    [...keys.backlogMonths, ...keys.backlogDays].map((k) => buckets.get(k) ?? {}),
  );
  console.log(
    `${'aggregates of 1,000 complaints (month and after)'.padEnd(48)} ${`${buckets.size} buckets, ${counterCount.toLocaleString('en-US')} counters`.padStart(12)}`,
  );
  measure('computeFigures, one month (counters summed)', 2_000, () => {
    computeFigures(period, monthCounters, backlogNet);
  });
  measure('month report from memory (sum buckets, ×2 periods)', 300, () => {
    figuresFromMemory(buckets, period, previous.firstDay);
    figuresFromMemory(buckets, previous, previous.firstDay);
  });
}

/** The reporting store, counting the bucket keys `generateReport` reads. */
class CountingReportingStore extends DynamoDbReportingStore {
  bucketKeysRead = 0;
  bucketsWithData = 0;
  countersRead = 0;
  override async getBuckets(keys: readonly string[]): Promise<Map<string, Counters>> {
    const out = await super.getBuckets(keys);
    this.bucketKeysRead += new Set(keys).size;
    for (const counters of out.values()) {
      const n = Object.keys(counters).length;
      if (n > 0) this.bucketsWithData += 1;
      this.countersRead += n;
    }
    return out;
  }
}

function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

/** The largest report bucket item, and the largest bucket with all its family items together (bytes by DynamoDB's rules). */
async function bucketItemSizes(
  endpoint: string,
  table: string,
): Promise<{ largestItem: number; largestBucket: number }> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const buckets = new Map<string, number>();
  let largestItem = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: start,
        FilterExpression: 'begins_with(pk, :agg)',
        ExpressionAttributeValues: { ':agg': { S: 'AGG#' } },
      }),
    );
    for (const item of page.Items ?? []) {
      const bytes = itemBytes(item);
      largestItem = Math.max(largestItem, bytes);
      const bucket = (item.pk?.S ?? '').split('|')[0] ?? '';
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + bytes);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return { largestItem, largestBucket: Math.max(0, ...buckets.values()) };
}

async function reportingOnDynamoDb(count: number, concurrency: number): Promise<void> {
  console.log(
    `\nReporting against DynamoDB Local: ${count} complaints × 8 events, ${concurrency} complaints in flight`,
  );
  const dynamo = await startDynamoDbLocal({ port: 0 });
  try {
    const table = 'bench-reporting';
    await createLocalStore(dynamo.endpoint, table); // the single table, as `npm start` creates it
    const store = new CountingReportingStore(documentClient(dynamo.endpoint), table);
    // After the month: its report is final (stored), as the scheduled generation makes it.
    const ctx: ReportingContext = { store, timeZone: TZ, now: () => new Date('2026-11-05T00:00:00Z') };
    let redelivered = 0;
    const feed = async (from: number, to: number, days = 28) => {
      let next = from;
      const worker = async () => {
        // One complaint's events in order, as the aggregator's in-order SQS batches bring them.
        for (let i = next++; i < to; i = next++) {
          for (const event of lifecycleEvents(i, REPORT_MONTH, days)) {
            for (let attempt = 1; ; attempt++) {
              try {
                await recordLifecycleEvent(ctx, event);
                break;
              } catch (error) {
                if (attempt >= 5) throw error;
                redelivered++; // SQS would deliver it again
              }
            }
          }
        }
      };
      const start = Date.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      const seconds = (Date.now() - start) / 1000;
      console.log(
        `${`recordLifecycleEvent, complaints ${from + 1}–${to}`.padEnd(48)} ${((8 * (to - from)) / seconds).toFixed(0).padStart(12)} events/s`,
      );
    };
    const report = async (complaints: number) => {
      const times: number[] = [];
      let received = 0;
      store.bucketKeysRead = 0;
      store.bucketsWithData = 0;
      store.countersRead = 0;
      const runs = 9;
      for (let r = 0; r < runs; r++) {
        const start = process.hrtime.bigint();
        received = (await generateReport(ctx, 'monthly', REPORT_MONTH)).figures.volume.received;
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      times.sort((a, b) => a - b);
      console.log(
        `${`generateReport monthly ${REPORT_MONTH}, ${complaints} complaints`.padEnd(48)} ${(times[Math.floor(runs / 2)] as number).toFixed(0).padStart(12)} ms (median of ${runs}, best ${(times[0] as number).toFixed(0)} ms; ${store.bucketKeysRead / runs} bucket keys read, ${store.bucketsWithData / runs} with data, ${(store.countersRead / runs).toLocaleString('en-US')} counters; received ${received})`,
      );
    };
    // The report reads the same bucket keys at any volume; each bucket's counters grow only until every
    // dimension value (hour, channel, category, department, cohort, histogram bin) has appeared in it.
    let fed = 0;
    for (const upTo of [Math.floor(count / 4), Math.floor(count / 2), count]) {
      await feed(fed, upTo);
      fed = upTo;
      await report(upTo);
    }
    console.log(`${'events delivered again after an error'.padEnd(48)} ${String(redelivered).padStart(12)}`);
    // A busy day: its buckets hold every dimension value; an ADD is billed by the size of the item.
    const busy = Number(process.env.BENCH_BUSY_DAY_COMPLAINTS ?? 1600);
    await feed(100_000, 100_000 + busy, 1);
    const sizes = await bucketItemSizes(dynamo.endpoint, table);
    const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
    console.log(
      `${`busy day (+${busy} complaints received on one day)`.padEnd(48)} ${`${sizes.largestItem} B`.padStart(12)} largest bucket item (${units(sizes.largestItem)} write units per ADD; the same bucket stored whole: ${sizes.largestBucket} B, ${units(sizes.largestBucket)} units)`,
    );
    console.log(
      `${'heap used'.padEnd(48)} ${(process.memoryUsage().heapUsed / 1e6).toFixed(1).padStart(12)} MB`,
    );
  } finally {
    await dynamo.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// History import

async function historyImport(goodRows: number): Promise<void> {
  const generated = generateExport({ seed: 2025, count: goodRows });
  const rowCount = generated.rows.length;
  console.log(
    `\nHistory import against DynamoDB Local: generated export, ${rowCount.toLocaleString('en-US')} rows (${goodRows} good), 8 in flight`,
  );
  const mapping = parseMapping(
    JSON.parse(readFileSync(new URL('../test/fixtures/import/mapping.json', import.meta.url), 'utf8')),
    policy,
  );
  const now = () => new Date('2025-06-01T00:00:00Z');
  const rows = () =>
    readCsv(Readable.from([Buffer.from(generated.csv)]), {
      onHeader: (columns) => checkHeader(mapping, columns),
    });
  const line = (name: string, s: ImportSummary) =>
    console.log(
      `${name.padEnd(48)} ${(s.read / (s.elapsedMs / 1000)).toFixed(0).padStart(12)} rows/s   (${s.imported} imported, ${s.skipped} skipped, ${s.rejected} rejected, ${(s.elapsedMs / 1000).toFixed(1)} s)`,
    );

  // The dry run touches no table: any call on the stores would throw.
  const noTable = new Proxy(
    {},
    {
      get: (_, name) => () => {
        throw new Error(`the dry run used the table (${String(name)})`);
      },
    },
  );
  const dry = await importHistory(
    {
      store: noTable as ComplaintStore,
      reporting: { store: noTable as ReportingStore, timeZone: TZ, now },
      policy,
      calendar,
      now,
      keys: new UnconfiguredServiceKeys(),
    },
    rows(),
    { mapping, dryRun: true },
  );
  line('dry run (no table)', dry);

  const dynamo = await startDynamoDbLocal({ port: 0 });
  try {
    const table = 'bench-import';
    const ctx: HistoryImportContext = {
      store: await createLocalStore(dynamo.endpoint, table),
      reporting: {
        store: new DynamoDbReportingStore(documentClient(dynamo.endpoint), table),
        timeZone: TZ,
        now,
      },
      policy,
      calendar,
      now,
      keys: new StaticServiceKeys('benchmark-only-secret'),
    };
    line('first run (fresh table)', await importHistory(ctx, rows(), { mapping }));
    line('re-run (everything already imported)', await importHistory(ctx, rows(), { mapping }));
  } finally {
    await dynamo.stop();
  }
}

/** `BENCH_ONLY=runtime` (or `domain`, `pipeline`, `reporting`, `import`, `bundles`, comma-separated) runs only those parts. */
const only = new Set((process.env.BENCH_ONLY ?? '').split(',').filter(Boolean));
const part = (name: string) => only.size === 0 || only.has(name);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
if (part('domain')) {
  pureDomain();
  pureReporting();
}
if (part('pipeline')) await pipeline(Number(process.env.BENCH_COMPLAINTS ?? 300), concurrency);
if (part('reporting'))
  await reportingOnDynamoDb(Number(process.env.BENCH_REPORT_COMPLAINTS ?? 800), concurrency);
if (part('import')) await historyImport(Number(process.env.BENCH_IMPORT_ROWS ?? 1000));
if (part('bundles')) await benchBundles({ runs: Number(process.env.BENCH_INIT_RUNS ?? 7) });
if (part('runtime')) {
  await benchRuntime({
    concurrency,
    complaints: Number(process.env.BENCH_RUNTIME_COMPLAINTS ?? 300),
    sustainedSeconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 300),
    sustainedRate: Number(process.env.BENCH_SUSTAINED_RATE ?? 5),
  });
}
console.log(`\nHeap used at the end: ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
