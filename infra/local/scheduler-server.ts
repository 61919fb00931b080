import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedSchedule, parseScheduleExpression, ScheduleExpressionError } from './schedule-expression';
import { openScheduleJournal, type ScheduleJournal } from './scheduler-journal';

/**
 * A local Amazon EventBridge Scheduler endpoint for the local runtime.
 *
 * Why it exists: the service code creates its SLA and survey timers with the real
 * `@aws-sdk/client-scheduler` (`AWS_ENDPOINT_URL_SCHEDULER`), and those timers must fire locally
 * at the instants AWS would fire them, with the same input, or the lifecycle (warnings,
 * escalations, surveys) cannot be exercised end to end. No emulator we may depend on does this
 * without Docker, so this speaks Scheduler's REST-JSON protocol itself — the request shapes were
 * taken from what SDK v3 actually sends (`POST|PUT|GET|DELETE /schedules/{Name}`, `GroupName` in the
 * body for writes, `groupName` in the query for reads/deletes, `ScheduleGroup` for ListSchedules,
 * dates as epoch seconds) — and rejects what AWS rejects, with AWS's error codes in
 * `x-amzn-errortype` (which the SDK turns into `error.name`) and a `{ "Message": … }` body.
 *
 * What it does not do: reach targets. The runtime passes `invoke`, which knows how to call a local
 * Lambda function; this module decides *when* and *with what input*.
 *
 * Known gaps (deliberate): `FlexibleTimeWindow` is validated but every invocation runs at its exact
 * scheduled time (no jitter); `ClientToken` idempotency is not implemented; no tags, KMS or IAM
 * checks; retries are a simplified exponential backoff in real time (capped), and dead-lettered
 * invocations are recorded ({@link SchedulerServer.deadLetters}) and handed to `sendToDeadLetter` (the runtime sends them to SQS); a one-time
 * schedule whose `at()` time has already passed is accepted and never fires (AWS's behaviour there
 * is undocumented); a paused clock (injected `now`) means recurring schedules only fire through
 * {@link SchedulerServer.fireDue} or the ticker reading that clock.
 *
 * With `stateFile` the groups and schedules, with their pending firings, are journaled
 * (`scheduler-journal.ts`) and restored at start: a one-time timer that came due while the runtime
 * was down fires at once, late, and a recurring schedule that missed occurrences fires once for them;
 * firings more than a second late are counted ({@link SchedulerStats.lateFirings}). A firing is
 * journaled as done only after its delivery, so a kill mid-delivery fires it again (at least once).
 */

/** The target of a schedule, as `CreateSchedule` takes it (only the fields the runtime uses are typed). */
export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
  [other: string]: unknown;
}

/** A stored schedule, as the runtime and tests see it. */
export interface ScheduleView {
  readonly name: string;
  readonly group: string;
  readonly arn: string;
  readonly expression: string;
  readonly timeZone: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly description: string | undefined;
  readonly startDate: Date | undefined;
  readonly endDate: Date | undefined;
  readonly flexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly target: Readonly<ScheduleTarget>;
  readonly creationDate: Date;
  readonly lastModificationDate: Date;
  /** The next instant it fires, or `undefined` when it never fires again. */
  readonly nextFireAt: Date | undefined;
}

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

