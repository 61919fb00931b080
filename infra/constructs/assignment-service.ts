import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { LATENCY_PATH_BATCHING_WINDOW, QueueConsumer } from './queue-consumer';
import { TABLE_ACCESS } from './table-access';

export interface AssignmentServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  readonly policyFile: string;
}

/** Assignment: consumes `Complaint Classified`, routes and assigns, publishes `Complaint Assigned`. */
export class AssignmentService extends Construct {
  readonly function: ComplaintFunction;
  readonly consumer: QueueConsumer;

  constructor(scope: Construct, id: string, props: AssignmentServiceProps) {
    super(scope, id);
    this.function = new ComplaintFunction(this, 'Function', {
      entry: 'functions/assignment/handler.ts',
      serviceName: 'assignment',
      description: 'Complaint assignment: lead department, collaborators, least-loaded agent',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.assignment)
      .useEventBus(props.bus, { sources: [SOURCES.assignment] });
    this.consumer = new QueueConsumer(this, 'Classified', {
      maxBatchingWindow: LATENCY_PATH_BATCHING_WINDOW,
      consumer: this.function,
      bus: props.bus,
      deliveryDeadLetterQueue: props.deliveryDeadLetterQueue,
      ruleDescription: 'Complaint Classified by classification',
      eventPattern: { source: [SOURCES.classification], detailType: [DETAIL_TYPES.complaintClassified] },
    });
  }
}
