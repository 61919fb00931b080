/**
 * A local SQS event source mapping: the poller Lambda runs between a queue and a
 * function, so queue-triggered functions run locally the way they do on AWS.
 *
 * What it honours, because the service's retry and DLQ behaviour depends on it:
 * - **Batch size** (`BatchSize`): at most that many records per invocation.
 * - **Batching window** (`MaximumBatchingWindowInSeconds`): after the first message
 *   arrives, it keeps receiving until the batch is full or the window has passed.
 *   As on AWS, the queue's visibility timeout must be longer than the
 *   window (plus the function's timeout), or records reappear mid-batch.
 * - **Partial batch responses** (`ReportBatchItemFailures`): records listed in
 *   `batchItemFailures` are left on the queue, the rest are deleted. As on AWS, a
 *   response naming an empty or unknown `itemIdentifier` fails the whole batch.
 * - **Function errors and timeouts**: nothing is deleted, the whole batch becomes
 *   visible again after the visibility timeout.
 *
 * Retries and dead-lettering are left to the SQS server: a record that is not deleted
 * is received again, its `ApproximateReceiveCount` grows, and the queue's redrive
 * policy (`maxReceiveCount`, implemented by local-aws-sqs) moves it to the DLQ. The
 * mapping itself never sends anything to a DLQ, exactly like Lambda.
 *
 * - **Scaling with the backlog**: one poller to start with; while receives find messages waiting,
 *   another poller joins (several batches in flight at once), up to the function's concurrency
 *   (`maxPollers`, lowered by the mapping's `ScalingConfig.MaximumConcurrency`); a poller whose receive
 *   comes back empty leaves, down to one. Invocations ask the
 *   runner to wait for a free instance rather than be throttled (`wait: true`), since other callers
 *   share the function's concurrency.
 * - **Duplicates** (`duplicate`, the fault controller's `duplicate('sqs')`): a batch it picks is
 *   invoked twice at once, as SQS's at-least-once delivery may hand a message to two consumers; a
 *   record is deleted when either invocation succeeded with it.
 *
 * Known differences from AWS: pollers scale by this simple rule, not Lambda's (which starts with
 * five and adds up to 300 a minute); FIFO queues are not special-cased
 * (AWS stops a FIFO batch at the first failure to keep group order); no filter criteria or
 * `FunctionResponseTypes` other than `ReportBatchItemFailures`.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import type { InvokeResult } from './lambda-runner';

/** Pause after a failed poll (server restarting, queue missing) before trying again. */
const POLL_ERROR_BACKOFF_MS = 500;
/** SQS's own limit on messages per `ReceiveMessage` and per batch call. */
const SQS_MAX_MESSAGES = 10;

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** `BatchSize`; AWS's default for SQS is 10. */
  batchSize?: number;
  /** `MaximumBatchingWindowInSeconds`; 0 invokes with whatever one receive returned. */
  maxBatchingWindowSeconds?: number;
  /** `FunctionResponseTypes: ['ReportBatchItemFailures']`; on by default since our consumers use it. */
  reportBatchItemFailures?: boolean;
  /** The function: anything with the local runner's `invoke` (and its `concurrency`, if known). */
  lambda: {
    invoke(event: unknown, options?: { requestId?: string; wait?: boolean }): Promise<InvokeResult>;
    readonly concurrency?: number;
  };
  /** Most batches in flight at once (pollers). @default the function's concurrency, else 1 */
  maxPollers?: number;
  /** Asked per batch whether to invoke it twice (an injected duplicate delivery). */
  duplicate?: () => boolean;
  /** Overrides the queue's visibility timeout for received messages (the queue's own applies otherwise). */
  visibilityTimeoutSeconds?: number;
  /**
   * Makes failed records visible again at once (`ChangeMessageVisibility` 0) instead of
   * after the visibility timeout. Off by default: AWS waits for the timeout, and a
   * quick retry loop would burn through `maxReceiveCount` in milliseconds. Useful for
   * demos with long visibility timeouts.
   */
  releaseFailuresImmediately?: boolean;
  /** Pause between short polls of an empty queue, in milliseconds (see `gatherBatch`). */
  pollIntervalMs?: number;
  /**
   * Subscribes to "messages may be waiting" signals from the SQS server (a send to this queue, a
   * visibility change); returns the unsubscribe. A poller waiting between short polls then receives at
   * once, as SQS's long polling returns as soon as a message arrives, and `pollIntervalMs` only bounds
   * how late a message that became visible by itself (a visibility timeout ending) is seen.
   */
  arrivals?: (listener: () => void) => () => void;
  /** Where poll and delete errors are reported; silent by default. */
  log?: (message: string) => void;
}

