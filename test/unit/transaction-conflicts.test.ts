import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordLifecycleEvent } from '../../shared/services/reporting';
import { ConcurrencyConflictError } from '../../shared/storage/ports';
import { DynamoDbReportingStore } from '../../shared/storage/reporting-store';
import { isRetryableCancellation } from '../../shared/storage/transactions';

/**
 * DynamoDB Local applies requests one at a time, so it never cancels a transaction with
 * `TransactionConflict`; DynamoDB does whenever two transactions write one item at once (every
 * complaint of a day shares its bucket items). These tests give the stores that answer.
 */

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('a cancelled transaction', () => {
  it('is retried from a fresh read on a failed condition or a conflicting transaction, not otherwise', () => {
    expect(isRetryableCancellation(cancelled('ConditionalCheckFailed', 'None'))).toBe(true);
    expect(isRetryableCancellation(cancelled('None', 'TransactionConflict', 'None'))).toBe(true);
    expect(isRetryableCancellation(cancelled('None', 'ValidationError'))).toBe(false);
    expect(isRetryableCancellation(cancelled('ThrottlingError'))).toBe(false);
    expect(isRetryableCancellation(new Error('TransactionConflict'))).toBe(false);
  });
});

describe('the report facts write', () => {
  const db = mockClient(DynamoDBDocumentClient);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const store = new DynamoDbReportingStore(client, 'table');
  const received = {
    detailType: 'Complaint Received',
    detail: {
      metadata: { eventId: 'e-1', occurredAt: '2026-11-24T02:00:00Z' },
      data: { complaintId: 'C1', receivedAt: '2026-11-24T02:00:00Z', channel: 'app', tier: 'standard' },
    },
  };

  beforeEach(() => {
    db.reset();
    db.on(GetCommand).resolves({});
    db.on(UpdateCommand).resolves({});
  });

  it('turns a conflict with another transaction on a shared bucket into a concurrency conflict', async () => {
    db.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));
    await expect(store.saveFacts({ ...emptyFactsOf('C1') }, 0, new Map())).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
  });

  it('is retried until the conflicting transaction is gone, and then counts once', async () => {
    db.on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .rejectsOnce(cancelled('None', 'None', 'TransactionConflict'))
      .resolves({});
    const ctx = { store, timeZone: 'Asia/Shanghai', now: () => new Date('2026-11-24T03:00:00Z') };
    await expect(recordLifecycleEvent(ctx, received)).resolves.toBe('changed');
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('gives up on other reasons at once', async () => {
    db.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError'));
    const ctx = { store, timeZone: 'Asia/Shanghai', now: () => new Date('2026-11-24T03:00:00Z') };
    await expect(recordLifecycleEvent(ctx, received)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});

function emptyFactsOf(complaintId: string) {
  return { complaintId, resolutions: {}, reopenings: {}, breaches: {}, escalations: {}, surveys: {} };
}
