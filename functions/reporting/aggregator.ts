import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../shared/clients/sqs';
import type { LifecycleEvent } from '../../shared/domain/reporting/facts';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createReportingContext, createRuntime } from '../../shared/handlers/runtime';
import { parseEventRecord, sqsGroupedBatchHandler } from '../../shared/handlers/sqs-batch';
import { implausibleEvents, recordLifecycleEvents } from '../../shared/services/reporting';

const runtime = createRuntime();
const reporting = createReportingContext(runtime);

/** What the aggregates read of any lifecycle event: its deterministic id, time and complaint. */
const LifecycleDetailSchema = z.object({
  metadata: z.object({ eventId: z.string().min(1), occurredAt: z.iso.datetime({ offset: true }) }),
  data: z.looseObject({ complaintId: z.string().min(1) }),
});

/** Each record parsed once: for its group key, then for its group (the batch's records are these objects). */
const parsed = new WeakMap<SQSRecord, LifecycleEvent>();

const eventOf = (record: SQSRecord): LifecycleEvent => {
  const known = parsed.get(record);
  if (known !== undefined) return known;
  const { envelope, detail } = parseEventRecord(record, LifecycleDetailSchema);
  const event = { detailType: envelope['detail-type'], detail };
  parsed.set(record, event);
  return event;
};

/**
 * The lifecycle events of one complaint in a batch → its report facts and the period aggregates, in
 * one write (idempotent, order-free). An event for a complaint the store does not hold, or with
 * implausible values, is poison: it goes to the DLQ with the reason and never into a figure; the
 * others are counted.
 */
export async function handleComplaintEvents(records: SQSRecord[]) {
  const events = records.map(eventOf);
  const complaintId = events[0]?.detail.data.complaintId ?? '';
  const implausible = await implausibleEvents(reporting, complaintId, events);
  const plausible = events.filter((_, i) => implausible[i] === undefined);
  const outcome = await recordLifecycleEvents(reporting, plausible);
  logger.debug('Aggregated', { complaintId, events: plausible.length, outcome });
  return implausible;
}

export const handler = withObservability(
  // Records one after another: parallel batches of the same day would only conflict on its buckets.
  sqsGroupedBatchHandler((record) => eventOf(record).detail.data.complaintId, handleComplaintEvents, {
    sqs: sqsClient,
    deadLetterQueueUrl: runtime.config.DEAD_LETTER_QUEUE_URL,
    processInParallel: false,
  }),
);
