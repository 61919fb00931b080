import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BATCH_DEADLINE_MARGIN_MS, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { lambdaContext } from '../support/lambda';

const record = (id: string): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: '{}',
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q',
    awsRegion: 'us-east-1',
  }) as SQSRecord;

const batch = (...ids: string[]): SQSEvent => ({ Records: ids.map(record) });

/** A context whose function has `remainingMs` left. */
const contextWith = (remainingMs: number) => {
  const until = Date.now() + remainingMs;
  return { ...lambdaContext('batch'), getRemainingTimeInMillis: () => until - Date.now() };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sqs = new SQSClient({ region: 'us-east-1' });

describe('an SQS batch running out of time', () => {
  it('answers before the timeout, reporting only the records still running as failed', async () => {
    const finished: string[] = [];
    const handler = sqsBatchHandler(
      async (r) => {
        await sleep(r.messageId === 'slow' ? 5_000 : 10);
        finished.push(r.messageId);
      },
      { sqs },
    );
    const started = Date.now();
    const response = await handler(batch('a', 'slow', 'b'), contextWith(BATCH_DEADLINE_MARGIN_MS + 300));
    const took = Date.now() - started;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'slow' }]);
    expect(finished.sort()).toEqual(['a', 'b']);
    // It answered at the deadline (margin before the timeout), not when the slow record ended.
    expect(took).toBeLessThan(BATCH_DEADLINE_MARGIN_MS + 300);
    expect(took).toBeGreaterThanOrEqual(250);
  });

  it('does not start records of a sequential batch once the deadline has passed', async () => {
    const started: string[] = [];
    const handler = sqsBatchHandler(
      async (r) => {
        started.push(r.messageId);
        await sleep(200);
      },
      { sqs, processInParallel: false },
    );
    const response = await handler(batch('a', 'b', 'c'), contextWith(BATCH_DEADLINE_MARGIN_MS + 300));
    // a finished, b was running at the deadline (300 ms), c never started.
    expect(started).toEqual(['a', 'b']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['b', 'c']);
  });

  it('changes nothing for a batch that finishes in time', async () => {
    const handler = sqsBatchHandler(
      async () => {
        await sleep(5);
      },
      { sqs },
    );
    const response = await handler(batch('a', 'b'), contextWith(10_000));
    expect(response.batchItemFailures).toEqual([]);
  });
});
