import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/**
 * Whether a cancelled `TransactWriteItems` is worth retrying from a fresh read: a condition failed
 * (the item moved on since it was read) or another transaction was writing one of the same items at
 * that moment (`TransactionConflict`, which DynamoDB does not retry for the caller and the SDK does
 * not either). Any other reason (validation, size, throughput after the SDK's own retries) is not.
 */
export function isRetryableCancellation(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some(
      (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
    )
  );
}

/**
 * The same for a single conditional write: its condition failed, or a transaction was writing the
 * item at that moment (`TransactionConflictException`, which a plain write gets in that case).
 */
export function isRetryableWriteFailure(error: unknown): boolean {
  if (isRetryableCancellation(error)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionConflictException';
}
