/**
 * The firing engine of the local Scheduler (`scheduler-server.ts`): takes due occurrences off the
 * server's schedules in time order (advancing or deleting them), delivers each through `invoke` with
 * the target's retry policy (a simplified exponential backoff in real time, capped), dead-letters what
 * still fails, journals a firing as done once delivered, and counts late firings. A ticker reads the
 * clock every `tickMs`; {@link FiringEngine.fireDue} fires on demand.
 */
import type { ScheduleJournal } from './scheduler-journal';
import {
  MAX_FIRINGS_PER_CALL,
  type ScheduleView,
  type StoredSchedule,
  scheduleKey,
  view,
  withinEnd,
} from './scheduler-model';

/** One completed invocation (after its retries). */
export interface FiredInvocation {
  readonly name: string;
  readonly group: string;
  /** The scheduled time of this invocation (not the wall-clock time it ran). */
  readonly at: Date;
  /** The input as delivered, context attributes substituted. */
  readonly input: string | undefined;
  /** 1 + retries. */
  readonly attempts: number;
  readonly outcome: 'succeeded' | 'dead-lettered';
  /** The DLQ the invocation would go to when dead-lettered (from `Target.DeadLetterConfig.Arn`). */
  readonly deadLetterArn?: string;
  /** Message of the last failure, when dead-lettered. */
  readonly error?: string;
}

/** Calls a schedule's target; throwing means "failed", which triggers the retry policy. */
export type InvokeFn = (
  target: { Arn: string; Input?: string; RoleArn: string },
  schedule: ScheduleView,
) => Promise<void>;

/** Sends an invocation that exhausted its retries to a dead-letter queue. */
export type SendToDeadLetterFn = (
  arn: string,
  invocation: FiredInvocation,
  schedule: ScheduleView,
) => Promise<void>;

/** What the engine works on and with; the server resolves the defaults of its options. */
export interface FiringEngineOptions {
  /** The server's schedules, keyed by {@link scheduleKey}: due occurrences are taken off them here. */
  store: Map<string, StoredSchedule>;
  journal: ScheduleJournal | undefined;
  invoke: InvokeFn;
  sendToDeadLetter: SendToDeadLetterFn | undefined;
  now: () => Date;
  /** Subtracted from the clock when deciding what is due (an injected fault). */
  clockSkewMs: (() => number) | undefined;
  log: (message: string) => void;
  /** Period of the ticker; 0 or less: no ticker. */
  tickMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  lateAfterMs: number;
}

export interface FiringEngine {
  /** Fires every invocation due at or before `at` (default: the engine's clock); see `SchedulerServer.fireDue`. */
  fireDue(at?: Date): Promise<number>;
  /** Completed invocations, in order. */
  fired(): ReadonlyArray<FiredInvocation>;
  lateness(): { lateFirings: number; maxLatenessMs: number };
  /** Stops and restarts the ticker (an outage); {@link fireDue} still fires. */
  pause(): void;
  resume(): void;
  /** Stops the ticker and retries, and waits for running invocations. */
  close(): Promise<void>;
}

/** Retries AWS allows by default (185); the local cap keeps one failing target from looping for long. */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;

/** An occurrence taken off its schedule: what to deliver, and what the schedule became. */
interface Due {
  schedule: ScheduleView;
  at: Date;
  next: Date | undefined;
  deleted: boolean;
}

