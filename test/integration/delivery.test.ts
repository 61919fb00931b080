import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryEngine } from '../../infra/local/delivery/engine';
import { DELIVERIES_FILE, fileJournal } from '../../infra/local/delivery/journal';
import type { DeliverFn, SendToDeadLetter } from '../../infra/local/delivery/rule-targets';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import { createFaults } from '../../infra/local/faults';
import { LOCAL_ACCOUNT_ID, type StackTemplate, TemplateResolver } from '../../infra/local/template';
import { startLocalEventBus } from '../../infra/local/wiring/event-bus';
import { eventually } from '../support/eventually';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * EventBridge rule targets delivered as AWS promises, on a real local-aws-sqs behind a TCP proxy the
 * tests stop and start (the queue server unreachable): accepted events survive an outage, a target
 * that keeps failing ends in its DLQ with EventBridge's attributes after its retry policy, an event
 * too old goes there too, a dead-letter send that fails is retried, duplicates on demand, and pending
 * deliveries survive a restart of the delivery engine through its journal.
 */

const FAST = { firstDelayMs: 100, maxDelayMs: 500, jitter: 0.25 };
const arnOf = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
/** An ARN whose deliveries go to a closed port (the target is unreachable for good). */
const UNREACHABLE = arnOf('unreachable');

let sqsServer: Server;
let sqs: SQSClient;
let proxy: TcpProxy;
let viaProxy: SQSClient;
let nowhere: SQSClient;
const logs: string[] = [];
const attemptsByTarget = new Map<string, number>();
const cleanups: Array<() => Promise<void>> = [];

/** The queue URL through the proxy (the SDK sends SQS calls to the queue URL's host). */
const proxiedUrl = (arn: string) => {
  const url = new URL(`http://127.0.0.1:${proxy.port}/${LOCAL_ACCOUNT_ID}/${arn.split(':').at(-1)}`);
  return url.toString();
};

const deliver: DeliverFn = async (target, _event, body) => {
  attemptsByTarget.set(target.id, (attemptsByTarget.get(target.id) ?? 0) + 1);
  const client = target.arn === UNREACHABLE ? nowhere : viaProxy;
  await client.send(new SendMessageCommand({ QueueUrl: proxiedUrl(target.arn), MessageBody: body }));
};
const sendToDeadLetter: SendToDeadLetter = async (arn, body, attributes) => {
  await viaProxy.send(
    new SendMessageCommand({ QueueUrl: proxiedUrl(arn), MessageBody: body, MessageAttributes: attributes }),
  );
};

async function createQueue(name: string): Promise<string> {
  return String((await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl);
}

/** Receives until `count` messages arrived or the deadline passed. */
async function receive(queueUrl: string, count: number, deadlineMs = 20_000): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + deadlineMs;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...(Messages ?? []));
  }
  return messages;
}

async function startServer(
  extra: Partial<Parameters<typeof startEventBridgeServer>[0]> = {},
): Promise<EventBridgeServer> {
  const server = await startEventBridgeServer({
    deliver,
    sendToDeadLetter,
    backoff: FAST,
    log: (message) => logs.push(message),
    ...extra,
  });
  cleanups.push(() => server.close());
  return server;
}

const clientOf = (server: EventBridgeServer) => {
  const client = new EventBridgeClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  cleanups.push(async () => client.destroy());
  return client;
};

async function putEvents(client: EventBridgeClient, bus: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 10) {
    const entries = Array.from({ length: Math.min(10, count - start) }, (_, i) => ({
      EventBusName: bus,
      Source: 'shop',
      DetailType: 'Order Placed',
      Detail: JSON.stringify({ n: start + i }),
    }));
    const put = await client.send(new PutEventsCommand({ Entries: entries }));
    expect(put.FailedEntryCount).toBe(0);
    ids.push(...(put.Entries ?? []).map((e) => String(e.EventId)));
  }
  return ids;
}

const attribute = (message: Message | undefined, name: string) =>
  message?.MessageAttributes?.[name]?.StringValue;

