import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { EventPublisher } from '../../shared/events/publisher';
import type { OutboundEvent } from '../../shared/events/schemas';
import { loadPolicyFile } from '../../shared/policy/load';
import type { TimerScheduler } from '../../shared/scheduling/timers';
import { assignComplaint } from '../../shared/services/assignment';
import { classifyComplaint } from '../../shared/services/classification';
import type { ServiceContext } from '../../shared/services/context';
import { receiveComplaint } from '../../shared/services/intake';
import { startDynamoDbLocal } from './dynamodb-local';
import { createLocalStore } from './local-store';

/**
 * `npm start` — a preview until the local runtime lands.
 *
 * 1. Synthesizes the CDK app (validating the policy and running cdk-nag) and prints
 *    what a deployment would create.
 * 2. Unless `--no-demo`: starts DynamoDB Local and runs sample complaints through
 *    the real application services (intake → classification → assignment) in this
 *    process, printing each step. Rules, queues and Lambda bundles are NOT emulated
 *    here; that is the local runtime's job (next milestone).
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is untyped JSON; this only prints it.
  Properties?: Record<string, any>;
}

async function synth(): Promise<Record<string, Resource>> {
  console.log(bold('Synthesizing the CDK app (policy validation + cdk-nag)…'));
  const started = Date.now();
  await run('npx', ['cdk', 'synth', '--quiet', '--no-notices'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  console.log(dim(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s → cdk.out/`));
  const template = JSON.parse(readFileSync(join(root, 'cdk.out', 'ComplaintService.template.json'), 'utf8'));
  return template.Resources as Record<string, Resource>;
}

function summarize(resources: Record<string, Resource>): void {
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  console.log(bold('\nA deployment would create:'));
  console.log('  Lambda functions:');
  for (const [id, r] of byType('AWS::Lambda::Function')) {
    if (r.Properties?.Handler === undefined) continue;
    console.log(
      `    ${id.replace(/[0-9A-F]{8}$/, '')}  ${dim(`${r.Properties?.Runtime} ${r.Properties?.Architectures?.join(',')}`)}`,
    );
  }
  console.log('  SQS queues:');
  for (const [id, r] of byType('AWS::SQS::Queue')) {
    console.log(
      `    ${id.replace(/[0-9A-F]{8}$/, '')}${r.Properties?.RedrivePolicy ? dim('  (with DLQ)') : ''}`,
    );
  }
  console.log('  EventBridge rules:');
  for (const [id, r] of byType('AWS::Events::Rule')) {
    const pattern = r.Properties?.EventPattern ?? r.Properties?.ScheduleExpression;
    console.log(
      `    ${id.replace(/[0-9A-F]{8}$/, '')}  ${dim(JSON.stringify(pattern?.['detail-type'] ?? pattern))}`,
    );
  }
  console.log('  HTTP API routes:');
  for (const [, r] of byType('AWS::ApiGatewayV2::Route')) console.log(`    ${r.Properties?.RouteKey}`);
  const tables = byType('AWS::DynamoDB::GlobalTable').concat(byType('AWS::DynamoDB::Table'));
  for (const [id, r] of tables) {
    const gsis = (r.Properties?.GlobalSecondaryIndexes ?? []).map((g: { IndexName: string }) => g.IndexName);
    console.log(`  DynamoDB table: ${id.replace(/[0-9A-F]{8}$/, '')} ${dim(`(GSIs: ${gsis.join(', ')})`)}`);
  }
  console.log(
    `  Alarms: ${byType('AWS::CloudWatch::Alarm').length}, dashboards: ${byType('AWS::CloudWatch::Dashboard').length}`,
  );
}

/** Dispatches events straight to the next service, standing in for rules and queues. */
class InProcessBus implements EventPublisher {
  private readonly queue: OutboundEvent[] = [];
  readonly seen: OutboundEvent[] = [];
  ctx?: ServiceContext;
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    this.queue.push(...events);
    this.seen.push(...events);
  }
  async drain(onEvent: (e: OutboundEvent) => void): Promise<void> {
    const ctx = this.ctx;
    if (ctx === undefined) throw new Error('bus not wired');
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) {
      onEvent(e);
      const id = String(e.detail.data.complaintId);
      if (e.detailType === DETAIL_TYPES.complaintReceived) await classifyComplaint(ctx, id);
      if (e.detailType === DETAIL_TYPES.complaintClassified) await assignComplaint(ctx, id);
    }
  }
}