/** Starts the engine, and its ticker unless `tickMs` ≤ 0. */
export function startFiringEngine(options: FiringEngineOptions): FiringEngine {
  const { store, journal, now, log } = options;
  const firedList: FiredInvocation[] = [];
  /** Serializes fireDue calls (ticker and tests), so one occurrence never fires twice. */
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  const deliver = async (schedule: ScheduleView, at: Date): Promise<FiredInvocation> => {
    const policy = schedule.target.RetryPolicy ?? {};
    const maxRetries = policy.MaximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS;
    const maxAgeMs = (policy.MaximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000;
    const started = Date.now();
    const executionId = crypto.randomUUID();
    let attempts = 0;
    let lastError = '';
    let input: string | undefined;
    for (;;) {
      attempts += 1;
      input = substituteContext(schedule.target.Input, {
        'aws.scheduler.schedule-arn': schedule.arn,
        'aws.scheduler.scheduled-time': at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'aws.scheduler.execution-id': executionId,
        'aws.scheduler.attempt-number': String(attempts),
      });
      try {
        await options.invoke(
          {
            Arn: schedule.target.Arn,
            RoleArn: schedule.target.RoleArn,
            ...(input !== undefined ? { Input: input } : {}),
          },
          schedule,
        );
        return { name: schedule.name, group: schedule.group, at, input, attempts, outcome: 'succeeded' };
      } catch (error) {
        lastError = errorMessage(error);
      }
      const retry = attempts - 1;
      const delay = Math.min(options.retryBaseDelayMs * 2 ** retry, options.retryMaxDelayMs);
      if (retry >= maxRetries || closed || Date.now() - started + delay > maxAgeMs) break;
      await sleep(delay);
    }
    const deadLetterArn = schedule.target.DeadLetterConfig?.Arn;
    log(
      `scheduler-server: ${schedule.group}/${schedule.name} at ${at.toISOString()} failed after ${attempts} attempt(s): ${lastError}` +
        (deadLetterArn ? ` (dead-lettered to ${deadLetterArn})` : ' (dropped: no DeadLetterConfig)'),
    );
    const deadLettered: FiredInvocation = {
      name: schedule.name,
      group: schedule.group,
      at,
      input,
      attempts,
      outcome: 'dead-lettered',
      error: lastError,
      ...(deadLetterArn ? { deadLetterArn } : {}),
    };
    if (deadLetterArn && options.sendToDeadLetter) {
      await options.sendToDeadLetter(deadLetterArn, deadLettered, schedule).catch((error: unknown) => {
        log(
          `scheduler-server: could not dead-letter ${schedule.name} to ${deadLetterArn}: ${errorMessage(error)}`,
        );
      });
    }
    return deadLettered;
  };

  /** Takes every due occurrence off the schedules (advancing or deleting them) in time order. */
  const collectDue = (at: Date): Due[] => {
    const due: Due[] = [];
    while (due.length < MAX_FIRINGS_PER_CALL) {
      let earliest: StoredSchedule | undefined;
      for (const s of store.values()) {
        if (s.state !== 'ENABLED' || s.nextFireAt === undefined || s.nextFireAt.getTime() > at.getTime())
          continue;
        if (earliest === undefined || s.nextFireAt.getTime() < (earliest.nextFireAt as Date).getTime())
          earliest = s;
      }
      if (earliest === undefined) break;
      const when = earliest.nextFireAt as Date;
      earliest.nextFireAt = withinEnd(earliest, earliest.parsed.nextAfter(when));
      const deleted = earliest.nextFireAt === undefined && earliest.actionAfterCompletion === 'DELETE';
      if (deleted) store.delete(scheduleKey(earliest.group, earliest.name));
      due.push({ schedule: view(earliest), at: when, next: earliest.nextFireAt, deleted });
    }
    return due;
  };

  let lateFirings = 0;
  let maxLatenessMs = 0;
  /** The clock as the engine reads it to decide what is due (skewed by an injected fault). */
  const engineNow = () => new Date(now().getTime() - (options.clockSkewMs?.() ?? 0));
  const fireDue = (at?: Date): Promise<number> => {
    const run = chain.then(async () => {
      const due = collectDue(at ?? engineNow());
      const results = await Promise.all(
        due.map(async (d) => {
          const lateness = now().getTime() - d.at.getTime();
          if (at === undefined && lateness > options.lateAfterMs) {
            lateFirings += 1;
            maxLatenessMs = Math.max(maxLatenessMs, lateness);
          }
          const result = await deliver(d.schedule, d.at);
          // Journaled once delivered: a kill mid-delivery fires it again at the next start.
          journal?.write({
            op: 'fired',
            group: d.schedule.group,
            name: d.schedule.name,
            at: d.at.toISOString(),
            next: d.next?.toISOString() ?? null,
            deleted: d.deleted,
          });
          return result;
        }),
      );
      firedList.push(...results);
      return due.length;
    });
    chain = run.catch(() => undefined);
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run)).catch(() => undefined);
    return run;
  };

  let ticking = false;
  let paused = false;
  const ticker =
    options.tickMs > 0
      ? setInterval(() => {
          if (ticking || closed || paused) return;
          ticking = true;
          fireDue()
            .catch((error: unknown) => log(`scheduler-server: tick failed: ${errorMessage(error)}`))
            .finally(() => {
              ticking = false;
            });
        }, options.tickMs)
      : undefined;
  ticker?.unref();

  return {
    fireDue,
    fired: () => [...firedList],
    lateness: () => ({ lateFirings, maxLatenessMs }),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    async close() {
      closed = true;
      if (ticker) clearInterval(ticker);
      await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * Replaces Scheduler's context attributes (`<aws.scheduler.scheduled-time>` …) in the input, as AWS
 * does for templated targets, so a target that reads them behaves the same locally.
 */
function substituteContext(input: string | undefined, values: Record<string, string>): string | undefined {
  if (input === undefined) return undefined;
  return input.replace(/<(aws\.scheduler\.[a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