export interface SqsEventSourceStats {
  /** `ReceiveMessage` calls made. */
  polls: number;
  /** Messages received (a redelivered message counts every time). */
  received: number;
  invocations: number;
  /** Invocations that returned an error or timed out (whole batch retried). */
  failedInvocations: number;
  /** Records the function reported in `batchItemFailures`. */
  failedRecords: number;
  /** Messages deleted after successful processing. */
  deleted: number;
  /** `ReceiveMessage` / `DeleteMessageBatch` calls that failed. */
  sqsErrors: number;
  /** Pollers running now (one at least, more while the backlog lasts). */
  pollers: number;
  /** Batches being processed now (invocation and deletes). */
  inFlight: number;
  /** Batches invoked twice on purpose (`duplicate`). */
  duplicated: number;
  /**
   * `ReceiveMessage` calls that returned messages: what Lambda's long-polling pollers bill per batch
   * (their empty receives are a fixed cost per mapping, unlike these short polls; `metering/`).
   */
  receivesWithMessages: number;
  /** `DeleteMessageBatch` and `ChangeMessageVisibilityBatch` calls made (billed SQS requests). */
  batchCalls: number;
}

export interface SqsEventSource {
  /** Stops polling and waits for the batches in flight (their invocations and deletes) to finish. */
  stop(): Promise<void>;
  stats(): SqsEventSourceStats;
}

/** SQS message attributes in the shape Lambda puts in `SQSRecord.messageAttributes` (camelCase, base64 binary). */
function toLambdaAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [
      name,
      {
        ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
        ...(value.BinaryValue !== undefined && { binaryValue: base64(value.BinaryValue) }),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map(base64),
        dataType: value.DataType ?? 'String',
      },
    ]),
  );
}

