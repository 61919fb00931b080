import { describe, expect, it } from 'vitest';
import {
  type ParsedSchedule,
  parseScheduleExpression,
  ScheduleExpressionError,
} from '../../infra/local/schedule-expression';

const utc = (iso: string) => new Date(iso);

/** Successive fire times after `from`. */
function fires(schedule: ParsedSchedule, from: string, count: number): string[] {
  const out: string[] = [];
  let at = utc(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.nextAfter(at);
    if (!next) break;
    out.push(next.toISOString());
    at = next;
  }
  return out;
}

function rejection(expression: string, timeZone?: string): ScheduleExpressionError {
  try {
    parseScheduleExpression(expression, timeZone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) return error;
    throw error;
  }
  throw new Error(`expected ${expression} to be rejected`);
}

describe('valid expressions', () => {
  it.each([
    ['at(2026-03-02T08:00:00)', 'at'],
    ['at(2028-02-29T23:59:59)', 'at'],
    ['rate(1 minute)', 'rate'],
    ['rate(5 minutes)', 'rate'],
    ['rate(1 hour)', 'rate'],
    ['rate(12 hours)', 'rate'],
    ['rate(1 day)', 'rate'],
    ['rate(7 days)', 'rate'],
    ['cron(0 10 * * ? *)', 'cron'],
    ['cron(15 12 * * ? *)', 'cron'],
    ['cron(0 18 ? * MON-FRI *)', 'cron'],
    ['cron(0 8 1 * ? *)', 'cron'],
    ['cron(0/15 10-16 ? * MON-FRI *)', 'cron'],
    ['cron(0/5 8-17 ? * MON-FRI *)', 'cron'],
    ['cron(0 9 ? JAN,FEB,MAR 2-6 2026-2030)', 'cron'],
    ['cron(*/10 * * * ? *)', 'cron'],
    ['cron(0 12 L * ? *)', 'cron'],
    ['cron(0 12 LW * ? *)', 'cron'],
    ['cron(0 12 15W * ? *)', 'cron'],
    ['cron(0 12 ? * 6L *)', 'cron'],
    ['cron(0 12 ? * L *)', 'cron'],
    ['cron(0 10 ? * 3#2 *)', 'cron'],
    ['cron(0 10 ? * TUE#2 *)', 'cron'],
    ['cron(0 22-2 ? * FRI-MON *)', 'cron'],
    ['cron(0 9 ? * mon-fri *)', 'cron'],
  ])('%s parses as %s', (expression, kind) => {
    const parsed = parseScheduleExpression(expression, 'Europe/Berlin');
    expect(parsed.kind).toBe(kind);
    expect(parsed.expression).toBe(expression);
    expect(parsed.timeZone).toBe('Europe/Berlin');
  });
});

