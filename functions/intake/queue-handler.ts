import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../../shared/clients/aws';
import { moneyDecimalsProblem } from '../../shared/domain/bounds';
import { ComplaintReportedV1 } from '../../shared/events/schemas';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { PoisonMessageError } from '../../shared/services/context';
import { receiveComplaint } from '../../shared/services/intake';

const { ctx, config } = createRuntime();

/**
 * Inbound `Complaint Reported` events from other services (rule → queue → here).
 * Idempotent on (event source, `metadata.messageId`); a malformed event goes to the
 * DLQ with the validation errors as its reason.
 */
export async function handleReported(record: SQSRecord): Promise<void> {
  const { envelope, detail } = parseEventRecord(record, ComplaintReportedV1);
  const amount = detail.data.amount;
  const money = amount === undefined ? undefined : moneyDecimalsProblem(amount, ctx.policy.currency);
  if (money !== undefined) throw new PoisonMessageError(`Invalid event detail: data.amount ${money}`);
  const result = await receiveComplaint(ctx, {
    submission: detail.data,
    sourceSystem: envelope.source,
    messageId: detail.metadata.messageId,
  });
  logger.info('Complaint accepted', {
    complaintId: result.complaintId,
    replayed: result.replayed,
    source: envelope.source,
  });
}

export const handler = withObservability(
  sqsBatchHandler(handleReported, { sqs: sqsClient, deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL }),
);
