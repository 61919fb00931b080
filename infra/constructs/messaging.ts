import { Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DETAIL_TYPES,
  INBOUND_DETAIL_TYPES,
  INTERNAL_DETAIL_TYPES,
  OWN_SOURCE_PREFIX,
} from '../../shared/events/names';
import { DataKey } from './data-key';
import { createDeadLetterQueue } from './queues';

export interface MessagingProps {
  /** How long the archive keeps events for replay. @default 365 days */
  readonly archiveRetention?: Duration;
}

/**
 * Detail-types the archive does not keep, because their detail carries personal data or a tracking
 * token (docs/security.md, "What the bus and archive keep"): the inbound submission (description,
 * customer id and contact reference), the CRM's customer profile, the rendered customer message with
 * its tracking path, and the survey request with the customer's contact reference.
 */
export const ARCHIVE_EXCLUDED_DETAIL_TYPES: readonly string[] = [
  ...INBOUND_DETAIL_TYPES,
  DETAIL_TYPES.customerNotificationRequested,
  DETAIL_TYPES.surveyRequested,
];

/** Sids of the bus policy statements (CDK prefixes them with `cdk-`). */
export const BUS_POLICY_SIDS = {
  ownSources: 'DenyOwnSourcesToOthers',
  internalDetailTypes: 'DenyInternalDetailTypesToOthers',
} as const;

/** The roles allowed to speak for the service on each bus (filled by `ComplaintFunction.useEventBus`). */
const publishersOf = new WeakMap<events.IEventBus, Set<iam.IRole>>();

/**
 * Registers `role` as one of the service's own publishers on `bus`: the bus policy's denials of
 * internal sources and detail-types exempt it. Its identity policy still limits it to its sources.
 */
export function registerBusPublisher(bus: events.IEventBus, role: iam.IRole): void {
  const set = publishersOf.get(bus) ?? new Set<iam.IRole>();
  set.add(role);
  publishersOf.set(bus, set);
}

/**
 * The service's custom event bus (the public contract: see `shared/events`), an archive of the events
 * put on it for replay (without the ones that carry personal data or tracking tokens), and the
 * dead-letter queue that rule targets use when EventBridge cannot deliver an event (for example a
 * queue policy or encryption problem).
 *
 * Only the service speaks for the service: the bus policy explicitly denies `events:PutEvents` with a
 * `complaints.*` source or an internal detail-type to every principal that is not one of the
 * service's own function roles (registered through {@link registerBusPublisher}); each of those roles
 * may publish only its own sources (identity policy, `events:source` condition). Other producers of
 * the account keep what their own identity policies allow: inbound detail-types from their own sources.
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
      description: 'Events on the complaint bus for replay, except those carrying personal data or tokens',
      // Every source, every detail-type but the excluded ones.
      eventPattern: {
        source: events.Match.prefix(''),
        detailType: events.Match.anythingBut(...ARCHIVE_EXCLUDED_DETAIL_TYPES),
      },
      retention: props.archiveRetention ?? Duration.days(365),
    });
    this.denyInternalEventsToOthers();
    this.deliveryDeadLetterQueue = createDeadLetterQueue(this, 'DeliveryDeadLetterQueue');
    Validations.of(this.deliveryDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the one EventBridge rule targets use for failed ' +
        'deliveries. Its depth is alarmed on.',
    });
  }

  /** The function roles registered as publishers of this bus (synthesis order). */
  publisherRoles(): iam.IRole[] {
    return [...(publishersOf.get(this.bus) ?? [])];
  }

  private denyInternalEventsToOthers(): void {
    // Resolved at synthesis, once every function has called useEventBus.
    const publisherArns = Lazy.list({
      produce: () => {
        const roles = this.publisherRoles();
        if (roles.length === 0) {
          throw new Error(`${this.node.path}: no function publishes on the bus; the bus policy needs one`);
        }
        return roles.map((role) => role.roleArn);
      },
    });
    const notAPublisher = { ArnNotEquals: { 'aws:PrincipalArn': publisherArns } };
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: BUS_POLICY_SIDS.ownSources,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringLike: { 'events:source': [`${OWN_SOURCE_PREFIX}*`] }, ...notAPublisher },
      }),
    );
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: BUS_POLICY_SIDS.internalDetailTypes,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:detail-type': [...INTERNAL_DETAIL_TYPES] },
          ...notAPublisher,
        },
      }),
    );
  }
}
