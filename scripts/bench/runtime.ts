/**
 * `npm run bench` figures taken through the local runtime (the synthesized app, as `npm start` runs
 * it), side by side with DynamoDB Local's own ceiling in the same run:
 *
 * - **ceiling**: three-item `TransactWriteItems` per second at the same concurrency, straight to
 *   DynamoDB Local, divided by 6 (the transactions a complaint costs from intake to assigned, report
 *   aggregation included) = the complaints/s the store would allow;
 * - **throughput**: `POST /complaints` at that concurrency until every complaint is assigned or
 *   rejected (`Complaint Assigned` / `Complaint Rejected` seen on the bus), as complaints/s and as a
 *   share of the ceiling, with the intake → assigned latency; 5xx and 429 answers counted. Then the
 *   latency at one complaint in flight (what a customer waits for on a quiet system). It runs on
 *   the default policy (deadlines hours away), so intake → assigned is all it measures. A warm-up round (twice the concurrency) runs
 *   first, so the figure is the steady state, not the first cold starts. The intake route's throttle
 *   (10 requests/s by default, a deployment setting) is raised for the bench: it measures what the
 *   runtime carries, not the product's rate limit;
 * - **precision** (`BENCH_SUSTAINED_SECONDS`, default 300; 0 skips it), on the demo policy (deadlines
 *   in seconds) in a runtime of its own: complaints at
 *   `BENCH_SUSTAINED_RATE` per second (default 5) left unanswered so their deadlines pass; for every
 *   `Complaint SLA Breached` event, the delay between the deadline and the moment the bus accepted
 *   it (p50/p99/max), and how many breaches the sweep found instead of a timer.
 *
 * Nothing here asserts a figure: compare runs on the same machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { DEMO_POLICY_FILE, synthLocalAssembly } from '../../infra/local/demo-assembly';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime';
import { DETAIL_TYPES } from '../../shared/events/names';

const row = (label: string, value: string) => console.log(`${label.padEnd(48)} ${value.padStart(12)}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `q` quantile of ascending `sorted` values; NaN when there are none. */
const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Complaints sent one after another for the one-in-flight latency. */
const LATENCY_SAMPLES = 30;

/** Transactions a complaint costs from intake to assigned, report aggregation included. */
export const TRANSACTIONS_PER_COMPLAINT = 6;

const TEXTS = [
  '我的账户被重复扣费了，请退款',
  'The app crashes every time I open the payment page',
  '快递一直没有送到，物流信息也不更新',
  'Customer service was rude and hung up on me',
  'I was charged twice for my subscription this month',
];

