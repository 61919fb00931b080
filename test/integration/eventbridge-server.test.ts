import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import { CASE_FILES as caseFiles, expectCaseThroughSdk } from '../support/conformance';

/**
 * The local EventBridge endpoint, driven by the real AWS SDK: the shared pattern conformance cases
 * through TestEventPattern (what AWS answered for each), and PutEvents routing an event through a
 * rule into a real SQS-protocol queue (local-aws-sqs), as the local runtime wires it.
 */

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

let server: EventBridgeServer;
let sqsServer: Server;
let sqs: SQSClient;
let events: EventBridgeClient;
const deliveryErrors: string[] = [];

/** Queue URL of an SQS queue ARN, the way the runtime's `deliver` resolves an SQS target. */
const queueUrlOf = async (arn: string): Promise<string> => {
  const name = arn.split(':').at(-1) ?? '';
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return String(QueueUrl);
};

/** Receives until `count` messages arrived or the deadline passed (long polls, no fixed sleeps). */
async function receive(queueUrl: string, count: number, deadlineMs = 10_000): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + deadlineMs;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...(Messages ?? []));
  }
  return messages;
}

beforeAll(async () => {
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`,
    region,
    credentials,
  });
  server = await startEventBridgeServer({
    deliver: async (target, _event, body) => {
      if (!target.arn.startsWith('arn:aws:sqs:')) {
        // As the runtime does: retrying cannot reach a target that does not exist.
        throw Object.assign(new Error(`unsupported target ${target.arn}`), { retriable: false });
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrlOf(target.arn), MessageBody: body }));
    },
    log: (message) => deliveryErrors.push(message),
  });
  events = new EventBridgeClient({ endpoint: server.endpoint, region, credentials, maxAttempts: 1 });
});

afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  await server?.close();
  await new Promise((resolve) => sqsServer?.close(resolve));
});

describe('TestEventPattern through the SDK: the shared conformance cases', () => {
  it('finds all the cases', () => {
    expect(caseFiles).toHaveLength(126);
  });

  it.each(caseFiles)('%s', async (name) => {
    await expectCaseThroughSdk(events, name);
  });

  it('answers ValidationException for an event that is not a valid event', async () => {
    const pattern = JSON.stringify({ source: ['x'] });
    await expect(
      events.send(new TestEventPatternCommand({ EventPattern: pattern, Event: '{"source":"x"}' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      events.send(new TestEventPatternCommand({ EventPattern: pattern, Event: 'not json' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('PutEvents routing to an SQS queue', () => {
  it('delivers the event envelope, and only the detail to an inputPath target', async () => {
    await events.send(new CreateEventBusCommand({ Name: 'complaints' }));
    const whole = await sqs.send(new CreateQueueCommand({ QueueName: 'eb-whole' }));
    const detailOnly = await sqs.send(new CreateQueueCommand({ QueueName: 'eb-detail' }));
    await events.send(
      new PutRuleCommand({
        Name: 'reported',
        EventBusName: 'complaints',
        EventPattern: JSON.stringify({
          source: ['complaints.intake'],
          'detail-type': ['Complaint Reported'],
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'reported',
        EventBusName: 'complaints',
        Targets: [
          { Id: 'whole', Arn: `arn:aws:sqs:${region}:123456789012:eb-whole` },
          { Id: 'detail', Arn: `arn:aws:sqs:${region}:123456789012:eb-detail`, InputPath: '$.detail' },
        ],
      }),
    );
    const { Rules } = await events.send(new ListRulesCommand({ EventBusName: 'complaints' }));
    expect(Rules?.map((r) => [r.Name, r.Arn])).toEqual([
      ['reported', `arn:aws:events:${region}:123456789012:rule/complaints/reported`],
    ]);
    const { Targets } = await events.send(
      new ListTargetsByRuleCommand({ Rule: 'reported', EventBusName: 'complaints' }),
    );
    expect(Targets?.map((t) => t.Id)).toEqual(['whole', 'detail']);
    const detail = { complaintId: 'c-1', channel: 'email' };
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'complaints',
            Source: 'complaints.intake',
            DetailType: 'Complaint Reported',
            Detail: JSON.stringify(detail),
            Resources: ['arn:aws:example'],
          },
          // Does not match the rule: must reach no queue.
          {
            EventBusName: 'complaints',
            Source: 'complaints.intake',
            DetailType: 'Something Else',
            Detail: '{}',
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const eventId = put.Entries?.[0]?.EventId;
    expect(eventId).toEqual(expect.any(String));

    const [message, ...more] = await receive(String(whole.QueueUrl), 1);
    expect(more).toEqual([]);
    expect(JSON.parse(String(message?.Body))).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'Complaint Reported',
      source: 'complaints.intake',
      account: '123456789012',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      region,
      resources: ['arn:aws:example'],
      detail,
    });
    const [detailMessage] = await receive(String(detailOnly.QueueUrl), 1);
    expect(JSON.parse(String(detailMessage?.Body))).toEqual(detail);

    await server.idle();
    expect(server.stats()).toEqual({ delivered: 2, retried: 0, pending: 0, deadLettered: 0, dropped: 0 });
    expect(server.events().map((e) => e.matchedRules)).toEqual([['reported'], []]);
    expect(deliveryErrors).toEqual([]);
  });

  it('shapes input with an input transformer; a target that cannot exist is dropped (no DLQ), logged and counted', async () => {
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'eb-transformed' }));
    server.addBus('transform-bus');
    server.putRule({ bus: 'transform-bus', name: 'all', eventPattern: { source: [{ prefix: '' }] } });
    server.putTargets('transform-bus', 'all', [
      {
        id: 'shaped',
        arn: `arn:aws:sqs:${region}:123456789012:eb-transformed`,
        inputTransformer: {
          InputPathsMap: { id: '$.detail.complaintId', n: '$.detail.n' },
          InputTemplate: '{"complaint": "<id>", "count": <n>, "rule": "<aws.events.rule-name>"}',
        },
      },
      { id: 'broken', arn: 'arn:aws:lambda:us-east-1:123456789012:function:nowhere' },
    ]);
    const before = server.stats();
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'transform-bus',
            Source: 's',
            DetailType: 'd',
            Detail: '{"complaintId":"c-9","n":3}',
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const [message] = await receive(String(queue.QueueUrl), 1);
    expect(JSON.parse(String(message?.Body))).toEqual({ complaint: 'c-9', count: 3, rule: 'all' });
    await server.idle();
    expect(server.stats()).toMatchObject({
      delivered: before.delivered + 1,
      retried: before.retried,
      dropped: before.dropped + 1,
      pending: 0,
    });
    expect(deliveryErrors.join('\n')).toContain('unsupported target');
    expect(deliveryErrors.at(-1)).toMatch(/dropped .* the target has no dead-letter queue/);
  });
});

describe('PutEvents validation', () => {
  it('reports each invalid entry like AWS and accepts the valid ones', async () => {
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 's', DetailType: 'd' },
          { Source: 's', DetailType: 'd', Detail: '[1, 2]' },
          { Source: 's', DetailType: 'd', Detail: 'not json' },
          { Source: 's', DetailType: 'd', Detail: '{}', EventBusName: 'no-such-bus' },
          { DetailType: 'd', Detail: '{}' },
          { Source: 's', Detail: '{}' },
          { Source: 's', DetailType: 'd', Detail: '{"ok":true}' },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(6);
    expect(put.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'InvalidArgument',
      'InvalidArgument',
      'ok',
    ]);
    expect(put.Entries?.[0]?.ErrorMessage).toBe(
      'Parameter Detail is not valid. Reason: Detail is a required argument.',
    );
    expect(put.Entries?.[3]?.ErrorMessage).toBe('Event bus no-such-bus does not exist.');
    expect(put.Entries?.[6]?.EventId).toEqual(expect.any(String));
  });

  it('refuses more than 10 entries with ValidationException', async () => {
    const entries = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }));
    await expect(events.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length less than or equal to 10'),
    });
  });
});

describe('rules', () => {
  it('refuses a rule with an invalid pattern, through the SDK and the runtime API', async () => {
    await expect(
      events.send(new PutRuleCommand({ Name: 'bad', EventPattern: JSON.stringify({ source: 'x' }) })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: "source" must be an object or an array',
    });
    await expect(
      events.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{not json' })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
    expect(() => server.putRule({ bus: 'default', name: 'bad', eventPattern: { a: [] } })).toThrow(
      /Empty arrays are not allowed/,
    );
  });
});