beforeAll(async () => {
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsPort = (sqsServer.address() as AddressInfo).port;
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${sqsPort}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  proxy = await startTcpProxy(sqsPort);
  // One SDK attempt per delivery attempt: the delivery engine does the retrying.
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
  viaProxy = new SQSClient({ ...config, endpoint: `http://127.0.0.1:${proxy.port}` });
  nowhere = new SQSClient({ ...config, endpoint: 'http://127.0.0.1:1' });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const client of [sqs, viaProxy, nowhere]) client?.destroy();
  await proxy?.stop();
  await new Promise<void>((resolve) => {
    sqsServer?.closeAllConnections();
    sqsServer?.close(() => resolve());
  });
});

describe('EventBridge rule targets', () => {
  it('delivers every accepted event once the queue server is back after an outage (none lost, none dead-lettered)', async () => {
    const target = await createQueue('outage-target');
    const dlq = await createQueue('outage-dlq');
    const server = await startServer();
    server.addBus('outage');
    server.putRule({ bus: 'outage', name: 'orders', eventPattern: { source: ['shop'] } });
    server.putTargets('outage', 'orders', [
      { id: 'q', arn: arnOf('outage-target'), deadLetterArn: arnOf('outage-dlq') },
    ]);
    const client = clientOf(server);

    await proxy.stop();
    const ids = await putEvents(client, 'outage', 40);
    // Every delivery failed at least once and is waiting for a retry.
    await eventually(
      async () => server.stats(),
      (s) => s.pending === 40 && s.retried >= 40,
    );
    await proxy.start();

    const messages = await receive(target, 40, 30_000);
    expect(messages.map((m) => JSON.parse(String(m.Body)).id).sort()).toEqual([...ids].sort());
    await server.idle();
    expect(server.stats()).toMatchObject({ delivered: 40, pending: 0, deadLettered: 0, dropped: 0 });
    expect(await receive(dlq, 1, 1500)).toEqual([]);
  });

  it("sends a target that keeps failing to its DLQ after its RetryPolicy, with EventBridge's attributes", async () => {
    const dlq = await createQueue('failing-dlq');
    const server = await startServer();
    const client = clientOf(server);
    const { RuleArn } = await client.send(
      new PutRuleCommand({ Name: 'failing', EventPattern: JSON.stringify({ source: ['shop'] }) }),
    );
    const put = await client.send(
      new PutTargetsCommand({
        Rule: 'failing',
        Targets: [
          {
            Id: 'failing-target',
            Arn: UNREACHABLE,
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: { Arn: arnOf('failing-dlq') },
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const listed = await client.send(new ListTargetsByRuleCommand({ Rule: 'failing' }));
    expect(listed.Targets?.[0]).toMatchObject({
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: arnOf('failing-dlq') },
    });

    const [id] = await putEvents(client, 'default', 1);
    const [message, ...more] = await receive(dlq, 1);
    expect(more).toEqual([]);
    expect(JSON.parse(String(message?.Body))).toMatchObject({ id, source: 'shop', detail: { n: 0 } });
    expect(attribute(message, 'RULE_ARN')).toBe(RuleArn);
    expect(attribute(message, 'TARGET_ARN')).toBe(UNREACHABLE);
    expect(attribute(message, 'ERROR_CODE')).toBe('CONNECTION_FAILURE');
    expect(attribute(message, 'ERROR_MESSAGE')).toMatch(/ECONNREFUSED/);
    expect(attribute(message, 'EXHAUSTED_RETRY_CONDITION')).toBe('MaximumRetryAttemptsExhausted');
    expect(attribute(message, 'RETRY_ATTEMPTS')).toBe('2');
    expect(attemptsByTarget.get('failing-target')).toBe(3);
    expect(server.targetStats()['failing/failing-target']).toEqual({
      delivered: 0,
      retried: 2,
      pending: 0,
      deadLettered: 1,
      dropped: 0,
    });
  });

  it('refuses a RetryPolicy outside the ranges AWS allows', async () => {
    const client = clientOf(await startServer());
    await client.send(
      new PutRuleCommand({ Name: 'ranges', EventPattern: JSON.stringify({ source: ['x'] }) }),
    );
    await expect(
      client.send(
        new PutTargetsCommand({
          Rule: 'ranges',
          Targets: [{ Id: 't', Arn: UNREACHABLE, RetryPolicy: { MaximumRetryAttempts: 186 } }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('sends an event older than MaximumEventAgeInSeconds to the DLQ with MaximumEventAgeExceeded', async () => {
    const dlq = await createQueue('aged-dlq');
    const server = await startServer();
    server.addBus('aged');
    server.putRule({ bus: 'aged', name: 'aged', eventPattern: { source: ['shop'] } });
    // AWS's minimum age is 60 s; the programmatic API takes 1 s so the test is short.
    server.putTargets('aged', 'aged', [
      {
        id: 'aged-target',
        arn: UNREACHABLE,
        retryPolicy: { maximumEventAgeInSeconds: 1 },
        deadLetterArn: arnOf('aged-dlq'),
      },
    ]);
    const [id] = await putEvents(clientOf(server), 'aged', 1);
    const [message] = await receive(dlq, 1);
    expect(JSON.parse(String(message?.Body)).id).toBe(id);
    expect(attribute(message, 'EXHAUSTED_RETRY_CONDITION')).toBe('MaximumEventAgeExceeded');
    expect(Number(attribute(message, 'RETRY_ATTEMPTS'))).toBeGreaterThan(0);
    expect(Number(attribute(message, 'RETRY_ATTEMPTS'))).toBeLessThan(185);
  });

  it('keeps retrying a dead-letter send that fails until the DLQ is reachable (never dropped)', async () => {
    const dlq = await createQueue('late-dlq');
    const server = await startServer();
    server.addBus('late');
    server.putRule({ bus: 'late', name: 'late', eventPattern: { source: ['shop'] } });
    server.putTargets('late', 'late', [
      {
        id: 'late-target',
        arn: UNREACHABLE,
        retryPolicy: { maximumRetryAttempts: 0 },
        deadLetterArn: arnOf('late-dlq'),
      },
    ]);
    await proxy.stop();
    const before = logs.length;
    const [id] = await putEvents(clientOf(server), 'late', 1);
    await eventually(
      async () => logs.slice(before).filter((l) => l.includes('dead-letter send')).length,
      (n) => n >= 2,
    );
    expect(server.stats().pending).toBe(1);
    await proxy.start();
    const [message] = await receive(dlq, 1);
    expect(JSON.parse(String(message?.Body)).id).toBe(id);
    expect(attribute(message, 'EXHAUSTED_RETRY_CONDITION')).toBe('MaximumRetryAttemptsExhausted');
    expect(attribute(message, 'RETRY_ATTEMPTS')).toBe('0');
    await server.idle();
    expect(server.targetStats()['late/late-target']).toMatchObject({ deadLettered: 1, dropped: 0 });
  });

  it('delivers each event twice when the fault profile asks for duplicates', async () => {
    const target = await createQueue('twice-target');
    const faults = createFaults({ duplicateRate: 1 });
    const server = await startServer({ faults });
    server.addBus('twice');
    server.putRule({ bus: 'twice', name: 'twice', eventPattern: { source: ['shop'] } });
    server.putTargets('twice', 'twice', [{ id: 'q', arn: arnOf('twice-target') }]);
    const ids = await putEvents(clientOf(server), 'twice', 3);
    const messages = await receive(target, 6);
    expect(messages.map((m) => JSON.parse(String(m.Body)).id).sort()).toEqual([...ids, ...ids].sort());
    expect(faults.counts()['duplicate:events']).toBe(3);
    faults.close();
  });
});

describe('the delivery journal', () => {
  it('keeps pending deliveries across a restart of the delivery engine and delivers them after it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'deliveries-'));
    const target = await createQueue('restart-target');
    const first = createDeliveryEngine({
      journal: fileJournal(stateDir),
      backoff: FAST,
      log: () => undefined,
    });
    const server = await startEventBridgeServer({
      deliver,
      sendToDeadLetter,
      delivery: first,
      log: () => undefined,
    });
    await first.start();
    server.addBus('restart');
    server.putRule({ bus: 'restart', name: 'restart', eventPattern: { source: ['shop'] } });
    server.putTargets('restart', 'restart', [{ id: 'q', arn: arnOf('restart-target') }]);

    await proxy.stop();
    const ids = await putEvents(clientOf(server), 'restart', 20);
    await eventually(
      async () => server.stats(),
      (s) => s.retried >= 20,
    );
    await first.close();
    await server.close();
    const journal = JSON.parse(readFileSync(join(stateDir, DELIVERIES_FILE), 'utf8'));
    expect(journal.pending).toHaveLength(20);
    expect(
      journal.pending.map((p: { payload: { event: { id: string } } }) => p.payload.event.id).sort(),
    ).toEqual([...ids].sort());

    await proxy.start();
    // A new engine on the same state directory: the deliveries resume without any rule or event.
    const second = createDeliveryEngine({
      journal: fileJournal(stateDir),
      backoff: FAST,
      log: () => undefined,
    });
    const resumed = await startEventBridgeServer({
      deliver,
      sendToDeadLetter,
      delivery: second,
      log: () => undefined,
    });
    cleanups.push(() => resumed.close());
    await second.start();
    const messages = await receive(target, 20, 30_000);
    expect(messages.map((m) => JSON.parse(String(m.Body)).id).sort()).toEqual([...ids].sort());
    await second.idle();
    await second.close();
    expect(JSON.parse(readFileSync(join(stateDir, DELIVERIES_FILE), 'utf8')).pending).toEqual([]);
  });
});

describe("the template's targets (runtime/event-bus.ts)", () => {
  it("reads each target's RetryPolicy and DeadLetterConfig, and scheduled rules deliver through the same engine", async () => {
    const dlq = await createQueue('template-dlq');
    const scheduled = await createQueue('template-scheduled');
    const template: StackTemplate = {
      Resources: {
        Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'template-bus' } },
        OrdersRule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            EventBusName: { Ref: 'Bus' },
            EventPattern: { source: ['shop'] },
            Targets: [
              {
                Id: 'Target0',
                Arn: UNREACHABLE,
                RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 },
                DeadLetterConfig: { Arn: arnOf('template-dlq') },
              },
            ],
          },
        },
        NightlyRule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'rate(1 day)',
            Targets: [{ Id: 'Target0', Arn: arnOf('template-scheduled') }],
          },
        },
      },
    };
    const resolver = new TemplateResolver({ stackName: 'Local', template }, LOCAL_REGION);
    const engine = createDeliveryEngine({ backoff: FAST, log: () => undefined });
    const bus = await startLocalEventBus({
      template,
      resolver,
      tickMs: 60_000,
      log: () => undefined,
      authorizePutEvents: () => undefined,
      deliver: (target, body) => deliver(target, JSON.parse(body), body),
      sendToDeadLetter,
      delivery: engine,
      faults: createFaults(),
    });
    cleanups.push(async () => {
      await engine.close();
      await bus.close();
    });
    await engine.start();

    const [id] = await putEvents(clientOf(bus.server), 'template-bus', 1);
    const [message] = await receive(dlq, 1);
    expect(JSON.parse(String(message?.Body)).id).toBe(id);
    expect(attribute(message, 'RULE_ARN')).toBe(resolver.getAtt('OrdersRule', 'Arn'));
    expect(attribute(message, 'RETRY_ATTEMPTS')).toBe('1');

    await bus.fireScheduledRule('NightlyRule');
    const [tick] = await receive(scheduled, 1);
    expect(JSON.parse(String(tick?.Body))).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: [resolver.getAtt('NightlyRule', 'Arn')],
    });
  });
});
