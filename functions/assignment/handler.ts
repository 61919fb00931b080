import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../../shared/clients/sqs';
import { ComplaintClassifiedV1 } from '../../shared/events/schemas';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { assignComplaint } from '../../shared/services/assignment';

const { ctx, config } = createRuntime();

/** `Complaint Classified` → route to a department and agent, store, publish `Complaint Assigned`. */
export async function handleClassified(record: SQSRecord): Promise<void> {
  const { detail } = parseEventRecord(record, ComplaintClassifiedV1);
  const outcome = await assignComplaint(ctx, detail.data.complaintId);
  logger.info('Assignment done', { complaintId: detail.data.complaintId, outcome });
}

export const handler = withObservability(
  sqsBatchHandler(handleClassified, { sqs: sqsClient, deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL }),
);
