import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../../shared/clients/aws';
import { IdempotencyKeyReusedError } from '../../shared/domain/idempotency';
import { ComplaintReportedV1 } from '../../shared/events/schemas';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { PoisonMessageError } from '../../shared/services/context';
import { receiveComplaint } from '../../shared/services/intake';

const { ctx, config } = createRuntime();

/**
 * Inbound `Complaint Reported` events from other services (rule → queue → here).
 * Idempotent on (event source, `metadata.messageId`), in the events' own scope (apart from
 * HTTP callers and from other sources); a malformed event, and a message id of this source
 * reused for a different complaint, go to the DLQ with the reason — never dropped.
 */
export async function handleReported(record: SQSRecord): Promise<void> {
  const { envelope, detail } = parseEventRecord(record, ComplaintReportedV1);
  let result: Awaited<ReturnType<typeof receiveComplaint>>;
  try {
    result = await receiveComplaint(ctx, {
      submission: detail.data,
      sourceSystem: envelope.source,
      messageId: detail.metadata.messageId,
      idempotency: { kind: 'event', source: envelope.source, messageId: detail.metadata.messageId },
    });
  } catch (error) {
    // Retrying cannot help: the producer reused an id. The DLQ keeps the event with the reason.
    if (error instanceof IdempotencyKeyReusedError)
      throw new PoisonMessageError(`${error.name}: ${error.message}`);
    throw error;
  }
  logger.info('Complaint accepted', {
    complaintId: result.complaintId,
    replayed: result.replayed,
    source: envelope.source,
  });
}

export const handler = withObservability(
  sqsBatchHandler(handleReported, { sqs: sqsClient, deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL }),
);
