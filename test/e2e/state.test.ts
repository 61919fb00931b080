import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../infra/local/dynamodb-local';
import { createLocalIssuer } from '../../infra/local/jwt';
import {
  type LocalRuntime,
  type StartLocalRuntimeOptions,
  startLocalRuntime,
} from '../../infra/local/runtime';
import type { RuntimeStatus } from '../../infra/local/status';
import { eventually } from '../support/eventually';

/**
 * State that survives and supervision you can see, through the runtime itself: a runtime on a state
 * directory is stopped and started again and finds its complaints, idempotency keys, queued messages
 * and pending timers (one that came due while it was down fires at start, counted late); DynamoDB
 * Local killed with SIGKILL is restarted from its files, and given up on (fatal) when it keeps dying;
 * outages on demand freeze DynamoDB Local and close the SQS listener, then bring them back; the live
 * status answers at `/_local/status`.
 */

type Json = Record<string, any>;

const stateDir = mkdtempSync(join(tmpdir(), 'complaints-state-'));
const issuer = createLocalIssuer({ dir: mkdtempSync(join(tmpdir(), 'state-jwt-')) });
const logs: string[] = [];
const started: LocalRuntime[] = [];
const clientConfig = { region: 'us-east-1', credentials: LOCAL_CREDENTIALS };

async function start(extra: Partial<StartLocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  const t0 = Date.now();
  const runtime = await startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    issuer,
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    asyncRetryDelayMs: 50,
    log: (message) => logs.push(message),
    ...extra,
  });
  started.push(runtime);
  logs.push(`test: runtime started in ${Date.now() - t0} ms`);
  return runtime;
}

afterAll(async () => {
  console.log(logs.filter((l) => /test:|died|back|restart|stopping|outage/.test(l)).join('\n'));
  for (const runtime of started) await runtime.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const submission = {
  channel: 'web',
  customer: { id: 'restart-customer', language: 'en' },
  description: 'My card was charged twice for one order',
};
async function submit(runtime: LocalRuntime, key: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${runtime.endpoints.httpApi}/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(submission),
  });
  return { status: response.status, body: (await response.json()) as Json };
}
async function complaintStatus(runtime: LocalRuntime, id: string): Promise<number> {
  const response = await fetch(`${runtime.endpoints.httpApi}/complaints/${id}`, {
    headers: { authorization: `Bearer ${issuer.tokenFor({ role: 'admin' })}` },
  });
  await response.arrayBuffer();
  return response.status;
}
async function receiveAll(runtime: LocalRuntime, url: string): Promise<string[]> {
  const { Messages } = await runtime.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
  );
  return (Messages ?? []).map((m) => String(m.Body));
}
const atExpression = (date: Date) => `at(${date.toISOString().slice(0, 19)})`;

