import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import { generateReport, type ReportingContext } from '../../shared/services/reporting';
import { DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import { DynamoDbReportingStore } from '../../shared/storage/reporting-store';
import { complaintRecord } from '../support/fixtures';
import { lambdaContext, sqsRecordForEvent } from '../support/lambda';
import { createTestTable, localDynamoClient } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * The report aggregator distrusts what it receives (issue #10): the real handler on DynamoDB Local,
 * with its DLQ on a real SQS-protocol server. A forged Survey Answered with a score of 1,000,000 and an
 * event for a complaint that does not exist land in the DLQ with the reason and leave every figure as
 * it was; an honest event of the same batch still counts.
 */

type Handler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
let handler: Handler;
let sqsServer: Server;
let sqs: SQSClient;
let dlqUrl: string;
let reporting: ReportingContext;
const RECEIVED_AT = '2026-11-24T02:00:00.000Z';
const complaint = complaintRecord({ receivedAt: RECEIVED_AT });

const metadata = (what: string, occurredAt: string) => ({
  version: 1,
  eventId: `${complaint.id}:${what}`,
  occurredAt,
  correlationId: complaint.id,
});
const received = (id = complaint.id) =>
  sqsRecordForEvent({
    source: SOURCES.intake,
    detailType: DETAIL_TYPES.complaintReceived,
    detail: {
      metadata: { ...metadata('received', RECEIVED_AT), eventId: `${id}:received` },
      data: {
        complaintId: id,
        number: 'N-1',
        channel: 'app',
        tier: 'standard',
        language: 'zh',
        receivedAt: RECEIVED_AT,
        promisedResponseBy: '2026-11-25T02:00:00.000Z',
        sourceSystem: 'test',
      },
    },
  });
const surveyAnswered = (score: number, what: string) =>
  sqsRecordForEvent({
    source: SOURCES.customer,
    detailType: DETAIL_TYPES.surveyAnswered,
    detail: {
      metadata: metadata(what, '2026-11-24T06:00:00.000Z'),
      data: { complaintId: complaint.id, number: 'N-1', score },
    },
  });

async function drainDlq(): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < 3; i++) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...(Messages ?? []));
    if ((Messages ?? []).length === 0 && messages.length > 0) break;
  }
  return messages;
}
const reasonOf = (m: Message) => m.MessageAttributes?.ErrorReason?.StringValue ?? '';
const dayFigures = async () => (await generateReport(reporting, 'daily', '2026-11-24')).figures;

beforeAll(async () => {
  const table = await createTestTable('distrust');
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
  sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  dlqUrl = String((await sqs.send(new CreateQueueCommand({ QueueName: 'aggregator-dlq' }))).QueueUrl);
  setHandlerEnvironment(table, { DEAD_LETTER_QUEUE_URL: dlqUrl, AWS_ENDPOINT_URL_SQS: sqsEndpoint });
  handler = (await import('../../functions/reporting/aggregator')).handler as unknown as Handler;

  const db = DynamoDBDocumentClient.from(localDynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbComplaintStore(db, { tableName: table, deadlineShards: 4 });
  const created = await store.create({
    complaint,
    idempotencyKey: `test#${complaint.id}`,
    requestFingerprint: `fingerprint-${complaint.id}`,
    trackingTokenHash: `hash-${complaint.id}`,
    timeline: [],
  });
  expect(created.outcome).toBe('created');
  reporting = {
    store: new DynamoDbReportingStore(db, table),
    timeZone: 'Asia/Shanghai',
    now: () => new Date('2026-11-26T08:00:00Z'),
  };
  // The honest history: the complaint was received and answered the survey with a 4.
  const honest = await handler({ Records: [received(), surveyAnswered(4, 'survey-1')] }, lambdaContext());
  expect(honest.batchItemFailures).toEqual([]);
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await new Promise<void>((resolve) => {
    if (sqsServer === undefined) return resolve();
    sqsServer.closeAllConnections?.();
    sqsServer.close(() => resolve());
  });
});

describe('the report aggregator', () => {
  it('counts the honest events', async () => {
    const figures = await dayFigures();
    expect(figures.volume.received).toBe(1);
    expect(figures.satisfaction).toMatchObject({ answers: 1, average: 4 });
    expect(await drainDlq()).toEqual([]);
  });

  it('sends a forged Survey Answered with a score of 1,000,000 to its DLQ with the reason; the figures stay', async () => {
    const before = await dayFigures();
    const result = await handler({ Records: [surveyAnswered(1_000_000, 'forged-survey')] }, lambdaContext());
    // Handled (moved to the DLQ), not retried.
    expect(result.batchItemFailures).toEqual([]);
    const dead = await drainDlq();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.MessageAttributes?.ErrorName?.StringValue).toBe('ImplausibleEventError');
    expect(reasonOf(dead[0] as Message)).toMatch(/survey score 1000000 is not an integer from 1 to 5/);
    expect(JSON.parse(String(dead[0]?.Body)).detail.data.score).toBe(1_000_000);
    expect(await dayFigures()).toEqual(before);
  });

  it('sends events of a complaint the store does not hold to its DLQ, and still counts the honest event of the batch', async () => {
    const before = await dayFigures();
    const forged = Array.from({ length: 5 }, (_, i) => received(`01FORGED${i}`));
    const result = await handler({ Records: [...forged, surveyAnswered(2, 'survey-2')] }, lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    const dead = await drainDlq();
    expect(dead).toHaveLength(5);
    for (const message of dead)
      expect(reasonOf(message)).toMatch(/for complaint 01FORGED\d, which does not exist/);
    const after = await dayFigures();
    expect(after.volume).toEqual(before.volume);
    // The honest second answer (2) counts: two answers, average 3.
    expect(after.satisfaction).toMatchObject({ answers: 2, average: 3 });
  });
});
