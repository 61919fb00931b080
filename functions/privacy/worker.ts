import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient } from '../../shared/clients/sqs';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createPrivacyContext } from '../../shared/handlers/privacy-runtime';
import { createRuntime } from '../../shared/handlers/runtime';
import { describeIssues, sqsBatchHandler } from '../../shared/handlers/sqs-batch';
import { PoisonMessageError } from '../../shared/services/context';
import { continueErasure } from '../../shared/services/privacy';

const runtime = createRuntime();
const ctx = createPrivacyContext(runtime);

/** What the API, the retention run and the worker itself put on the erasure queue. */
const ErasureMessageSchema = z
  .object({ erasureId: z.string().min(1).max(64), idleRounds: z.number().int().min(0).optional() })
  .strict();

/**
 * One round of an erasure per message: erases a bounded chunk, then sends the continuation (or
 * completes the erasure). A failure leaves the message on the queue: SQS delivers it again and the
 * round resumes from what the indexes still return.
 */
export async function handleErasureMessage(record: SQSRecord): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new PoisonMessageError('The message body is not JSON');
  }
  const message = ErasureMessageSchema.safeParse(body);
  if (!message.success)
    throw new PoisonMessageError(`Not an erasure message: ${describeIssues(message.error)}`);
  const outcome = await continueErasure(ctx, message.data);
  logger.info('Erasure round done', { erasureId: message.data.erasureId, outcome });
}

export const handler = withObservability(
  sqsBatchHandler(handleErasureMessage, {
    sqs: sqsClient,
    deadLetterQueueUrl: runtime.config.DEAD_LETTER_QUEUE_URL,
    // Rounds of one erasure conflict with each other; rounds of different erasures are independent.
    processInParallel: false,
  }),
);
