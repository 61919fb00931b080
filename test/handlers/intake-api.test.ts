import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bundledPolicyEnv } from '../support/fixtures';
import { apiRequest, lambdaContext } from '../support/lambda';

const dynamo = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const kms = mockClient(KMSClient);
const SERVICE_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4a61-b728-394a5b6c7d8e';
let handler: (
  e: ReturnType<typeof apiRequest>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

const valid = {
  channel: 'web',
  customer: { id: 'cust-h1' },
  description: 'The page fails to load after login',
};

beforeAll(async () => {
  vi.stubEnv('TABLE_NAME', 'complaints');
  vi.stubEnv('EVENT_BUS_NAME', 'complaints-bus');
  for (const [name, value] of Object.entries(bundledPolicyEnv())) vi.stubEnv(name, value);
  vi.stubEnv('SERVICE_KEY_ARN', SERVICE_KEY_ARN);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  handler = (await import('../../functions/intake/api-handler')).handler as never;
});

beforeEach(() => {
  dynamo.reset();
  events.reset();
  kms.reset();
  // KMS derives each purpose's key from its message; a MAC per message stands in for it.
  kms.on(GenerateMacCommand).callsFake((input: { Message: Uint8Array }) => ({
    Mac: new Uint8Array(32).fill(Buffer.from(input.Message).length),
  }));
});

describe('POST /complaints handler (AWS clients mocked)', () => {
  it('writes the complaint, its number, idempotency claim and token in one transaction, then publishes', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
    const response = await handler(
      apiRequest('POST', '/complaints', valid, {
        'content-type': 'application/json',
        'idempotency-key': 'form-123456',
      }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(202);
    const tx = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    const keys = tx.map((t) => String(t.Put?.Item?.pk ?? ''));
    // The claim's key is a keyed digest of the HTTP scope and the key: no raw key, no source prefix.
    expect(keys[0]).toMatch(/^IDEMP#[A-Za-z0-9_-]{43}$/);
    expect(keys[0]).not.toContain('form-123456');
    const claim = tx[0]?.Put?.Item ?? {};
    expect(Object.keys(claim).sort()).toEqual(['complaintId', 'expiresAt', 'pk', 'requestFingerprint', 'sk']);
    // Keys are derived from the service key by GenerateMac on it, never from anything else.
    expect(kms.commandCalls(GenerateMacCommand).length).toBeGreaterThan(0);
    for (const call of kms.commandCalls(GenerateMacCommand)) {
      expect(call.args[0].input).toMatchObject({ KeyId: SERVICE_KEY_ARN, MacAlgorithm: 'HMAC_SHA_256' });
    }
    expect(keys.some((k) => k.startsWith('NUM#C'))).toBe(true);
    expect(keys.some((k) => k.startsWith('TRACK#'))).toBe(true);
    expect(
      tx.every(
        (t) =>
          t.Put?.ConditionExpression === undefined ||
          t.Put.ConditionExpression === 'attribute_not_exists(pk)',
      ),
    ).toBe(true);
    const entries = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      ['complaints-bus', 'complaints.intake', 'Complaint Received'],
      ['complaints-bus', 'complaints.intake', 'Customer Notification Requested'],
    ]);
    // The raw tracking token is only in the response: nowhere in the transaction (only its hash is).
    const token = JSON.parse(String(response.body)).trackingToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(tx)).not.toContain(token);
  });

  it('answers 503 with Retry-After when the store fails, and publishes nothing', async () => {
    dynamo.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    const response = await handler(apiRequest('POST', '/complaints', valid), lambdaContext());
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('2');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('answers 503 when the bus refuses an event, so the caller retries with the same key', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }, {}] });
    const response = await handler(apiRequest('POST', '/complaints', valid), lambdaContext());
    expect(response.statusCode).toBe(503);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
  });
});