/** Three-item transactions per second straight to DynamoDB Local, `concurrency` in flight. */
async function transactionCeiling(endpoint: string, concurrency: number, seconds: number): Promise<number> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const table = `bench-ceiling-${Date.now()}`;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: table });
    const body = 'x'.repeat(1500);
    let done = 0;
    let n = 0;
    const until = Date.now() + seconds * 1000;
    const worker = async () => {
      while (Date.now() < until) {
        const i = n++;
        await client.send(
          new TransactWriteItemsCommand({
            TransactItems: [0, 1, 2].map((k) => ({
              Put: {
                TableName: table,
                Item: { pk: { S: `C#${i}` }, sk: { S: `ITEM#${k}` }, body: { S: body } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            })),
          }),
        );
        done++;
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return done / ((Date.now() - started) / 1000);
  } finally {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    client.destroy();
  }
}

interface Submitted {
  status: number;
  complaintId?: string;
}

/** The intake route throttle for the bench's synth: far above what the runtime can carry. */
const BENCH_ROUTE_THROTTLES = JSON.stringify({ intake: { rateLimit: 10_000, burstLimit: 20_000 } });

async function submit(runtime: LocalRuntime, i: number, tag: string): Promise<Submitted> {
  const response = await fetch(`${runtime.endpoints.httpApi}/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${tag}-${i}` },
    body: JSON.stringify({
      channel: 'web',
      customer: { id: `bench-${tag}-${i}` },
      description: `${TEXTS[i % TEXTS.length]} (${tag} #${i})`,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { complaintId?: string };
  return { status: response.status, ...(body.complaintId ? { complaintId: body.complaintId } : {}) };
}

/** Intake → assigned (or rejected) through the runtime with `concurrency` requests in flight. */
async function throughput(runtime: LocalRuntime, count: number, concurrency: number) {
  const assigned = new Map<string, number>();
  const unsubscribe = runtime.onEvent(({ event }) => {
    const type = event['detail-type'];
    if (type === DETAIL_TYPES.complaintAssigned || type === DETAIL_TYPES.complaintRejected) {
      assigned.set(
        String((event.detail.data as { complaintId?: string } | undefined)?.complaintId),
        Date.now(),
      );
    }
  });
  const accepted = new Set<string>();
  const submittedAt = new Map<string, number>();
  let serverErrors = 0;
  let throttled = 0;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      for (;;) {
        const sent = Date.now();
        const result = await submit(runtime, i, `tp${started}`);
        if (result.status === 429) {
          throttled++;
          await sleep(200);
          continue;
        }
        if (result.status >= 500) serverErrors++;
        if (result.complaintId !== undefined) {
          accepted.add(result.complaintId);
          submittedAt.set(result.complaintId, sent);
        }
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const deadline = Date.now() + 180_000;
  while ([...accepted].some((id) => !assigned.has(id)) && Date.now() < deadline) await sleep(100);
  unsubscribe();
  const last = Math.max(...[...accepted].map((id) => assigned.get(id) ?? Date.now()));
  const done = [...accepted].filter((id) => assigned.has(id)).length;
  const latencies = [...accepted]
    .filter((id) => assigned.has(id))
    .map((id) => (assigned.get(id) as number) - (submittedAt.get(id) as number))
    .sort((a, b) => a - b);
  return {
    rate: done / ((last - started) / 1000),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    done,
    accepted: accepted.size,
    serverErrors,
    throttled,
  };
}

/**
 * Intake → assigned (or rejected) for `count` complaints sent one after another, each only once the
 * one before was assigned: the pipeline holds one complaint at a time.
 */
async function oneAtATime(runtime: LocalRuntime, count: number) {
  const done = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const unsubscribe = runtime.onEvent(({ event }) => {
    const type = event['detail-type'];
    if (type !== DETAIL_TYPES.complaintAssigned && type !== DETAIL_TYPES.complaintRejected) return;
    const id = String((event.detail.data as { complaintId?: string } | undefined)?.complaintId);
    done.set(id, Date.now());
    waiting.get(id)?.();
  });
  const latencies: number[] = [];
  const tag = `one${Date.now()}`;
  try {
    for (let i = 0; i < count; i++) {
      const sent = Date.now();
      const { complaintId } = await submit(runtime, i, tag);
      if (complaintId === undefined) continue;
      if (!done.has(complaintId)) {
        await Promise.race([
          new Promise<void>((resolve) => waiting.set(complaintId, resolve)),
          sleep(30_000),
        ]);
        waiting.delete(complaintId);
      }
      const at = done.get(complaintId);
      if (at !== undefined) latencies.push(at - sent);
    }
  } finally {
    unsubscribe();
  }
  latencies.sort((a, b) => a - b);
  return { done: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Breach detection delay at a sustained arrival rate, deadlines left to pass. */
async function precision(runtime: LocalRuntime, seconds: number, rate: number) {
  const delays: number[] = [];
  let bySweep = 0;
  const unsubscribe = runtime.onEvent(({ event }) => {
    if (event['detail-type'] !== DETAIL_TYPES.slaBreached) return;
    const detail = event.detail.data as { dueAt: string; detectedBy: string };
    delays.push(Date.now() - Date.parse(detail.dueAt));
    if (detail.detectedBy === 'sweep') bySweep++;
  });
  let serverErrors = 0;
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  const tag = `sus${started}`;
  for (let i = 0; Date.now() - started < seconds * 1000; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const request = submit(runtime, i, tag).then((r) => {
      if (r.status >= 500) serverErrors++;
    });
    pending.add(request);
    void request.finally(() => pending.delete(request));
  }
  await Promise.all(pending);
  // Let the last complaints' deadlines (a minute or two with the demo policy) pass.
  await sleep(150_000);
  unsubscribe();
  delays.sort((a, b) => a - b);
  return {
    breaches: delays.length,
    p50: quantile(delays, 0.5),
    p99: quantile(delays, 0.99),
    max: delays.at(-1) ?? Number.NaN,
    bySweep,
    serverErrors,
  };
}

/** Synthesizes the app with `policyFile`, starts the runtime on it, runs `use`, and stops it. */
async function withRuntime(policyFile: string, use: (runtime: LocalRuntime) => Promise<void>): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'complaints-bench-'));
  let runtime: LocalRuntime | undefined;
  try {
    synthLocalAssembly(outdir, policyFile, { routeThrottles: BENCH_ROUTE_THROTTLES });
    runtime = await startLocalRuntime({
      assemblyDir: outdir,
      functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => undefined,
    });
    await use(runtime);
  } finally {
    await runtime?.close();
    rmSync(outdir, { recursive: true, force: true });
  }
}

export async function benchRuntime(options: {
  concurrency: number;
  complaints: number;
  sustainedSeconds: number;
  sustainedRate: number;
}): Promise<void> {
  // Throughput on the default policy: its deadlines are hours away, so what is measured is intake →
  // assigned alone (the demo policy's clocks would fire within the run and add their own load).
  console.log(
    `\nThrough the local runtime (the synthesized app, default policy), ${options.concurrency} in flight`,
  );
  await withRuntime(DEFAULT_POLICY_FILE, async (runtime) => {
    // One complaint at a time on a quiet system (what a customer waits for), after a few to warm up.
    await oneAtATime(runtime, 5);
    const one = await oneAtATime(runtime, LATENCY_SAMPLES);
    row(
      `intake → assigned latency, 1 in flight, p50 / p99 (${one.done})`,
      `${(one.p50 / 1000).toFixed(2)} / ${(one.p99 / 1000).toFixed(2)} s`,
    );
    const ceiling = await transactionCeiling(runtime.endpoints.dynamodb, options.concurrency, 8);
    row('DynamoDB Local: 3-item transactions', `${ceiling.toFixed(0)}/s`);
    const allowed = ceiling / TRANSACTIONS_PER_COMPLAINT;
    row(`  ÷ ${TRANSACTIONS_PER_COMPLAINT} = complaints/s the store allows`, allowed.toFixed(1));
    await throughput(runtime, options.concurrency * 2, options.concurrency);
    const tp = await throughput(runtime, options.complaints, options.concurrency);
    row('intake → assigned through the runtime (warm)', `${tp.rate.toFixed(1)}/s`);
    row('  share of what the store allows', `${((tp.rate / allowed) * 100).toFixed(0)} %`);
    row(
      '  intake → assigned latency p50 / p99',
      `${(tp.p50 / 1000).toFixed(1)} / ${(tp.p99 / 1000).toFixed(1)} s`,
    );
    row('  assigned or rejected / accepted', `${tp.done} / ${tp.accepted}`);
    row('  5xx answers / 429 answers (retried)', `${tp.serverErrors} / ${tp.throttled}`);
  });
  if (options.sustainedSeconds <= 0) return;
  console.log(
    `\nBreach detection through the local runtime (demo policy: deadlines in seconds), ${options.sustainedRate}/s`,
  );
  await withRuntime(DEMO_POLICY_FILE, async (runtime) => {
    const p = await precision(runtime, options.sustainedSeconds, options.sustainedRate);
    row(`breaches, ${options.sustainedRate}/s for ${options.sustainedSeconds} s`, String(p.breaches));
    row(
      '  delay after the deadline p50 / p99',
      `${(p.p50 / 1000).toFixed(2)} / ${(p.p99 / 1000).toFixed(2)} s`,
    );
    row('  delay max', `${(p.max / 1000).toFixed(2)} s`);
    row('  found by the sweep (not a timer)', String(p.bySweep));
    row('  5xx answers', String(p.serverErrors));
  });
}
