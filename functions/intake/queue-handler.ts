import type { SQSRecord } from 'aws-lambda';
import { kmsServiceKeys } from '../../shared/clients/kms';
import { sqsClient } from '../../shared/clients/sqs';
import { moneyDecimalsProblem } from '../../shared/domain/bounds';
import { IdempotencyKeyReusedError } from '../../shared/domain/idempotency';
import { DETAIL_TYPES } from '../../shared/events/names';
import { ComplaintReportedV1, CustomerProfileUpdatedV1 } from '../../shared/events/schemas';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import {
  EventBridgeEnvelopeSchema,
  parseEventRecord,
  sqsBatchHandler,
} from '../../shared/handlers/sqs-batch';
import { PoisonMessageError } from '../../shared/services/context';
import {
  mayFeedDirectory,
  UnknownTierError,
  updateCustomerTier,
} from '../../shared/services/customer-directory';
import { receiveComplaint } from '../../shared/services/intake';

const { ctx, config } = createRuntime({ keys: kmsServiceKeys });

/**
 * Inbound `Complaint Reported` events from other services (rule → queue → here).
 * Idempotent on (event source, `metadata.messageId`), in the events' own scope (apart from
 * HTTP callers and from other sources); a malformed event, and a message id of this source
 * reused for a different complaint, go to the DLQ with the reason — never dropped. The customer
 * tier and affected users count only from the policy's `trust.producers` (shared/domain/trust.ts).
 */
export async function handleReported(record: SQSRecord): Promise<void> {
  const { envelope, detail } = parseEventRecord(record, ComplaintReportedV1);
  const amount = detail.data.amount;
  const money = amount === undefined ? undefined : moneyDecimalsProblem(amount, ctx.policy.currency);
  if (money !== undefined) throw new PoisonMessageError(`Invalid event detail: data.amount ${money}`);
  let result: Awaited<ReturnType<typeof receiveComplaint>>;
  try {
    result = await receiveComplaint(ctx, {
      submission: detail.data,
      sourceSystem: envelope.source,
      messageId: detail.metadata.messageId,
      idempotency: { kind: 'event', source: envelope.source, messageId: detail.metadata.messageId },
      submitter: { kind: 'producer', source: envelope.source },
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

/**
 * Inbound `Customer Profile Updated` events (same rule and queue). The rule routes every non-service
 * source, so a producer outside `trust.customerDirectorySources` is visible: its event goes to the DLQ
 * with the reason instead of vanishing. Unknown tiers go there too. Conditional on `updatedAt`, so a
 * redelivered or late (older) update changes nothing.
 */
export async function handleProfileUpdated(record: SQSRecord): Promise<void> {
  const { envelope, detail } = parseEventRecord(record, CustomerProfileUpdatedV1);
  if (!mayFeedDirectory(ctx.policy, envelope.source)) {
    throw new PoisonMessageError(
      `Source "${envelope.source}" may not update the customer directory (policy trust.customerDirectorySources)`,
    );
  }
  try {
    const { outcome } = await updateCustomerTier(ctx, {
      customerId: detail.data.customerId,
      tier: detail.data.tier,
      updatedAt: detail.data.updatedAt,
      source: envelope.source,
    });
    // No customer id in the log: the message id traces it.
    logger.info('Customer directory updated', {
      outcome,
      source: envelope.source,
      messageId: detail.metadata.messageId,
    });
  } catch (error) {
    if (error instanceof UnknownTierError) throw new PoisonMessageError(error.message);
    throw error;
  }
}

/** Routes a record by its detail-type (the rule sends exactly these two). */
export async function handleInbound(record: SQSRecord): Promise<void> {
  let detailType: string | undefined;
  try {
    detailType = EventBridgeEnvelopeSchema.safeParse(JSON.parse(record.body)).data?.['detail-type'];
  } catch {
    // Not JSON: handleReported reports it as poison with the reason.
    detailType = undefined;
  }
  if (detailType === DETAIL_TYPES.customerProfileUpdated) return handleProfileUpdated(record);
  // Undefined: not an event at all; handleReported reports why.
  if (detailType === undefined || detailType === DETAIL_TYPES.complaintReported)
    return handleReported(record);
  throw new PoisonMessageError(`Unexpected detail-type "${detailType}" on the intake queue`);
}

export const handler = withObservability(
  sqsBatchHandler(handleInbound, { sqs: sqsClient, deadLetterQueueUrl: config.DEAD_LETTER_QUEUE_URL }),
);
