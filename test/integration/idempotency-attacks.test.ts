import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { hashToken } from '../../shared/domain/identifiers';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { ServiceContext } from '../../shared/services/context';
import { apiRequest, lambdaContext, sqsRecordForEvent } from '../support/lambda';
import { readableItem } from '../support/table-dump';
import { createTestTable, localDynamoClient } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * Attacks on intake's idempotency, played for real through the handlers (middy, Powertools, batch
 * processing) against DynamoDB Local, the local KMS endpoint (keys derived by GenerateMac), the
 * project's EventBridge endpoint and a real SQS server for the DLQ. Each test fails if the attack
 * works: a reused key handing out someone else's complaint, an event pre-claiming an HTTP key, `#`
 * making two producers' ids meet, a silent drop, a tracking token stored in clear.
 */

const BUS = 'complaints-attacks';
type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
let intakeApi: Handler<ReturnType<typeof apiRequest>, APIGatewayProxyStructuredResultV2>;
let intakeQueue: Handler<SQSEvent, SQSBatchResponse>;
let ctx: ServiceContext;
let tableName: string;
let events: EventBridgeServer;
let sqsServer: import('node:http').Server;
let sqs: SQSClient;
let dlqUrl: string;
/** Every tracking token any test was handed: none may be stored anywhere. */
const issuedTokens: string[] = [];

beforeAll(async () => {
  tableName = await createTestTable('idempotency-attacks');
  events = await startEventBridgeServer({ log: () => undefined });
  events.addBus(BUS);
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
  sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  dlqUrl = String((await sqs.send(new CreateQueueCommand({ QueueName: 'intake-dlq' }))).QueueUrl);
  setHandlerEnvironment(tableName, {
    EVENT_BUS_NAME: BUS,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    DEAD_LETTER_QUEUE_URL: dlqUrl,
  });
  intakeApi = (await import('../../functions/intake/api-handler')).handler as never;
  intakeQueue = (await import('../../functions/intake/queue-handler')).handler as never;
  ctx = (await import('../support/handler-runtime')).handlerRuntime().ctx;
});

afterAll(async () => {
  sqs.destroy();
  await events.close();
  await new Promise<void>((resolve) => {
    sqsServer.closeAllConnections?.();
    sqsServer.close(() => resolve());
  });
});

async function post(body: unknown, key: string) {
  const response = await intakeApi(
    apiRequest('POST', '/complaints', body, { 'content-type': 'application/json', 'idempotency-key': key }),
    lambdaContext('intake-api'),
  );
  const parsed = JSON.parse(String(response.body));
  if (typeof parsed.trackingToken === 'string') issuedTokens.push(parsed.trackingToken);
  return { status: response.statusCode, body: parsed, text: String(response.body) };
}

/** Delivers a `Complaint Reported` event from `source` to the inbound handler, as its queue would. */
async function report(source: string, messageId: string, data: Record<string, unknown>) {
  const record = sqsRecordForEvent({
    source,
    detailType: DETAIL_TYPES.complaintReported,
    detail: { metadata: { version: 1, messageId }, data },
  });
  return intakeQueue({ Records: [record] }, lambdaContext('intake-inbound'));
}

const submission = (customerId: string, description: string) => ({
  channel: 'app',
  customer: { id: customerId },
  description,
});

async function complaintsOf(customerId: string) {
  // Every namespace: an anonymous claim and a producer's are indexed apart (#10, trust).
  const anonymous = await ctx.store.recentByCustomer(customerId, '2000-01-01T00:00:00.000Z', 'anonymous');
  const verified = await ctx.store.recentByCustomer(customerId, '2000-01-01T00:00:00.000Z', 'verified');
  return [...anonymous, ...verified];
}

describe('HTTP Idempotency-Key', () => {
  it("refuses the same key with another body (422) and tells nothing of the first caller's complaint", async () => {
    const first = await post(
      submission('victim-1', 'My refund of 300 yuan never arrived'),
      'shared-key-0001',
    );
    expect(first.status).toBe(202);
    const before = events.events().length;
    const attack = await post(submission('attacker-1', 'Something else entirely'), 'shared-key-0001');
    expect(attack.status).toBe(422);
    expect(attack.body).toMatchObject({
      error: 'IdempotencyKeyReused',
      errors: [{ field: 'Idempotency-Key', reason: expect.stringMatching(/different request/) }],
    });
    for (const secret of [first.body.complaintId, first.body.number, first.body.trackingToken]) {
      expect(attack.text).not.toContain(secret);
    }
    // Nothing published for the refused request (no acknowledgement carrying the first token).
    expect(events.events().length).toBe(before);
    // The victim's complaint is untouched; the attacker's was refused, not silently merged.
    expect((await complaintsOf('victim-1')).map((c) => c.id)).toEqual([first.body.complaintId]);
    expect(await complaintsOf('attacker-1')).toHaveLength(0);
  });

  it('gives an honest retry (same key, same body in any key order) the same complaint and a token that works', async () => {
    const body = {
      channel: 'web',
      customer: { id: 'honest-1', language: 'en' },
      description: 'Checkout fails',
    };
    const first = await post(body, 'retry-key-0001');
    const reordered = {
      description: body.description,
      customer: { language: 'en', id: 'honest-1' },
      channel: 'web',
    };
    const retry = await post(reordered, 'retry-key-0001');
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({
      complaintId: first.body.complaintId,
      number: first.body.number,
      trackingToken: first.body.trackingToken,
      trackingPath: `/track/${first.body.trackingToken}`,
      replayed: true,
    });
    // The re-derived token is the one the store knows (by its hash only).
    expect((await ctx.store.getByTrackingTokenHash(hashToken(retry.body.trackingToken)))?.id).toBe(
      first.body.complaintId,
    );
    expect(await complaintsOf('honest-1')).toHaveLength(1);
  });
});

