import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import {
  type AccessCheck,
  denialOf,
  type PolicyStatement,
  type Principal,
} from '../../infra/local/iam-policy';
import { type AuthorizingProxy, startAuthorizingProxy } from '../../infra/local/iam-proxy';
import { type SchedulerServer, startSchedulerServer } from '../../infra/local/scheduler-server';
import { createTestTable, localDynamoClient } from './support/dynamodb';

/**
 * The authorizing proxy in front of a fake upstream (what it forwards, byte for byte) and in front of
 * the real local endpoints — DynamoDB Local, local-aws-sqs, the project's EventBridge and Scheduler
 * servers — driven by the real AWS SDK v3 clients signing with per-function access keys: allowed calls
 * work, denied ones raise the SDK's AccessDenied error with AWS's message and never reach the endpoint.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ADMIN = { accessKeyId: 'local', secretAccessKey: 'local' };
const ALLOWED = { accessKeyId: 'LOCALFNALLOWED', secretAccessKey: 'local' };
const DENIED = { accessKeyId: 'LOCALFNDENIED', secretAccessKey: 'local' };
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/TimersSchedulerRole`;

/**
 * Roles by access key: the runtime builds these from the template; here they are written out, and
 * each suite's `beforeAll` sets the roles its own tests use (suites run one after the other).
 */
const principals = new Map<string, Principal>();
const role = (accessKeyId: string, roleName: string, statements: PolicyStatement[]) =>
  principals.set(accessKeyId, { roleName, sessionName: `${roleName}-fn`, accountId: ACCOUNT, statements });

/** The runtime's own key is unrestricted; a function's key gets its role; anything else is refused. */
const authorize = (accessKeyId: string | undefined, checks: AccessCheck[]): string | undefined => {
  if (accessKeyId === ADMIN.accessKeyId) return undefined;
  const principal = accessKeyId === undefined ? undefined : principals.get(accessKeyId);
  if (principal === undefined)
    return `No local function signs with the access key ${accessKeyId ?? '(none)'}`;
  return denialOf(principal, checks);
};

const proxies: AuthorizingProxy[] = [];
const clients: { destroy(): void }[] = [];
const start = async (service: 'dynamodb' | 'sqs' | 'events' | 'scheduler', upstream: string) => {
  const proxy = await startAuthorizingProxy({
    upstream,
    service,
    region: REGION,
    accountId: ACCOUNT,
    authorize,
  });
  proxies.push(proxy);
  return proxy;
};
const client = <T extends { destroy(): void }>(c: T): T => {
  clients.push(c);
  return c;
};
const config = (endpoint: string, credentials: typeof ADMIN) => ({
  endpoint,
  region: REGION,
  credentials,
  maxAttempts: 1,
});

