import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../shared/clients/sqs';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createReportingContext, createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { recordLifecycleEvent, verifyLifecycleEvent } from '../../shared/services/reporting';

const runtime = createRuntime();
const reporting = createReportingContext(runtime);

/** What the aggregates read of any lifecycle event: its deterministic id, time and complaint. */
const LifecycleDetailSchema = z.object({
  metadata: z.object({ eventId: z.string().min(1), occurredAt: z.iso.datetime({ offset: true }) }),
  data: z.looseObject({ complaintId: z.string().min(1) }),
});

/**
 * A lifecycle event → the complaint's report facts and the period aggregates (idempotent, order-free).
 * An event for a complaint the store does not hold, or with implausible values, is poison: it goes to
 * the DLQ with the reason and never into a figure.
 */
export async function handleLifecycleEvent(record: SQSRecord): Promise<void> {
  const { envelope, detail } = parseEventRecord(record, LifecycleDetailSchema);
  const event = { detailType: envelope['detail-type'], detail };
  await verifyLifecycleEvent(reporting, event);
  const outcome = await recordLifecycleEvent(reporting, event);
  logger.debug('Aggregated', {
    complaintId: detail.data.complaintId,
    detailType: envelope['detail-type'],
    outcome,
  });
}

export const handler = withObservability(
  // In order: a batch usually holds several events of the same complaint, whose facts item they all update.
  sqsBatchHandler(handleLifecycleEvent, {
    sqs: sqsClient,
    deadLetterQueueUrl: runtime.config.DEAD_LETTER_QUEUE_URL,
    processInParallel: false,
  }),
);
