/**
 * The counters one complaint contributes to the report aggregates, as a pure function of its facts.
 *
 * Aggregates are **day buckets** in the business time zone (`DAY#<yyyy-MM-dd>`) plus **month buckets**
 * (`MONTH#<yyyy-MM>`) that hold only the backlog's net changes, each split into a few shards
 * (`#<n>`, by complaint id) so no single item becomes a hot key. When an event changes a complaint's
 * facts, the aggregator writes the new facts and adds `contributions(new) − contributions(old)` to the
 * buckets in one transaction, conditional on the facts' version: a duplicate or replayed event changes
 * no facts and adds nothing, and an out-of-order one moves counts exactly where the final facts put
 * them. The same function serves the history import, so imported periods are counted the same way.
 *
 * Counter names: `metric` or `metric|dimension=value`. Durations add `<clock>.count`, `<clock>.sum`
 * (seconds) and a histogram bin `<clock>.bin=<i>` (bounds in {@link DURATION_BINS}) for percentiles.
 * The backlog adds `net|cohort=<day received>` (+1 when a complaint becomes open, −1 when it stops
 * being open) to both the day and the month bucket of the change, so the backlog and its ageing at any
 * instant are prefix sums (`report.ts`).
 */
import { DateTime } from 'luxon';
import { CLOCKS, type ClockName, type ComplaintFacts } from './facts';

/** Upper bounds (seconds) of the duration histogram bins; the last bin is open-ended. */
export const DURATION_BINS = [
  60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400, 172_800, 259_200, 604_800, 1_209_600, 2_592_000,
] as const;

/** Scores at or above this count as satisfied. */
export const SATISFIED_SCORE = 4;

export const DEFAULT_AGGREGATE_SHARDS = 4;

export type Counters = Record<string, number>;
/** Bucket key → counters. */
export type Contributions = Map<string, Counters>;

export interface ContributionOptions {
  timeZone: string;
  shards?: number;
}

/**
 * The local day and hour of an instant. Time-zone conversion is most of the cost of computing a
 * complaint's contributions (each fact's time is looked up several times, twice per event), so the
 * answers are remembered; the cache is bounded and only ever holds correct answers.
 */
const localTimes = new Map<string, { day: string; hour: number }>();
const LOCAL_TIMES_CAPACITY = 4096;

function localTime(iso: string, timeZone: string): { day: string; hour: number } {
  const key = `${timeZone}|${iso}`;
  let local = localTimes.get(key);
  if (local === undefined) {
    const t = DateTime.fromISO(iso, { zone: 'utc' }).setZone(timeZone);
    local = { day: t.toISODate() as string, hour: t.hour };
    if (localTimes.size >= LOCAL_TIMES_CAPACITY) localTimes.clear();
    localTimes.set(key, local);
  }
  return local;
}

export function dayOf(iso: string, timeZone: string): string {
  return localTime(iso, timeZone).day;
}

export function hourOf(iso: string, timeZone: string): number {
  return localTime(iso, timeZone).hour;
}

export function shardOf(complaintId: string, shards: number): number {
  let hash = 0;
  for (let i = 0; i < complaintId.length; i++) hash = (hash * 31 + complaintId.charCodeAt(i)) >>> 0;
  return hash % shards;
}

export function binOf(seconds: number): number {
  const index = DURATION_BINS.findIndex((bound) => seconds <= bound);
  return index === -1 ? DURATION_BINS.length : index;
}

/** Whole seconds, so sums stay exact integers however often they are added and taken back. */
const seconds = (from: string, to: string) =>
  Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

