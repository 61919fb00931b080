import { DateTime, IANAZone } from 'luxon';
import { isIanaTimeZone } from '../../shared/domain/time-zone';

/**
 * EventBridge Scheduler schedule expressions for the local runtime: validation with AWS's
 * error shape, and "when does it fire next" evaluation in the schedule's time zone.
 *
 * Why this exists: the local Scheduler endpoint must reject what AWS rejects (so a bad
 * expression fails locally, not first in the cloud) and must fire schedules at the same
 * instants AWS would, including across daylight-saving changes.
 *
 * Sources for the rules:
 * - Schedule types, DST behaviour: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 *   and AWS re:Post "eventbridge-scheduler-adjust-dst" (spring forward: an invocation whose cron
 *   time does not exist is skipped; fall back: it runs only once; `days` in rate() are 24 hours).
 * - Cron fields and wildcards: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
 * - Error wording `Invalid Schedule Expression <expression>.` (ValidationException): LocalStack's
 *   snapshot tests recorded against AWS (localstack/localstack,
 *   tests/aws/services/scheduler/test_scheduler.snapshot.json). AWS gives no reason in the
 *   message, so the reason is carried separately in {@link ScheduleExpressionError.reason}.
 *
 * Known gaps (deliberate, undocumented by AWS): `L-n` in day-of-month and `/` in day-of-week are
 * rejected (the English AWS table does not list them); `LW` (last weekday of the month) is accepted
 * as in Quartz, on which AWS cron is modelled; ranges may wrap (`FRI-MON`, `22-2`) as in Quartz.
 */

/**
 * Thrown for an invalid schedule expression or time zone. Named `ValidationException` so the
 * local Scheduler endpoint can return it as AWS's error code unchanged; `message` is AWS's
 * wording, `reason` says what exactly is wrong (AWS does not, which makes local debugging hard).
 */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ValidationException';
  /** Which request parameter was invalid. */
  readonly parameter: 'ScheduleExpression' | 'ScheduleExpressionTimezone';
  /** The rejected value, exactly as given. */
  readonly value: string;
  /** A human-readable explanation (not part of AWS's message). */
  readonly reason: string;

  constructor(parameter: 'ScheduleExpression' | 'ScheduleExpressionTimezone', value: string, reason: string) {
    super(
      parameter === 'ScheduleExpression'
        ? `Invalid Schedule Expression ${value}.`
        : // Assumed wording, modelled on the expression error: no AWS sample was found.
          `Invalid ScheduleExpressionTimezone ${value}.`,
    );
    this.parameter = parameter;
    this.value = value;
    this.reason = reason;
  }
}

/** Fields shared by every parsed schedule. */
interface ScheduleBase {
  /** The expression as given. */
  readonly expression: string;
  /** The IANA time zone the expression is evaluated in. */
  readonly timeZone: string;
  /**
   * The next fire time strictly after `after`, or `undefined` when the schedule never fires
   * again. Lets the local scheduler sleep until exactly the next invocation instead of polling.
   */
  nextAfter(after: Date): Date | undefined;
}

/** `at(yyyy-mm-ddThh:mm:ss)`: fires once at a wall time in the schedule's time zone. */
export interface AtSchedule extends ScheduleBase {
  readonly kind: 'at';
  /** The instant it fires. */
  readonly at: Date;
}

/** `rate(value unit)`: fires at `start`, then every `intervalMs` (fixed durations; a day is 24 h). */
export interface RateSchedule extends ScheduleBase {
  readonly kind: 'rate';
  readonly value: number;
  readonly unit: 'minutes' | 'hours' | 'days';
  readonly intervalMs: number;
  /** The first fire time: the schedule's StartDate, or its creation time. */
  readonly start: Date;
}

/** `cron(minutes hours day-of-month month day-of-week year)`, evaluated in the time zone. */
export interface CronSchedule extends ScheduleBase {
  readonly kind: 'cron';
}

/** A validated schedule expression; discriminate on `kind`. */
export type ParsedSchedule = AtSchedule | RateSchedule | CronSchedule;