describe('invalid expressions are a ValidationException with AWS wording and a reason', () => {
  it.each([
    // general shape (the first eight are cases LocalStack recorded against AWS)
    ['cron(0 1 * * * *)', /one of day-of-month and day-of-week must be \?/],
    ['cron(7 20 * * NOT *)', /one of day-of-month and day-of-week must be \?/],
    ['cron(7 20 ? * NOT *)', /day-of-week: 'NOT' is neither 1-7 nor one of SUN-SAT/],
    ['cron(INVALID)', /six fields/],
    ['cron(0 dummy ? * MON-FRI *)', /hours: 'DUMMY' is not a number in 0-23/],
    ['cron(71 8 1 * ? *)', /minutes: 71 is out of range 0-59/],
    ['cron()', /six fields/],
    ['rate(10 seconds)', /unit 'seconds' is not one of/],
    ['rate(10 years)', /unit 'years' is not one of/],
    ['rate()', /exactly "value unit"/],
    ['rate(10)', /exactly "value unit"/],
    ['rate(10 minutess)', /unit 'minutess'/],
    ['rate(foo minutes)', /'foo' is not a positive integer/],
    ['rate(-10 minutes)', /'-10' is not a positive integer/],
    ['rate( 10 minutes )', /exactly "value unit"/],
    [' rate(10 minutes)', /expected at\(\.\.\.\), rate\(\.\.\.\) or cron\(\.\.\.\)/],
    ['at(2021-12-31T23:59:59Z)', /yyyy-mm-ddThh:mm:ss/],
    ['at(2021-12-31)', /yyyy-mm-ddThh:mm:ss/],
    // rate specifics
    ['rate(0 minutes)', /must be a positive integer/],
    ['rate(1 minutes)', /with value 1 the unit must be singular \('minute'\)/],
    ['rate(5 minute)', /'minute' is singular/],
    ['rate(2 day)', /'day' is singular/],
    ['rate(1.5 hours)', /'1.5' is not a positive integer/],
    ['RATE(5 minutes)', /expected at/],
    // at specifics
    ['at(2026-02-30T10:00:00)', /day 30 does not exist in 2026-02/],
    ['at(2026-13-01T10:00:00)', /month 13 is out of range/],
    ['at(2026-01-01T24:00:00)', /hour 24 is out of range/],
    ['at(2026-01-01T10:60:00)', /minute 60 is out of range/],
    ['at(2026-01-01T10:00:00.000)', /yyyy-mm-ddThh:mm:ss/],
    ['at(2026-01-01 10:00:00)', /yyyy-mm-ddThh:mm:ss/],
    // cron specifics
    ['cron(0 9 * * ?)', /six fields/],
    ['cron(0 9 * * ? * *)', /six fields/],
    ['cron(0  9 * * ? *)', /six fields/],
    ['cron(0 9 ? * ? *)', /cannot both be \?/],
    ['cron(0 9 1 * MON *)', /must be \?/],
    ['cron(0 24 * * ? *)', /hours: 24 is out of range 0-23/],
    ['cron(0 9 32 * ? *)', /day-of-month: 32 is out of range 1-31/],
    ['cron(0 9 0 * ? *)', /day-of-month: 0 is out of range 1-31/],
    ['cron(0 9 * 13 ? *)', /month: 13 is out of range 1-12/],
    ['cron(0 9 * FOO ? *)', /month: 'FOO' is neither 1-12 nor one of JAN-DEC/],
    ['cron(0 9 ? * 8 *)', /day-of-week: 8 is out of range 1-7/],
    ['cron(0 9 ? * 0 *)', /day-of-week: 0 is out of range 1-7/],
    ['cron(0 9 ? * JAN *)', /day-of-week: 'JAN'/],
    ['cron(0 9 * * ? 1969)', /year: 1969 is out of range 1970-2199/],
    ['cron(0 9 * * ? 2200)', /year: 2200 is out of range 1970-2199/],
    ['cron(0 9 ? * 3#1,6#3 *)', /only one expression is allowed/],
    ['cron(0 9 ? * 3#6 *)', /# occurrence must be 1-5/],
    ['cron(0 9 L,15 * ? *)', /must stand alone/],
    ['cron(0 9 32W * ? *)', /32W is out of range/],
    ['cron(0 9 ? * 1-5/2 *)', /\/ is not allowed in day-of-week/],
    ['cron(0/0 9 * * ? *)', /minutes: step 0 is out of range 1-60/],
    ['cron(0/61 9 * * ? *)', /minutes: step 61 is out of range/],
    ['cron(0 9,,10 * * ? *)', /empty list item/],
    ['cron(0 1-2-3 * * ? *)', /not a valid range/],
    ['cron(? 9 * * ? *)', /\? is only allowed in day-of-month or day-of-week/],
    ['cron(0 9 * * ? *', /expected at/],
  ])('%s', (expression, reason) => {
    const error = rejection(expression);
    expect(error.name).toBe('ValidationException');
    expect(error.parameter).toBe('ScheduleExpression');
    expect(error.message).toBe(`Invalid Schedule Expression ${expression}.`);
    expect(error.reason).toMatch(reason);
  });
});

describe('time zones', () => {
  it.each(['Mars/Olympus', '', 'Asia/Shanghia', '+08:00'])(
    'rejects %j as ScheduleExpressionTimezone',
    (tz) => {
      for (const expression of ['rate(5 minutes)', 'at(2026-03-02T08:00:00)', 'cron(0 9 * * ? *)']) {
        const error = rejection(expression, tz);
        expect(error).toBeInstanceOf(ScheduleExpressionError);
        expect(error.name).toBe('ValidationException');
        expect(error.parameter).toBe('ScheduleExpressionTimezone');
        expect(error.value).toBe(tz);
        expect(error.message).toBe(`Invalid ScheduleExpressionTimezone ${tz}.`);
      }
    },
  );

  it('reports the expression before the time zone when both are wrong', () => {
    expect(rejection('rate(5 fortnights)', 'Mars/Olympus').parameter).toBe('ScheduleExpression');
  });
});

describe('at()', () => {
  it('is a wall time in the time zone: Asia/Shanghai is UTC+8', () => {
    const s = parseScheduleExpression('at(2026-05-01T09:00:00)', 'Asia/Shanghai');
    expect(s.kind === 'at' && s.at.toISOString()).toBe('2026-05-01T01:00:00.000Z');
    expect(s.nextAfter(utc('2026-05-01T00:59:59.999Z'))?.toISOString()).toBe('2026-05-01T01:00:00.000Z');
    expect(s.nextAfter(utc('2026-05-01T01:00:00.000Z'))).toBeUndefined();
    expect(s.nextAfter(utc('2026-06-01T00:00:00.000Z'))).toBeUndefined();
  });

  it('defaults to UTC', () => {
    const s = parseScheduleExpression('at(2026-05-01T09:00:00)');
    expect(s.nextAfter(utc('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-05-01T09:00:00.000Z');
  });

  it('moves a wall time in the spring-forward gap forward, and takes the first of a repeated one', () => {
    const gap = parseScheduleExpression('at(2026-03-08T02:30:00)', 'America/New_York');
    expect(gap.nextAfter(utc('2026-03-01T00:00:00Z'))?.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    const overlap = parseScheduleExpression('at(2026-11-01T01:30:00)', 'America/New_York');
    expect(overlap.nextAfter(utc('2026-10-01T00:00:00Z'))?.toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('rate()', () => {
  it('rate(5 minutes) fires at its start and then every five minutes', () => {
    const s = parseScheduleExpression('rate(5 minutes)', 'UTC', { start: utc('2026-03-02T08:00:00Z') });
    expect(s.kind === 'rate' && s.intervalMs).toBe(300_000);
    expect(fires(s, '2026-03-02T07:00:00Z', 4)).toEqual([
      '2026-03-02T08:00:00.000Z',
      '2026-03-02T08:05:00.000Z',
      '2026-03-02T08:10:00.000Z',
      '2026-03-02T08:15:00.000Z',
    ]);
    expect(s.nextAfter(utc('2026-03-02T08:07:30Z'))?.toISOString()).toBe('2026-03-02T08:10:00.000Z');
    expect(s.nextAfter(utc('2026-03-02T08:10:00Z'))?.toISOString()).toBe('2026-03-02T08:15:00.000Z');
  });

  it('starts at the creation time when no start is given', () => {
    const s = parseScheduleExpression('rate(1 hour)', 'UTC', { now: () => utc('2026-03-02T08:00:20Z') });
    expect(fires(s, '2026-03-02T08:00:00Z', 2)).toEqual([
      '2026-03-02T08:00:20.000Z',
      '2026-03-02T09:00:20.000Z',
    ]);
  });

  it('counts days as 24 hours, also across a DST change', () => {
    const s = parseScheduleExpression('rate(1 day)', 'America/New_York', {
      start: utc('2026-03-07T14:00:00Z'),
    });
    expect(fires(s, '2026-03-07T13:00:00Z', 3)).toEqual([
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T14:00:00.000Z',
      '2026-03-09T14:00:00.000Z',
    ]);
  });
});

describe('cron()', () => {
  it('cron(0 9 ? * MON-FRI *) in Asia/Shanghai fires at 09:00 local on the next weekday', () => {
    const s = parseScheduleExpression('cron(0 9 ? * MON-FRI *)', 'Asia/Shanghai');
    // Friday 2026-03-06 08:30 in Shanghai: today at 09:00.
    expect(s.nextAfter(utc('2026-03-06T00:30:00Z'))?.toISOString()).toBe('2026-03-06T01:00:00.000Z');
    // Friday 10:00 in Shanghai: Monday 2026-03-09 09:00.
    expect(s.nextAfter(utc('2026-03-06T02:00:00Z'))?.toISOString()).toBe('2026-03-09T01:00:00.000Z');
    // Exactly at a fire time: strictly after, so the next day.
    expect(s.nextAfter(utc('2026-03-09T01:00:00Z'))?.toISOString()).toBe('2026-03-10T01:00:00.000Z');
    // Sunday 23:30 UTC is already Monday 07:30 in Shanghai.
    expect(s.nextAfter(utc('2026-03-08T23:30:00Z'))?.toISOString()).toBe('2026-03-09T01:00:00.000Z');
  });

  it('steps and ranges', () => {
    const s = parseScheduleExpression('cron(0/20 10-11 * * ? *)');
    expect(fires(s, '2026-03-02T10:30:00Z', 5)).toEqual([
      '2026-03-02T10:40:00.000Z',
      '2026-03-02T11:00:00.000Z',
      '2026-03-02T11:20:00.000Z',
      '2026-03-02T11:40:00.000Z',
      '2026-03-03T10:00:00.000Z',
    ]);
  });

  it('L in day-of-month is the last day of the month', () => {
    const s = parseScheduleExpression('cron(0 12 L * ? *)');
    expect(fires(s, '2026-02-10T00:00:00Z', 2)).toEqual([
      '2026-02-28T12:00:00.000Z',
      '2026-03-31T12:00:00.000Z',
    ]);
    expect(s.nextAfter(utc('2028-02-01T00:00:00Z'))?.toISOString()).toBe('2028-02-29T12:00:00.000Z');
  });

  it('W is the nearest weekday within the month; LW the last weekday', () => {
    // 2026-08-01 is a Saturday: 1W is Monday the 3rd (not Friday in July).
    const first = parseScheduleExpression('cron(0 12 1W * ? *)');
    expect(first.nextAfter(utc('2026-07-15T00:00:00Z'))?.toISOString()).toBe('2026-08-03T12:00:00.000Z');
    // 2026-11-15 is a Sunday: 15W is Monday the 16th; 2026-08-15 is a Saturday: Friday the 14th.
    const mid = parseScheduleExpression('cron(0 12 15W * ? *)');
    expect(mid.nextAfter(utc('2026-11-01T00:00:00Z'))?.toISOString()).toBe('2026-11-16T12:00:00.000Z');
    expect(mid.nextAfter(utc('2026-08-01T00:00:00Z'))?.toISOString()).toBe('2026-08-14T12:00:00.000Z');
    // 2026-02-28 is a Saturday: the last weekday is Friday the 27th.
    const lw = parseScheduleExpression('cron(0 12 LW * ? *)');
    expect(lw.nextAfter(utc('2026-02-01T00:00:00Z'))?.toISOString()).toBe('2026-02-27T12:00:00.000Z');
  });

  it('# is the n-th weekday of the month, nL the last one', () => {
    const secondTuesday = parseScheduleExpression('cron(0 10 ? * 3#2 *)');
    expect(fires(secondTuesday, '2026-03-01T00:00:00Z', 2)).toEqual([
      '2026-03-10T10:00:00.000Z',
      '2026-04-14T10:00:00.000Z',
    ]);
    // A fifth Monday exists in March and June 2026, not in April or May.
    const fifthMonday = parseScheduleExpression('cron(0 10 ? * MON#5 *)');
    expect(fires(fifthMonday, '2026-03-01T00:00:00Z', 2)).toEqual([
      '2026-03-30T10:00:00.000Z',
      '2026-06-29T10:00:00.000Z',
    ]);
    const lastFriday = parseScheduleExpression('cron(0 10 ? * 6L *)');
    expect(lastFriday.nextAfter(utc('2026-03-01T00:00:00Z'))?.toISOString()).toBe('2026-03-27T10:00:00.000Z');
  });

  it('skips a wall time that does not exist (spring forward, America/New_York)', () => {
    const daily = parseScheduleExpression('cron(30 2 * * ? *)', 'America/New_York');
    // 2026-03-08 02:30 does not exist: the next invocation after the 7th is on the 9th (EDT).
    expect(fires(daily, '2026-03-07T12:00:00Z', 2)).toEqual([
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
    const hourly = parseScheduleExpression('cron(30 * * * ? *)', 'America/New_York');
    expect(fires(hourly, '2026-03-08T06:00:00Z', 2)).toEqual([
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:30:00.000Z', // 03:30 EDT; 02:30 skipped
    ]);
  });

  it('fires a repeated wall time once (fall back, America/New_York)', () => {
    const daily = parseScheduleExpression('cron(30 1 * * ? *)', 'America/New_York');
    expect(fires(daily, '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first occurrence
      '2026-11-02T06:30:00.000Z', // not 01:30 EST on the 1st
    ]);
    const hourly = parseScheduleExpression('cron(30 * * * ? *)', 'America/New_York');
    expect(fires(hourly, '2026-11-01T04:00:00Z', 3)).toEqual([
      '2026-11-01T04:30:00.000Z', // 00:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T07:30:00.000Z', // 02:30 EST; 01:30 EST is not repeated
    ]);
  });

  it('returns undefined when it never fires again, without walking minute by minute', () => {
    const feb30 = parseScheduleExpression('cron(* * 30 2 ? *)');
    const started = performance.now();
    expect(feb30.nextAfter(utc('2026-01-01T00:00:00Z'))).toBeUndefined();
    const past = parseScheduleExpression('cron(0 9 * * ? 2020)');
    expect(past.nextAfter(utc('2026-01-01T00:00:00Z'))).toBeUndefined();
    const far = parseScheduleExpression('cron(0 0 1 1 ? 2199)');
    expect(far.nextAfter(utc('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2199-01-01T00:00:00.000Z');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('every minute is cheap too', () => {
    const s = parseScheduleExpression('cron(* * * * ? *)', 'Europe/Berlin');
    expect(fires(s, '2026-03-29T00:58:30Z', 3)).toEqual([
      '2026-03-29T00:59:00.000Z',
      '2026-03-29T01:00:00.000Z', // 02:00 CET does not exist; 03:00 CEST is the next wall minute
      '2026-03-29T01:01:00.000Z',
    ]);
  });

  it('wrapping ranges: FRI-MON and 22-2', () => {
    const s = parseScheduleExpression('cron(0 22-2 ? * FRI-MON *)');
    // Thursday 2026-03-05 → Friday 22:00.
    expect(fires(s, '2026-03-05T12:00:00Z', 6)).toEqual([
      '2026-03-06T00:00:00.000Z', // Friday 00:00
      '2026-03-06T01:00:00.000Z',
      '2026-03-06T02:00:00.000Z',
      '2026-03-06T22:00:00.000Z',
      '2026-03-06T23:00:00.000Z',
      '2026-03-07T00:00:00.000Z',
    ]);
  });
});
