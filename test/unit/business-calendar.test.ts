import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import chineseDays from 'chinese-days';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { loadPolicyFile } from '../../shared/policy/load';
import { type Calendar, CalendarSchema, type Duration } from '../../shared/policy/schema';

const requireJson = createRequire(import.meta.url);
const policy = loadPolicyFile(fileURLToPath(new URL('../../policy/default-policy.json', import.meta.url)));
/** Default policy: Asia/Shanghai, Mon–Fri, 09:00–12:00 and 13:00–18:00, cn-official holidays. */
const china = new BusinessCalendar(policy.calendar);

const calendarOf = (c: Partial<Calendar>): BusinessCalendar =>
  new BusinessCalendar(CalendarSchema.parse({ ...policy.calendar, ...c }));

/** New York, Mon–Fri 09:00–17:00, no public holidays. */
const newYork = calendarOf({
  timeZone: 'America/New_York',
  workingHours: [{ start: '09:00', end: '17:00' }],
  holidays: 'none',
});

const workingHours = (value: number): Duration => ({ value, unit: 'hours', time: 'working' });
const workingDays = (value: number): Duration => ({ value, unit: 'days', time: 'working' });
const at = (iso: string): Date => new Date(iso);
const iso = (d: Date): string => d.toISOString();

/** Deterministic PRNG (mulberry32) so the property tests are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('BusinessCalendar working days', () => {
  it('follows the ordinary week and the official 2026 schedule', () => {
    expect(china.isWorkingDay('2026-11-23')).toBe(true); // Monday
    expect(china.isWorkingDay('2026-11-21')).toBe(false); // Saturday
    expect(china.isWorkingDay('2026-11-22')).toBe(false); // Sunday
    // National Day: Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 are make-up working days.
    for (const d of ['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']) {
      expect(china.isWorkingDay(d), d).toBe(false);
    }
    expect(china.isWorkingDay('2026-09-20')).toBe(true);
    expect(china.isWorkingDay('2026-10-10')).toBe(true);
    expect(china.isWorkingDay('2026-10-08')).toBe(true);
    // Spring Festival: Feb 15–23 off; Saturdays Feb 14 and Feb 28 are make-up working days.
    expect(china.isWorkingDay('2026-02-16')).toBe(false);
    expect(china.isWorkingDay('2026-02-23')).toBe(false); // a Monday, still a holiday
    expect(china.isWorkingDay('2026-02-14')).toBe(true);
    expect(china.isWorkingDay('2026-02-28')).toBe(true);
    expect(china.isWorkingDay('2026-02-24')).toBe(true);
  });

  it('agrees with the published 2025 and 2026 schedules of chinese-days on every day', () => {
    // The package's per-year files are a separate artefact from the combined data file the
    // calendar reads. Its rule (isWorkday): listed make-up day → work, listed holiday → off,
    // otherwise Monday–Friday.
    const mismatches: string[] = [];
    for (const year of [2025, 2026]) {
      const published = requireJson(`chinese-days/dist/years/${year}.json`) as {
        holidays: Record<string, string>;
        workdays: Record<string, string>;
      };
      for (let t = Date.UTC(year, 0, 1); t <= Date.UTC(year, 11, 31); t += 86_400_000) {
        const date = new Date(t).toISOString().slice(0, 10);
        const weekday = new Date(t).getUTCDay();
        const expected =
          date in published.workdays || (weekday >= 1 && weekday <= 5 && !(date in published.holidays));
        if (china.isWorkingDay(date) !== expected) mismatches.push(date);
        // isWorkday itself misreads its own table west of UTC (chinese-days 1.5.7), so it is
        // only a reference where the process zone is UTC or east of it (CI, Lambda, China).
        if (new Date(t).getTimezoneOffset() <= 0) {
          const local = new Date(year, new Date(t).getUTCMonth(), new Date(t).getUTCDate(), 12);
          if (china.isWorkingDay(date) !== chineseDays.isWorkday(local))
            mismatches.push(`${date} (isWorkday)`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('reports official coverage and falls back to workingDays for years without data', () => {
    expect(china.coverage(2026)).toBe('official');
    expect(china.coverage(2099)).toBe('weekdays-only');
    expect(calendarOf({ holidays: 'none' }).coverage(2026)).toBe('weekdays-only');
    // 2099-01-01 is a Thursday; without data it is an ordinary working day.
    expect(china.isWorkingDay('2099-01-01')).toBe(true);
    // A six-day week is honoured where the schedule says nothing…
    const sixDays = calendarOf({ workingDays: [1, 2, 3, 4, 5, 6] });
    expect(sixDays.isWorkingDay('2099-01-03')).toBe(true); // Saturday
    expect(sixDays.isWorkingDay('2099-01-04')).toBe(false); // Sunday
    expect(sixDays.isWorkingDay('2026-11-21')).toBe(true); // Saturday
    // …but an official holiday falling on a Saturday stays a holiday.
    expect(sixDays.isWorkingDay('2026-10-03')).toBe(false);
  });

  it('lets extraWorkdays and extraHolidays override the schedule and the week', () => {
    const overridden = calendarOf({
      extraHolidays: ['2026-11-23', '2026-12-31'],
      extraWorkdays: ['2026-10-05', '2026-11-22'],
    });
    expect(overridden.isWorkingDay('2026-11-23')).toBe(false); // Monday made a holiday
    expect(overridden.isWorkingDay('2026-10-05')).toBe(true); // official holiday made a working day
    expect(overridden.isWorkingDay('2026-11-22')).toBe(true); // Sunday made a working day
    expect(overridden.isWorkingDay('2026-12-31')).toBe(false);
    // With holidays "none" the official schedule is ignored entirely.
    const plain = calendarOf({ holidays: 'none', extraHolidays: ['2026-11-24'] });
    expect(plain.isWorkingDay('2026-10-01')).toBe(true); // a Thursday
    expect(plain.isWorkingDay('2026-10-10')).toBe(false); // a Saturday
    expect(plain.isWorkingDay('2026-11-24')).toBe(false);
    // Working-time sums honour both lists. Fri Nov 20 17:00–18:00 (1 h), Sat off, then the
    // extra working Sunday Nov 22 09:00–10:00.
    expect(iso(overridden.add(at('2026-11-20T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-22T10:00:00+08:00')),
    );
    // Sun Nov 22 17:00–18:00 (1 h), the extra holiday Mon Nov 23 is skipped, Tue 09:00–10:00.
    expect(iso(overridden.add(at('2026-11-22T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-24T10:00:00+08:00')),
    );
  });

  it('rejects malformed dates', () => {
    expect(() => china.isWorkingDay('2026-2-1')).toThrow(RangeError);
    expect(() => china.isWorkingDay('2026-02-30')).toThrow(RangeError);
  });
});

describe('BusinessCalendar working-time arithmetic (Asia/Shanghai, 09–12 + 13–18)', () => {
  it('adds within a morning', () => {
    expect(iso(china.add(at('2026-11-23T09:30:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-23T11:30:00+08:00')),
    );
  });

  it('ends at the window end rather than at the next window start', () => {
    expect(iso(china.add(at('2026-11-23T10:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-23T12:00:00+08:00')),
    );
  });

  it('skips the lunch break', () => {
    // 11:00–12:00 is one hour; the second starts at 13:00.
    expect(iso(china.add(at('2026-11-23T11:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-23T14:00:00+08:00')),
    );
    // A start during lunch begins at 13:00.
    expect(
      iso(china.add(at('2026-11-23T12:30:00+08:00'), { value: 30, unit: 'minutes', time: 'working' })),
    ).toBe(iso(at('2026-11-23T13:30:00+08:00')));
  });

  it('carries over night', () => {
    // 17:00–18:00 Monday, then 09:00–10:00 Tuesday.
    expect(iso(china.add(at('2026-11-23T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-11-24T10:00:00+08:00')),
    );
    // A start in the evening begins the next morning.
    expect(iso(china.add(at('2026-11-23T20:00:00+08:00'), workingHours(1)))).toBe(
      iso(at('2026-11-24T10:00:00+08:00')),
    );
    expect(
      iso(china.add(at('2026-11-24T02:00:00+08:00'), { value: 90, unit: 'seconds', time: 'working' })),
    ).toBe(iso(at('2026-11-24T09:01:30+08:00')));
  });

  it('lands a 12-working-hour target started Friday 16:00 on Tuesday', () => {
    // Fri 16:00–18:00 = 2 h (10 left); Mon 09–12 + 13–18 = 8 h (2 left); Tue 09:00–11:00.
    expect(iso(china.add(at('2026-11-20T16:00:00+08:00'), workingHours(12)))).toBe(
      iso(at('2026-11-24T11:00:00+08:00')),
    );
  });

  it('skips the 2026 National Day holidays', () => {
    // Wed 2026-09-30 17:00–18:00 = 1 h (1 left). Oct 1–7 are holidays (the weekend Oct 3–4
    // is inside them). Thu Oct 8 is an ordinary working day: 09:00–10:00 → 10:00.
    expect(iso(china.add(at('2026-09-30T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-10-08T10:00:00+08:00')),
    );
    expect(
      china.workingSecondsBetween(at('2026-09-30T17:00:00+08:00'), at('2026-10-08T10:00:00+08:00')),
    ).toBe(7200);
  });

  it('counts the make-up working days of National Day', () => {
    // Saturday Oct 10 is a working day: 09:00 + 3 h = 12:00 the same day.
    expect(iso(china.add(at('2026-10-10T09:00:00+08:00'), workingHours(3)))).toBe(
      iso(at('2026-10-10T12:00:00+08:00')),
    );
    // Fri Oct 9 17:00–18:00 (1 h), then Sat Oct 10 09:00–10:00.
    expect(iso(china.add(at('2026-10-09T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-10-10T10:00:00+08:00')),
    );
    // Saturday Sep 19 is off; Sunday Sep 20 is a make-up working day starting at 09:00.
    expect(iso(china.nextWorkingMoment(at('2026-09-19T15:00:00+08:00')))).toBe(
      iso(at('2026-09-20T09:00:00+08:00')),
    );
  });

  it('skips the 2026 Spring Festival and counts its make-up Saturdays', () => {
    // Fri Feb 13 17:00–18:00, then make-up Sat Feb 14 09:00–10:00.
    expect(iso(china.add(at('2026-02-13T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-02-14T10:00:00+08:00')),
    );
    // Sat Feb 14 17:00–18:00, then Feb 15–23 off, then Tue Feb 24 09:00–10:00.
    expect(iso(china.add(at('2026-02-14T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-02-24T10:00:00+08:00')),
    );
    // Fri Feb 27 17:00–18:00, then make-up Sat Feb 28 09:00–10:00.
    expect(iso(china.add(at('2026-02-27T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-02-28T10:00:00+08:00')),
    );
    // Sat Feb 28 17:00–18:00, Sunday Mar 1 is off, Mon Mar 2 09:00–10:00.
    expect(iso(china.add(at('2026-02-28T17:00:00+08:00'), workingHours(2)))).toBe(
      iso(at('2026-03-02T10:00:00+08:00')),
    );
  });

  it('adds working days at the same local time of day', () => {
    expect(iso(china.add(at('2026-11-23T10:15:00+08:00'), workingDays(1)))).toBe(
      iso(at('2026-11-24T10:15:00+08:00')),
    );
    // Friday → Monday.
    expect(iso(china.add(at('2026-11-20T16:00:00+08:00'), workingDays(1)))).toBe(
      iso(at('2026-11-23T16:00:00+08:00')),
    );
    // Wed Sep 30 → the next working day is Thu Oct 8.
    expect(iso(china.add(at('2026-09-30T10:00:00+08:00'), workingDays(1)))).toBe(
      iso(at('2026-10-08T10:00:00+08:00')),
    );
    // Mon Sep 28 + 5: Tue 29, Wed 30, Thu Oct 8, Fri Oct 9, Sat Oct 10 (make-up day).
    expect(iso(china.add(at('2026-09-28T10:00:00+08:00'), workingDays(5)))).toBe(
      iso(at('2026-10-10T10:00:00+08:00')),
    );
    // A start outside working hours first moves to the next working moment (Tue 09:00).
    expect(iso(china.add(at('2026-11-23T19:00:00+08:00'), workingDays(1)))).toBe(
      iso(at('2026-11-25T09:00:00+08:00')),
    );
    // Half a day is half of the 8 nominal working hours.
    expect(iso(china.add(at('2026-11-23T09:00:00+08:00'), workingDays(1.5)))).toBe(
      iso(at('2026-11-24T14:00:00+08:00')),
    );
  });

  it('ignores holidays and working hours for calendar time', () => {
    const start = at('2026-09-30T17:00:00+08:00');
    expect(iso(china.add(start, { value: 24, unit: 'hours', time: 'calendar' }))).toBe(
      iso(at('2026-10-01T17:00:00+08:00')),
    );
    expect(iso(china.add(start, { value: 7, unit: 'days', time: 'calendar' }))).toBe(
      iso(at('2026-10-07T17:00:00+08:00')),
    );
    expect(iso(china.add(start, { value: 15, unit: 'minutes', time: 'calendar' }))).toBe(
      iso(at('2026-09-30T17:15:00+08:00')),
    );
    expect(iso(china.add(start, { value: 0, unit: 'minutes', time: 'calendar' }))).toBe(iso(start));
  });

  it('measures working seconds between two instants', () => {
    // Mon 09:00 → Fri 18:00 is five full days of 8 h.
    expect(
      china.workingSecondsBetween(at('2026-11-23T09:00:00+08:00'), at('2026-11-27T18:00:00+08:00')),
    ).toBe(5 * 8 * 3600);
    // Lunch does not count.
    expect(
      china.workingSecondsBetween(at('2026-11-23T11:30:00+08:00'), at('2026-11-23T13:30:00+08:00')),
    ).toBe(3600);
    // Reversed order is negative; identical instants are zero.
    expect(
      china.workingSecondsBetween(at('2026-11-23T13:30:00+08:00'), at('2026-11-23T11:30:00+08:00')),
    ).toBe(-3600);
    expect(
      china.workingSecondsBetween(at('2026-11-23T20:00:00+08:00'), at('2026-11-23T23:00:00+08:00')),
    ).toBe(0);
  });

  it('is the exact inverse of add on many random starts and amounts', () => {
    const random = mulberry32(20_261_001);
    const from = Date.UTC(2025, 11, 1);
    const span = Date.UTC(2027, 2, 1) - from; // runs past the end of the package's data on purpose
    for (const calendar of [china, newYork]) {
      for (let i = 0; i < 300; i++) {
        const start = new Date(from + Math.floor(random() * span));
        const seconds = Math.floor(random() * 120 * 3600);
        const end = calendar.add(start, { value: seconds, unit: 'seconds', time: 'working' });
        expect(calendar.workingSecondsBetween(start, end), `${iso(start)} + ${seconds}s`).toBe(seconds);
        expect(end.getTime()).toBeGreaterThanOrEqual(start.getTime());
        // …and the other way round: adding the working time between a and b reaches b
        // (or an earlier instant with no working time in between, e.g. 12:00 for 13:00).
        const b = new Date(start.getTime() + Math.floor(random() * 14 * 86_400_000));
        const reached = calendar.add(start, {
          value: calendar.workingSecondsBetween(start, b),
          unit: 'seconds',
          time: 'working',
        });
        expect(reached.getTime()).toBeLessThanOrEqual(
          Math.max(b.getTime(), calendar.nextWorkingMoment(start).getTime()),
        );
        expect(calendar.workingSecondsBetween(reached, b)).toBe(0);
        const bInsideWindow = calendar.isWorkingTime(b) && calendar.isWorkingTime(new Date(b.getTime() - 1));
        if (bInsideWindow && b.getTime() > calendar.nextWorkingMoment(start).getTime()) {
          expect(iso(reached)).toBe(iso(b));
        }
      }
    }
  });

  it('finds the next working moment', () => {
    expect(iso(china.nextWorkingMoment(at('2026-11-23T10:00:00+08:00')))).toBe(
      iso(at('2026-11-23T10:00:00+08:00')),
    );
    expect(iso(china.nextWorkingMoment(at('2026-11-23T12:00:00+08:00')))).toBe(
      iso(at('2026-11-23T13:00:00+08:00')),
    );
    expect(iso(china.nextWorkingMoment(at('2026-11-23T18:00:00+08:00')))).toBe(
      iso(at('2026-11-24T09:00:00+08:00')),
    );
    expect(iso(china.nextWorkingMoment(at('2026-09-30T18:30:00+08:00')))).toBe(
      iso(at('2026-10-08T09:00:00+08:00')),
    );
    expect(china.isWorkingTime(at('2026-11-23T17:59:59+08:00'))).toBe(true);
    expect(china.isWorkingTime(at('2026-11-23T18:00:00+08:00'))).toBe(false);
  });

  it('asks about the business-zone date, not the UTC date', () => {
    // 2026-10-07T20:00Z is already Thu Oct 8 04:00 in Shanghai (a working day), while the
    // UTC date Oct 7 is a holiday: the next working moment is Oct 8 09:00 Shanghai.
    expect(iso(china.nextWorkingMoment(at('2026-10-07T20:00:00Z')))).toBe(
      iso(at('2026-10-08T09:00:00+08:00')),
    );
  });
});

describe('BusinessCalendar across DST and midnight (America/New_York, 09–17)', () => {
  it('keeps the local working hours across the spring-forward weekend (2026-03-08)', () => {
    // Fri Mar 6 16:00 EST–17:00 (1 h), Mon Mar 9 09:00 EDT–10:00 EDT = 14:00Z (not 15:00Z).
    expect(iso(newYork.add(at('2026-03-06T16:00:00-05:00'), workingHours(2)))).toBe(
      '2026-03-09T14:00:00.000Z',
    );
    expect(iso(newYork.add(at('2026-03-06T10:00:00-05:00'), workingDays(1)))).toBe(
      '2026-03-09T14:00:00.000Z',
    );
    expect(
      newYork.workingSecondsBetween(at('2026-03-06T09:00:00-05:00'), at('2026-03-09T17:00:00-04:00')),
    ).toBe(16 * 3600);
  });

  it('keeps the local working hours across the fall-back weekend (2026-11-01)', () => {
    // Fri Oct 30 16:00 EDT–17:00 (1 h), Mon Nov 2 09:00 EST–10:00 EST = 15:00Z.
    expect(iso(newYork.add(at('2026-10-30T16:00:00-04:00'), workingHours(2)))).toBe(
      '2026-11-02T15:00:00.000Z',
    );
  });

  it('adds calendar days in local time and calendar hours in elapsed time', () => {
    const saturdayNoon = at('2026-03-07T12:00:00-05:00');
    expect(iso(newYork.add(saturdayNoon, { value: 1, unit: 'days', time: 'calendar' }))).toBe(
      '2026-03-08T16:00:00.000Z', // Sunday 12:00 EDT, 23 hours later
    );
    expect(iso(newYork.add(saturdayNoon, { value: 24, unit: 'hours', time: 'calendar' }))).toBe(
      '2026-03-08T17:00:00.000Z', // Sunday 13:00 EDT
    );
  });

  it('moves a wall time in the spring gap forward and takes the first of a repeated one', () => {
    // Sat 02:30 EST + 1 calendar day: Sunday 02:30 does not exist → 03:30 EDT.
    expect(
      iso(newYork.add(at('2026-03-07T02:30:00-05:00'), { value: 1, unit: 'days', time: 'calendar' })),
    ).toBe('2026-03-08T07:30:00.000Z');
    // Sat 01:30 EDT + 1 calendar day: Sunday 01:30 happens twice → the first (EDT).
    expect(
      iso(newYork.add(at('2026-10-31T01:30:00-04:00'), { value: 1, unit: 'days', time: 'calendar' })),
    ).toBe('2026-11-01T05:30:00.000Z');
  });

  it('runs a 24-hour window through midnight and counts the short DST day as 23 hours', () => {
    const allDay = calendarOf({
      timeZone: 'America/New_York',
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      workingHours: [{ start: '00:00', end: '24:00' }],
      holidays: 'none',
    });
    expect(iso(allDay.add(at('2026-03-06T23:30:00-05:00'), workingHours(1)))).toBe(
      iso(at('2026-03-07T00:30:00-05:00')),
    );
    expect(
      allDay.workingSecondsBetween(at('2026-03-08T00:00:00-05:00'), at('2026-03-09T00:00:00-04:00')),
    ).toBe(23 * 3600);
    expect(
      allDay.workingSecondsBetween(at('2026-11-01T00:00:00-04:00'), at('2026-11-02T00:00:00-05:00')),
    ).toBe(25 * 3600);
  });

  it('handles a night shift split across midnight', () => {
    const nights = calendarOf({
      timeZone: 'Asia/Shanghai',
      workingDays: [1, 2, 3, 4, 5],
      workingHours: [
        { start: '00:00', end: '02:00' },
        { start: '22:00', end: '24:00' },
      ],
      holidays: 'none',
    });
    // Mon 23:00–24:00 (1 h), then Tue 00:00–02:00 (2 h) → 1 h left, next window Tue 22:00 → 23:00.
    expect(iso(nights.add(at('2026-11-23T23:00:00+08:00'), workingHours(4)))).toBe(
      iso(at('2026-11-24T23:00:00+08:00')),
    );
  });
});
