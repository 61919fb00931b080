import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DataKey } from './data-key';
import { createDeadLetterQueue } from './queues';

export interface MessagingProps {
  /** How long the archive keeps events for replay. @default 365 days */
  readonly archiveRetention?: Duration;
}

/**
 * The service's custom event bus (the public contract: see `shared/events`), an archive of every
 * event put on it for replay, and the dead-letter queue that rule targets use when EventBridge
 * cannot deliver an event (for example a queue policy or encryption problem).
 */
export class Messaging extends Construct {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  /** Failed EventBridge → target deliveries; the messages carry RULE_ARN / TARGET_ARN attributes. */
  readonly deliveryDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: MessagingProps = {}) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description: `Complaint service events (${Stack.of(this).stackName})`,
      kmsKey: DataKey.of(this)?.key,
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every event on the complaint bus, for replay',
      // An empty prefix matches every source: archive everything, inbound events included.
      eventPattern: { source: events.Match.prefix('') },
      retention: props.archiveRetention ?? Duration.days(365),
    });
    this.deliveryDeadLetterQueue = createDeadLetterQueue(this, 'DeliveryDeadLetterQueue');
    Validations.of(this.deliveryDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the one EventBridge rule targets use for failed ' +
        'deliveries. Its depth is alarmed on.',
    });
  }
}