/** Options for {@link parseScheduleExpression}. */
export interface ParseScheduleOptions {
  /**
   * First fire time of a rate() schedule — the schedule's StartDate. AWS starts a rate schedule
   * without StartDate "immediately", so the default is the creation time (`now()`).
   */
  start?: Date;
  /** Clock for the default rate() start; injectable so tests are deterministic. */
  now?: () => Date;
}

/**
 * Validates a schedule expression and its `ScheduleExpressionTimezone` as CreateSchedule does,
 * and returns an evaluator for its fire times.
 *
 * Semantics chosen (AWS documents them, or they are the nearest reading of what it documents):
 * - at(): the wall time in `timeZone`. A wall time inside a DST gap is moved forward by the gap
 *   (02:30 on a spring-forward day becomes 03:30); a repeated wall time means its first occurrence.
 * - rate(): fixed durations from `options.start` (default: now); the start itself is a fire time.
 * - cron(): a matching wall time that does not exist (DST gap) is skipped; a repeated one fires
 *   once, at its first occurrence.
 *
 * @throws ScheduleExpressionError for any invalid expression or unknown IANA time zone.
 */
export function parseScheduleExpression(
  expression: string,
  timeZone = 'UTC',
  options: ParseScheduleOptions = {},
): ParsedSchedule {
  const invalid = (reason: string) => new ScheduleExpressionError('ScheduleExpression', expression, reason);
  const match = /^(at|rate|cron)\((.*)\)$/s.exec(expression);
  if (!match) throw invalid('expected at(...), rate(...) or cron(...)');
  const [, kind = '', body = ''] = match;

  if (kind === 'rate') {
    const rate = parseRate(body, invalid);
    checkTimeZone(timeZone);
    const start = options.start ?? (options.now ?? (() => new Date()))();
    const startMs = start.getTime();
    const intervalMs = rate.value * UNIT_MS[rate.unit];
    return {
      kind: 'rate',
      expression,
      timeZone,
      ...rate,
      intervalMs,
      start: new Date(startMs),
      nextAfter(after) {
        const a = after.getTime();
        if (a < startMs) return new Date(startMs);
        const k = Math.floor((a - startMs) / intervalMs) + 1;
        return new Date(startMs + k * intervalMs);
      },
    };
  }

  if (kind === 'at') {
    const wall = parseAt(body, invalid);
    const zone = checkTimeZone(timeZone);
    const atMs = resolveAt(wall, zone, timeZone);
    return {
      kind: 'at',
      expression,
      timeZone,
      at: new Date(atMs),
      nextAfter: (after) => (after.getTime() < atMs ? new Date(atMs) : undefined),
    };
  }

  const cron = parseCron(body, invalid);
  const zone = checkTimeZone(timeZone);
  return { kind: 'cron', expression, timeZone, nextAfter: (after) => nextCron(cron, zone, after) };
}

// ---------------------------------------------------------------------------------------------
// Time zones

function checkTimeZone(timeZone: string): IANAZone {
  if (!isIanaTimeZone(timeZone)) {
    throw new ScheduleExpressionError(
      'ScheduleExpressionTimezone',
      timeZone,
      `'${timeZone}' is not an IANA time zone name`,
    );
  }
  return IANAZone.create(timeZone);
}

const DAY_MS = 86_400_000;

/**
 * The earliest instant whose wall time in `zone` is the given one, or `undefined` if that wall
 * time does not exist (DST gap). Checks the offsets in force a day either side, so both
 * readings of a repeated wall time are found.
 */
function resolveWall(zone: IANAZone, y: number, mo: number, d: number, h: number, mi: number, s = 0) {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  if (zone.name === 'UTC' || zone.name === 'Etc/UTC') return guess;
  let best: number | undefined;
  for (const probe of [guess - DAY_MS, guess, guess + DAY_MS]) {
    const offset = zone.offset(probe);
    const ts = guess - offset * 60_000;
    if (zone.offset(ts) === offset && (best === undefined || ts < best)) best = ts;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// at()

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function parseAt(body: string, invalid: (reason: string) => ScheduleExpressionError): Wall {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!m) throw invalid('at() takes yyyy-mm-ddThh:mm:ss (no zone suffix, no fractions)');
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12) throw invalid(`month ${mo} is out of range 1-12`);
  if (d < 1 || d > daysInMonth(y, mo)) throw invalid(`day ${d} does not exist in ${y}-${pad(mo)}`);
  if (h > 23) throw invalid(`hour ${h} is out of range 0-23`);
  if (mi > 59) throw invalid(`minute ${mi} is out of range 0-59`);
  if (s > 59) throw invalid(`second ${s} is out of range 0-59`);
  return { y, mo, d, h, mi, s };
}

