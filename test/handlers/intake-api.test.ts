import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY_PATH } from '../support/fixtures';
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
  vi.stubEnv('POLICY_FILE', DEFAULT_POLICY_PATH);
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