const SAMPLES = [
  {
    channel: 'app',
    customer: { id: 'demo-u1', tier: 'vip', language: 'zh' },
    description: '今天早上开始APP一直闪退，登录不了，提示网络错误',
  },
  {
    channel: 'email',
    customer: { id: 'demo-u2', language: 'en' },
    description: 'I was charged twice for my subscription this month and want a refund of 58 yuan',
  },
  {
    channel: 'social_media',
    customer: { id: 'demo-u3', language: 'zh' },
    description: '我的个人信息被泄露了，最近陆续接到诈骗电话，对方知道我的身份证号！！！',
  },
  {
    channel: 'web',
    customer: { id: 'demo-u4', language: 'zh' },
    description: '兼职日结，加微信领取 http://a.example http://b.example http://c.example http://d.example',
  },
] as const;

async function demo(): Promise<void> {
  console.log(bold('\nDemo: sample complaints through intake → classification → assignment'));
  console.log(
    dim('  (application services in this process, DynamoDB Local; rules/queues/Lambda are not emulated yet)'),
  );
  const dynamo = await startDynamoDbLocal({ port: 0 });
  try {
    const store = await createLocalStore(dynamo.endpoint, 'complaints-demo');
    console.log(dim(`  DynamoDB Local at ${dynamo.endpoint}, table complaints-demo`));
    const policy = loadPolicyFile(join(root, 'policy', 'default-policy.json'));
    const bus = new InProcessBus();
    // Timers are kept in memory here; the local runtime will run the Scheduler for real.
    const scheduled = new Map<string, string>();
    const scheduler: TimerScheduler = {
      async apply({ upsert, remove }) {
        for (const t of upsert) scheduled.set(t.name, t.at);
        for (const name of remove) scheduled.delete(name);
      },
    };
    const ctx: ServiceContext = {
      policy,
      calendar: new BusinessCalendar(policy.calendar),
      store,
      publisher: bus,
      scheduler,
      now: () => new Date(),
    };
    bus.ctx = ctx;
    for (const [i, sample] of SAMPLES.entries()) {
      const result = await receiveComplaint(ctx, {
        submission: structuredClone(sample) as never,
        sourceSystem: 'demo',
        messageId: `demo-${i}`,
      });
      console.log(`\n  ${bold(result.number)} ${dim(`via ${sample.channel}`)}`);
      console.log(`    ack: ${result.acknowledgement.text}`);
      await bus.drain((e) => {
        // biome-ignore lint/suspicious/noExplicitAny: printing validated event data; the schemas typed it on publish.
        const d = e.detail.data as Record<string, any>;
        if (e.detailType === DETAIL_TYPES.complaintClassified) {
          console.log(
            `    classified: ${d.category} / ${d.severity} / P${d.priority}; first response due ${d.deadlines.firstResponse?.dueAt}`,
          );
        } else if (e.detailType === DETAIL_TYPES.complaintRejected) {
          console.log(`    rejected (${d.verdict}): ${d.reason}`);
        } else if (e.detailType === DETAIL_TYPES.complaintAssigned) {
          const alerted = d.alerted.map((a: { role: string }) => a.role).join(', ');
          console.log(
            `    assigned: ${d.leadDepartment} → ${d.assignee ?? '(nobody eligible)'}${d.collaborators.length ? `, with ${d.collaborators.join(', ')}` : ''}${alerted ? `; alerted: ${alerted}` : ''}`,
          );
        }
      });
    }
    console.log(
      dim(`\n  ${bus.seen.length} events published; ${scheduled.size} SLA timers would be scheduled.`),
    );
  } finally {
    await dynamo.stop();
  }
}

async function main(): Promise<void> {
  console.log(bold('Complaint service — preview'));
  console.log(
    'The local runtime (the synthesized app on local services) is not built yet; this synthesizes the app and runs a demo.\n',
  );
  summarize(await synth());
  if (!process.argv.includes('--no-demo')) await demo();
  console.log(bold('\nDone.'), 'Next: `npm test`, or deploy with `npx cdk deploy` (see README).');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