/** The ARN the event's `eventSourceARN` carries, from the URL `http://host/<account>/<name>` when the server cannot say. */
function arnFromUrl(queueUrl: string, region: string): string {
  const [account = '000000000000', name = 'queue'] = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/**
 * Starts polling `queueUrl` and invoking `lambda` with SQS events, until `stop()`.
 * Never throws from the polling loop: SQS errors are counted, logged and retried.
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const {
    sqs,
    queueUrl,
    batchSize = 10,
    maxBatchingWindowSeconds = 0,
    reportBatchItemFailures = true,
    lambda,
    visibilityTimeoutSeconds,
    releaseFailuresImmediately = false,
    pollIntervalMs = 100,
    log = () => undefined,
  } = options;
  const maxPollers = Math.max(1, options.maxPollers ?? lambda.concurrency ?? 1);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new Error(`batchSize must be an integer from 1 to 10000, got ${batchSize}`);
  }
  if (maxBatchingWindowSeconds < 0 || maxBatchingWindowSeconds > 300) {
    throw new Error(`maxBatchingWindowSeconds must be from 0 to 300, got ${maxBatchingWindowSeconds}`);
  }
  const counters: SqsEventSourceStats = {
    polls: 0,
    received: 0,
    invocations: 0,
    failedInvocations: 0,
    failedRecords: 0,
    deleted: 0,
    sqsErrors: 0,
    pollers: 0,
    inFlight: 0,
    duplicated: 0,
    receivesWithMessages: 0,
    batchCalls: 0,
  };
  const abort = new AbortController();
  let stopped = false;
  let invocationCounter = 0;
  /** Arrival signals seen so far; a poller compares it before and after a receive. */
  let arrivalCount = 0;
  const arrivalWaiters = new Set<() => void>();
  const unsubscribeArrivals = options.arrivals?.(() => {
    arrivalCount++;
    for (const wake of [...arrivalWaiters]) wake();
  });

  async function queueArnAndRegion(): Promise<{ arn: string; region: string }> {
    const region = await sqs.config.region();
    try {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
        { abortSignal: abort.signal },
      );
      return { arn: Attributes?.QueueArn ?? arnFromUrl(queueUrl, region), region };
    } catch {
      return { arn: arnFromUrl(queueUrl, region), region };
    }
  }

  /**
   * Waits `ms`, or less if the mapping stops meanwhile; with `arrivalsSeen` (the arrival count when the
   * last receive started), also ends when a message arrives — at once if one arrived since then.
   */
  function pause(ms: number, arrivalsSeen?: number): Promise<void> {
    if (arrivalsSeen !== undefined && arrivalsSeen !== arrivalCount) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done, { once: true });
      if (arrivalsSeen !== undefined) arrivalWaiters.add(done);
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        arrivalWaiters.delete(done);
        resolve();
      }
    });
  }

  /**
   * A poller may leave when its receive came back empty and it is not the last one. Decided and counted
   * in one synchronous step, so two pollers finding the queue empty at once never both leave.
   */
  function retire(): boolean {
    if (counters.pollers <= 1) return false;
    counters.pollers--;
    return true;
  }

  /**
   * Receives until the batch is full, the batching window has passed, or the mapping
   * stops. Short polls (`WaitTimeSeconds: 0`) every `pollIntervalMs` rather than long
   * polls: local-aws-sqs holds a long poll for its whole wait time even when messages
   * are available, and meanwhile re-receives messages whose visibility timeout expired,
   * which would bump `ApproximateReceiveCount` behind the function's back.
   *
   * `retired` says the queue was empty and this poller left (see {@link retire}).
   */
  async function gatherBatch(): Promise<{ batch: Message[]; retired: boolean }> {
    const batch: Message[] = [];
    let windowEndsAt: number | undefined;
    while (!stopped && batch.length < batchSize) {
      counters.polls++;
      const arrivalsSeen = arrivalCount;
      const asked = Math.min(SQS_MAX_MESSAGES, batchSize - batch.length);
      let Messages: Message[];
      try {
        ({ Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: asked,
            WaitTimeSeconds: 0,
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
            ...(visibilityTimeoutSeconds !== undefined && { VisibilityTimeout: visibilityTimeoutSeconds }),
          }),
          { abortSignal: abort.signal },
        ));
      } catch (error) {
        // Messages already gathered are in flight: invoke with them rather than let them time out.
        if (batch.length > 0) break;
        throw error;
      }
      counters.received += Messages.length;
      if (Messages.length > 0) counters.receivesWithMessages++;
      if (batch.length === 0 && Messages.length === 0 && retire()) return { batch, retired: true };
      for (const message of Messages) {
        // A record whose visibility timeout ran out during the window comes back: keep the newest receipt handle.
        const earlier = batch.findIndex((m) => m.MessageId === message.MessageId);
        if (earlier >= 0) batch.splice(earlier, 1);
        batch.push(message);
      }
      if (batch.length > 0) {
        // No window: invoke with what the first receive returned, as Lambda does.
        if (maxBatchingWindowSeconds === 0) break;
        windowEndsAt ??= Date.now() + maxBatchingWindowSeconds * 1000;
      }
      const remainingMs = windowEndsAt === undefined ? pollIntervalMs : windowEndsAt - Date.now();
      if (remainingMs <= 0 || batch.length >= batchSize) break;
      // A full receive suggests more is waiting: ask again at once.
      if (Messages.length < SQS_MAX_MESSAGES)
        await pause(Math.min(pollIntervalMs, remainingMs), arrivalsSeen);
    }
    return { batch, retired: false };
  }

  function toEvent(messages: Message[], arn: string, region: string): SQSEvent {
    return {
      Records: messages.map(
        (m): SQSRecord => ({
          messageId: String(m.MessageId),
          receiptHandle: String(m.ReceiptHandle),
          body: m.Body ?? '',
          attributes: (m.Attributes ?? {}) as unknown as SQSRecordAttributes,
          messageAttributes: toLambdaAttributes(m.MessageAttributes),
          md5OfBody: m.MD5OfBody ?? '',
          ...(m.MD5OfMessageAttributes !== undefined && { md5OfMessageAttributes: m.MD5OfMessageAttributes }),
          eventSource: 'aws:sqs',
          eventSourceARN: arn,
          awsRegion: region,
        }),
      ),
    };
  }

  /**
   * Which records succeeded, by Lambda's rules for a partial batch response: no
   * response or an empty list means all succeeded; an identifier that is empty or not
   * in the batch makes the whole batch a failure (`undefined`).
   */
  function succeededRecords(messages: Message[], result: unknown): Message[] | undefined {
    if (!reportBatchItemFailures || result === null || typeof result !== 'object') return messages;
    const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null) return messages;
    if (!Array.isArray(failures)) return undefined;
    const ids = new Set(messages.map((m) => m.MessageId));
    const failed = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || id === '' || !ids.has(id)) return undefined;
      failed.add(id);
    }
    counters.failedRecords += failed.size;
    return messages.filter((m) => !failed.has(String(m.MessageId)));
  }

  /** Runs a batch call in chunks of ten (SQS's limit), counting entries that failed. */
  async function inChunks(
    messages: Message[],
    send: (entries: Array<{ Id: string; ReceiptHandle: string }>) => Promise<{ Failed?: unknown[] }>,
  ): Promise<number> {
    let succeeded = 0;
    for (let i = 0; i < messages.length; i += SQS_MAX_MESSAGES) {
      const entries = messages
        .slice(i, i + SQS_MAX_MESSAGES)
        .map((m, j) => ({ Id: String(j), ReceiptHandle: String(m.ReceiptHandle) }));
      try {
        counters.batchCalls++;
        const { Failed = [] } = await send(entries);
        succeeded += entries.length - Failed.length;
        if (Failed.length > 0) {
          counters.sqsErrors++;
          log(
            `sqs event source ${queueUrl}: ${Failed.length} batch entries failed: ${JSON.stringify(Failed)}`,
          );
        }
      } catch (error) {
        counters.sqsErrors++;
        log(`sqs event source ${queueUrl}: ${String(error)}`);
      }
    }
    return succeeded;
  }

  /** Deletes the records any invocation succeeded with; the rest return after the visibility timeout. */
  async function settle(batch: Message[], outcomes: InvokeResult[]): Promise<void> {
    const succeededIds = new Set<string | undefined>();
    for (const outcome of outcomes) {
      if (outcome.error !== undefined) {
        counters.failedInvocations++;
        log(`sqs event source ${queueUrl}: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
        continue;
      }
      for (const m of succeededRecords(batch, outcome.result) ?? []) succeededIds.add(m.MessageId);
    }
    const toDelete = batch.filter((m) => succeededIds.has(m.MessageId));
    if (toDelete.length > 0) {
      // Awaited first: `counters.deleted += await …` would read the counter before the wait and lose
      // the other pollers' deletes.
      const deleted = await inChunks(toDelete, (Entries) =>
        sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries })),
      );
      counters.deleted += deleted;
    }
    if (releaseFailuresImmediately) {
      const kept = batch.filter((m) => !toDelete.includes(m));
      if (kept.length > 0) {
        await inChunks(kept, (entries) =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: entries.map((e) => ({ ...e, VisibilityTimeout: 0 })),
            }),
          ),
        );
      }
    }
  }

  /** Invokes the function with a batch (twice when `duplicate` says so) and settles it. */
  async function processBatch(batch: Message[], arn: string, region: string): Promise<void> {
    const event = toEvent(batch, arn, region);
    const copies = options.duplicate?.() ? 2 : 1;
    if (copies > 1) counters.duplicated++;
    counters.invocations += copies;
    const outcomes = await Promise.all(
      Array.from({ length: copies }, () =>
        lambda
          // Wait for an instance rather than be throttled: the records are in flight already.
          .invoke(event, { requestId: `esm-${Date.now()}-${++invocationCounter}`, wait: true })
          .catch(
            (error: unknown): InvokeResult => ({
              error: { errorType: 'Error', errorMessage: String(error) },
            }),
          ),
      ),
    );
    await settle(batch, outcomes);
  }

  const pollers = new Set<Promise<void>>();
  let target: { arn: string; region: string } | undefined;

  /** Starts one more poller unless stopped or at `maxPollers`. */
  function addPoller(): void {
    if (stopped || target === undefined || counters.pollers >= maxPollers) return;
    counters.pollers++;
    const running = poll(target).catch((error: unknown) =>
      log(`sqs event source ${queueUrl}: poller failed: ${String(error)}`),
    );
    pollers.add(running);
    void running.finally(() => pollers.delete(running));
  }

  /** One poller: gathers a batch, processes it, and again, until stopped or retired. */
  async function poll({ arn, region }: { arn: string; region: string }): Promise<void> {
    let retired = false;
    try {
      while (!stopped) {
        let gathered: Awaited<ReturnType<typeof gatherBatch>>;
        try {
          gathered = await gatherBatch();
        } catch (error) {
          if (stopped && isAbort(error)) break;
          counters.sqsErrors++;
          log(`sqs event source ${queueUrl}: receive failed: ${String(error)}`);
          await pause(POLL_ERROR_BACKOFF_MS);
          continue;
        }
        if (gathered.retired) {
          retired = true;
          return;
        }
        // Messages received while stopping are still processed: they are already in flight.
        if (gathered.batch.length === 0) continue;
        // Messages were waiting: another poller takes the next batch meanwhile (it leaves if none is left).
        addPoller();
        counters.inFlight++;
        try {
          await processBatch(gathered.batch, arn, region);
        } finally {
          counters.inFlight--;
        }
      }
    } finally {
      if (!retired) counters.pollers--;
    }
  }

  const started = queueArnAndRegion().then((resolved) => {
    target = resolved;
    addPoller();
  });

  return {
    async stop() {
      stopped = true;
      unsubscribeArrivals?.();
      abort.abort();
      await started;
      while (pollers.size > 0) await Promise.all([...pollers]);
    },
    stats: () => ({ ...counters }),
  };
}