const implicitDeny = (roleName: string, action: string, resource: string) =>
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${roleName}-fn is not authorized to perform: ${action} ` +
  `on resource: ${resource} because no identity-based policy allows the ${action} action`;

/** Runs `call`, which must fail, and returns its error. */
async function failure(call: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to be denied, but it succeeded');
}

afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(proxies.map((p) => p.close()));
});

describe('forwarding (fake upstream)', () => {
  let upstream: Server;
  let received: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[];
  let calls: { accessKeyId: string | undefined; checks: AccessCheck[] }[];
  let proxy: AuthorizingProxy;
  let decision: (accessKeyId: string | undefined) => string | undefined;
  const denials: { accessKeyId: string | undefined; method: string; path: string; message: string }[] = [];

  beforeAll(async () => {
    received = [];
    calls = [];
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(201, { 'content-type': 'application/x-amz-json-1.0', 'x-echo': 'yes' });
        res.write('{"part":1,');
        setImmediate(() => res.end('"part2":2}'));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startAuthorizingProxy({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      service: 'dynamodb',
      region: REGION,
      accountId: ACCOUNT,
      authorize: (accessKeyId, checks) => {
        calls.push({ accessKeyId, checks });
        return decision(accessKeyId);
      },
      onDenied: ({ accessKeyId, method, path, message }) =>
        denials.push({ accessKeyId, method, path, message }),
    });
    proxies.push(proxy);
  });

  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const signed = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=LOCALFNECHO/20261124/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=00',
    'x-amz-target': 'DynamoDB_20120810.GetItem',
    'content-type': 'application/x-amz-json-1.0',
  };

  it('forwards an allowed request unchanged and streams the answer back', async () => {
    decision = () => undefined;
    const body = JSON.stringify({ TableName: 'Store', Key: { pk: { S: 'a' } } });
    const response = await fetch(`${proxy.endpoint}/some/path?x=1&y=%2F`, {
      method: 'POST',
      headers: signed,
      body,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(await response.text()).toBe('{"part":1,"part2":2}');
    const forwarded = received.at(-1);
    expect(forwarded?.method).toBe('POST');
    expect(forwarded?.url).toBe('/some/path?x=1&y=%2F');
    expect(forwarded?.body).toBe(body);
    expect(forwarded?.headers.authorization).toBe(signed.authorization);
    expect(forwarded?.headers['x-amz-target']).toBe(signed['x-amz-target']);
    // The signed host header still names the proxy: nothing is rewritten.
    expect(forwarded?.headers.host).toBe(new URL(proxy.endpoint).host);
    expect(calls.at(-1)).toEqual({
      accessKeyId: 'LOCALFNECHO',
      checks: [{ action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Store` }],
    });
  });

  it('forwards a chunked request body with its length', async () => {
    decision = () => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"TableName":'));
        controller.enqueue(new TextEncoder().encode('"Store"}'));
        controller.close();
      },
    });
    const response = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: signed,
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    await response.text();
    expect(received.at(-1)?.body).toBe('{"TableName":"Store"}');
    expect(received.at(-1)?.headers['content-length']).toBe('21');
    expect(received.at(-1)?.headers['transfer-encoding']).toBeUndefined();
  });

  it('asks about unsigned requests with an undefined key, and never forwards a denied one', async () => {
    decision = (key) => (key === undefined ? 'unsigned' : undefined);
    const before = { ...proxy.stats(), received: received.length };
    const response = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: 'unsigned',
    });
    expect(calls.at(-1)).toEqual({
      accessKeyId: undefined,
      checks: [{ action: 'dynamodb:ListTables', resource: '*' }],
    });
    expect(received.length).toBe(before.received);
    expect(proxy.stats()).toMatchObject({ forwarded: before.forwarded, denied: before.denied + 1 });
    expect(denials.at(-1)).toEqual({
      accessKeyId: undefined,
      method: 'POST',
      path: '/',
      message: 'unsigned',
    });
  });

  it('denies when authorize throws, with the error in the message', async () => {
    decision = () => {
      throw new Error('no such role');
    };
    const response = await fetch(proxy.endpoint, { method: 'POST', headers: signed, body: '{}' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'The local runtime could not authorize POST /: no such role',
    );
  });

  it('answers 502 when the upstream is down', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const orphan = await startAuthorizingProxy({
      upstream: `http://127.0.0.1:${port}`,
      service: 'events',
      region: REGION,
      accountId: ACCOUNT,
      authorize: () => undefined,
    });
    proxies.push(orphan);
    const response = await fetch(orphan.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.ListRules' },
      body: '{}',
    });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /^The local endpoint http:\/\/127\.0\.0\.1:\d+ failed: /,
    );
  });
});