describe('scopes: HTTP callers and event sources apart', () => {
  const data = (customerId: string) =>
    ComplaintSubmissionSchema.parse(submission(customerId, 'The app crashes when I open my orders'));

  it('an event with Source "api" and the message id of an HTTP key cannot pre-claim it', async () => {
    const reported = await report('api', 'preclaimed-key-0001', data('event-api-1'));
    expect(reported.batchItemFailures).toEqual([]);
    const [byEvent] = await complaintsOf('event-api-1');
    expect(byEvent).toBeDefined();
    const http = await post(submission('http-victim-1', 'Billed twice for one order'), 'preclaimed-key-0001');
    expect(http.status).toBe(202);
    expect(http.body.replayed).toBe(false);
    expect(http.body.complaintId).not.toBe(byEvent?.id);
    expect((await complaintsOf('http-victim-1')).map((c) => c.id)).toEqual([http.body.complaintId]);
  });

  it('an HTTP key does not answer for an event with the same id either', async () => {
    const http = await post(submission('http-first-1', 'Wrong item delivered'), 'first-by-http-0001');
    const reported = await report('api', 'first-by-http-0001', data('event-second-1'));
    expect(reported.batchItemFailures).toEqual([]);
    const [byEvent] = await complaintsOf('event-second-1');
    expect(byEvent?.id).toBeDefined();
    expect(byEvent?.id).not.toBe(http.body.complaintId);
  });

  it('"#" inside a source or message id makes no two producers meet', async () => {
    expect((await report('partner#a', 'b', data('hash-1'))).batchItemFailures).toEqual([]);
    expect((await report('partner', 'a#b', data('hash-2'))).batchItemFailures).toEqual([]);
    const [one] = await complaintsOf('hash-1');
    const [two] = await complaintsOf('hash-2');
    expect(one).toBeDefined();
    expect(two).toBeDefined();
    expect(one?.id).not.toBe(two?.id);
  });

  it('a producer reusing a message id for another complaint lands in the DLQ with the reason, never dropped', async () => {
    expect((await report('shop.backend', 'order-42', data('producer-1'))).batchItemFailures).toEqual([]);
    const reused = await report('shop.backend', 'order-42', {
      ...data('producer-2'),
      description: 'A different complaint under a reused id',
    });
    // Handled (not retried): it went to the DLQ at once.
    expect(reused.batchItemFailures).toEqual([]);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const poisoned = Messages.filter((m) => String(m.Body).includes('producer-2'));
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0]?.MessageAttributes?.ErrorReason?.StringValue).toMatch(
      /IdempotencyKeyReusedError: .*already used for a different complaint/,
    );
    expect(await complaintsOf('producer-2')).toHaveLength(0);
    expect(await complaintsOf('producer-1')).toHaveLength(1);
  });
});

describe('no secret at rest', () => {
  it('stores no tracking token in clear anywhere in the table (test-only Scan)', async () => {
    // Tokens of event-borne complaints reach the customer in the acknowledgement: collect those too.
    const issued = new Set(issuedTokens);
    for (const { event } of events.events()) {
      const path = (event.detail as { data?: { trackingPath?: string } }).data?.trackingPath;
      if (path !== undefined) issued.add(path.replace(/^\/track\//, ''));
    }
    expect(issued.size).toBeGreaterThanOrEqual(8);
    const items: Record<string, unknown>[] = [];
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const page = await localDynamoClient().send(
        new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...(page.Items ?? []).map((i) => readableItem(unmarshall(i))));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    const text = JSON.stringify(items);
    for (const token of issued) expect(text).not.toContain(token);
    // The hashes are there (the tracking pointers), and no claim has a token attribute.
    for (const token of issued) expect(text).toContain(`TRACK#${hashToken(token)}`);
    const claims = items.filter((i) => String(i.pk).startsWith('IDEMP#'));
    expect(claims.length).toBeGreaterThan(0);
    for (const claim of claims)
      expect(Object.keys(claim).sort()).toEqual([
        'complaintId',
        'expiresAt',
        'pk',
        'requestFingerprint',
        'sk',
      ]);
  });
});
