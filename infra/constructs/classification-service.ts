import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { LATENCY_PATH_BATCHING_WINDOW, QueueConsumer } from './queue-consumer';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

export interface ClassificationServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  readonly policyFile: string;
  /** Classification starts the SLA clocks: it schedules the first timers of every valid complaint. */
  readonly timers: Timers;
}

/**
 * Classification: consumes `Complaint Received` from intake, publishes `Complaint Classified`/`Rejected`,
 * and schedules the complaint's first SLA timers (and reschedules them on reclassification).
 */
export class ClassificationService extends Construct {
  readonly function: ComplaintFunction;
  readonly consumer: QueueConsumer;

  constructor(scope: Construct, id: string, props: ClassificationServiceProps) {
    super(scope, id);
    this.function = new ComplaintFunction(this, 'Function', {
      entry: 'functions/classification/handler.ts',
      serviceName: 'classification',
      description: 'Complaint classification: category, severity, validity, priority',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.classification)
      .useEventBus(props.bus, { sources: [SOURCES.classification] })
      .useTimers(props.timers);
    this.consumer = new QueueConsumer(this, 'Received', {
      maxBatchingWindow: LATENCY_PATH_BATCHING_WINDOW,
      consumer: this.function,
      bus: props.bus,
      deliveryDeadLetterQueue: props.deliveryDeadLetterQueue,
      ruleDescription: 'Complaint Received from intake',
      eventPattern: { source: [SOURCES.intake], detailType: [DETAIL_TYPES.complaintReceived] },
    });
  }
}