export interface SchedulerServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  region?: string;
  accountId?: string;
  invoke: InvokeFn;
  /**
   * Sends an invocation that exhausted its retries to the target's `DeadLetterConfig.Arn` (an SQS
   * queue), as Scheduler does; without it dead letters are only recorded ({@link SchedulerServer.deadLetters}).
   */
  sendToDeadLetter?: (arn: string, invocation: FiredInvocation, schedule: ScheduleView) => Promise<void>;
  /** Clock; injectable so tests decide when schedules are due. */
  now?: () => Date;
  /** Period of the firing engine in ms (default 1000); 0 or less disables it (tests use {@link SchedulerServer.fireDue}). */
  tickMs?: number;
  /** First retry delay in ms (default 200), doubled per retry, capped at {@link retryMaxDelayMs}. */
  retryBaseDelayMs?: number;
  /** Longest retry delay in ms (default 2000): keeps local retries short, unlike AWS's minutes. */
  retryMaxDelayMs?: number;
  /** Where engine failures are reported (default: console.warn). */
  log?: (message: string) => void;
  /** The journal file that makes groups and schedules survive a restart; absent: in memory only. */
  stateFile?: string;
  /**
   * Clock skew in ms (an injected fault): subtracted from the clock when deciding what is due, so a
   * positive skew fires timers late and a negative one early. @default none
   */
  clockSkewMs?: () => number;
  /** A firing later than this after its time counts as late (default: max(1000, 2 × tickMs)). */
  lateAfterMs?: number;
}

/** Pending timers and punctuality, for the runtime's status. */
export interface SchedulerStats {
  /** Enabled schedules with a firing still ahead (or due). */
  pending: number;
  /** The earliest pending firing. */
  nextDue: Date | undefined;
  /** Firings made later than `lateAfterMs` after their time (e.g. due while the runtime was down). */
  lateFirings: number;
  /** The latest of those, in ms late. */
  maxLatenessMs: number;
  /** Schedules restored from the state file at start. */
  restored: number;
}

