import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

/** How often the backstop sweep runs. */
export const SWEEP_INTERVAL = Duration.minutes(5);

export interface SlaServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly policyFile: string;
  readonly timers: Timers;
  /** Where EventBridge puts a sweep trigger it could not deliver. */
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  /** The service's HMAC key: the sweep derives tracking links when it repairs a hand-off. */
  readonly serviceKey: kms.IKey;
  /** @default {@link SWEEP_INTERVAL} */
  readonly sweepInterval?: Duration;
}

/**
 * SLA clocks: the Scheduler target that handles each exact-time SLA timer (warning, deadline,
 * escalation level) and the backstop sweep.
 *
 * The timer function is registered as the `sla` timer target: the Scheduler role may invoke it, and a
 * timer it keeps failing on ends in the timer DLQ. It reschedules follow-up timers itself, learning
 * its own ARN from its Lambda context.
 *
 * The sweep runs on a scheduled rule every {@link SWEEP_INTERVAL} and reads the sparse index of open
 * deadlines (one query per shard, never a scan) to catch a lost timer. A failed sweep is not retried
 * asynchronously: the next tick is the retry, and its error alarm tells the operator.
 */
export class SlaService extends Construct {
  readonly timerFunction: ComplaintFunction;
  readonly sweepFunction: ComplaintFunction;
  readonly sweepRule: events.Rule;

  constructor(scope: Construct, id: string, props: SlaServiceProps) {
    super(scope, id);
    const interval = props.sweepInterval ?? SWEEP_INTERVAL;

    this.timerFunction = new ComplaintFunction(this, 'TimerFunction', {
      entry: 'functions/sla/handler.ts',
      serviceName: 'sla',
      description: 'SLA timers: warnings, breaches and escalations at the exact deadline',
      policyFile: props.policyFile,
      timeout: Duration.seconds(30),
    });
    props.timers.addTarget('sla', this.timerFunction);
    // Clock timers only (survey timers go to the survey function): SLA events.
    this.timerFunction
      .useTable(props.table, TABLE_ACCESS.slaTimer)
      .useEventBus(props.bus, { sources: [SOURCES.sla] })
      .useTimers(props.timers);

    this.sweepFunction = new ComplaintFunction(this, 'SweepFunction', {
      entry: 'functions/sla/sweep-handler.ts',
      serviceName: 'sla',
      description: 'SLA backstop sweep: deadlines a lost timer missed, from the open-deadline index',
      policyFile: props.policyFile,
      // Well under the interval, so two sweeps rarely overlap (they would still escalate once).
      timeout: Duration.minutes(2),
    })
      .useTable(props.table, TABLE_ACCESS.slaSweep)
      // The sweep applies every due decision: clock alerts and survey sends/closes. It also repairs a
      // lost hand-off from intake (shared/domain/handoff.ts): intake's events again, with the
      // customer's tracking link, derived from the service key.
      .useEventBus(props.bus, { sources: [SOURCES.sla, SOURCES.survey, SOURCES.intake] })
      .useServiceKey(props.serviceKey)
      .useTimers(props.timers);
    this.sweepFunction.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: interval });

    this.sweepRule = new events.Rule(this, 'SweepRule', {
      description: `SLA backstop sweep every ${interval.toHumanString()}`,
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(this.sweepFunction.function, {
          deadLetterQueue: props.deliveryDeadLetterQueue,
          retryAttempts: 2,
          maxEventAge: interval,
        }),
      ],
    });
  }
}
