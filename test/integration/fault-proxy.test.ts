import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFaults, type Faults } from '../../infra/local/faults';
import { type AuthorizingProxy, startAuthorizingProxy } from '../../infra/local/iam-proxy';

/**
 * Dependency faults at the proxies in front of the local endpoints, seen through the real AWS SDK v3
 * clients: each injected error reaches the SDK as AWS's error name in its service's protocol, the SDK
 * retries it as it would in AWS (attempts counted), a faulted request never reaches the endpoint, and
 * an outage drops connections like a dead server.
 */

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The endpoint behind the proxies: counts what reaches it and answers an empty JSON object. */
let upstream: Server;
let upstreamUrl: string;
let reached = 0;
let faults: Faults;
const proxies: Record<string, AuthorizingProxy> = {};
const services = ['dynamodb', 'sqs', 'events', 'scheduler', 'kms'] as const;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    reached++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  faults = createFaults();
  for (const service of services) {
    proxies[service] = await startAuthorizingProxy({
      upstream: upstreamUrl,
      service,
      region: REGION,
      accountId: '123456789012',
      authorize: () => undefined,
      faults,
    });
  }
});

afterAll(async () => {
  faults.close();
  await Promise.all(Object.values(proxies).map((p) => p.close()));
  await new Promise((resolve) => upstream.close(resolve));
});

beforeEach(() => {
  faults.clear();
  reached = 0;
});

const endpoint = (service: (typeof services)[number]) => (proxies[service] as AuthorizingProxy).endpoint;
const config = (service: (typeof services)[number], maxAttempts = 1) => ({
  endpoint: endpoint(service),
  region: REGION,
  credentials: CREDENTIALS,
  maxAttempts,
});

type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number }; code?: string };
async function failure(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('dependency errors in each protocol', () => {
  it('DynamoDB: ThrottlingException and InternalServerError, retried by the SDK, never forwarded', async () => {
    faults.set({ errors: { dynamodb: 1 }, seed: 3 });
    const db = new DynamoDBClient(config('dynamodb', 3));
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const error = await failure(db.send(new ListTablesCommand({})));
      names.add(error.name);
      expect(error.$metadata?.attempts).toBe(3);
    }
    db.destroy();
    expect([...names].sort()).toEqual(['InternalServerError', 'ThrottlingException']);
    expect(reached).toBe(0);
    expect(faults.counts()['dynamodb:ThrottlingException']).toBeGreaterThan(0);
  });

  it('DynamoDB: a per-operation rate faults that operation only', async () => {
    faults.set({ errors: { 'dynamodb:GetItem': 1 } });
    const db = new DynamoDBClient(config('dynamodb'));
    const key = { pk: { S: 'a' }, sk: { S: 'b' } };
    const error = await failure(db.send(new GetItemCommand({ TableName: 't', Key: key })));
    expect(['ThrottlingException', 'InternalServerError']).toContain(error.name);
    await db.send(new PutItemCommand({ TableName: 't', Item: key }));
    db.destroy();
    expect(reached).toBe(1);
  });

  it('SQS (JSON protocol): ServiceUnavailable with status 503, retried', async () => {
    faults.set({ errors: { 'sqs:SendMessage': 1 } });
    const sqs = new SQSClient(config('sqs', 2));
    const error = await failure(
      sqs.send(new SendMessageCommand({ QueueUrl: `${endpoint('sqs')}/000000000000/q`, MessageBody: 'x' })),
    );
    sqs.destroy();
    expect(error.name).toBe('ServiceUnavailable');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 2 });
    expect(reached).toBe(0);
  });

  it('SQS (Query protocol): the XML error with the Server fault type', async () => {
    faults.set({ errors: { sqs: 1 } });
    const response = await fetch(`${endpoint('sqs')}/000000000000/q`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=SendMessage&MessageBody=x',
    });
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(
      /<Type>Server<\/Type><Code>ServiceUnavailable<\/Code><Message>[^<]+<\/Message>/,
    );
    expect(reached).toBe(0);
  });

  it('EventBridge: InternalException, retried', async () => {
    faults.set({ errors: { 'events:PutEvents': 1 } });
    const events = new EventBridgeClient(config('events', 2));
    const error = await failure(
      events.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })),
    );
    events.destroy();
    expect(error.name).toBe('InternalException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 500, attempts: 2 });
  });

  it('Scheduler (REST-JSON): InternalServerException, retried', async () => {
    faults.set({ errors: { 'scheduler:GetSchedule': 1 } });
    const scheduler = new SchedulerClient(config('scheduler', 2));
    const error = await failure(scheduler.send(new GetScheduleCommand({ Name: 'n', GroupName: 'g' })));
    scheduler.destroy();
    expect(error.name).toBe('InternalServerException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 500, attempts: 2 });
  });

  it('KMS: KMSInternalException', async () => {
    faults.set({ errors: { kms: 1 } });
    const kms = new KMSClient(config('kms'));
    const error = await failure(kms.send(new ListKeysCommand({})));
    kms.destroy();
    expect(error.name).toBe('KMSInternalException');
    expect(reached).toBe(0);
  });

  it('forwards everything at rate 0, and a share of requests near the rate', async () => {
    const db = new DynamoDBClient(config('dynamodb'));
    for (let i = 0; i < 5; i++) await db.send(new ListTablesCommand({}));
    expect(reached).toBe(5);
    faults.set({ errors: { dynamodb: 0.3 }, seed: 7 });
    let failed = 0;
    for (let i = 0; i < 200; i++) {
      failed += await db.send(new ListTablesCommand({})).then(
        () => 0,
        () => 1,
      );
    }
    db.destroy();
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
    expect(reached).toBe(5 + 200 - failed);
  });
});

describe('outages', () => {
  it('drops connections while the service is down, and forwards again after', async () => {
    faults.set({ outages: [{ service: 'dynamodb', afterSeconds: 0, forSeconds: 0.4 }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(faults.isDown('dynamodb')).toBe(true);
    const db = new DynamoDBClient(config('dynamodb'));
    const error = await failure(db.send(new ListTablesCommand({})));
    // A reset connection: the SDK's name for it is TimeoutError (ECONNRESET), which it retries.
    expect(error.name).toBe('TimeoutError');
    expect(reached).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(faults.isDown('dynamodb')).toBe(false);
    await db.send(new ListTablesCommand({}));
    db.destroy();
    expect(reached).toBe(1);
    expect(proxies.dynamodb?.stats().dropped).toBeGreaterThan(0);
  });
});