function resolveAt(w: Wall, zone: IANAZone, timeZone: string): number {
  const exact = resolveWall(zone, w.y, w.mo, w.d, w.h, w.mi, w.s);
  if (exact !== undefined) return exact;
  // In a DST gap: luxon moves the wall time forward by the gap length.
  return DateTime.fromObject(
    { year: w.y, month: w.mo, day: w.d, hour: w.h, minute: w.mi, second: w.s },
    { zone: timeZone },
  ).toMillis();
}

// ---------------------------------------------------------------------------------------------
// rate()

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: DAY_MS } as const;

function parseRate(
  body: string,
  invalid: (reason: string) => ScheduleExpressionError,
): { value: number; unit: 'minutes' | 'hours' | 'days' } {
  const m = /^(\S+) (\S+)$/.exec(body);
  if (!m) throw invalid('rate() takes exactly "value unit", separated by one space');
  const [, rawValue = '', rawUnit = ''] = m;
  if (!/^\d+$/.test(rawValue)) throw invalid(`rate value '${rawValue}' is not a positive integer`);
  const value = Number(rawValue);
  if (value < 1 || !Number.isSafeInteger(value))
    throw invalid(`rate value ${rawValue} must be a positive integer`);
  const singular = { minute: 'minutes', hour: 'hours', day: 'days' } as const;
  const plural = ['minutes', 'hours', 'days'] as const;
  if (rawUnit in singular) {
    if (value !== 1)
      throw invalid(`unit '${rawUnit}' is singular; use '${rawUnit}s' with a value other than 1`);
    return { value, unit: singular[rawUnit as keyof typeof singular] };
  }
  if ((plural as readonly string[]).includes(rawUnit)) {
    if (value === 1) throw invalid(`with value 1 the unit must be singular ('${rawUnit.slice(0, -1)}')`);
    return { value, unit: rawUnit as (typeof plural)[number] };
  }
  throw invalid(`unit '${rawUnit}' is not one of minute|minutes|hour|hours|day|days`);
}

// ---------------------------------------------------------------------------------------------
// cron()

type DaySpec =
  | { type: 'any' }
  | { type: 'set'; values: ReadonlySet<number> }
  /** Day-of-month `L`. */
  | { type: 'lastDay' }
  /** Day-of-month `LW`. */
  | { type: 'lastWeekday' }
  /** Day-of-month `nW`. */
  | { type: 'nearestWeekday'; day: number }
  /** Day-of-week `nL`: the last such weekday of the month. */
  | { type: 'lastDow'; dow: number }
  /** Day-of-week `n#k`: the k-th such weekday of the month. */
  | { type: 'nthDow'; dow: number; nth: number };

interface Cron {
  minutes: readonly number[];
  hours: readonly number[];
  months: readonly number[];
  years: readonly number[];
  /** The field that is not `?`; `dayField` says which. */
  days: DaySpec;
  dayField: 'dom' | 'dow';
}