describe('POST /complaints: unstorable and unsafe input is 400, never 503 (issue #10, point 7)', () => {
  /** What DynamoDB answers for a number it cannot hold: a retry can never succeed. */
  const refuseLikeDynamoDb = () =>
    dynamo.on(TransactWriteCommand).rejects(
      Object.assign(
        new Error(
          'Number overflow. Attempting to store a number with magnitude smaller than supported range',
        ),
        {
          name: 'ValidationException',
        },
      ),
    );
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    handler(apiRequest('POST', '/complaints', body, headers), lambdaContext());
  const errorsOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body)).errors;

  it('answers amount 1e-200 with 400 naming the field, before any write', async () => {
    refuseLikeDynamoDb();
    const response = await post({ ...valid, amount: 1e-200 });
    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([
      { field: 'amount', reason: 'is too close to zero to be stored (below 1e-130)' },
    ]);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers Infinity (1e999), "NaN" and more decimals than the policy currency has with 400', async () => {
    refuseLikeDynamoDb();
    const infinite = await post(`{"channel":"web","customer":{"id":"c"},"description":"x","amount":1e999}`);
    expect(infinite.statusCode).toBe(400);
    expect(errorsOf(infinite)[0].field).toBe('amount');
    expect((await post({ ...valid, amount: 'NaN' })).statusCode).toBe(400);
    const cents = await post({ ...valid, amount: 12.345 });
    expect(cents.statusCode).toBe(400);
    expect(errorsOf(cents)).toEqual([
      { field: 'amount', reason: 'must have at most 2 decimal places for CNY' },
    ]);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it.each([
    'javascript:alert(document.cookie)',
    'file:///etc/passwd',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'http://evidence.example.com/shot.png',
  ])('refuses the evidence ref %s with 400 and the reason', async (ref) => {
    const response = await post({ ...valid, evidence: [{ kind: 'screenshot', ref }] });
    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([
      { field: 'evidence.0.ref', reason: expect.stringMatching(/scheme is not allowed/) },
    ]);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('accepts https:, s3:// and plain object-key evidence and a 2-decimal amount', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
    const response = await post({
      ...valid,
      amount: 12.34,
      evidence: [
        { kind: 'screenshot', ref: 'https://evidence.example.com/c/1.png' },
        { kind: 'log', ref: 's3://complaint-evidence/c/1.log' },
        { kind: 'document', ref: 'c/1/receipt.pdf' },
      ],
    });
    expect(response.statusCode).toBe(202);
  });

  it('sends nosniff and a fixed JSON content type on every answer (202, 400, 413, 415, 503)', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
    const answers = [
      await post(valid),
      await post({ ...valid, amount: -1 }),
      await post({ ...valid, description: 'x'.repeat(70_000) }),
      await post(valid, { 'content-type': 'text/html' }),
    ];
    dynamo.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    answers.push(await post(valid));
    expect(answers.map((r) => r.statusCode)).toEqual([202, 400, 413, 415, 503]);
    for (const response of answers) {
      expect(response.headers?.['x-content-type-options'], String(response.statusCode)).toBe('nosniff');
      expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
    }
  });
});

describe('POST /complaints: a request the HTTP API has (almost) given up on (issue #11)', () => {
  /** The request as API Gateway would pass it, received `ageMs` ago (or with this `timeEpoch`). */
  const requestWith = (timeEpoch: unknown, headers: Record<string, string> = {}) => {
    const event = apiRequest('POST', '/complaints', valid, {
      'content-type': 'application/json',
      'idempotency-key': 'late-form-0001',
      ...headers,
    });
    return { ...event, requestContext: { ...event.requestContext, timeEpoch: timeEpoch as number } };
  };
  const aged = (ageMs: number) => requestWith(Date.now() - ageMs);

  beforeEach(() => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
  });

  it('answers 503 without creating anything when the request is older than 25 s, and says to retry with the same key', async () => {
    const response = await handler(aged(26_000), lambdaContext());
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(response.headers?.['x-content-type-options']).toBe('nosniff');
    const body = JSON.parse(String(response.body));
    expect(body.error).toBe('RequestExpired');
    expect(body.message).toMatch(/nothing was created/);
    expect(body.message).toMatch(/same Idempotency-Key/);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('creates the complaint when the same request is retried in time', async () => {
    expect((await handler(aged(29_000), lambdaContext())).statusCode).toBe(503);
    const retry = await handler(aged(50), lambdaContext());
    expect(retry.statusCode).toBe(202);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('still creates at 20 s (there is time left before the 30 s integration timeout)', async () => {
    const response = await handler(aged(20_000), lambdaContext());
    expect(response.statusCode).toBe(202);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it.each([
    ['missing', undefined],
    ['not a number', '1700000000000'],
    ['NaN', Number.NaN],
    ['zero', 0],
    ['negative', -5],
    ['hours in the future', Date.now() + 3 * 3600_000],
    ['a day old (not something the API sends)', Date.now() - 24 * 3600_000],
  ])('treats a %s timeEpoch as fresh (never refuses on a value it cannot believe)', async (_, timeEpoch) => {
    const response = await handler(requestWith(timeEpoch), lambdaContext());
    expect(response.statusCode).toBe(202);
  });

  it('answers an invalid body with 400 whatever its age: nothing would be created anyway', async () => {
    const event = aged(40_000);
    const response = await handler(
      { ...event, body: JSON.stringify({ ...valid, amount: -1 }) },
      lambdaContext(),
    );
    expect(response.statusCode).toBe(400);
  });
});
