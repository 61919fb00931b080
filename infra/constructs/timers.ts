import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TimerTarget } from '../../shared/scheduling/timers';
import type { ComplaintFunction } from './base-function';
import { DataKey } from './data-key';
import { createDeadLetterQueue, grantQueueKey } from './queues';

/** Scheduler's principal: the only one that may assume the timer role. */
export const SCHEDULER_SERVICE_PRINCIPAL = 'scheduler.amazonaws.com';

/** Schedule-group name of a stack: deterministic, within Scheduler's 64 characters. */
export function scheduleGroupName(stackName: string): string {
  return `${stackName.slice(0, 57)}-timers`;
}

/** Name of the group of the stack's own recurring schedules (the periodic reports). */
export function recurringScheduleGroupName(stackName: string): string {
  return `${stackName.slice(0, 54)}-recurring`;
}

/**
 * Asynchronous retries of a timer target before the event goes to the timer DLQ. Scheduler invokes
 * Lambda targets asynchronously: its own retry policy covers failing to hand the event over
 * (throttling, permissions), Lambda's covers the function failing on it.
 */
export const TARGET_ASYNC_RETRIES = 2;

export interface TimersProps {
  /**
   * Precision of the scheduler in seconds: timer times are rounded up to it. Leave unset for EventBridge
   * Scheduler (one minute); the local runtime, whose scheduler fires to the second, synthesizes with 1
   * so a demo policy with deadlines in seconds plays out in seconds.
   * @default - one minute (EventBridge Scheduler)
   */
  readonly precisionSeconds?: number;
}

/**
 * Everything per-complaint timers need (spec: "Per-complaint timers, not polling"):
 *
 * - the **schedule group** every timer schedule lives in, named after the stack
 *   ({@link scheduleGroupName});
 * - the **recurring schedule group**: the stack's own recurring schedules (the periodic reports), kept
 *   apart so that the functions, which may write and delete the timer group's schedules, cannot
 *   touch them;
 * - the **Scheduler execution role**: assumable only by `scheduler.amazonaws.com` on behalf of this
 *   account (`aws:SourceAccount`) and for schedules of these two groups only (`aws:SourceArn`: the
 *   schedule *group* ARN is what Scheduler sends, and what its confused-deputy guidance says to name),
 *   allowed to invoke the registered timer targets (the SLA and the survey functions, unqualified or
 *   `$LATEST`) and the report generator, and to send to the timer DLQ;
 * - the **timer DLQ**: where Scheduler puts an invocation it could not deliver after its retry policy,
 *   and where the target functions' asynchronous invocations go when they keep failing.
 *
 * Functions that schedule timers call `ComplaintFunction.useTimers(timers)`, which grants exactly
 * create/update/delete/get on this group's schedules plus `iam:PassRole` on this one role, and sets
 * the matching environment variables.
 */
export class Timers extends Construct {
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** The stack's own recurring schedules (e.g. the reports): not writable by the functions. */
  readonly recurringScheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  /** Precision of the scheduler the functions are told about (`TIMER_PRECISION_SECONDS`); unset on AWS. */
  readonly precisionSeconds: number | undefined;
  private readonly targets = new Map<TimerTarget, ComplaintFunction>();
  /** Function → the target functions whose ARN it holds in its environment (to refuse cycles). */
  private readonly references = new Map<ComplaintFunction, Set<ComplaintFunction>>();

  constructor(scope: Construct, id: string, props: TimersProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    if (
      props.precisionSeconds !== undefined &&
      !(
        Number.isInteger(props.precisionSeconds) &&
        props.precisionSeconds >= 1 &&
        props.precisionSeconds <= 60
      )
    ) {
      throw new Error(
        `timer precision must be a whole number of seconds from 1 to 60, not ${props.precisionSeconds}`,
      );
    }
    this.precisionSeconds = props.precisionSeconds;

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: scheduleGroupName(stack.stackName),
      // The schedules only ever invoke this stack's functions: without the stack they are meaningless.
      // (Retaining a named group would also block re-creating the stack.) The sweep recovers any
      // deadline from the table, which is retained.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.recurringScheduleGroup = new scheduler.ScheduleGroup(this, 'RecurringScheduleGroup', {
      scheduleGroupName: recurringScheduleGroupName(stack.stackName),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.deadLetterQueue = createDeadLetterQueue(this, 'DeadLetterQueue');
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: Scheduler puts timer invocations it could not ' +
        'deliver here, and the timer targets send their failed asynchronous invocations here. Its ' +
        'depth is alarmed on.',
    });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the SLA and survey timer targets',
      assumedBy: new iam.ServicePrincipal(SCHEDULER_SERVICE_PRINCIPAL, {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': [
              this.scheduleGroup.scheduleGroupArn,
              this.recurringScheduleGroup.scheduleGroupArn,
            ],
          },
        },
      }),
    });
    this.deadLetterQueue.grantSendMessages(this.schedulerRole);
    grantQueueKey(this.deadLetterQueue, this.schedulerRole, 'send');
    DataKey.of(this)?.allowScheduleGroups([
      this.scheduleGroup.scheduleGroupArn,
      this.recurringScheduleGroup.scheduleGroupArn,
    ]);
  }

  /**
   * Sends `fn`'s failed asynchronous invocations to the timer DLQ (after {@link TARGET_ASYNC_RETRIES}),
   * with the key grant an encrypted DLQ needs.
   */
  sendFailuresToDeadLetterQueue(fn: ComplaintFunction): void {
    fn.function.configureAsyncInvoke({
      retryAttempts: TARGET_ASYNC_RETRIES,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    grantQueueKey(this.deadLetterQueue, fn, 'send');
  }

  /**
   * Makes `fn` the function timers of kind `target` invoke: the Scheduler role may invoke it (and only
   * the registered targets), and its failed asynchronous invocations go to the timer DLQ.
   */
  addTarget(target: TimerTarget, fn: ComplaintFunction): void {
    if (this.targets.has(target)) throw new Error(`${this.node.path}: timer target "${target}" already set`);
    this.targets.set(target, fn);
    fn.function.grantInvokeLatestVersion(this.schedulerRole);
    this.sendFailuresToDeadLetterQueue(fn);
  }

  /** The function registered for a target, if any. */
  targetFunction(target: TimerTarget): ComplaintFunction | undefined {
    return this.targets.get(target);
  }

  /**
   * The target ARNs `fn` may be given in its environment: every target registered so far, except `fn`
   * itself (a target learns its own ARN from the Lambda context) and except a target that already holds
   * `fn`'s ARN (a CloudFormation cycle). Records what it hands out.
   */
  targetArnsFor(fn: ComplaintFunction): Map<TimerTarget, string> {
    const result = new Map<TimerTarget, string>();
    for (const [target, targetFn] of this.targets) {
      if (targetFn === fn || this.references.get(targetFn)?.has(fn)) continue;
      result.set(target, targetFn.function.functionArn);
      const held = this.references.get(fn) ?? new Set<ComplaintFunction>();
      held.add(targetFn);
      this.references.set(fn, held);
    }
    return result;
  }

  /**
   * Lets `grantee` manage timer schedules: create, update, delete and get schedules of this group only
   * (the group's grant methods), and pass this one role, to Scheduler only.
   */
  grantScheduling(grantee: iam.IGrantable): void {
    this.scheduleGroup.grants.writeSchedules(grantee);
    this.scheduleGroup.grants.deleteSchedules(grantee);
    this.scheduleGroup.grants.readSchedules(grantee);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE_PRINCIPAL } },
    });
  }
}