/** Every counter the facts contribute, per bucket key. Nothing until the complaint's receipt is known. */
export function contributions(facts: ComplaintFacts, options: ContributionOptions): Contributions {
  const out: Contributions = new Map();
  const received = facts.received;
  if (received === undefined) return out;
  const tz = options.timeZone;
  const shard = shardOf(facts.complaintId, options.shards ?? DEFAULT_AGGREGATE_SHARDS);
  const add = (kind: 'DAY' | 'MONTH', key: string, counter: string, value = 1) => {
    const bucket = `${kind}#${key}#${shard}`;
    const counters = out.get(bucket) ?? {};
    counters[counter] = (counters[counter] ?? 0) + value;
    out.set(bucket, counters);
  };
  const onDay = (iso: string, counter: string, value = 1) => add('DAY', dayOf(iso, tz), counter, value);
  const dims = (metric: string, value = 1, at = received.at, withDepartment = true) => {
    onDay(at, metric, value);
    if (withDepartment && facts.assignment)
      onDay(at, `${metric}|department=${facts.assignment.department}`, value);
  };

  const receivedDay = dayOf(received.at, tz);
  onDay(received.at, 'received');
  onDay(received.at, `received|channel=${received.channel}`);
  onDay(received.at, `received|tier=${received.tier}`);
  onDay(received.at, `received|hour=${hourOf(received.at, tz)}`);

  if (facts.rejected) {
    onDay(facts.rejected.at, 'rejected');
    onDay(facts.rejected.at, `rejected|verdict=${facts.rejected.verdict}`);
    return out;
  }
  if (facts.classification) {
    onDay(received.at, `received|category=${facts.classification.category}`);
    onDay(received.at, `received|severity=${facts.classification.severity}`);
  }
  if (facts.isRepeat) {
    onDay(received.at, 'repeat');
    if (facts.classification) onDay(received.at, `repeat|category=${facts.classification.category}`);
  }
  if (facts.assignment) onDay(received.at, `assigned|department=${facts.assignment.department}`);

  // Times to acknowledge, first response and (first) resolution, counted on the day they completed.
  const resolutions = Object.values(facts.resolutions).sort();
  const completed: Record<ClockName, string | undefined> = {
    acknowledge: facts.acknowledgedAt,
    firstResponse: facts.firstResponseAt,
    resolution: resolutions[0],
  };
  for (const clock of CLOCKS) {
    const at = completed[clock];
    if (at !== undefined) {
      const s = seconds(received.at, at);
      dims(`${clock}.count`, 1, at, clock === 'resolution');
      dims(`${clock}.sum`, s, at, clock === 'resolution');
      onDay(at, `${clock}.bin=${binOf(s)}`);
    }
    // SLA compliance per clock: breached on the day of the breach, met on the day it completed in time.
    const breachedAt = facts.breaches[clock];
    if (breachedAt !== undefined) dims(`sla.${clock}.breached`, 1, breachedAt);
    else if (at !== undefined) dims(`sla.${clock}.met`, 1, at);
  }
  for (const at of resolutions) dims('resolved', 1, at);
  const reopenings = Object.values(facts.reopenings).sort();
  for (const at of reopenings) onDay(at, 'reopened');
  // First-contact resolution: resolved once, without asking the customer for more and never reopened.
  if (resolutions[0] !== undefined) {
    onDay(resolutions[0], 'fcr.resolved');
    if (!facts.infoRequested && reopenings.length === 0) onDay(resolutions[0], 'fcr.first');
  }
  for (const { level, at } of Object.values(facts.escalations)) {
    onDay(at, 'escalated');
    onDay(at, `escalated|level=${level}`);
  }
  for (const { score, at } of Object.values(facts.surveys)) {
    dims('survey.count', 1, at);
    dims('survey.sum', score, at);
    if (score >= SATISFIED_SCORE) onDay(at, 'survey.satisfied');
  }
  if (facts.closedAt) onDay(facts.closedAt, 'closed');

  // Backlog: open from receipt until resolved, open again on each reopening.
  const changes = [
    ...resolutions.map((at) => ({ at, open: false })),
    ...reopenings.map((at) => ({ at, open: true })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : Number(a.open) - Number(b.open)));
  const net = (at: string, delta: number) => {
    const counter = `net|cohort=${receivedDay}`;
    add('DAY', dayOf(at, tz), counter, delta);
    add('MONTH', dayOf(at, tz).slice(0, 7), counter, delta);
  };
  let open = true;
  net(received.at, 1);
  for (const change of changes) {
    if (change.open === open) continue;
    open = change.open;
    net(change.at, open ? 1 : -1);
  }
  return out;
}

/** `after − before`, per bucket and counter, without zero entries. */
export function diffContributions(before: Contributions, after: Contributions): Contributions {
  const out: Contributions = new Map();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key) ?? {};
    const b = after.get(key) ?? {};
    const delta: Counters = {};
    for (const counter of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (b[counter] ?? 0) - (a[counter] ?? 0);
      if (d !== 0) delta[counter] = d;
    }
    if (Object.keys(delta).length > 0) out.set(key, delta);
  }
  return out;
}

/** Adds `delta` into `into` (in place), dropping counters that reach zero. */
export function addCounters(into: Counters, delta: Counters): Counters {
  for (const [counter, value] of Object.entries(delta)) {
    const sum = (into[counter] ?? 0) + value;
    if (sum === 0) delete into[counter];
    else into[counter] = sum;
  }
  return into;
}