export interface SchedulerServer {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SCHEDULER` or the SDK's `endpoint`. */
  readonly endpoint: string;
  /** Stops the ticker, waits for running invocations, closes the server. */
  close(): Promise<void>;
  schedules(): ReadonlyArray<ScheduleView>;
  /** Completed invocations, in order. */
  fired(): ReadonlyArray<FiredInvocation>;
  /** The subset of {@link fired} that exhausted its retries. */
  deadLetters(): ReadonlyArray<FiredInvocation>;
  stats(): SchedulerStats;
  /** Closes the listener and pauses the firing engine (a Scheduler outage on demand). */
  suspend(): Promise<void>;
  /** Listens again on the same port and resumes firing (what came due meanwhile fires, late). */
  resume(): Promise<void>;
  /**
   * Fires every invocation due at or before `at` (default: `now()`), in chronological order,
   * including every missed occurrence of a recurring schedule; resolves when they all completed
   * (retries included) with the number of invocations made.
   */
  fireDue(at?: Date): Promise<number>;
}

/** Retries AWS allows by default (185); the local cap keeps one failing target from looping for long. */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;
/** A safety net against a clock jump over a rate(1 minute) schedule firing millions of times. */
const MAX_FIRINGS_PER_CALL = 10_000;
const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** An AWS error: code goes to `x-amzn-errortype`, which the SDK exposes as `error.name`. */
class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const validation = (message: string) => new AwsError('ValidationException', message, 400);
const notNull = (field: string) =>
  validation(
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );

interface StoredSchedule {
  name: string;
  group: string;
  arn: string;
  expression: string;
  timeZone: string;
  state: 'ENABLED' | 'DISABLED';
  description: string | undefined;
  startDate: Date | undefined;
  endDate: Date | undefined;
  flexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  actionAfterCompletion: 'NONE' | 'DELETE';
  kmsKeyArn: string | undefined;
  target: ScheduleTarget;
  creationDate: Date;
  lastModificationDate: Date;
  parsed: ParsedSchedule;
  nextFireAt: Date | undefined;
}

interface StoredGroup {
  name: string;
  arn: string;
  creationDate: Date;
  lastModificationDate: Date;
}

/** Starts the endpoint and its firing engine. */
export async function startSchedulerServer(options: SchedulerServerOptions): Promise<SchedulerServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => console.warn(message));
  const retryBase = options.retryBaseDelayMs ?? 200;
  const retryMax = options.retryMaxDelayMs ?? 2000;

  const groups = new Map<string, StoredGroup>();
  /** Keyed by `group\u0000name`: names are unique per group only. */
  const store = new Map<string, StoredSchedule>();
  const firedList: FiredInvocation[] = [];
  const key = (group: string, name: string) => `${group}\u0000${name}`;
  const groupArn = (name: string) => `arn:aws:scheduler:${region}:${accountId}:schedule-group/${name}`;
  const scheduleArn = (group: string, name: string) =>
    `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/${name}`;

  const journal: ScheduleJournal | undefined =
    options.stateFile === undefined ? undefined : openScheduleJournal(options.stateFile, log);
  const addGroup = (name: string, creationDate = now()): StoredGroup => {
    const group = { name, arn: groupArn(name), creationDate, lastModificationDate: creationDate };
    groups.set(name, group);
    if (name !== 'default') journal?.write({ op: 'group', name, creationDate: creationDate.toISOString() });
    return group;
  };
  addGroup('default');
  const putSchedule = (schedule: StoredSchedule) => {
    store.set(key(schedule.group, schedule.name), schedule);
    journal?.write({ op: 'put', schedule: serialize(schedule) });
  };
  const deleteSchedule = (group: string, name: string) => {
    store.delete(key(group, name));
    journal?.write({ op: 'del', group, name });
  };

  const requireGroup = (name: string): StoredGroup => {
    const group = groups.get(name);
    if (group === undefined)
      throw new AwsError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
    return group;
  };
  const requireSchedule = (group: string, name: string): StoredSchedule => {
    requireGroup(group);
    const schedule = store.get(key(group, name));
    if (schedule === undefined)
      throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return schedule;
  };

  /** Validates a Create/UpdateSchedule body and builds the stored schedule (shared: update replaces everything). */
  const buildSchedule = (
    name: string,
    body: Record<string, unknown>,
    previous?: StoredSchedule,
  ): StoredSchedule => {
    if (!NAME_PATTERN.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+`,
      );
    }
    const group = optionalString(body.GroupName, 'groupName') ?? 'default';
    const expression = optionalString(body.ScheduleExpression, 'scheduleExpression');
    if (expression === undefined) throw notNull('scheduleExpression');
    const timeZone = optionalString(body.ScheduleExpressionTimezone, 'scheduleExpressionTimezone') ?? 'UTC';
    const flexible = body.FlexibleTimeWindow;
    if (!isRecord(flexible)) throw notNull('flexibleTimeWindow');
    const mode = flexible.Mode;
    if (mode !== 'OFF' && mode !== 'FLEXIBLE') {
      throw validation(
        `1 validation error detected: Value '${String(mode)}' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]`,
      );
    }
    const window = flexible.MaximumWindowInMinutes;
    if (mode === 'FLEXIBLE' && typeof window !== 'number') {
      // Assumed wording: AWS requires the window in FLEXIBLE mode, but no sample message was found.
      throw validation('MaximumWindowInMinutes must be provided when FlexibleTimeWindow Mode is FLEXIBLE.');
    }
    if (typeof window === 'number' && (!Number.isInteger(window) || window < 1 || window > 1440)) {
      throw validation(
        `1 validation error detected: Value '${window}' at 'flexibleTimeWindow.maximumWindowInMinutes' failed to satisfy constraint: Member must have value between 1 and 1440`,
      );
    }
    const target = body.Target;
    if (!isRecord(target)) throw notNull('target');
    if (typeof target.Arn !== 'string' || target.Arn === '') throw notNull('target.arn');
    if (typeof target.RoleArn !== 'string' || target.RoleArn === '') throw notNull('target.roleArn');
    if (target.Input !== undefined && typeof target.Input !== 'string')
      throw validation('Target Input must be a string.');
    const state = body.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw validation(
        `1 validation error detected: Value '${String(state)}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
      );
    }
    const action = body.ActionAfterCompletion ?? 'NONE';
    if (action !== 'NONE' && action !== 'DELETE') {
      throw validation(
        `1 validation error detected: Value '${String(action)}' at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]`,
      );
    }
    const startDate = optionalDate(body.StartDate, 'startDate');
    const endDate = optionalDate(body.EndDate, 'endDate');
    if (startDate && endDate && endDate.getTime() <= startDate.getTime()) {
      throw validation('The EndDate must be after the StartDate.');
    }
    requireGroup(group);

    const created = now();
    let parsed: ParsedSchedule;
    try {
      parsed = parseScheduleExpression(expression, timeZone, {
        now: () => created,
        ...(startDate ? { start: startDate } : {}),
      });
    } catch (error) {
      if (error instanceof ScheduleExpressionError) throw validation(error.message);
      throw error;
    }
    const schedule: StoredSchedule = {
      name,
      group,
      arn: scheduleArn(group, name),
      expression,
      timeZone,
      state,
      description: optionalString(body.Description, 'description'),
      startDate,
      endDate,
      flexibleTimeWindow: {
        Mode: mode,
        ...(typeof window === 'number' ? { MaximumWindowInMinutes: window } : {}),
      },
      actionAfterCompletion: action,
      kmsKeyArn: optionalString(body.KmsKeyArn, 'kmsKeyArn'),
      target: structuredClone(target) as ScheduleTarget,
      creationDate: previous?.creationDate ?? created,
      lastModificationDate: created,
      parsed,
      nextFireAt: undefined,
    };
    schedule.nextFireAt = firstFire(schedule, created);
    return schedule;
  };

  /** The first fire time at or after `from`, honouring StartDate/EndDate for recurring schedules. */
  const firstFire = (schedule: StoredSchedule, from: Date): Date | undefined => {
    let cursor = from.getTime() - 1;
    if (schedule.parsed.kind !== 'at' && schedule.startDate)
      cursor = Math.max(cursor, schedule.startDate.getTime() - 1);
    return withinEnd(schedule, schedule.parsed.nextAfter(new Date(cursor)));
  };
  /** AWS applies StartDate/EndDate to recurring schedules only. */
  const withinEnd = (schedule: StoredSchedule, next: Date | undefined): Date | undefined =>
    next && schedule.parsed.kind !== 'at' && schedule.endDate && next.getTime() > schedule.endDate.getTime()
      ? undefined
      : next;

  const view = (s: StoredSchedule): ScheduleView => ({
    name: s.name,
    group: s.group,
    arn: s.arn,
    expression: s.expression,
    timeZone: s.timeZone,
    state: s.state,
    description: s.description,
    startDate: s.startDate,
    endDate: s.endDate,
    flexibleTimeWindow: { ...s.flexibleTimeWindow },
    actionAfterCompletion: s.actionAfterCompletion,
    target: structuredClone(s.target),
    creationDate: s.creationDate,
    lastModificationDate: s.lastModificationDate,
    nextFireAt: s.nextFireAt,
  });

  const describe = (s: StoredSchedule) => ({
    Arn: s.arn,
    Name: s.name,
    GroupName: s.group,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: s.timeZone,
    State: s.state,
    FlexibleTimeWindow: s.flexibleTimeWindow,
    Target: s.target,
    ActionAfterCompletion: s.actionAfterCompletion,
    CreationDate: epochSeconds(s.creationDate),
    LastModificationDate: epochSeconds(s.lastModificationDate),
    ...(s.description !== undefined ? { Description: s.description } : {}),
    ...(s.startDate ? { StartDate: epochSeconds(s.startDate) } : {}),
    ...(s.endDate ? { EndDate: epochSeconds(s.endDate) } : {}),
    ...(s.kmsKeyArn !== undefined ? { KmsKeyArn: s.kmsKeyArn } : {}),
  });

  // ----------------------------------------------------------------------------- HTTP routing

  const handle = async (method: string, url: URL, body: Record<string, unknown>): Promise<unknown> => {
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const [collection, name, ...rest] = parts;
    if (rest.length > 0)
      throw new AwsError('UnknownOperationException', `Unknown operation ${method} ${url.pathname}`, 404);
    const q = url.searchParams;

    if (collection === 'schedules' && name !== undefined) {
      switch (method) {
        case 'POST': {
          const schedule = buildSchedule(name, body);
          const k = key(schedule.group, name);
          if (store.has(k)) throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
          putSchedule(schedule);
          return { ScheduleArn: schedule.arn };
        }
        case 'PUT': {
          const group = optionalString(body.GroupName, 'groupName') ?? 'default';
          const previous = requireSchedule(group, name);
          const schedule = buildSchedule(name, body, previous);
          putSchedule(schedule);
          return { ScheduleArn: schedule.arn };
        }
        case 'GET':
          return describe(requireSchedule(q.get('groupName') ?? 'default', name));
        case 'DELETE': {
          const schedule = requireSchedule(q.get('groupName') ?? 'default', name);
          deleteSchedule(schedule.group, name);
          return {};
        }
      }
    }
    if (collection === 'schedules' && name === undefined && method === 'GET') {
      const group = q.get('ScheduleGroup') ?? q.get('GroupName') ?? undefined;
      if (group !== undefined) requireGroup(group);
      const prefix = q.get('NamePrefix') ?? '';
      const state = q.get('State') ?? undefined;
      const matching = [...store.values()]
        .filter((s) => (group === undefined || s.group === group) && s.name.startsWith(prefix))
        .filter((s) => state === undefined || s.state === state)
        .sort((a, b) => compare(a.group, b.group) || compare(a.name, b.name));
      const page = paginate(matching, q);
      return {
        Schedules: page.items.map((s) => ({
          Arn: s.arn,
          Name: s.name,
          GroupName: s.group,
          State: s.state,
          CreationDate: epochSeconds(s.creationDate),
          LastModificationDate: epochSeconds(s.lastModificationDate),
          Target: { Arn: s.target.Arn },
        })),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    }
    if (collection === 'schedule-groups' && name !== undefined) {
      switch (method) {
        case 'POST': {
          if (!NAME_PATTERN.test(name)) throw validation(`Invalid schedule group name ${name}.`);
          if (groups.has(name))
            throw new AwsError('ConflictException', `Schedule group ${name} already exists.`, 409);
          return { ScheduleGroupArn: addGroup(name).arn };
        }
        case 'GET':
          return describeGroup(requireGroup(name));
        case 'DELETE': {
          if (name === 'default') throw validation('The default schedule group cannot be deleted.');
          requireGroup(name);
          // AWS deletes the group's schedules with it (asynchronously there; at once here).
          for (const s of [...store.values()]) if (s.group === name) deleteSchedule(s.group, s.name);
          groups.delete(name);
          journal?.write({ op: 'ungroup', name });
          return {};
        }
      }
    }
    if (collection === 'schedule-groups' && name === undefined && method === 'GET') {
      const prefix = q.get('NamePrefix') ?? '';
      const matching = [...groups.values()]
        .filter((g) => g.name.startsWith(prefix))
        .sort((a, b) => compare(a.name, b.name));
      const page = paginate(matching, q);
      return {
        ScheduleGroups: page.items.map(describeGroup),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    }
    throw new AwsError('UnknownOperationException', `Unknown operation ${method} ${url.pathname}`, 404);
  };

  const server = createServer((req, res) => {
    void serve(req, res);
  });
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const text = await readBody(req);
      let body: Record<string, unknown> = {};
      if (text.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON.', 400);
        }
        if (!isRecord(parsed))
          throw new AwsError('SerializationException', 'The request body must be a JSON object.', 400);
        body = parsed;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const result = await handle(req.method ?? 'GET', url, body);
      send(res, 200, result);
    } catch (error) {
      if (error instanceof AwsError) {
        send(res, error.status, { Message: error.message }, error.code);
      } else {
        log(`scheduler-server: internal error: ${errorMessage(error)}`);
        send(res, 500, { Message: errorMessage(error) }, 'InternalServerException');
      }
    }
  };

  // ----------------------------------------------------------------------------- firing engine

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
      const delay = Math.min(retryBase * 2 ** retry, retryMax);
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
      if (deleted) store.delete(key(earliest.group, earliest.name));
      due.push({ schedule: view(earliest), at: when, next: earliest.nextFireAt, deleted });
    }
    return due;
  };

  let lateFirings = 0;
  let maxLatenessMs = 0;
  const lateAfterMs = options.lateAfterMs ?? Math.max(1000, 2 * (options.tickMs ?? 1000));
  /** The clock as the engine reads it to decide what is due (skewed by an injected fault). */
  const engineNow = () => new Date(now().getTime() - (options.clockSkewMs?.() ?? 0));
  const fireDue = (at?: Date): Promise<number> => {
    const run = chain.then(async () => {
      const due = collectDue(at ?? engineNow());
      const results = await Promise.all(
        due.map(async (d) => {
          const lateness = now().getTime() - d.at.getTime();
          if (at === undefined && lateness > lateAfterMs) {
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

  // --- restore what the journal holds (before the first tick) ---
  let restored = 0;
  if (journal !== undefined) {
    const saved = journal.load();
    for (const group of saved.groups) {
      if (!groups.has(group.name)) addGroup(group.name, new Date(group.creationDate));
    }
    const t = now();
    for (const record of saved.schedules) {
      try {
        const schedule = deserialize(record, scheduleArn(record.group, record.name));
        // A recurring schedule that missed occurrences while down fires once for them (the latest).
        if (schedule.parsed.kind !== 'at' && schedule.nextFireAt && schedule.nextFireAt < t) {
          let latest = schedule.nextFireAt;
          for (let i = 0; i < MAX_FIRINGS_PER_CALL; i++) {
            const next = withinEnd(schedule, schedule.parsed.nextAfter(latest));
            if (next === undefined || next > t) break;
            latest = next;
          }
          schedule.nextFireAt = latest;
        }
        store.set(key(schedule.group, schedule.name), schedule);
        restored += 1;
      } catch (error) {
        log(`scheduler-server: schedule ${record.group}/${record.name} not restored: ${errorMessage(error)}`);
      }
    }
    journal.compact(
      [...groups.values()]
        .filter((g) => g.name !== 'default')
        .map((g) => ({ name: g.name, creationDate: g.creationDate.toISOString() })),
      [...store.values()].map(serialize),
    );
  }

  const tickMs = options.tickMs ?? 1000;
  let ticking = false;
  let paused = false;
  const ticker =
    tickMs > 0
      ? setInterval(() => {
          if (ticking || closed || paused) return;
          ticking = true;
          fireDue()
            .catch((error: unknown) => log(`scheduler-server: tick failed: ${errorMessage(error)}`))
            .finally(() => {
              ticking = false;
            });
        }, tickMs)
      : undefined;
  ticker?.unref();

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  let suspended = false;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      closed = true;
      if (ticker) clearInterval(ticker);
      await Promise.allSettled([...inFlight]);
      journal?.close();
      server.closeAllConnections();
      if (!suspended) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stats: () => {
      let pending = 0;
      let nextDue: Date | undefined;
      for (const s of store.values()) {
        if (s.state !== 'ENABLED' || s.nextFireAt === undefined) continue;
        pending += 1;
        if (nextDue === undefined || s.nextFireAt < nextDue) nextDue = s.nextFireAt;
      }
      return { pending, nextDue, lateFirings, maxLatenessMs, restored };
    },
    async suspend() {
      if (suspended || closed) return;
      suspended = true;
      paused = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async resume() {
      if (!suspended || closed) return;
      await listen(port);
      suspended = false;
      paused = false;
    },
    schedules: () => [...store.values()].map(view),
    fired: () => [...firedList],
    deadLetters: () => firedList.filter((f) => f.outcome === 'dead-lettered'),
    fireDue,
  };
}

// ------------------------------------------------------------------------------- helpers

/** An occurrence taken off its schedule: what to deliver, and what the schedule became. */
interface Due {
  schedule: ScheduleView;
  at: Date;
  next: Date | undefined;
  deleted: boolean;
}

/** A stored schedule as the journal keeps it (dates as ISO strings, the parsed expression left out). */
export interface SavedSchedule {
  name: string;
  group: string;
  expression: string;
  timeZone: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  startDate?: string;
  endDate?: string;
  flexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  actionAfterCompletion: 'NONE' | 'DELETE';
  kmsKeyArn?: string;
  target: ScheduleTarget;
  creationDate: string;
  lastModificationDate: string;
  nextFireAt: string | null;
}

function serialize(s: StoredSchedule): SavedSchedule {
  return {
    name: s.name,
    group: s.group,
    expression: s.expression,
    timeZone: s.timeZone,
    state: s.state,
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.startDate ? { startDate: s.startDate.toISOString() } : {}),
    ...(s.endDate ? { endDate: s.endDate.toISOString() } : {}),
    flexibleTimeWindow: s.flexibleTimeWindow,
    actionAfterCompletion: s.actionAfterCompletion,
    ...(s.kmsKeyArn !== undefined ? { kmsKeyArn: s.kmsKeyArn } : {}),
    target: s.target,
    creationDate: s.creationDate.toISOString(),
    lastModificationDate: s.lastModificationDate.toISOString(),
    nextFireAt: s.nextFireAt?.toISOString() ?? null,
  };
}

function deserialize(saved: SavedSchedule, arn: string): StoredSchedule {
  const creationDate = new Date(saved.creationDate);
  const startDate = saved.startDate === undefined ? undefined : new Date(saved.startDate);
  return {
    name: saved.name,
    group: saved.group,
    arn,
    expression: saved.expression,
    timeZone: saved.timeZone,
    state: saved.state,
    description: saved.description,
    startDate,
    endDate: saved.endDate === undefined ? undefined : new Date(saved.endDate),
    flexibleTimeWindow: saved.flexibleTimeWindow,
    actionAfterCompletion: saved.actionAfterCompletion,
    kmsKeyArn: saved.kmsKeyArn,
    target: saved.target,
    creationDate,
    lastModificationDate: new Date(saved.lastModificationDate),
    parsed: parseScheduleExpression(saved.expression, saved.timeZone, {
      now: () => creationDate,
      ...(startDate ? { start: startDate } : {}),
    }),
    nextFireAt: saved.nextFireAt === null ? undefined : new Date(saved.nextFireAt),
  };
}

function describeGroup(g: StoredGroup) {
  return {
    Arn: g.arn,
    Name: g.name,
    State: 'ACTIVE',
    CreationDate: epochSeconds(g.creationDate),
    LastModificationDate: epochSeconds(g.lastModificationDate),
  };
}

/** Offset-based pagination; the token is opaque to clients, as AWS's is. */
function paginate<T>(items: T[], q: URLSearchParams): { items: T[]; nextToken: string | undefined } {
  const token = q.get('NextToken');
  let offset = 0;
  if (token !== null) {
    offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw validation('The NextToken is invalid.');
  }
  const maxText = q.get('MaxResults');
  const max = maxText === null ? 100 : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw validation(
      `1 validation error detected: Value '${maxText}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`,
    );
  }
  const page = items.slice(offset, offset + max);
  const next =
    offset + max < items.length ? Buffer.from(String(offset + max), 'utf8').toString('base64url') : undefined;
  return { items: page, nextToken: next };
}

/**
 * Replaces Scheduler's context attributes (`<aws.scheduler.scheduled-time>` …) in the input, as AWS
 * does for templated targets, so a target that reads them behaves the same locally.
 */
function substituteContext(input: string | undefined, values: Record<string, string>): string | undefined {
  if (input === undefined) return undefined;
  return input.replace(/<(aws\.scheduler\.[a-z-]+)>/g, (whole, name: string) => values[name] ?? whole);
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`Value at '${field}' must be a string.`);
  return value;
}

/** The SDK sends timestamps as epoch seconds; ISO strings are accepted too (hand-written requests). */
function optionalDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (date === undefined || Number.isNaN(date.getTime()))
    throw validation(`Value at '${field}' is not a valid timestamp.`);
  return date;
}

const epochSeconds = (date: Date) => date.getTime() / 1000;
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}
