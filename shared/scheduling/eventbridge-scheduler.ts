import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { type Timer, TimerPayloadSchema, type TimerScheduler, type TimerTarget } from './timers';

/**
 * The {@link TimerScheduler} port on Amazon EventBridge Scheduler: one one-time schedule per timer,
 * in one schedule group, deleted by Scheduler after it fired (`ActionAfterCompletion: DELETE`).
 *
 * Idempotent by construction, because schedule names are deterministic (`<complaint>-<purpose>`):
 * - upsert = `CreateSchedule`; a `ConflictException` (the name exists) becomes an `UpdateSchedule` with
 *   the same definition, and an update that finds the schedule gone (it fired, or was removed, in
 *   between) becomes a create again;
 * - remove = `DeleteSchedule`; a `ResourceNotFoundException` (fired and auto-deleted, or never
 *   created) is success.
 * No `ClientToken` is set: the SDK generates one per call and reuses it on its own retries. A
 * deterministic token would be wrong here: re-creating an identical schedule after the first one
 * fired and was deleted would be answered from the idempotency cache instead of creating it.
 *
 * **Times at or before "now".** A one-time schedule whose `at()` time has passed never invokes its
 * target: AWS practitioners report that `CreateSchedule` rejects it with a `ValidationException`
 * (others report that it is accepted and simply never runs), and the documentation promises neither
 * a catch-up run nor an error. So a timer due at or before `now + minLeadSeconds` (a deadline that
 * passed while a customer reply was being processed, a recomputed escalation already overdue…) is
 * scheduled at `now + minLeadSeconds` instead: it still fires, within about a minute, through the
 * same target, retry policy and DLQ as every other timer. The payload keeps the original `at`, which
 * is what the target compares with the stored clock.
 *
 * **Whole minutes.** Scheduler has 60-second precision: `at(T)` runs somewhere within the minute of T,
 * possibly *before* T's seconds. Every schedule time is therefore rounded *up* to the next whole
 * minute, so a deadline timer never arrives before its deadline (where the target would find it not
 * yet due and do nothing) — at the price of at most 59 s of extra delay.
 *
 * Calls for different schedules run with bounded concurrency ({@link DEFAULT_CONCURRENCY}); every
 * change is attempted even when some fail, then one {@link TimerSchedulingError} reports the failures
 * (the caller's retry re-applies all of them, harmlessly).
 */
