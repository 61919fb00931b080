import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bundledPolicyEnv } from '../support/fixtures';
import { apiRequest, lambdaContext } from '../support/lambda';

/**
 * `POST /agent/complaints` through its handler (AWS clients mocked): like the public route, a
 * request that reaches the function after the HTTP API has (almost) given up creates nothing.
 */

const dynamo = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const kms = mockClient(KMSClient);
let handler: (
  e: APIGatewayProxyEventV2,
  c: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

const submission = {
  channel: 'hotline',
  customer: { id: 'cust-a1' },
  description: 'The caller was charged twice for the same order',
};

/** The agent's request as API Gateway passes it after the JWT authorizer, received `ageMs` ago. */
function agentRequest(ageMs: number): APIGatewayProxyEventV2 {
  const event = apiRequest('POST', '/agent/complaints', submission, {
    'content-type': 'application/json',
    'idempotency-key': 'hotline-call-0001',
  });
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      timeEpoch: Date.now() - ageMs,
      authorizer: {
        jwt: {
          claims: { sub: 'cs_wang', 'cognito:groups': '[agent]', 'custom:department': 'customer_service' },
          scopes: [],
        },
      },
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

beforeAll(async () => {
  vi.stubEnv('TABLE_NAME', 'complaints');
  vi.stubEnv('EVENT_BUS_NAME', 'complaints-bus');
  for (const [name, value] of Object.entries(bundledPolicyEnv())) vi.stubEnv(name, value);
  vi.stubEnv(
    'SERVICE_KEY_ARN',
    'arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4a61-b728-394a5b6c7d8e',
  );
  vi.stubEnv('ROLE_CLAIM', 'cognito:groups');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  handler = (await import('../../functions/agent-api/handler')).handler as never;
});

afterAll(() => {
  vi.unstubAllEnvs();
});

beforeEach(() => {
  dynamo.reset();
  events.reset();
  kms.reset();
  kms.on(GenerateMacCommand).callsFake((input: { Message: Uint8Array }) => ({
    Mac: new Uint8Array(32).fill(Buffer.from(input.Message).length),
  }));
  dynamo.on(GetCommand).resolves({}); // no customer-directory entry
  dynamo.on(TransactWriteCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
});

describe('POST /agent/complaints: a request the HTTP API has (almost) given up on (issue #11)', () => {
  it('answers 503 without creating anything when the request is older than 25 s', async () => {
    const response = await handler(agentRequest(27_000), lambdaContext('agent-api'));
    expect(response.statusCode).toBe(503);
    const body = JSON.parse(String(response.body));
    expect(body.error).toBe('RequestExpired');
    expect(body.message).toMatch(/nothing was created.*same Idempotency-Key/);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('creates the complaint when the request is fresh', async () => {
    const response = await handler(agentRequest(100), lambdaContext('agent-api'));
    expect(response.statusCode).toBe(202);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});