describe('the runtime on a state directory, stopped and started again', () => {
  let second: LocalRuntime;
  let complaint: Json;
  const key = `restart-key-${Date.now()}`;

  it('keeps complaints, idempotency keys, queued messages (in flight or not) and pending timers; a timer due while it was down fires at start, counted late', {
    timeout: 240_000,
  }, async () => {
    const first = await start({ stateDir });
    expect(first.status().state).toEqual({ dir: stateDir, resumed: false });
    const created = await submit(first, key);
    expect(created.status).toBe(202);
    complaint = created.body;
    await eventually(
      () => complaintStatus(first, complaint.complaintId),
      (status) => status === 200,
    );

    // Two messages in a queue nothing consumes: one left visible, one received and never deleted.
    const dlq = first.queueNamed('IntakeInboundDeadLetterQueue');
    await first.sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: 'in-flight-at-stop' }));
    const { Messages } = await first.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, VisibilityTimeout: 600 }),
    );
    expect(Messages?.map((m) => m.Body)).toEqual(['in-flight-at-stop']);
    await first.sqs.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: 'visible-at-stop' }));

    // A one-time timer that comes due while the runtime is down; its target is that queue.
    const dueDuringDowntime = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
    const scheduler = new SchedulerClient({ endpoint: first.endpoints.scheduler, ...clientConfig });
    await scheduler.send(
      new CreateScheduleCommand({
        Name: `restart-timer-${Date.now()}`,
        ScheduleExpression: atExpression(dueDuringDowntime),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: dlq.arn, RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: 'late-timer' },
      }),
    );
    scheduler.destroy();
    await first.close();
    expect(first.scheduler.fired().some((f) => f.input === 'late-timer')).toBe(false);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, dueDuringDowntime.getTime() + 500 - Date.now())),
    );

    second = await start({ stateDir });
    expect(second.status().state.resumed).toBe(true);
    expect(second.resumed.tablesFound).toBe(1);
    // These two, and whatever the complaint's pipeline still had queued at the stop.
    expect(second.resumed.messages).toBeGreaterThanOrEqual(2);
    expect(second.resumed.schedules).toBeGreaterThanOrEqual(1);

    expect(await complaintStatus(second, complaint.complaintId)).toBe(200);
    const again = await submit(second, key);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({
      complaintId: complaint.complaintId,
      trackingToken: complaint.trackingToken,
      replayed: true,
    });

    const url = second.queueNamed('IntakeInboundDeadLetterQueue').url;
    const bodies = await eventually(
      () => receiveAll(second, url),
      (found) => found.includes('late-timer'),
    );
    expect(bodies).toEqual(expect.arrayContaining(['in-flight-at-stop', 'visible-at-stop', 'late-timer']));
    const late = second.scheduler.fired().find((f) => f.input === 'late-timer');
    expect(late?.at.toISOString()).toBe(dueDuringDowntime.toISOString());
    expect(second.scheduler.stats().lateFirings).toBeGreaterThanOrEqual(1);
    expect(second.status().schedules.maxLatenessMs).toBeGreaterThan(1000);
  });

  it('notices DynamoDB Local killed with SIGKILL, says so and restarts it from its files', {
    timeout: 150_000,
  }, async () => {
    const [pid] = second.childPids;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const status = await eventually(
      async () => second.status().dependencies.dynamodb,
      (d) => d.state === 'up' && d.restarts === 1,
      90_000,
    );
    expect(status).toMatchObject({ state: 'up', restarts: 1 });
    expect(second.childPids[0]).not.toBe(pid);
    expect(logs.some((l) => l.includes(`DynamoDB Local (pid ${pid}) died (signal SIGKILL)`))).toBe(true);
    expect(await complaintStatus(second, complaint.complaintId)).toBe(200);
  });

  it('freezes DynamoDB Local for an outage of 2 s (not taken for dead), then resumes it', async () => {
    const pid = second.childPids[0];
    const probe = new DynamoDBClient({
      endpoint: second.endpoints.dynamodb,
      ...clientConfig,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 500, throwOnRequestTimeout: true },
    });
    try {
      second.faults.set({ outages: [{ service: 'dynamodb', afterSeconds: 0, forSeconds: 2 }] });
      await eventually(
        async () => second.status().dependencies.dynamodb.state,
        (state) => state === 'frozen',
      );
      await expect(probe.send(new ListTablesCommand({}))).rejects.toThrow();
      await eventually(
        async () => second.status().dependencies.dynamodb.state,
        (state) => state === 'up',
      );
      await expect(probe.send(new ListTablesCommand({}))).resolves.toBeDefined();
      expect(second.status().dependencies.dynamodb.restarts).toBe(1);
      expect(second.childPids[0]).toBe(pid);
      expect(second.status().faults['outage:dynamodb']).toBe(1);
    } finally {
      probe.destroy();
      second.faults.clear();
    }
  });

  it('closes the SQS listener for an outage and listens again on the same port after it, messages kept', async () => {
    const probe = new SQSClient({ endpoint: second.endpoints.sqs, ...clientConfig, maxAttempts: 1 });
    const url = second.queueNamed('IntakeInboundDeadLetterQueue').url;
    try {
      second.faults.set({ outages: [{ service: 'sqs', afterSeconds: 0, forSeconds: 2 }] });
      await eventually(
        async () => second.status().dependencies.sqs.state,
        (state) => state === 'down',
      );
      await expect(
        probe.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'during' })),
      ).rejects.toThrow();
      await eventually(
        async () => second.status().dependencies.sqs.state,
        (state) => state === 'up',
      );
      await probe.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'after-outage' }));
      const bodies = await receiveAll(second, url);
      expect(bodies).toEqual(expect.arrayContaining(['visible-at-stop', 'after-outage']));
    } finally {
      probe.destroy();
      second.faults.clear();
    }
  });

  it('answers its live status at /_local/status', async () => {
    const response = await fetch(`${second.endpoints.httpApi}/_local/status`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as RuntimeStatus;
    expect(Object.keys(status).sort()).toEqual(
      [
        'at',
        'deliveries',
        'dependencies',
        'faults',
        'functions',
        'queues',
        'schedules',
        'state',
        'uptimeSeconds',
      ].sort(),
    );
    expect(status.deliveries).toMatchObject({ pending: expect.any(Number), targets: expect.any(Object) });
    expect(Object.keys(status.functions)).toHaveLength(second.functions.size);
    for (const f of Object.values(status.functions)) {
      expect(Object.keys(f).sort()).toEqual(['errors', 'inFlight', 'instances', 'queued', 'throttles']);
    }
    const queues = Object.entries(status.queues);
    expect(queues).toHaveLength(second.queues.size);
    for (const [id, q] of queues) {
      expect(q).toMatchObject({ visible: expect.any(Number), inFlight: expect.any(Number) });
      expect('dlq' in q).toBe(second.queues.get(id)?.deadLetterArn !== undefined);
    }
    expect(status.schedules).toMatchObject({
      pending: expect.any(Number),
      lateFirings: expect.any(Number),
      maxLatenessMs: expect.any(Number),
    });
    expect(status.dependencies.dynamodb).toMatchObject({ state: 'up', restarts: 1 });
    expect(status.dependencies.sqs).toMatchObject({ state: 'up' });
    expect(status.faults).toMatchObject({ 'outage:dynamodb': 1, 'outage:sqs': 1 });
    expect(status.state).toEqual({ dir: stateDir, resumed: true });
  });
});

