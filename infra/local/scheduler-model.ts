/**
 * The schedules and schedule groups of the local Scheduler (`scheduler-server.ts`), apart from any
 * server: a Create/UpdateSchedule body validated as AWS validates it (AWS's error codes and messages,
 * as {@link AwsError}) and built into a stored schedule; when it fires next (the expression language
 * is `schedule-expression.ts`); how it is shown — to the runtime ({@link view}), in API answers
 * ({@link describe}, {@link summarize}, {@link describeGroup}, {@link paginate}) and in the journal
 * ({@link serialize}, {@link deserialize}). Nothing here holds state: what a function needs of the
 * server (its clock, ARNs, groups) it takes as a parameter.
 */
import { type ParsedSchedule, parseScheduleExpression, ScheduleExpressionError } from './schedule-expression';

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

export interface StoredSchedule {
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

export interface StoredGroup {
  name: string;
  arn: string;
  creationDate: Date;
  lastModificationDate: Date;
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

/** A safety net against a clock jump over a rate(1 minute) schedule firing millions of times. */
export const MAX_FIRINGS_PER_CALL = 10_000;
export const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** An AWS error: code goes to `x-amzn-errortype`, which the SDK exposes as `error.name`. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const validation = (message: string) => new AwsError('ValidationException', message, 400);
const notNull = (field: string) =>
  validation(
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );

/** The ARNs of one region and account's groups and schedules. */
export interface SchedulerArns {
  group(name: string): string;
  schedule(group: string, name: string): string;
}

export function schedulerArns(region: string, accountId: string): SchedulerArns {
  return {
    group: (name) => `arn:aws:scheduler:${region}:${accountId}:schedule-group/${name}`,
    schedule: (group, name) => `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/${name}`,
  };
}

/** The key of a schedule in a store: names are unique per group only. */
export const scheduleKey = (group: string, name: string) => `${group}\u0000${name}`;

export function requireGroup(groups: ReadonlyMap<string, StoredGroup>, name: string): StoredGroup {
  const group = groups.get(name);
  if (group === undefined)
    throw new AwsError('ResourceNotFoundException', `Schedule group ${name} does not exist.`, 404);
  return group;
}

/** What building a schedule needs of the server: the groups it may join, their ARNs, the clock. */
export interface ScheduleContext {
  groups: ReadonlyMap<string, StoredGroup>;
  arns: SchedulerArns;
  now: () => Date;
}

/** How old a request's signing time may be and still be when "now" is judged from (SigV4 allows 5 minutes). */
const SENT_AT_TRUSTED_MS = 5 * 60_000;

/** Validates a Create/UpdateSchedule body and builds the stored schedule (shared: update replaces everything). */
export function buildSchedule(
  context: ScheduleContext,
  name: string,
  body: Record<string, unknown>,
  previous?: StoredSchedule,
  sentAt?: Date,
): StoredSchedule {
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
  requireGroup(context.groups, group);

  const created = context.now();
  // "In the past" is judged from when the caller sent the request, as AWS sees it arrive: a request
  // that waited in this busy process must not lose a one-time schedule that was in time when sent
  // (it fires late instead, and is counted late). Only a recent signing time counts (≤ 5 minutes).
  const sentAgo = sentAt === undefined ? Number.NaN : created.getTime() - sentAt.getTime();
  const reference = sentAgo > 0 && sentAgo <= SENT_AT_TRUSTED_MS ? (sentAt as Date) : created;
  let parsed: ParsedSchedule;
  try {
    parsed = parseScheduleExpression(expression, timeZone, {
      now: () => reference,
      ...(startDate ? { start: startDate } : {}),
    });
  } catch (error) {
    if (error instanceof ScheduleExpressionError) throw validation(error.message);
    throw error;
  }
  const schedule: StoredSchedule = {
    name,
    group,
    arn: context.arns.schedule(group, name),
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
  schedule.nextFireAt = firstFire(schedule, reference);
  return schedule;
}

// ----------------------------------------------------------------------------- next firing

/** The first fire time at or after `from`, honouring StartDate/EndDate for recurring schedules. */
function firstFire(schedule: StoredSchedule, from: Date): Date | undefined {
  let cursor = from.getTime() - 1;
  if (schedule.parsed.kind !== 'at' && schedule.startDate)
    cursor = Math.max(cursor, schedule.startDate.getTime() - 1);
  return withinEnd(schedule, schedule.parsed.nextAfter(new Date(cursor)));
}

/** AWS applies StartDate/EndDate to recurring schedules only. */
export function withinEnd(schedule: StoredSchedule, next: Date | undefined): Date | undefined {
  return next &&
    schedule.parsed.kind !== 'at' &&
    schedule.endDate &&
    next.getTime() > schedule.endDate.getTime()
    ? undefined
    : next;
}

/**
 * The next firing of a schedule restored at `t`: a recurring schedule that missed occurrences while
 * the runtime was down fires once for them (the latest); any other keeps its next firing.
 */
export function resumedFireAt(schedule: StoredSchedule, t: Date): Date | undefined {
  if (schedule.parsed.kind !== 'at' && schedule.nextFireAt && schedule.nextFireAt < t) {
    let latest = schedule.nextFireAt;
    for (let i = 0; i < MAX_FIRINGS_PER_CALL; i++) {
      const next = withinEnd(schedule, schedule.parsed.nextAfter(latest));
      if (next === undefined || next > t) break;
      latest = next;
    }
    return latest;
  }
  return schedule.nextFireAt;
}

// ----------------------------------------------------------------------------- how it is shown

export function view(s: StoredSchedule): ScheduleView {
  return {
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
  };
}

/** A schedule as GetSchedule answers it. */
export function describe(s: StoredSchedule) {
  return {
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
  };
}

/** A schedule as ListSchedules answers it. */
export function summarize(s: StoredSchedule) {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.group,
    State: s.state,
    CreationDate: epochSeconds(s.creationDate),
    LastModificationDate: epochSeconds(s.lastModificationDate),
    Target: { Arn: s.target.Arn },
  };
}

/** A group as GetScheduleGroup and ListScheduleGroups answer it. */
export function describeGroup(g: StoredGroup) {
  return {
    Arn: g.arn,
    Name: g.name,
    State: 'ACTIVE',
    CreationDate: epochSeconds(g.creationDate),
    LastModificationDate: epochSeconds(g.lastModificationDate),
  };
}

/** Offset-based pagination; the token is opaque to clients, as AWS's is. */
export function paginate<T>(items: T[], q: URLSearchParams): { items: T[]; nextToken: string | undefined } {
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

// ----------------------------------------------------------------------------- journal form

export function serialize(s: StoredSchedule): SavedSchedule {
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

export function deserialize(saved: SavedSchedule, arn: string): StoredSchedule {
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

// ----------------------------------------------------------------------------- helpers

export function optionalString(value: unknown, field: string): string | undefined {
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

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
