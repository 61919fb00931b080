import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMPLAINT_NUMBER_PATTERN } from '../../shared/domain/identifiers';
import { DETAIL_TYPES } from '../../shared/events/names';
import { apiRequest, lambdaContext, sqsRecord, sqsRecordForEvent, toEvents } from '../support/lambda';
import { createTestTable } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * The first half of the pipeline end to end through the real handlers (middy,
 * Powertools, batch processing) and DynamoDB Local. EventBridge and SQS are
 * replaced at the SDK boundary: what intake publishes is fed, as the SQS record a
 * rule would deliver, to classification, and so on. (The local runtime later runs
 * the same flow over real rules and queues.)
 */

const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const scheduler = mockClient(SchedulerClient);
const DLQ_URL = 'http://127.0.0.1:9324/000000000000/classification-dlq';

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
let intakeApi: Handler<ReturnType<typeof apiRequest>, APIGatewayProxyStructuredResultV2>;
let intakeQueue: Handler<SQSEvent, SQSBatchResponse>;
let classification: Handler<SQSEvent, SQSBatchResponse>;
let assignment: Handler<SQSEvent, SQSBatchResponse>;
let store: import('../../shared/storage/ports').ComplaintStore;

function resetPublishing(failures = 0) {
  published.length = 0;
  let remaining = failures;
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    if (remaining > 0) {
      remaining--;
      return {
        FailedEntryCount: input.Entries.length,
        Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure' })),
      };
    }
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
}

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const eventsOf = (type: string) => toEvents(published).filter((e) => e.detailType === type);

beforeAll(async () => {
  const tableName = await createTestTable('pipeline');
  setHandlerEnvironment(tableName, { DEAD_LETTER_QUEUE_URL: DLQ_URL });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  intakeApi = (await import('../../functions/intake/api-handler')).handler as never;
  intakeQueue = (await import('../../functions/intake/queue-handler')).handler as never;
  classification = (await import('../../functions/classification/handler')).handler as never;
  assignment = (await import('../../functions/assignment/handler')).handler as never;
  store = (await import('../support/handler-runtime')).handlerRuntime().ctx.store;
});

afterEach(() => {
  sqs.resetHistory();
});

async function submitOverHttp(body: unknown, key?: string) {
  resetPublishing();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers['idempotency-key'] = key;
  return intakeApi(apiRequest('POST', '/complaints', body, headers), lambdaContext('intake-api'));
}

/** Runs the event of `type` from the last hop through `handler`; returns that hop's batch response. */
async function forward(type: string, handler: Handler<SQSEvent, SQSBatchResponse>) {
  const [event] = eventsOf(type);
  expect(event, `expected a published "${type}"`).toBeDefined();
  resetPublishing();
  return handler(batch(sqsRecordForEvent(event as never)), lambdaContext());
}

