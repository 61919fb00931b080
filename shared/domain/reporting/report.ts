/**
 * Periodic reports (daily, ISO-weekly, monthly in the business time zone), computed from the day and
 * month buckets of `contributions.ts` only — never from the complaints themselves — so a report costs
 * the same at any volume and regenerating it gives the same numbers.
 */
import { DateTime } from 'luxon';
import * as z from 'zod';
import { addCounters, type Counters, DURATION_BINS } from './contributions';
import { CLOCKS } from './facts';

export const PERIOD_KINDS = ['daily', 'weekly', 'monthly'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

const PERIOD_ID: Record<PeriodKind, RegExp> = {
  daily: /^\d{4}-\d{2}-\d{2}$/,
  weekly: /^\d{4}-W\d{2}$/,
  monthly: /^\d{4}-\d{2}$/,
};

export interface Period {
  kind: PeriodKind;
  /** `2026-11-24`, `2026-W47`, `2026-11`. */
  id: string;
  timeZone: string;
  /** First and last day (inclusive), `yyyy-MM-dd` in the business time zone. */
  firstDay: string;
  lastDay: string;
  days: string[];
  /** Start and end instants (end exclusive), ISO in UTC. */
  start: string;
  end: string;
}

export class InvalidPeriodError extends Error {
  override name = 'InvalidPeriodError';
}

/** The period a kind and id name; throws {@link InvalidPeriodError} for a malformed or impossible id. */
export function parsePeriod(kind: string, id: string, timeZone: string): Period {
  if (!(PERIOD_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidPeriodError(`period must be one of ${PERIOD_KINDS.join(', ')}`);
  }
  const k = kind as PeriodKind;
  if (!PERIOD_ID[k].test(id)) {
    const example = { daily: '2026-11-24', weekly: '2026-W47', monthly: '2026-11' }[k];
    throw new InvalidPeriodError(`a ${k} report id looks like ${example}`);
  }
  const start =
    k === 'daily'
      ? DateTime.fromISO(id, { zone: timeZone })
      : k === 'weekly'
        ? DateTime.fromISO(`${id}-1`, { zone: timeZone })
        : DateTime.fromISO(`${id}-01`, { zone: timeZone });
  if (!start.isValid) throw new InvalidPeriodError(`${id} is not a valid ${k} period`);
  if (k === 'weekly' && `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}` !== id) {
    throw new InvalidPeriodError(`${id} is not an ISO week of ${id.slice(0, 4)}`);
  }
  const end = start.plus(k === 'daily' ? { days: 1 } : k === 'weekly' ? { weeks: 1 } : { months: 1 });
  const days: string[] = [];
  for (let d = start; d < end; d = d.plus({ days: 1 })) days.push(d.toISODate() as string);
  return {
    kind: k,
    id,
    timeZone,
    firstDay: days[0] as string,
    lastDay: days.at(-1) as string,
    days,
    start: start.toUTC().toISO() as string,
    end: end.toUTC().toISO() as string,
  };
}

/** The period just before `period`, of the same kind. */
export function previousPeriod(period: Period): Period {
  const start = DateTime.fromISO(period.firstDay, { zone: period.timeZone });
  const prev = start.minus(
    period.kind === 'daily' ? { days: 1 } : period.kind === 'weekly' ? { weeks: 1 } : { months: 1 },
  );
  const id =
    period.kind === 'daily'
      ? (prev.toISODate() as string)
      : period.kind === 'weekly'
        ? `${prev.weekYear}-W${String(prev.weekNumber).padStart(2, '0')}`
        : prev.toFormat('yyyy-MM');
  return parsePeriod(period.kind, id, period.timeZone);
}

/** The period of each kind that ended last before `now` (what the scheduled generation produces). */
export function lastCompletedPeriod(kind: PeriodKind, now: Date, timeZone: string): Period {
  const local = DateTime.fromJSDate(now, { zone: timeZone });
  const current =
    kind === 'daily'
      ? (local.toISODate() as string)
      : kind === 'weekly'
        ? `${local.weekYear}-W${String(local.weekNumber).padStart(2, '0')}`
        : local.toFormat('yyyy-MM');
  return previousPeriod(parsePeriod(kind, current, timeZone));
}

// ---------------------------------------------------------------------------------------------------
// The report document

const Rate = z.number().nullable().describe('A share between 0 and 1; null when the base is 0.');
const Share = z.object({ key: z.string(), count: z.number(), share: Rate });
const Duration = z.object({
  count: z.number(),
  averageSeconds: z.number().nullable(),
  /** Percentiles as the upper bound of the histogram bin that holds them (null: open-ended bin or no data). */
  p50Seconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
});
const Compliance = z.object({ met: z.number(), breached: z.number(), compliance: Rate });

export const ReportFiguresSchema = z.object({
  volume: z.object({ received: z.number(), valid: z.number(), rejected: z.number(), perDay: z.number() }),
  byChannel: z.array(Share),
  byCategory: z.array(Share),
  bySeverity: z.array(Share),
  times: z.object({ acknowledge: Duration, firstResponse: Duration, resolution: Duration }),
  sla: z.object({ acknowledge: Compliance, firstResponse: Compliance, resolution: Compliance }),
  firstContactResolution: z.object({ resolved: z.number(), firstContact: z.number(), rate: Rate }),
  satisfaction: z.object({ answers: z.number(), average: z.number().nullable(), satisfiedShare: Rate }),
  repeat: z.object({ repeats: z.number(), rate: Rate }),
  reopen: z.object({ resolved: z.number(), reopened: z.number(), rate: Rate }),
  escalations: z.object({
    total: z.number(),
    byLevel: z.array(z.object({ level: z.number(), count: z.number() })),
  }),
  backlog: z.object({
    /** Complaints open (not resolved, not rejected) at the end of the period. */
    open: z.number(),
    ageing: z.array(z.object({ band: z.string(), count: z.number() })),
  }),
  /** Complaints received per hour of the day (0–23), and the three busiest hours. */
  hours: z.array(z.number()).length(24),
  busiestHours: z.array(z.object({ hour: z.number(), count: z.number() })),
  /** Categories with the most repeat complaints (same customer, same category, within the window). */
  topRecurring: z.array(z.object({ category: z.string(), repeats: z.number(), received: z.number() })),
  departments: z.array(
    z.object({
      department: z.string(),
      assigned: z.number(),
      resolved: z.number(),
      averageResolutionSeconds: z.number().nullable(),
      resolutionCompliance: Rate,
      satisfaction: z.number().nullable(),
    }),
  ),
  closed: z.number(),
});
export type ReportFigures = z.infer<typeof ReportFiguresSchema>;

export const ReportSchema = z.object({
  period: z.object({
    kind: z.enum(PERIOD_KINDS),
    id: z.string(),
    timeZone: z.string(),
    firstDay: z.string(),
    lastDay: z.string(),
    start: z.string(),
    end: z.string(),
  }),
  previousPeriodId: z.string(),
  generatedAt: z.string(),
  /** Set while the period is not over: the figures so far (such a report is never stored). */
  partial: z.boolean().optional(),
  figures: ReportFiguresSchema,
  previous: ReportFiguresSchema,
});
export type Report = z.infer<typeof ReportSchema>;

// ---------------------------------------------------------------------------------------------------
// Computation

const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole);
const round = (n: number | null, digits = 4) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

/** Counters named `<metric>|<dimension>=<value>` as `[value, count]` pairs. */
function byDimension(counters: Counters, metric: string, dimension: string): Map<string, number> {
  const prefix = `${metric}|${dimension}=`;
  const out = new Map<string, number>();
  for (const [name, value] of Object.entries(counters)) {
    if (name.startsWith(prefix)) out.set(name.slice(prefix.length), value);
  }
  return out;
}

function shares(counts: Map<string, number>, total: number): z.infer<typeof Share>[] {
  return [...counts.entries()]
    .filter(([, count]) => count !== 0)
    .sort(([ak, a], [bk, b]) => b - a || (ak < bk ? -1 : 1))
    .map(([key, count]) => ({ key, count, share: round(rate(count, total)) }));
}

function percentile(counters: Counters, clock: string, q: number): number | null {
  const bins = DURATION_BINS.length + 1;
  const counts = Array.from({ length: bins }, (_, i) => counters[`${clock}.bin=${i}`] ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < bins; i++) {
    seen += counts[i] as number;
    if (seen >= rank) return DURATION_BINS[i] ?? null;
  }
  return null;
}

const AGE_BANDS = [
  { band: '< 1 day', minDays: 0 },
  { band: '1–3 days', minDays: 1 },
  { band: '3–7 days', minDays: 3 },
  { band: '7–30 days', minDays: 7 },
  { band: '≥ 30 days', minDays: 30 },
] as const;

/**
 * The figures of one period. `counters` is the sum of the period's day buckets; `backlogNet` the sum of
 * every `net|cohort=…` change up to the period's end (month buckets before its last month plus that
 * month's day buckets up to its last day).
 */
export function computeFigures(period: Period, counters: Counters, backlogNet: Counters): ReportFigures {
  const c = (name: string) => counters[name] ?? 0;
  const received = c('received');
  const rejected = c('rejected');
  const valid = received - rejected;
  const duration = (clock: string) => {
    const count = c(`${clock}.count`);
    return {
      count,
      averageSeconds: count === 0 ? null : Math.round(c(`${clock}.sum`) / count),
      p50Seconds: percentile(counters, clock, 0.5),
      p90Seconds: percentile(counters, clock, 0.9),
    };
  };
  const compliance = (clock: string) => {
    const met = c(`sla.${clock}.met`);
    const breached = c(`sla.${clock}.breached`);
    return { met, breached, compliance: round(rate(met, met + breached)) };
  };
  const hours = Array.from({ length: 24 }, (_, h) => c(`received|hour=${h}`));
  const departments = new Set<string>();
  for (const name of Object.keys(counters)) {
    const match = /\|department=(.+)$/.exec(name);
    if (match?.[1]) departments.add(match[1]);
  }
  // Backlog and ageing at the end of the period, from the cohort prefix sums.
  const endDay = DateTime.fromISO(period.lastDay, { zone: period.timeZone });
  const openReceivedBy = (lastCohortDay: string) =>
    Object.entries(backlogNet)
      .filter(([name]) => name.startsWith('net|cohort=') && name.slice('net|cohort='.length) <= lastCohortDay)
      .reduce((sum, [, v]) => sum + v, 0);
  const open = openReceivedBy(period.lastDay);
  const olderThan = AGE_BANDS.map(({ minDays }) =>
    minDays === 0 ? open : openReceivedBy(endDay.minus({ days: minDays }).toISODate() as string),
  );
  const ageing = AGE_BANDS.map(({ band }, i) => ({
    band,
    count: (olderThan[i] as number) - (olderThan[i + 1] ?? 0),
  }));

  const surveyAnswers = c('survey.count');
  return {
    volume: { received, valid, rejected, perDay: round(received / period.days.length, 2) as number },
    byChannel: shares(byDimension(counters, 'received', 'channel'), received),
    byCategory: shares(byDimension(counters, 'received', 'category'), valid),
    bySeverity: shares(byDimension(counters, 'received', 'severity'), valid),
    times: {
      acknowledge: duration('acknowledge'),
      firstResponse: duration('firstResponse'),
      resolution: duration('resolution'),
    },
    sla: Object.fromEntries(CLOCKS.map((clock) => [clock, compliance(clock)])) as ReportFigures['sla'],
    firstContactResolution: {
      resolved: c('fcr.resolved'),
      firstContact: c('fcr.first'),
      rate: round(rate(c('fcr.first'), c('fcr.resolved'))),
    },
    satisfaction: {
      answers: surveyAnswers,
      average: round(rate(c('survey.sum'), surveyAnswers), 2),
      satisfiedShare: round(rate(c('survey.satisfied'), surveyAnswers)),
    },
    repeat: { repeats: c('repeat'), rate: round(rate(c('repeat'), valid)) },
    reopen: {
      resolved: c('resolved'),
      reopened: c('reopened'),
      rate: round(rate(c('reopened'), c('resolved'))),
    },
    escalations: {
      total: c('escalated'),
      byLevel: [...byDimension(counters, 'escalated', 'level').entries()]
        .map(([level, count]) => ({ level: Number(level), count }))
        .filter((e) => e.count !== 0)
        .sort((a, b) => a.level - b.level),
    },
    backlog: { open, ageing },
    hours,
    busiestHours: hours
      .map((count, hour) => ({ hour, count }))
      .filter((h) => h.count > 0)
      .sort((a, b) => b.count - a.count || a.hour - b.hour)
      .slice(0, 3),
    topRecurring: [...byDimension(counters, 'repeat', 'category').entries()]
      .filter(([, repeats]) => repeats > 0)
      .map(([category, repeats]) => ({ category, repeats, received: c(`received|category=${category}`) }))
      .sort((a, b) => b.repeats - a.repeats || (a.category < b.category ? -1 : 1))
      .slice(0, 5),
    departments: [...departments].sort().map((department) => {
      const d = (metric: string) => c(`${metric}|department=${department}`);
      const met = d('sla.resolution.met');
      const breached = d('sla.resolution.breached');
      return {
        department,
        assigned: c(`assigned|department=${department}`),
        resolved: d('resolved'),
        averageResolutionSeconds:
          d('resolution.count') === 0 ? null : Math.round(d('resolution.sum') / d('resolution.count')),
        resolutionCompliance: round(rate(met, met + breached)),
        satisfaction: round(rate(d('survey.sum'), d('survey.count')), 2),
      };
    }),
    closed: c('closed'),
  };
}

/** Sums counter sets (bucket shards, days). */
export function sumCounters(sets: Iterable<Counters>): Counters {
  const total: Counters = {};
  for (const set of sets) addCounters(total, set);
  return total;
}

/** The bucket keys (all shards) a period's figures read: its days, and what the backlog needs. */
export function bucketKeysFor(
  period: Period,
  shards: number,
  since: string,
): { days: string[]; backlogMonths: string[]; backlogDays: string[] } {
  const keys = (kind: string, ids: string[]) =>
    ids.flatMap((id) => Array.from({ length: shards }, (_, s) => `${kind}#${id}#${s}`));
  const lastMonth = period.lastDay.slice(0, 7);
  const months: string[] = [];
  for (
    let m = DateTime.fromISO(`${since.slice(0, 7)}-01`);
    m.toFormat('yyyy-MM') < lastMonth;
    m = m.plus({ months: 1 })
  ) {
    months.push(m.toFormat('yyyy-MM'));
  }
  const monthDays: string[] = [];
  for (
    let d = DateTime.fromISO(`${lastMonth}-01`);
    (d.toISODate() as string) <= period.lastDay;
    d = d.plus({ days: 1 })
  ) {
    monthDays.push(d.toISODate() as string);
  }
  return {
    days: keys('DAY', period.days),
    backlogMonths: keys('MONTH', months),
    backlogDays: keys('DAY', monthDays),
  };
}
