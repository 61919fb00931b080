import { describe, expect, it } from 'vitest';
import {
  addCounters,
  type Contributions,
  type Counters,
  contributions,
  diffContributions,
} from '../../shared/domain/reporting/contributions';
import {
  type ComplaintFacts,
  emptyFacts,
  type LifecycleEvent,
  mergeEvent,
  sameFacts,
} from '../../shared/domain/reporting/facts';
import {
  bucketKeysFor,
  computeFigures,
  lastCompletedPeriod,
  parsePeriod,
  previousPeriod,
  sumCounters,
} from '../../shared/domain/reporting/report';

import { fixture, TZ } from '../support/reporting-fixture';

/** Applies events one by one as the aggregator does: new facts, and the contribution delta into the buckets. */
function aggregate(events: readonly LifecycleEvent[]): {
  buckets: Map<string, Counters>;
  facts: Map<string, ComplaintFacts>;
  writes: number;
} {
  const facts = new Map<string, ComplaintFacts>();
  const buckets = new Map<string, Counters>();
  let writes = 0;
  for (const event of events) {
    const id = event.detail.data.complaintId;
    const before = facts.get(id) ?? emptyFacts(id);
    const after = mergeEvent(before, event);
    if (sameFacts(before, after)) continue;
    writes += 1;
    facts.set(id, after);
    const delta: Contributions = diffContributions(
      contributions(before, { timeZone: TZ }),
      contributions(after, { timeZone: TZ }),
    );
    for (const [key, counters] of delta) buckets.set(key, addCounters(buckets.get(key) ?? {}, counters));
  }
  for (const [key, counters] of buckets) if (Object.keys(counters).length === 0) buckets.delete(key);
  return { buckets, facts, writes };
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const snapshot = (buckets: Map<string, Counters>) =>
  Object.fromEntries(
    [...buckets.entries()].filter(([, c]) => Object.keys(c).length > 0).sort(([a], [b]) => (a < b ? -1 : 1)),
  );

function report(kind: 'daily' | 'weekly' | 'monthly', id: string, buckets: Map<string, Counters>) {
  const period = parsePeriod(kind, id, TZ);
  const keys = bucketKeysFor(period, 4, '2026-09-01');
  const read = (list: string[]) => sumCounters(list.map((k) => buckets.get(k) ?? {}));
  return computeFigures(
    period,
    read(keys.days),
    sumCounters([read(keys.backlogMonths), read(keys.backlogDays)]),
  );
}

describe('report aggregates', () => {
  it('are the same for duplicated and reordered deliveries as for the ordered stream', () => {
    const events = fixture();
    const ordered = aggregate(events);
    for (const seed of [1, 7, 42, 2026]) {
      const messy = shuffle(
        [...events, ...shuffle(events, seed + 1).slice(0, 12), ...events.slice(0, 5)],
        seed,
      );
      const result = aggregate(messy);
      expect(snapshot(result.buckets), `seed ${seed}`).toEqual(snapshot(ordered.buckets));
      // Each duplicate changed nothing: no write at all.
      expect(result.writes).toBeLessThanOrEqual(messy.length - 17);
    }
  });

  it('equal the contributions of the final facts (nothing left behind by intermediate states)', () => {
    const { buckets, facts } = aggregate(shuffle(fixture(), 3));
    const direct = new Map<string, Counters>();
    for (const f of facts.values()) {
      for (const [key, counters] of contributions(f, { timeZone: TZ }))
        direct.set(key, addCounters(direct.get(key) ?? {}, counters));
    }
    expect(snapshot(buckets)).toEqual(snapshot(direct));
  });

  it('keep the latest classification and department whatever the arrival order', () => {
    const events = fixture().filter((e) => e.detail.data.complaintId === 'B');
    const reversed = [...events].reverse().reduce(mergeEvent, emptyFacts('B'));
    expect(reversed.assignment?.department).toBe('customer_service');
    expect(Object.keys(reversed.resolutions)).toHaveLength(2);
    expect(reversed.acknowledgedAt).toBe('2026-10-01T03:00:00.000Z');
  });

  it('count a first reply without an acknowledgement as both, as the agent API does', () => {
    const event = (detailType: string, at: string): LifecycleEvent => ({
      detailType,
      detail: { metadata: { eventId: `R:${detailType}`, occurredAt: at }, data: { complaintId: 'R' } },
    });
    const facts = [event('Complaint Responded', '2026-11-02T02:00:00Z')].reduce(mergeEvent, emptyFacts('R'));
    expect(facts.acknowledgedAt).toBe('2026-11-02T02:00:00.000Z');
    expect(facts.firstResponseAt).toBe('2026-11-02T02:00:00.000Z');
    // An earlier explicit acknowledgement stays the acknowledgement, whatever the arrival order.
    const both = [
      event('Complaint Responded', '2026-11-02T02:00:00Z'),
      event('Complaint Acknowledged', '2026-11-02T01:00:00Z'),
    ];
    expect(both.reduce(mergeEvent, emptyFacts('R')).acknowledgedAt).toBe('2026-11-02T01:00:00.000Z');
  });
});

describe('reports against a hand-computed month boundary over National Day', () => {
  const { buckets } = aggregate(fixture());

  it('September: one complaint on its last evening (Shanghai time), one still open at month end', () => {
    const sep = report('monthly', '2026-09', buckets);
    expect(sep.volume).toEqual({ received: 2, valid: 2, rejected: 0, perDay: 0.07 });
    expect(sep.byChannel).toEqual([
      { key: 'app', count: 1, share: 0.5 },
      { key: 'hotline', count: 1, share: 0.5 },
    ]);
    expect(sep.byCategory).toEqual([{ key: 'billing_dispute', count: 2, share: 1 }]);
    // A acknowledged after 20 min, D after 1 h: average 40 min; both in time.
    expect(sep.times.acknowledge).toEqual({
      count: 2,
      averageSeconds: 2_400,
      p50Seconds: 1_800,
      p90Seconds: 3_600,
    });
    expect(sep.sla.acknowledge).toEqual({ met: 2, breached: 0, compliance: 1 });
    expect(sep.repeat).toEqual({ repeats: 1, rate: 0.5 });
    expect(sep.backlog.open).toBe(2);
    expect(sep.backlog.ageing).toEqual([
      { band: '< 1 day', count: 1 },
      { band: '1–3 days', count: 1 },
      { band: '3–7 days', count: 0 },
      { band: '7–30 days', count: 0 },
      { band: '≥ 30 days', count: 0 },
    ]);
    expect(sep.hours[23]).toBe(1);
    expect(sep.hours[9]).toBe(1);
  });

  it('October: the holiday week resolved, surveyed, reopened and rejected', () => {
    const oct = report('monthly', '2026-10', buckets);
    expect(oct.volume).toEqual({ received: 2, valid: 1, rejected: 1, perDay: 0.06 });
    expect(oct.bySeverity).toEqual([{ key: 'important', count: 1, share: 1 }]);
    // First resolutions: A after 34.5 h (Sept 30 23:30 → Oct 2 10:00), B after 26 h; both in the 1–2 day bin.
    expect(oct.times.resolution.count).toBe(2);
    expect(oct.times.resolution.averageSeconds).toBe((124_200 + 93_600) / 2);
    expect(oct.times.resolution.p90Seconds).toBe(172_800);
    expect(oct.sla.acknowledge).toEqual({ met: 0, breached: 1, compliance: 0 });
    expect(oct.sla.firstResponse).toEqual({ met: 2, breached: 0, compliance: 1 });
    // A asked for information; B was reopened: no first-contact resolution.
    expect(oct.firstContactResolution).toEqual({ resolved: 2, firstContact: 0, rate: 0 });
    expect(oct.satisfaction).toEqual({ answers: 2, average: 3, satisfiedShare: 0.5 });
    expect(oct.reopen).toEqual({ resolved: 3, reopened: 1, rate: 0.3333 });
    expect(oct.escalations).toEqual({ total: 2, byLevel: [{ level: 1, count: 2 }] });
    expect(oct.closed).toBe(1);
    // At Oct 31: only D is open, received 32 days before.
    expect(oct.backlog.open).toBe(1);
    expect(oct.backlog.ageing.find((a) => a.band === '≥ 30 days')?.count).toBe(1);
    expect(oct.departments.map((d) => d.department)).toEqual(['billing', 'customer_service']);
    expect(oct.departments.find((d) => d.department === 'customer_service')).toMatchObject({
      resolved: 2,
      averageResolutionSeconds: 93_600,
      satisfaction: 1,
    });
  });

  it('ISO week 40 (Sept 28 – Oct 4) spans the month boundary', () => {
    const w40 = report('weekly', '2026-W40', buckets);
    expect(w40.volume.received).toBe(4);
    expect(w40.topRecurring).toEqual([
      { category: 'billing_dispute', repeats: 1, received: 2 },
      { category: 'technical_fault', repeats: 1, received: 1 },
    ]);
    // Oct 4: D open, B reopened on Oct 3.
    expect(w40.backlog.open).toBe(2);
    const day = report('daily', '2026-10-01', buckets);
    expect(day.volume).toMatchObject({ received: 2, rejected: 1, perDay: 2 });
    expect(day.busiestHours).toEqual([
      { hour: 10, count: 1 },
      { hour: 11, count: 1 },
    ]);
  });

  it('regenerating a report gives the same numbers', () => {
    expect(report('monthly', '2026-10', aggregate(fixture()).buckets)).toEqual(
      report('monthly', '2026-10', buckets),
    );
  });
});

describe('periods', () => {
  it('parse daily, ISO weekly and monthly ids in the business time zone', () => {
    const w = parsePeriod('weekly', '2026-W53', TZ);
    expect([w.firstDay, w.lastDay, w.start]).toEqual([
      '2026-12-28',
      '2027-01-03',
      '2026-12-27T16:00:00.000Z',
    ]);
    expect(parsePeriod('monthly', '2026-02', TZ).days).toHaveLength(28);
    expect(previousPeriod(parsePeriod('weekly', '2027-W01', TZ)).id).toBe('2026-W53');
    expect(previousPeriod(parsePeriod('monthly', '2026-01', TZ)).id).toBe('2025-12');
  });

  it('refuse malformed or impossible ids with a reason', () => {
    expect(() => parsePeriod('weekly', '2026-11', TZ)).toThrow(/looks like 2026-W47/);
    expect(() => parsePeriod('weekly', '2025-W53', TZ)).toThrow(/not a valid weekly period/);
    expect(() => parsePeriod('daily', '2026-02-30', TZ)).toThrow(/not a valid/);
    expect(() => parsePeriod('yearly', '2026', TZ)).toThrow(/daily, weekly, monthly/);
  });

  it('know which period just ended, in Shanghai time', () => {
    const now = new Date('2026-11-30T16:30:00Z'); // Dec 1, 00:30 in Shanghai
    expect(lastCompletedPeriod('daily', now, TZ).id).toBe('2026-11-30');
    expect(lastCompletedPeriod('monthly', now, TZ).id).toBe('2026-11');
    expect(lastCompletedPeriod('weekly', now, TZ).id).toBe('2026-W48');
  });
});