describe('intake → classification → assignment through the handlers', () => {
  it('takes an HTTP complaint all the way to an assigned owner', async () => {
    const response = await submitOverHttp(
      {
        channel: 'app',
        customer: { id: 'cust-e2e-1', language: 'zh', contactRef: 'contact-77' },
        title: '无法登录',
        description: '今天早上开始APP一直闪退，登录不了，提示网络错误',
        demand: '尽快修复',
      },
      'web-form-0001',
    );
    expect(response.statusCode).toBe(202);
    const body = JSON.parse(String(response.body));
    expect(body.number).toMatch(COMPLAINT_NUMBER_PATTERN);
    expect(body.trackingToken).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.acknowledgement.text).toContain(body.number);
    expect(body.acknowledgement.language).toBe('zh');
    expect(eventsOf(DETAIL_TYPES.complaintReceived)).toHaveLength(1);
    const notice = eventsOf(DETAIL_TYPES.customerNotificationRequested)[0];
    expect(notice?.detail.data).toMatchObject({
      template: 'acknowledgement',
      customer: { contactRef: 'contact-77' },
    });

    expect((await forward(DETAIL_TYPES.complaintReceived, classification)).batchItemFailures).toEqual([]);
    const classified = eventsOf(DETAIL_TYPES.complaintClassified)[0]?.detail.data;
    expect(classified).toMatchObject({
      complaintId: body.complaintId,
      category: 'technical_fault',
      // Anonymous: the policy's default tier (a tier is refused on this route).
      tier: 'standard',
    });
    expect(classified?.deadlines.firstResponse.dueAt <= body.acknowledgement.respondBy).toBe(true);

    const created = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    expect(created).toEqual(
      expect.arrayContaining([
        `${body.complaintId}-ack-due`,
        `${body.complaintId}-fr-due`,
        `${body.complaintId}-res-due`,
      ]),
    );

    expect((await forward(DETAIL_TYPES.complaintClassified, assignment)).batchItemFailures).toEqual([]);
    const assigned = eventsOf(DETAIL_TYPES.complaintAssigned)[0]?.detail.data;
    expect(assigned).toMatchObject({
      leadDepartment: 'technical_support',
      collaborators: ['customer_service'],
    });
    expect(['tech_zhao', 'tech_sun']).toContain(assigned?.assignee);

    const stored = await store.get(body.complaintId);
    expect(stored).toMatchObject({
      status: 'assigned',
      version: 3,
      tier: 'standard',
      tierSource: 'default',
      customerNamespace: 'anonymous',
    });
    expect((await store.timeline(body.complaintId)).map((e) => e.type)).toEqual([
      'received',
      'classified',
      'assigned',
    ]);
    expect(
      (await store.agentLoads([String(assigned?.assignee)])).get(String(assigned?.assignee)),
    ).toBeGreaterThanOrEqual(1);
  });

  it('returns the same complaint for a retried HTTP request with the same Idempotency-Key', async () => {
    const payload = {
      channel: 'web',
      customer: { id: 'cust-e2e-2' },
      description: 'The checkout page fails to load with error 500',
    };
    const first = JSON.parse(String((await submitOverHttp(payload, 'retry-key-0001')).body));
    const second = JSON.parse(String((await submitOverHttp(payload, 'retry-key-0001')).body));
    expect(second).toMatchObject({
      complaintId: first.complaintId,
      number: first.number,
      trackingToken: first.trackingToken,
      replayed: true,
    });
    // The replay publishes the same events again with the same ids (consumers dedupe on them).
    expect(eventsOf(DETAIL_TYPES.complaintReceived)[0]?.detail.metadata.eventId).toBe(
      `${first.complaintId}:received`,
    );
    expect(await store.recentByCustomer('cust-e2e-2', '2000-01-01T00:00:00.000Z', 'anonymous')).toHaveLength(
      1,
    );
  });

  it('accepts an inbound Complaint Reported event once, however often it is delivered', async () => {
    resetPublishing();
    const reported = {
      source: 'app.store-reviews',
      detailType: DETAIL_TYPES.complaintReported,
      detail: {
        metadata: { version: 1, messageId: 'review-98765' },
        data: {
          channel: 'app_store',
          customer: { id: 'cust-e2e-3', language: 'en' },
          description: 'I was charged twice for my subscription and want a refund of 30 yuan',
        },
      },
    };
    const response = await intakeQueue(
      batch(sqsRecordForEvent(reported), sqsRecordForEvent(reported)),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([]);
    const received = eventsOf(DETAIL_TYPES.complaintReceived);
    expect(received).toHaveLength(2);
    expect(new Set(received.map((e) => e.detail.data.complaintId)).size).toBe(1);
    expect(received[0]?.detail.data.sourceSystem).toBe('app.store-reviews');
    const mine = await store.recentByCustomer('cust-e2e-3', '2000-01-01T00:00:00.000Z', 'verified');
    expect(mine).toHaveLength(1);
    expect((await forward(DETAIL_TYPES.complaintReceived, classification)).batchItemFailures).toEqual([]);
    expect(eventsOf(DETAIL_TYPES.complaintClassified)[0]?.detail.data.category).toBe('billing_dispute');
  });

  it('moves a malformed event to the DLQ with the reason and still processes the rest of the batch', async () => {
    resetPublishing();
    const bad = sqsRecordForEvent({
      source: 'hotline.ivr',
      detailType: DETAIL_TYPES.complaintReported,
      detail: {
        metadata: { version: 1, messageId: 'ivr-1' },
        data: { channel: 'fax', customer: { id: 'x' } },
      },
    });
    const good = sqsRecordForEvent({
      source: 'hotline.ivr',
      detailType: DETAIL_TYPES.complaintReported,
      detail: {
        metadata: { version: 1, messageId: 'ivr-2' },
        data: {
          channel: 'hotline',
          customer: { id: 'cust-e2e-4' },
          description: '客服态度很差，电话里直接挂断了',
        },
      },
    });
    const notJson = sqsRecord('{not json');
    const response = await intakeQueue(batch(bad, good, notJson), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ QueueUrl: DLQ_URL, MessageBody: bad.body });
    const reason = String(sent[0]?.MessageAttributes?.ErrorReason?.StringValue);
    expect(reason).toContain('data.channel');
    expect(reason).toContain('data.description');
    expect(String(sent[1]?.MessageAttributes?.ErrorReason?.StringValue)).toContain('not JSON');
    expect(eventsOf(DETAIL_TYPES.complaintReceived)).toHaveLength(1);
  });

  it('fails only the record whose events could not be published, and the redelivery publishes them', async () => {
    resetPublishing(1);
    const reported = {
      source: 'mail.gateway',
      detailType: DETAIL_TYPES.complaintReported,
      detail: {
        metadata: { version: 1, messageId: 'mail-555' },
        data: {
          channel: 'email',
          customer: { id: 'cust-e2e-5' },
          description: 'My account was hacked and someone changed my password',
        },
      },
    };
    const record = sqsRecordForEvent(reported, 'sqs-retry-1');
    const first = await intakeQueue(batch(record), lambdaContext());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-retry-1' }]);
    expect(published).toHaveLength(0);
    const second = await intakeQueue(batch(record), lambdaContext());
    expect(second.batchItemFailures).toEqual([]);
    expect(eventsOf(DETAIL_TYPES.complaintReceived)).toHaveLength(1);
    expect(await store.recentByCustomer('cust-e2e-5', '2000-01-01T00:00:00.000Z', 'verified')).toHaveLength(
      1,
    );
  });

  it('rejects spam politely in the customer language and does not assign it', async () => {
    const response = await submitOverHttp({
      channel: 'social_media',
      customer: { id: 'cust-e2e-6', language: 'zh' },
      description:
        '兼职日结，加微信 xxx 免费领取 http://a.example http://b.example http://c.example http://d.example',
    });
    const { complaintId } = JSON.parse(String(response.body));
    await forward(DETAIL_TYPES.complaintReceived, classification);
    const rejected = eventsOf(DETAIL_TYPES.complaintRejected)[0]?.detail.data;
    expect(rejected).toMatchObject({ complaintId, verdict: 'spam', language: 'zh', contestable: true });
    expect(rejected?.reason).toMatch(/[\u4e00-\u9fff]/);
    expect(eventsOf(DETAIL_TYPES.customerNotificationRequested)[0]?.detail.data.template).toBe('rejection');
    expect(eventsOf(DETAIL_TYPES.complaintClassified)).toHaveLength(0);
    expect((await store.get(complaintId))?.status).toBe('rejected');
  });

  it('republishes instead of reclassifying when Complaint Received is delivered twice', async () => {
    const response = await submitOverHttp({
      channel: 'app',
      customer: { id: 'cust-e2e-7' },
      description: 'The app has too many steps to change my address',
    });
    const { complaintId } = JSON.parse(String(response.body));
    const [received] = eventsOf(DETAIL_TYPES.complaintReceived);
    resetPublishing();
    await classification(batch(sqsRecordForEvent(received as never)), lambdaContext());
    const firstId = eventsOf(DETAIL_TYPES.complaintClassified)[0]?.detail.metadata.eventId;
    resetPublishing();
    await classification(batch(sqsRecordForEvent(received as never)), lambdaContext());
    expect(eventsOf(DETAIL_TYPES.complaintClassified)[0]?.detail.metadata.eventId).toBe(firstId);
    expect((await store.get(complaintId))?.version).toBe(2);
    expect((await store.timeline(complaintId)).filter((e) => e.type === 'classified')).toHaveLength(1);
  });

  it('answers invalid HTTP input with 400 naming each field, and 415 / 413 for the wrong body', async () => {
    const invalid = await submitOverHttp({ channel: 'fax', customer: {}, description: '' });
    expect(invalid.statusCode).toBe(400);
    const fields = JSON.parse(String(invalid.body)).errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['channel', 'customer.id', 'description']));
    const unknownField = await submitOverHttp({
      channel: 'app',
      customer: { id: 'c' },
      description: 'x',
      password: 'no',
    });
    expect(JSON.parse(String(unknownField.body)).errors[0]).toMatchObject({ field: '(body)' });
    const notJson = await intakeApi(apiRequest('POST', '/complaints', '{oops'), lambdaContext());
    expect(notJson.statusCode).toBe(400);
    const wrongType = await intakeApi(
      apiRequest('POST', '/complaints', 'a=b', { 'content-type': 'text/plain' }),
      lambdaContext(),
    );
    expect(wrongType.statusCode).toBe(415);
    const huge = await intakeApi(
      apiRequest('POST', '/complaints', { description: 'x'.repeat(70_000) }),
      lambdaContext(),
    );
    expect(huge.statusCode).toBe(413);
    const badKey = await submitOverHttp(
      { channel: 'app', customer: { id: 'c' }, description: 'valid text here' },
      'short',
    );
    expect(JSON.parse(String(badKey.body)).errors[0].field).toBe('Idempotency-Key');
    expect(published).toHaveLength(0);
  });
});
