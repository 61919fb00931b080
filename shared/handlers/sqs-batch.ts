import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { PoisonMessageError } from '../services/context';
import { errorSummary } from './errors';
import { counters, logger } from './observability';

/** The envelope EventBridge writes into an SQS message body when a rule targets a queue. */
export const EventBridgeEnvelopeSchema = z.object({
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  time: z.string(),
  detail: z.unknown(),
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

/** Parses an SQS body as an EventBridge event whose detail matches `schema`; a mismatch is poison. */
export function parseEventRecord<S extends z.ZodType>(
  record: SQSRecord,
  schema: S,
): { envelope: EventBridgeEnvelope; detail: z.infer<S> } {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new PoisonMessageError('The message body is not JSON');
  }
  const envelope = EventBridgeEnvelopeSchema.safeParse(body);
  if (!envelope.success)
    throw new PoisonMessageError(`Not an EventBridge event: ${describeIssues(envelope.error)}`);
  const detail = schema.safeParse(envelope.data.detail);
  if (!detail.success) {
    throw new PoisonMessageError(
      `Invalid "${envelope.data['detail-type']}" detail: ${describeIssues(detail.error)}`,
    );
  }
  return { envelope: envelope.data, detail: detail.data };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Time kept back before the function's timeout: a record still running then is reported as failed, so
 * the handler answers before Lambda ends the instance.
 */
export const BATCH_DEADLINE_MARGIN_MS = 1_500;

/** A record not finished when the batch ran out of time; it is retried like any transient failure. */
export class BatchDeadlineError extends Error {
  override name = 'BatchDeadlineError';
}

export interface SqsBatchOptions {
  sqs: SQSClient;
  /** Where poison messages go at once; without it they are retried until the redrive policy moves them. */
  deadLetterQueueUrl?: string;
  /**
   * Process the records of a batch one after another, in order (default: in parallel). For consumers
   * whose records often concern the same item, where parallel writes would only conflict.
   */
  processInParallel?: boolean;
}

/**
 * An SQS handler with partial batch responses. Each record is handled on its own:
 * a transient failure (throttling, a version conflict, a publish failure) fails
 * only that record, which SQS redelivers; a `PoisonMessageError` (bad shape,
 * unknown complaint) is sent straight to the DLQ with the reason in message
 * attributes — retrying it would only delay it — and the record counts as handled.
 *
 * **Out of time.** A batch slowed down by a slow dependency does not run into the function's timeout:
 * {@link BATCH_DEADLINE_MARGIN_MS} before it, every record still running fails with
 * {@link BatchDeadlineError} and the handler answers. Only those records come back (after the
 * visibility timeout), the records already done are deleted, and the instance stays warm; a timeout
 * would have redelivered the whole batch and cost a cold start. The work of a record given up on may
 * still finish later: every record handler is idempotent, so its redelivery changes nothing twice.
 */
export function sqsBatchHandler(
  recordHandler: (record: SQSRecord) => Promise<void>,
  options: SqsBatchOptions,
) {
  return batchHandler(() => recordHandler, options);
}

/**
 * As {@link sqsBatchHandler}, for consumers whose records are cheaper handled together when they
 * concern the same thing (the report aggregator: one write per complaint and batch instead of one per
 * event). The records of a batch with the same `keyOf` go to `groupHandler` once, in order, when the
 * first of them comes up; it answers, per record, nothing (done) or that record's poison error (to
 * the DLQ). If it throws, every record of the group fails and is retried. A record `keyOf` throws for
 * is handled alone: its error is its outcome (a `PoisonMessageError` goes to the DLQ).
 */
export function sqsGroupedBatchHandler(
  keyOf: (record: SQSRecord) => string,
  groupHandler: (records: SQSRecord[]) => Promise<Array<PoisonMessageError | undefined>>,
  options: SqsBatchOptions,
) {
  return batchHandler((records) => {
    const keys = new Map<string, string | unknown>();
    const groups = new Map<string, SQSRecord[]>();
    for (const record of records) {
      try {
        const key = keyOf(record);
        keys.set(record.messageId, key);
        groups.set(key, [...(groups.get(key) ?? []), record]);
      } catch (error) {
        keys.set(record.messageId, { error });
      }
    }
    const outcomes = new Map<string, Promise<Map<string, PoisonMessageError | undefined>>>();
    const outcomeOf = (key: string): Promise<Map<string, PoisonMessageError | undefined>> => {
      const known = outcomes.get(key);
      if (known !== undefined) return known;
      const members = groups.get(key) ?? [];
      const started = groupHandler(members).then(
        (errors) => new Map(members.map((m, i) => [m.messageId, errors[i]])),
      );
      outcomes.set(key, started);
      return started;
    };
    return async (record) => {
      const key = keys.get(record.messageId);
      if (typeof key !== 'string') throw (key as { error: unknown } | undefined)?.error;
      const poison = (await outcomeOf(key)).get(record.messageId);
      if (poison !== undefined) throw poison;
    };
  }, options);
}

/** The batch machinery of both: `handlerFor` gives the record handler of one batch. */
function batchHandler(
  handlerFor: (records: SQSRecord[]) => (record: SQSRecord) => Promise<void>,
  options: SqsBatchOptions,
) {
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = async (
    recordHandler: (record: SQSRecord) => Promise<void>,
    record: SQSRecord,
  ): Promise<void> => {
    try {
      await recordHandler(record);
    } catch (error) {
      if (!(error instanceof PoisonMessageError) || options.deadLetterQueueUrl === undefined) {
        logger.warn('Record failed; it will be retried', {
          messageId: record.messageId,
          error: errorSummary(error),
        });
        throw error;
      }
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.deadLetterQueueUrl,
          MessageBody: record.body,
          MessageAttributes: {
            ErrorName: { DataType: 'String', StringValue: error.name },
            ErrorReason: { DataType: 'String', StringValue: error.message.slice(0, 1024) },
            OriginalMessageId: { DataType: 'String', StringValue: record.messageId },
            SourceQueue: { DataType: 'String', StringValue: record.eventSourceARN },
          },
        }),
      );
      counters.count('PoisonMessages');
      logger.error('Poison message moved to the DLQ', { messageId: record.messageId, reason: error.message });
    }
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const recordHandler = handlerFor(event.Records);
    const deadline = Date.now() + context.getRemainingTimeInMillis() - BATCH_DEADLINE_MARGIN_MS;
    let outOfTime = 0;
    // One timer for the whole batch: every record still running when it fires gives up.
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BatchDeadlineError('Not finished before the function ran out of time; it will be retried'),
          ),
        Math.max(0, deadline - Date.now()),
      );
    });
    expired.catch(() => undefined); // a batch with no record left waiting on it
    const withinDeadline = async (record: SQSRecord): Promise<void> => {
      if (Date.now() >= deadline) {
        // Records handled one after another: the ones not started yet are not started at all.
        outOfTime++;
        throw new BatchDeadlineError('Not started before the function ran out of time');
      }
      try {
        await Promise.race([handleRecord(recordHandler, record), expired]);
      } catch (error) {
        if (error instanceof BatchDeadlineError) outOfTime++;
        throw error;
      }
    };
    // A batch where every record failed still answers with the failed ids (not an
    // exception), so SQS retries exactly those and the redrive count stays per message.
    let response: SQSBatchResponse;
    try {
      response = await processPartialResponse(event, withinDeadline, processor, {
        context,
        throwOnFullBatchFailure: false,
        processInParallel: options.processInParallel ?? true,
      });
    } finally {
      clearTimeout(timer);
    }
    if (outOfTime > 0) {
      counters.count('BatchRecordsOutOfTime', outOfTime);
      logger.warn('The batch ran out of time; its unfinished records will be retried', {
        unfinished: outOfTime,
        records: event.Records.length,
      });
    }
    return response;
  };
}