export class EventBridgeTimerScheduler implements TimerScheduler {
  private readonly targets: Partial<Record<TimerTarget, string>>;
  private readonly now: () => Date;
  private readonly concurrency: number;
  private readonly minLeadMs: number;
  private readonly precisionMs: number;

  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeTimerSchedulerOptions,
  ) {
    this.targets = {};
    for (const target of ['sla', 'survey'] as const) {
      const arn = options.targets[target];
      if (arn) this.targets[target] = unqualifiedFunctionArn(arn);
    }
    this.now = options.now ?? (() => new Date());
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    this.precisionMs = (options.precisionSeconds ?? DEFAULT_PRECISION_SECONDS) * 1000;
    // A finer scheduler needs less lead: the lead has to cover the time to the scheduler's next look,
    // and the call's own way there (a CreateSchedule that arrives after its time never fires).
    this.minLeadMs =
      (options.minLeadSeconds ??
        Math.min(DEFAULT_MIN_LEAD_SECONDS, Math.max(MIN_CALL_LEAD_SECONDS, this.precisionMs / 1000))) * 1000;
  }

  /**
   * A target ARN learnt at run time: a function that is itself a timer target reads its own ARN from
   * the Lambda context (`invokedFunctionArn`), since the stack cannot hand a function its own ARN
   * without a CloudFormation cycle. A version or alias qualifier is removed: schedules always invoke
   * the unqualified function, which is what the Scheduler role may invoke.
   */
  setTargetArn(target: TimerTarget, arn: string): void {
    this.targets[target] = unqualifiedFunctionArn(arn);
  }

  async apply(changes: { upsert: readonly Timer[]; remove: readonly string[] }): Promise<void> {
    const upsertNames = new Set(changes.upsert.map((t) => t.name));
    const contradictory = changes.remove.filter((name) => upsertNames.has(name));
    if (contradictory.length > 0) {
      throw new TimerSchedulingError(`Timers both upserted and removed: ${contradictory.join(', ')}`);
    }
    if (upsertNames.size !== changes.upsert.length) {
      throw new TimerSchedulingError('The same timer name appears twice in one upsert');
    }
    // Everything is validated before the first call, so a bad timer never leaves a half-applied change.
    const now = this.now();
    const definitions = changes.upsert.map((timer) => this.definition(timer, now));

    const tasks: { name: string; run: () => Promise<void> }[] = [
      ...definitions.map((definition) => ({
        name: definition.Name as string,
        run: () => this.upsert(definition),
      })),
      ...changes.remove.map((name) => ({ name, run: () => this.remove(name) })),
    ];
    const results = await runWithConcurrency(tasks, this.concurrency, (task) => task.run());
    const failures = results.flatMap((result, i) =>
      result.status === 'rejected' ? [{ name: tasks[i]?.name, reason: result.reason as unknown }] : [],
    );
    if (failures.length > 0) {
      const detail = failures.map((f) => `${f.name}: ${errorMessage(f.reason)}`).join('; ');
      throw new TimerSchedulingError(
        `${failures.length} of ${tasks.length} schedule changes failed: ${detail}`,
        { cause: failures[0]?.reason },
      );
    }
  }

  /** The complete schedule definition of a timer (the same for create and update). */
  private definition(timer: Timer, now: Date): CreateScheduleCommandInput {
    if (!SCHEDULE_NAME.test(timer.name)) {
      throw new TimerSchedulingError(
        `Invalid schedule name "${timer.name}": 1-64 characters of letters, digits, ".", "-" and "_"`,
      );
    }
    const targetArn = this.targets[timer.target];
    if (!targetArn) {
      throw new TimerTargetNotConfiguredError(
        `No ARN for the "${timer.target}" timer target (timer ${timer.name}): set ` +
          `${timer.target === 'sla' ? 'SLA_FUNCTION_ARN' : 'SURVEY_FUNCTION_ARN'} for this function, ` +
          'or call setTargetArn() from the target function itself',
      );
    }
    const payload = TimerPayloadSchema.safeParse(timer.payload);
    if (!payload.success) {
      throw new TimerSchedulingError(
        `Invalid payload for timer ${timer.name}: ${payload.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    const at = Date.parse(timer.at);
    if (Number.isNaN(at))
      throw new TimerSchedulingError(`Invalid time "${timer.at}" for timer ${timer.name}`);

    return {
      Name: timer.name,
      GroupName: this.options.groupName,
      Description: describe(timer),
      ScheduleExpression: atExpression(scheduleTime(at, now.getTime(), this.minLeadMs, this.precisionMs)),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(payload.data),
        RetryPolicy: {
          MaximumRetryAttempts: RETRY_ATTEMPTS,
          MaximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
        },
        ...(this.options.deadLetterArn ? { DeadLetterConfig: { Arn: this.options.deadLetterArn } } : {}),
      },
    };
  }

  private async upsert(definition: CreateScheduleCommandInput): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new CreateScheduleCommand(definition));
        return;
      } catch (error) {
        if (errorName(error) !== 'ConflictException') throw error;
      }
      try {
        await this.client.send(new UpdateScheduleCommand(definition));
        return;
      } catch (error) {
        // Gone between the create and the update (it fired and was deleted): create it again.
        if (errorName(error) !== 'ResourceNotFoundException' || attempt >= UPSERT_ATTEMPTS) throw error;
      }
    }
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }
}

export interface EventBridgeTimerSchedulerOptions {
  /** The schedule group every timer lives in (`SCHEDULE_GROUP_NAME`). */
  readonly groupName: string;
  /** The role Scheduler assumes to invoke the targets (`SCHEDULER_ROLE_ARN`). */
  readonly roleArn: string;
  /** SQS queue for invocations that still failed after the retry policy (`TIMER_DLQ_ARN`). */
  readonly deadLetterArn?: string;
  /** Function ARNs per target (`SLA_FUNCTION_ARN`, `SURVEY_FUNCTION_ARN`); see {@link EventBridgeTimerScheduler.setTargetArn}. */
  readonly targets: { readonly sla?: string; readonly survey?: string };
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
  /** Schedule API calls in flight at once. @default {@link DEFAULT_CONCURRENCY} */
  readonly concurrency?: number;
  /** A timer due before `now` plus this is scheduled at `now` plus this. @default {@link DEFAULT_MIN_LEAD_SECONDS}, or the precision when finer */
  readonly minLeadSeconds?: number;
  /**
   * The precision of the scheduler (`TIMER_PRECISION_SECONDS`): schedule times are rounded up to a
   * multiple of it. EventBridge Scheduler's is one minute; a scheduler that fires to the second (the
   * local runtime's) may use 1. @default {@link DEFAULT_PRECISION_SECONDS}
   */
  readonly precisionSeconds?: number;
}

/** EventBridge Scheduler runs an `at()` schedule somewhere within its minute. */
export const DEFAULT_PRECISION_SECONDS = 60;

/** Schedule API calls in flight at once: well below Scheduler's default per-account request rates. */
export const DEFAULT_CONCURRENCY = 5;

/** The least lead time a schedule gets, so that its `at()` is still in the future when Scheduler reads it. */
export const DEFAULT_MIN_LEAD_SECONDS = 10;

/**
 * The least lead time on a finer scheduler (the local one, 1 s): a call delayed by a busy machine
 * still arrives before its time. With 1 s, 1 to 6 of 40 survey timers of a burst were created in
 * the past and never fired (`npm run cost`), until the sweep found them.
 */
export const MIN_CALL_LEAD_SECONDS = 3;

/** Scheduler's maximum retries and event age: a timer survives a day of target failures before its DLQ. */
export const RETRY_ATTEMPTS = 185;
export const MAX_EVENT_AGE_SECONDS = 24 * 60 * 60;

/** Create → conflict → update → not found → create… at most this many rounds (a schedule firing meanwhile). */
const UPSERT_ATTEMPTS = 3;

/** Scheduler's schedule-name constraint. */
const SCHEDULE_NAME = /^[0-9a-zA-Z._-]{1,64}$/;

/** A timer cannot be scheduled as asked (bad name, time or payload; contradictory changes; API failures). */
export class TimerSchedulingError extends Error {
  override name = 'TimerSchedulingError';
}

/** A timer names a target whose function ARN this scheduler was not given. */
export class TimerTargetNotConfiguredError extends TimerSchedulingError {
  override name = 'TimerTargetNotConfiguredError';
}

/**
 * When the schedule runs: `at`, or `now + minLead` when `at` is closer than that (or past), rounded up
 * to the scheduler's precision (a whole minute on AWS), in epoch milliseconds.
 */
export function scheduleTime(atMs: number, nowMs: number, minLeadMs: number, precisionMs = 60_000): number {
  const earliest = Math.max(atMs, nowMs + minLeadMs);
  return Math.ceil(earliest / precisionMs) * precisionMs;
}

/** `at(YYYY-MM-DDTHH:MM:SS)` in UTC (to be sent with `ScheduleExpressionTimezone: 'UTC'`). */
export function atExpression(epochMs: number): string {
  return `at(${new Date(epochMs).toISOString().slice(0, 19)})`;
}

/** `arn:aws:lambda:region:account:function:name[:qualifier]` without the qualifier. */
export function unqualifiedFunctionArn(arn: string): string {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[2] !== 'lambda' || parts[5] !== 'function') {
    throw new TimerSchedulingError(`Not a Lambda function ARN: "${arn}"`);
  }
  return parts.slice(0, 7).join(':');
}

function describe(timer: Timer): string {
  const { complaintId, kind, clock, level } = timer.payload;
  const parts = [kind, clock, level === undefined ? undefined : `level ${level}`].filter(Boolean);
  return `${parts.join(' ')} of complaint ${complaintId}, due ${timer.at}`.slice(0, 512);
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error
    ? String((error as { name: unknown }).name)
    : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs `fn` over `items` with at most `limit` in flight; never rejects, returns each outcome in order. */
async function runWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