describe('a runtime in memory whose DynamoDB Local keeps dying', () => {
  it('restarts it once with its tables created again (saying the data was lost), then gives up with a fatal reason and stops', {
    timeout: 240_000,
  }, async () => {
    const runtime = await start({ restartBudget: { max: 1, windowMs: 60_000 } });
    const reasons: string[] = [];
    runtime.onFatal((reason) => reasons.push(reason));
    const table = Object.values(runtime.endpoints.tables)[0] as string;

    process.kill(runtime.childPids[0] as number, 'SIGKILL');
    await eventually(
      async () => runtime.status().dependencies.dynamodb,
      (d) => d.state === 'up' && d.restarts === 1,
      90_000,
    );
    expect(logs.some((l) => l.includes('its data was lost'))).toBe(true);
    const client = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb, ...clientConfig });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    client.destroy();
    expect(Table?.TableStatus).toBe('ACTIVE');

    process.kill(runtime.childPids[0] as number, 'SIGKILL');
    await eventually(
      async () => reasons,
      (r) => r.length === 1,
      90_000,
    );
    expect(reasons[0]).toMatch(/^DynamoDB Local: it failed too often \(2 failures within 60 s\)/);
    await expect(fetch(`${runtime.endpoints.httpApi}/_local/status`)).rejects.toThrow();
  });
});