describe('DynamoDB Local behind the proxy', () => {
  let table: string;
  let tableArn: string;
  let allowed: DynamoDBClient;
  let denied: DynamoDBClient;

  beforeAll(async () => {
    table = await createTestTable('iam-proxy');
    tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
    const items = [tableArn, `${tableArn}/index/*`];
    role(ALLOWED.accessKeyId, 'AllowedRole', [
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DeleteItem',
        ],
        Resource: items,
      },
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: '*' },
    ]);
    role(DENIED.accessKeyId, 'DeniedRole', [
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
        Resource: items,
      },
    ]);
    const proxy = await start('dynamodb', inject('dynamoDbEndpoint'));
    allowed = client(new DynamoDBClient(config(proxy.endpoint, ALLOWED)));
    denied = client(new DynamoDBClient(config(proxy.endpoint, DENIED)));
  });

  const item = (id: string) => ({
    pk: { S: `C#${id}` },
    sk: { S: 'META' },
    gsi1pk: { S: 'DEPT#billing#open' },
    gsi1sk: { S: `2026-11-24#${id}` },
  });
  const stored = async (id: string) =>
    (
      await localDynamoClient().send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: `C#${id}` }, sk: { S: 'META' } } }),
      )
    ).Item;

  it('lets an allowed PutItem through to DynamoDB Local', async () => {
    await allowed.send(new PutItemCommand({ TableName: table, Item: item('1') }));
    expect(await stored('1')).toEqual(item('1'));
  });

  it('denies a PutItem the role does not allow, as AWS words it, and writes nothing', async () => {
    const error = await failure(denied.send(new PutItemCommand({ TableName: table, Item: item('2') })));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe(implicitDeny('DeniedRole', 'dynamodb:PutItem', tableArn));
    expect(await stored('2')).toBeUndefined();
  });

  it('allows a Query on an index the role covers with index/*', async () => {
    await allowed.send(new PutItemCommand({ TableName: table, Item: item('3') }));
    const { Items } = await denied.send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'DEPT#billing#open' } },
      }),
    );
    expect(Items?.map((i) => i.pk?.S).sort()).toEqual(['C#1', 'C#3']);
  });

  it('authorizes each member of a transaction as its own action', async () => {
    const transaction = (id: string) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: table,
              Key: { pk: { S: 'C#1' }, sk: { S: 'META' } },
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
          { Put: { TableName: table, Item: item(id) } },
        ],
      });
    const error = await failure(denied.send(transaction('4')));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(implicitDeny('DeniedRole', 'dynamodb:PutItem', tableArn));
    expect(await stored('4')).toBeUndefined();
    await allowed.send(transaction('5'));
    expect(await stored('5')).toEqual(item('5'));
  });

  it('reports an explicit deny as such, even when another statement allows the action', async () => {
    const error = await failure(
      allowed.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'C#1' }, sk: { S: 'META' } } })),
    );
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/AllowedRole/AllowedRole-fn is not authorized to perform: ` +
        `dynamodb:DeleteItem on resource: ${tableArn} with an explicit deny in an identity-based policy`,
    );
    expect(await stored('1')).toEqual(item('1'));
  });
});

describe('local-aws-sqs behind the proxy', () => {
  let sqsServer: Server;
  let proxy: AuthorizingProxy;
  let admin: SQSClient;
  let allowed: SQSClient;
  let denied: SQSClient;
  let workUrl: string;
  let otherUrl: string;
  const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

  beforeAll(async () => {
    sqsServer = await createSqsServer({
      port: 0,
      hostname: '127.0.0.1',
      emulateQueueCreationLifecycle: false,
    });
    proxy = await start('sqs', `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`);
    admin = client(new SQSClient(config(proxy.endpoint, ADMIN)));
    allowed = client(new SQSClient(config(proxy.endpoint, ALLOWED)));
    denied = client(new SQSClient(config(proxy.endpoint, DENIED)));
    await admin.send(new CreateQueueCommand({ QueueName: 'iam-work' }));
    await admin.send(new CreateQueueCommand({ QueueName: 'iam-other' }));
    // Queue URLs naming the proxy, as the runtime must hand them to functions (see iam-proxy.ts).
    workUrl = `${proxy.endpoint}/${ACCOUNT}/iam-work`;
    otherUrl = `${proxy.endpoint}/${ACCOUNT}/iam-other`;
    role(ALLOWED.accessKeyId, 'AllowedRole', [
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
        Resource: queueArn('iam-work'),
      },
    ]);
    role(DENIED.accessKeyId, 'DeniedRole', [
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn('iam-work') },
    ]);
  });

  afterAll(async () => {
    sqsServer?.closeAllConnections();
    await new Promise((resolve) => sqsServer?.close(resolve));
  });

  const depth = async (url: string) =>
    (
      await admin.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      )
    ).Attributes?.ApproximateNumberOfMessages;

  it('streams a long poll through: a message sent meanwhile comes back', async () => {
    const polling = allowed.send(
      new ReceiveMessageCommand({ QueueUrl: workUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 1 }),
    );
    // The message may go out before or during the poll: either way the long poll must return it.
    await allowed.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: 'hello' }));
    const deadline = Date.now() + 15_000;
    let bodies = ((await polling).Messages ?? []).map((m) => m.Body);
    while (bodies.length === 0 && Date.now() < deadline) {
      const { Messages } = await allowed.send(
        new ReceiveMessageCommand({ QueueUrl: workUrl, WaitTimeSeconds: 1 }),
      );
      bodies = (Messages ?? []).map((m) => m.Body);
    }
    expect(bodies).toEqual(['hello']);
  });

  it('denies a SendMessage to a queue the role does not name: AccessDenied, in SQS wording', async () => {
    const error = await failure(
      denied.send(new SendMessageCommand({ QueueUrl: otherUrl, MessageBody: 'nope' })),
    );
    // SQS's JSON protocol keeps the Query error code (x-amzn-query-error): the SDK names it AccessDenied.
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe(implicitDeny('DeniedRole', 'sqs:sendmessage', queueArn('iam-other')));
    expect(await depth(otherUrl)).toBe('0');
  });

  it('authorizes SendMessageBatch as sqs:SendMessage', async () => {
    const error = await failure(
      denied.send(
        new SendMessageBatchCommand({ QueueUrl: otherUrl, Entries: [{ Id: '1', MessageBody: 'x' }] }),
      ),
    );
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(implicitDeny('DeniedRole', 'sqs:sendmessage', queueArn('iam-other')));
    const { Successful } = await denied.send(
      new SendMessageBatchCommand({ QueueUrl: workUrl, Entries: [{ Id: '1', MessageBody: 'batched' }] }),
    );
    expect(Successful?.map((s) => s.Id)).toEqual(['1']);
  });

  it('denies a ReceiveMessage the role lacks', async () => {
    const error = await failure(
      denied.send(new ReceiveMessageCommand({ QueueUrl: workUrl, WaitTimeSeconds: 0 })),
    );
    expect(error.message).toBe(implicitDeny('DeniedRole', 'sqs:receivemessage', queueArn('iam-work')));
  });

  it('answers a Query-protocol request in XML, denied (403) or forwarded', async () => {
    const post = (key: string) =>
      fetch(proxy.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `AWS4-HMAC-SHA256 Credential=${key}/20261124/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00`,
        },
        body: new URLSearchParams({
          Action: 'SendMessage',
          QueueUrl: otherUrl,
          MessageBody: 'q',
          Version: '2012-11-05',
        }).toString(),
      });
    const refused = await post(DENIED.accessKeyId);
    expect(refused.status).toBe(403);
    const xml = await refused.text();
    expect(xml).toContain('<Error><Type>Sender</Type><Code>AccessDenied</Code>');
    expect(xml).toContain(
      `<Message>${implicitDeny('DeniedRole', 'sqs:sendmessage', queueArn('iam-other'))}</Message>`,
    );
    expect(xml).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
    const accepted = await post(ADMIN.accessKeyId);
    expect(accepted.status).toBe(200);
    expect(await accepted.text()).toContain('<SendMessageResponse');
    expect(await depth(otherUrl)).toBe('1');
  });
});

describe('the EventBridge server behind the proxy', () => {
  let server: EventBridgeServer;
  let allowed: EventBridgeClient;
  const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;
  const entry = (bus?: string) => ({
    Source: 'complaints',
    DetailType: 'ComplaintReceived',
    Detail: '{}',
    EventBusName: bus,
  });

  beforeAll(async () => {
    server = await startEventBridgeServer({ region: REGION, accountId: ACCOUNT, log: () => {} });
    server.addBus('messaging');
    const proxy = await start('events', server.endpoint);
    allowed = client(new EventBridgeClient(config(proxy.endpoint, ALLOWED)));
    role(ALLOWED.accessKeyId, 'AllowedRole', [
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn('messaging') },
    ]);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('lets PutEvents to the allowed bus through', async () => {
    const { FailedEntryCount } = await allowed.send(new PutEventsCommand({ Entries: [entry('messaging')] }));
    expect(FailedEntryCount).toBe(0);
    expect(server.events().map((e) => e.bus)).toEqual(['messaging']);
  });

  it('denies PutEvents to the default bus, naming it', async () => {
    const error = await failure(allowed.send(new PutEventsCommand({ Entries: [entry()] })));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(implicitDeny('AllowedRole', 'events:PutEvents', busArn('default')));
  });

  it('denies a PutEvents of which one entry targets a bus the role may not use, accepting none', async () => {
    const before = server.events().length;
    const error = await failure(
      allowed.send(new PutEventsCommand({ Entries: [entry('messaging'), entry(busArn('audit'))] })),
    );
    expect(error.message).toBe(implicitDeny('AllowedRole', 'events:PutEvents', busArn('audit')));
    expect(server.events().length).toBe(before);
  });
});

describe('the Scheduler server behind the proxy', () => {
  let server: SchedulerServer;
  let allowed: SchedulerClient;
  let denied: SchedulerClient;
  const scheduleArn = (group: string, name: string) =>
    `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/${name}`;
  const schedule = (name: string): CreateScheduleCommandInput => ({
    Name: name,
    GroupName: 'timers',
    ScheduleExpression: 'at(2030-01-01T00:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sla`, RoleArn: SCHEDULER_ROLE },
  });

  beforeAll(async () => {
    server = await startSchedulerServer({
      region: REGION,
      accountId: ACCOUNT,
      invoke: async () => {},
      tickMs: 0,
      log: () => {},
    });
    const proxy = await start('scheduler', server.endpoint);
    const admin = client(new SchedulerClient(config(proxy.endpoint, ADMIN)));
    allowed = client(new SchedulerClient(config(proxy.endpoint, ALLOWED)));
    denied = client(new SchedulerClient(config(proxy.endpoint, DENIED)));
    await admin.send(new CreateScheduleGroupCommand({ Name: 'timers' }));
    const timers: PolicyStatement = {
      Effect: 'Allow',
      Action: ['scheduler:CreateSchedule', 'scheduler:GetSchedule'],
      Resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/timers/*`,
    };
    role(ALLOWED.accessKeyId, 'AllowedRole', [
      timers,
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: SCHEDULER_ROLE,
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
    role(DENIED.accessKeyId, 'DeniedRole', [timers]);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('lets CreateSchedule through when the role may also pass the target role to Scheduler', async () => {
    await allowed.send(new CreateScheduleCommand(schedule('sla-1')));
    expect(server.schedules().map((s) => `${s.group}/${s.name}`)).toEqual(['timers/sla-1']);
    const { Arn } = await allowed.send(new GetScheduleCommand({ Name: 'sla-1', GroupName: 'timers' }));
    expect(Arn).toBe(scheduleArn('timers', 'sla-1'));
  });

  it('denies CreateSchedule without iam:PassRole on the target role', async () => {
    const error = await failure(denied.send(new CreateScheduleCommand(schedule('sla-2'))));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toBe(implicitDeny('DeniedRole', 'iam:PassRole', SCHEDULER_ROLE));
    expect(server.schedules().map((s) => s.name)).not.toContain('sla-2');
  });

  it('denies a schedule outside the group the role names', async () => {
    const error = await failure(allowed.send(new GetScheduleCommand({ Name: 'sla-1' })));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(
      implicitDeny('AllowedRole', 'scheduler:GetSchedule', scheduleArn('default', 'sla-1')),
    );
  });
});