interface FieldDef {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS = {
  minutes: { label: 'minutes', min: 0, max: 59 },
  hours: { label: 'hours', min: 0, max: 23 },
  dom: { label: 'day-of-month', min: 1, max: 31 },
  month: { label: 'month', min: 1, max: 12, names: MONTH_NAMES },
  dow: { label: 'day-of-week', min: 1, max: 7, names: DAY_NAMES },
  year: { label: 'year', min: 1970, max: 2199 },
} satisfies Record<string, FieldDef>;

function parseCron(body: string, invalid: (reason: string) => ScheduleExpressionError): Cron {
  const parts = body.split(' ');
  if (parts.length !== 6 || parts.some((p) => p === '')) {
    throw invalid(
      'cron() takes six fields separated by single spaces: minutes hours day-of-month month day-of-week year',
    );
  }
  const [min = '', hour = '', dom = '', month = '', dow = '', year = ''] = parts.map((p) => p.toUpperCase());
  const field = (raw: string, def: FieldDef) => parseList(raw, def, invalid);

  const domQ = dom === '?';
  const dowQ = dow === '?';
  if (domQ === dowQ) {
    throw invalid(
      domQ
        ? 'day-of-month and day-of-week cannot both be ?'
        : 'one of day-of-month and day-of-week must be ? (they cannot both be specified)',
    );
  }
  if (min.includes('?') || hour.includes('?') || month.includes('?') || year.includes('?')) {
    throw invalid('? is only allowed in day-of-month or day-of-week');
  }
  const minutes = field(min, FIELDS.minutes);
  const hours = field(hour, FIELDS.hours);
  const months = field(month, FIELDS.month);
  const years = field(year, FIELDS.year);
  const days = domQ ? parseDow(dow, invalid) : parseDom(dom, invalid);
  return { minutes, hours, months, years, days, dayField: domQ ? 'dow' : 'dom' };
}

function parseDom(raw: string, invalid: (reason: string) => ScheduleExpressionError): DaySpec {
  if (raw === '*') return { type: 'any' };
  if (raw === 'L') return { type: 'lastDay' };
  if (raw === 'LW') return { type: 'lastWeekday' };
  const w = /^(\d{1,2})W$/.exec(raw);
  if (w) {
    const day = Number(w[1]);
    if (day < 1 || day > 31) throw invalid(`day-of-month: ${day}W is out of range 1-31`);
    return { type: 'nearestWeekday', day };
  }
  if (/[LW#]/.test(raw)) {
    throw invalid(`day-of-month: '${raw}' — L, LW and nW must stand alone (no lists, ranges or offsets)`);
  }
  return { type: 'set', values: new Set(parseList(raw, FIELDS.dom, invalid)) };
}

function parseDow(raw: string, invalid: (reason: string) => ScheduleExpressionError): DaySpec {
  if (raw === '*') return { type: 'any' };
  if (raw === 'L') return { type: 'set', values: new Set([7]) };
  const last = /^([A-Z]{3}|\d+)L$/.exec(raw);
  if (last) return { type: 'lastDow', dow: parseValue(last[1] ?? '', FIELDS.dow, invalid) };
  const nth = /^([A-Z]{3}|\d+)#(\d+)$/.exec(raw);
  if (nth) {
    const k = Number(nth[2]);
    if (k < 1 || k > 5) throw invalid(`day-of-week: '${raw}' — the # occurrence must be 1-5`);
    return { type: 'nthDow', dow: parseValue(nth[1] ?? '', FIELDS.dow, invalid), nth: k };
  }
  if (raw.includes('#')) {
    throw invalid(`day-of-week: '${raw}' — with # only one expression is allowed (e.g. 3#2, not 3#1,6#3)`);
  }
  if (raw.includes('L')) throw invalid(`day-of-week: '${raw}' — L must stand alone or follow one day (6L)`);
  if (raw.includes('/')) throw invalid(`day-of-week: '${raw}' — / is not allowed in day-of-week`);
  return { type: 'set', values: new Set(parseList(raw, FIELDS.dow, invalid)) };
}

/** Parses `*`, `a`, `a-b`, `a/s`, `*\/s`, `a-b/s` and comma lists into a sorted value list. */
function parseList(
  raw: string,
  def: FieldDef,
  invalid: (reason: string) => ScheduleExpressionError,
): number[] {
  const out = new Set<number>();
  for (const item of raw.split(',')) {
    if (item === '') throw invalid(`${def.label}: '${raw}' has an empty list item`);
    const [rangePart = '', stepPart, ...extra] = item.split('/');
    if (extra.length > 0) throw invalid(`${def.label}: '${item}' has more than one /`);
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart)) throw invalid(`${def.label}: step '${stepPart}' is not a number`);
      step = Number(stepPart);
      const span = def.max - def.min + 1;
      if (step < 1 || step > span) throw invalid(`${def.label}: step ${step} is out of range 1-${span}`);
    }
    let from: number;
    let to: number;
    if (rangePart === '*') {
      from = def.min;
      to = def.max;
    } else {
      const bounds = rangePart.split('-');
      if (bounds.length > 2) throw invalid(`${def.label}: '${item}' is not a valid range`);
      from = parseValue(bounds[0] ?? '', def, invalid);
      // `a/s` runs from a to the field's maximum.
      to =
        bounds[1] !== undefined
          ? parseValue(bounds[1], def, invalid)
          : stepPart !== undefined
            ? def.max
            : from;
    }
    // Ranges wrap as in Quartz: FRI-MON, 22-2.
    const length = to >= from ? to - from : to - from + (def.max - def.min + 1);
    for (let i = 0; i <= length; i += step)
      out.add(((from - def.min + i) % (def.max - def.min + 1)) + def.min);
  }
  return [...out].sort((a, b) => a - b);
}

