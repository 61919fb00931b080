import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config';
import type { ComplaintFunction } from './base-function';
import { createDeadLetterQueue, encryptAtRest, grantQueueKey } from './queues';

/** Receives before a message moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** Queue visibility timeout per function timeout (AWS guidance for SQS event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface QueueConsumerProps {
  /** The function that processes the queue; its handler must return a partial batch response. */
  readonly consumer: ComplaintFunction;
  /**
   * The bus whose rule feeds the queue, with `eventPattern`, `ruleDescription` and
   * `deliveryDeadLetterQueue`. All four absent: no rule, the queue is fed directly by the functions
   * granted `SendMessage` on it (the erasure worker's queue).
   */
  readonly bus?: events.IEventBus;
  /** Which events of the bus feed the queue. */
  readonly eventPattern?: events.EventPattern;
  readonly ruleDescription?: string;
  /** Where EventBridge puts events it failed to deliver to the queue. */
  readonly deliveryDeadLetterQueue?: sqs.IQueue;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /** Cap on concurrent function instances polling this queue. @default - no cap */
  readonly maxConcurrency?: number;
}

/**
 * Batching window of the queues on the way from intake to assigned (inbound, received, classified):
 * none. The poller invokes as soon as a long poll returns messages, so one complaint is not held a
 * second per queue (intake → assigned p50 went from 2.3 s to well under a second locally); under load
 * batches still form, from what arrives while an invocation runs. The price is more, smaller
 * invocations at low traffic ($0.20 per million requests). Other queues keep the 1 s default: their
 * consumers (reports, erasure) are not waited on by anyone, and bigger batches mean fewer writes.
 */
export const LATENCY_PATH_BATCHING_WINDOW = Duration.seconds(0);

/**
 * Rule → queue → function (or a queue fed directly by functions → function), with every failure
 * path ending in a queue someone watches.
 *
 * - The rule target has its own dead-letter queue (`deliveryDeadLetterQueue`) and a bounded retry.
 * - The queue redrives to a dead-letter queue after {@link MAX_RECEIVE_COUNT} receives; its visibility
 *   timeout is {@link VISIBILITY_TIMEOUT_FACTOR}× the function timeout plus the batching window, so a
 *   batch still in flight is never handed to a second instance.
 * - The event source reports partial batch failures: only failed records are retried.
 * - The consumer may send to its own DLQ (and no other), for poison messages with a reason.
 * - Both queues are encrypted at rest (the stack's data key, else SQS-managed) and refuse non-TLS requests.
 */
export class QueueConsumer extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Absent when the queue is fed directly (no bus, pattern nor rule props). */
  readonly rule?: events.Rule;
  readonly consumer: ComplaintFunction;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    this.consumer = props.consumer;
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(1);
    const visibilitySeconds =
      VISIBILITY_TIMEOUT_FACTOR * props.consumer.timeout.toSeconds() + maxBatchingWindow.toSeconds();

    this.deadLetterQueue = createDeadLetterQueue(this, 'DeadLetterQueue');
    this.queue = encryptAtRest(
      new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(visibilitySeconds),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      }),
    );

    const { bus, eventPattern, ruleDescription, deliveryDeadLetterQueue } = props;
    if (bus !== undefined && eventPattern !== undefined && deliveryDeadLetterQueue !== undefined) {
      this.rule = new events.Rule(this, 'Rule', {
        eventBus: bus,
        description: ruleDescription,
        eventPattern,
        targets: [
          new targets.SqsQueue(this.queue, {
            deadLetterQueue: deliveryDeadLetterQueue,
            retryAttempts: 185,
            maxEventAge: Duration.hours(24),
          }),
        ],
      });
    } else if ([bus, eventPattern, ruleDescription, deliveryDeadLetterQueue].some((p) => p !== undefined)) {
      throw new Error(
        `${this.node.path}: a rule needs bus, eventPattern, ruleDescription and deliveryDeadLetterQueue together`,
      );
    }

    // Poison messages (that can never succeed) go straight to this DLQ with the reason
    // as message attributes, instead of burning five receives first.
    this.deadLetterQueue.grantSendMessages(props.consumer.function);
    grantQueueKey(this.deadLetterQueue, props.consumer.function, 'send');
    grantQueueKey(this.queue, props.consumer.function, 'receive');
    props.consumer.function.addEnvironment(ENV.deadLetterQueueUrl, this.deadLetterQueue.queueUrl);

    props.consumer.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow,
        reportBatchItemFailures: true,
        ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
      }),
    );
  }
}
