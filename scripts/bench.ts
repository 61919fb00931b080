import { startDynamoDbLocal } from '../infra/local/dynamodb-local';
import { createLocalStore } from '../infra/local/local-store';
import { BusinessCalendar } from '../shared/domain/business-calendar';
import { classify } from '../shared/domain/classification';
import { ComplaintSubmissionSchema } from '../shared/domain/complaint';
import type { EventPublisher } from '../shared/events/publisher';
import { loadPolicyFile } from '../shared/policy/load';
import type { TimerScheduler } from '../shared/scheduling/timers';
import { assignComplaint } from '../shared/services/assignment';
import { classifyComplaint } from '../shared/services/classification';
import type { ServiceContext } from '../shared/services/context';
import { receiveComplaint } from '../shared/services/intake';

/**
 * `npm run bench`: prints throughput and memory figures. Nothing here asserts a
 * timing; compare the figures between runs on the same machine.
 *
 * - pure domain: classification, working-time deadline arithmetic, timer planning;
 * - the first half of the pipeline (intake → classification → assignment) through
 *   the real services against DynamoDB Local (whose own ceiling on 2 cores is
 *   ~540 sequential / ~1,300 parallel PutItems per second).
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

pureDomain();
await pipeline(Number(process.env.BENCH_COMPLAINTS ?? 300), Number(process.env.BENCH_CONCURRENCY ?? 16));
console.log(`\nHeap used at the end: ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