function parseValue(
  raw: string,
  def: FieldDef,
  invalid: (reason: string) => ScheduleExpressionError,
): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n < def.min || n > def.max)
      throw invalid(`${def.label}: ${raw} is out of range ${def.min}-${def.max}`);
    return n;
  }
  const index = def.names?.indexOf(raw) ?? -1;
  if (index >= 0) return index + def.min;
  throw invalid(
    def.names
      ? `${def.label}: '${raw}' is neither ${def.min}-${def.max} nor one of ${def.names[0]}-${def.names.at(-1)}`
      : `${def.label}: '${raw}' is not a number in ${def.min}-${def.max}`,
  );
}

// ---------------------------------------------------------------------------------------------
// cron evaluation: step by fields (year → month → day → hour → minute), never minute by minute.

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** AWS numbering: 1 = SUN … 7 = SAT. */
function dayOfWeek(y: number, mo: number, d: number): number {
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay() + 1;
}

function matchingDays(cron: Cron, y: number, mo: number): number[] {
  const dim = daysInMonth(y, mo);
  const all = Array.from({ length: dim }, (_, i) => i + 1);
  const spec = cron.days;
  switch (spec.type) {
    case 'any':
      return all;
    case 'set':
      return cron.dayField === 'dom'
        ? all.filter((d) => spec.values.has(d))
        : all.filter((d) => spec.values.has(dayOfWeek(y, mo, d)));
    case 'lastDay':
      return [dim];
    case 'lastWeekday': {
      const dow = dayOfWeek(y, mo, dim);
      return [dow === 7 ? dim - 1 : dow === 1 ? dim - 2 : dim];
    }
    case 'nearestWeekday': {
      if (spec.day > dim) return [];
      const dow = dayOfWeek(y, mo, spec.day);
      // Never crosses into another month: 1W on a Saturday is Monday the 3rd.
      if (dow === 7) return [spec.day === 1 ? 3 : spec.day - 1];
      if (dow === 1) return [spec.day === dim ? spec.day - 2 : spec.day + 1];
      return [spec.day];
    }
    case 'lastDow': {
      const shift = (dayOfWeek(y, mo, dim) - spec.dow + 7) % 7;
      return [dim - shift];
    }
    case 'nthDow': {
      const first = 1 + ((spec.dow - dayOfWeek(y, mo, 1) + 7) % 7);
      const day = first + (spec.nth - 1) * 7;
      return day <= dim ? [day] : [];
    }
  }
}

function nextCron(cron: Cron, zone: IANAZone, after: Date): Date | undefined {
  const afterMs = after.getTime();
  const local = DateTime.fromMillis(afterMs, { zone });
  const { year: sy, month: sm, day: sd, hour: sh } = local;
  // Wall time → earliest instant is monotonic, so wall times before `after`'s own wall time
  // can never be later than `after`: start the walk at its local date and hour.
  for (const y of cron.years) {
    if (y < sy) continue;
    for (const mo of cron.months) {
      if (y === sy && mo < sm) continue;
      for (const d of matchingDays(cron, y, mo)) {
        const startDay = y === sy && mo === sm;
        if (startDay && d < sd) continue;
        for (const h of cron.hours) {
          if (startDay && d === sd && h < sh) continue;
          for (const mi of cron.minutes) {
            const ts = resolveWall(zone, y, mo, d, h, mi);
            // undefined: the wall time falls in a DST gap, and AWS skips that invocation.
            if (ts !== undefined && ts > afterMs) return new Date(ts);
          }
        }
      }
    }
  }
  return undefined;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
