import type { SQSRecord } from 'aws-lambda';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { sqsClient } from '../../shared/clients/sqs';
import { ComplaintReceivedV1 } from '../../shared/events/schemas';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { classifyComplaint } from '../../shared/services/classification';

const { ctx, config } = createRuntime({ timers: eventBridgeTimers });

/** `Complaint Received` → classify, store, publish `Complaint Classified` or `Complaint Rejected`. */
export async function handleReceived(record: SQSRecord): Promise<void> {
  const { detail } = parseEventRecord(record, ComplaintReceivedV1);
  const outcome = await classifyComplaint(ctx, detail.data.complaintId);
  logger.info('Classification done', { complaintId: detail.data.complaintId, outcome });
}

export const handler = withObservability(
  sqsBatchHandler(handleReceived, { sqs: sqsClient, deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL }),
);
