import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { DeadlineSchema } from '../../shared/domain/complaint';
import {
  acknowledgementDeadline,
  computeDeadlines,
  escalationTimes,
  formatDueForCustomer,
  provisionalDeadlines,
  selectSlaRow,
} from '../../shared/domain/sla';
import { loadPolicyFile, parsePolicy } from '../../shared/policy/load';
import type { Duration, Policy, Severity, SlaRow } from '../../shared/policy/schema';

const policy = loadPolicyFile(fileURLToPath(new URL('../../policy/default-policy.json', import.meta.url)));
/** Asia/Shanghai, Mon–Fri, 09:00–12:00 and 13:00–18:00, cn-official holidays. */
const calendar = new BusinessCalendar(policy.calendar);

/** A variant of the default policy, validated like a deployer's file. */
const policyWith = (changes: Partial<Policy>): Policy =>
  parsePolicy({ ...structuredClone(policy), ...changes });

const minutes = (value: number): Duration => ({ value, unit: 'minutes', time: 'calendar' });
const row = (category: string, severity: string, tier: string, ackMinutes: number): SlaRow =>
  ({
    category,
    severity,
    tier,
    acknowledge: minutes(ackMinutes),
    firstResponse: minutes(ackMinutes * 2),
    resolution: minutes(ackMinutes * 3),
  }) as SlaRow;

const at = (iso: string): Date => new Date(iso);
const iso = (d: string): string => new Date(d).toISOString();

describe('selectSlaRow with the default policy', () => {
  const pick = (category: string, severity: Severity, tier: string) =>
    selectSlaRow(policy, { category, severity, tier });

  it('prefers severity major over the VIP tier over the category (equal specificity, row order)', () => {
    expect(pick('technical_fault', 'major', 'vip')).toMatchObject({
      severity: 'major',
      acknowledge: minutes(15),
    });
    expect(pick('technical_fault', 'urgent', 'vip')).toMatchObject({ severity: 'urgent' });
    expect(pick('technical_fault', 'general', 'vip')).toMatchObject({ tier: 'vip', category: '*' });
    expect(pick('technical_fault', 'important', 'standard')).toMatchObject({ category: 'technical_fault' });
    expect(pick('billing_dispute', 'urgent', 'standard')).toMatchObject({ severity: 'urgent' });
  });

  it('falls back to the catch-all row', () => {
    const catchAll = policy.sla.targets.find(
      (r) => r.category === '*' && r.severity === '*' && r.tier === '*',
    );
    expect(pick('other', 'general', 'standard')).toBe(catchAll);
    expect(pick('product_experience', 'important', 'standard')).toBe(catchAll);
    // Unclassified ('*') never matches a category row.
    expect(pick('*', 'general', 'standard')).toBe(catchAll);
  });
});

describe('selectSlaRow with an inline policy', () => {
  const inline = policyWith({
    sla: {
      warnAtFraction: 0.5,
      targets: [
        row('*', '*', '*', 100),
        row('billing_dispute', '*', '*', 50),
        row('*', 'important', 'vip', 40),
        row('billing_dispute', 'important', '*', 30),
        row('billing_dispute', 'important', 'vip', 10),
        row('billing_dispute', '*', 'vip', 20),
      ],
    },
  });
  const targets = inline.sla.targets;

  it('picks the row with the fewest wildcards, wherever it is in the list', () => {
    expect(selectSlaRow(inline, { category: 'billing_dispute', severity: 'important', tier: 'vip' })).toBe(
      targets[4],
    );
    expect(
      selectSlaRow(inline, { category: 'billing_dispute', severity: 'important', tier: 'standard' }),
    ).toBe(targets[3]);
    expect(selectSlaRow(inline, { category: 'billing_dispute', severity: 'general', tier: 'standard' })).toBe(
      targets[1],
    );
  });

  it('breaks ties by the earlier row', () => {
    // Three rows with two fixed fields match; the earliest of them wins.
    expect(selectSlaRow(inline, { category: 'billing_dispute', severity: 'important', tier: 'vip' })).toBe(
      targets[4],
    );
    const withoutExact = policyWith({ sla: { ...inline.sla, targets: targets.filter((_, i) => i !== 4) } });
    expect(
      selectSlaRow(withoutExact, { category: 'billing_dispute', severity: 'important', tier: 'vip' })
        .acknowledge,
    ).toEqual(minutes(40));
  });

  it('uses the catch-all row even when it comes first', () => {
    expect(selectSlaRow(inline, { category: 'other', severity: 'major', tier: 'standard' })).toBe(targets[0]);
  });
});

describe('computeDeadlines', () => {
  it('computes calendar and working deadlines with the warning at 80 %', () => {
    // Billing dispute: acknowledge 2 h calendar, first response 8 working hours,
    // resolution 5 working days. Start Monday 2026-11-23 09:00 Shanghai.
    const deadlines = computeDeadlines(policy, calendar, {
      category: 'billing_dispute',
      severity: 'general',
      tier: 'standard',
      from: at('2026-11-23T09:00:00+08:00'),
    });
    expect(deadlines).toMatchObject({
      // 09:00 + 2 h = 11:00; warn after 96 min = 10:36.
      acknowledge: {
        dueAt: iso('2026-11-23T11:00:00+08:00'),
        warnAt: iso('2026-11-23T10:36:00+08:00'),
        basis: 'calendar',
      },
      // 8 working hours = the whole Monday → 18:00; warn after 6.4 h: 09–12 (3 h) + 13:00–16:24.
      firstResponse: {
        dueAt: iso('2026-11-23T18:00:00+08:00'),
        warnAt: iso('2026-11-23T16:24:00+08:00'),
        basis: 'working',
      },
      // 5 working days → Mon Nov 30 09:00 (40 working hours); warn after 32 h = Thu 18:00.
      resolution: {
        dueAt: iso('2026-11-30T09:00:00+08:00'),
        warnAt: iso('2026-11-26T18:00:00+08:00'),
        basis: 'working',
      },
    });
    for (const d of Object.values(deadlines)) {
      expect(DeadlineSchema.parse(d)).toEqual(d);
      expect(d.dueAt).toMatch(/Z$/);
    }
  });

  it('warns working targets after 80 % of the working time, not of the wall-clock time', () => {
    // VIP: first response 4 working hours, resolution 2 working days. Start Fri 2026-11-20 16:00.
    const { firstResponse, resolution } = computeDeadlines(policy, calendar, {
      category: 'service_quality',
      severity: 'important',
      tier: 'vip',
      from: at('2026-11-20T16:00:00+08:00'),
    });
    // Fri 16–18 (2 h) + Mon 09–11 → Mon 11:00; warn after 192 min: 120 Fri + 72 Mon → 10:12.
    expect(firstResponse).toMatchObject({
      dueAt: iso('2026-11-23T11:00:00+08:00'),
      warnAt: iso('2026-11-23T10:12:00+08:00'),
      basis: 'working',
    });
    // 2 working days → Tue 16:00 = 2 + 8 + 6 = 16 working hours; warn after 12.8 h =
    // Fri 2 h + Mon 8 h + Tue 168 min → Tue 11:48.
    expect(resolution).toMatchObject({
      dueAt: iso('2026-11-24T16:00:00+08:00'),
      warnAt: iso('2026-11-24T11:48:00+08:00'),
      basis: 'working',
    });
  });

  it('uses calendar time for major complaints, through nights and holidays', () => {
    const deadlines = computeDeadlines(policy, calendar, {
      category: 'information_security',
      severity: 'major',
      tier: 'standard',
      from: at('2026-09-30T17:50:00+08:00'),
    });
    expect(deadlines.acknowledge).toMatchObject({
      dueAt: iso('2026-09-30T18:05:00+08:00'),
      warnAt: iso('2026-09-30T18:02:00+08:00'),
      basis: 'calendar',
    });
    expect(deadlines.resolution?.dueAt).toBe(iso('2026-10-01T17:50:00+08:00')); // a holiday
  });

  it('starts a working clock at the next working moment and computes only the requested clocks', () => {
    // Saturday 10:00 → counting starts Monday 09:00.
    const deadlines = computeDeadlines(policy, calendar, {
      category: 'billing_dispute',
      severity: 'important',
      tier: 'standard',
      from: at('2026-11-21T10:00:00+08:00'),
      clocks: ['firstResponse'],
    });
    expect(Object.keys(deadlines)).toEqual(['firstResponse']);
    expect(deadlines.firstResponse).toMatchObject({
      dueAt: iso('2026-11-23T18:00:00+08:00'),
      warnAt: iso('2026-11-23T16:24:00+08:00'),
      basis: 'working',
    });
  });
});

describe('acknowledgementDeadline', () => {
  const from = at('2026-11-23T20:00:00+08:00');

  it('uses the catch-all row for ordinary customers and the tier row for VIPs', () => {
    expect(acknowledgementDeadline(policy, calendar, { tier: 'standard', from })).toMatchObject({
      dueAt: iso('2026-11-23T22:00:00+08:00'),
      warnAt: iso('2026-11-23T21:36:00+08:00'),
      basis: 'calendar',
    });
    expect(acknowledgementDeadline(policy, calendar, { tier: 'vip', from })).toMatchObject({
      dueAt: iso('2026-11-23T20:30:00+08:00'),
      warnAt: iso('2026-11-23T20:24:00+08:00'),
      basis: 'calendar',
    });
  });

  it('ignores category and higher-severity rows before classification', () => {
    const inline = policyWith({
      sla: {
        warnAtFraction: 0.5,
        targets: [row('billing_dispute', '*', '*', 5), row('*', 'major', '*', 7), row('*', '*', '*', 60)],
      },
    });
    expect(acknowledgementDeadline(inline, calendar, { tier: 'standard', from }).dueAt).toBe(
      iso('2026-11-23T21:00:00+08:00'),
    );
    expect(provisionalDeadlines(inline, calendar, { tier: 'standard', from }).firstResponse?.dueAt).toBe(
      iso('2026-11-23T22:00:00+08:00'),
    );
  });
});

describe('escalationTimes', () => {
  it('chains the default levels from the missed deadline', () => {
    const missed = at('2026-11-23T17:00:00+08:00');
    expect(escalationTimes(policy, calendar, missed)).toEqual([
      { level: 1, role: 'team_lead', at: iso('2026-11-23T17:00:00+08:00') }, // at the deadline
      { level: 2, role: 'department_head', at: iso('2026-11-23T21:00:00+08:00') }, // + 4 h
      { level: 3, role: 'executive_on_duty', at: iso('2026-11-24T05:00:00+08:00') }, // + 8 h more
    ]);
  });

  it('chains working-time delays on the business calendar', () => {
    const inline = policyWith({
      escalation: {
        ...policy.escalation,
        levels: [
          { level: 1, role: 'team_lead', after: { value: 1, unit: 'hours', time: 'working' } },
          { level: 2, role: 'department_head', after: { value: 2, unit: 'hours', time: 'working' } },
          { level: 3, role: 'executive_on_duty', after: { value: 1, unit: 'days', time: 'working' } },
        ],
      },
    });
    // Wed Sep 30 17:30 + 1 working hour: 17:30–18:00, National Day, Thu Oct 8 09:00–09:30.
    expect(escalationTimes(inline, calendar, at('2026-09-30T17:30:00+08:00'))).toEqual([
      { level: 1, role: 'team_lead', at: iso('2026-10-08T09:30:00+08:00') },
      { level: 2, role: 'department_head', at: iso('2026-10-08T11:30:00+08:00') },
      { level: 3, role: 'executive_on_duty', at: iso('2026-10-09T11:30:00+08:00') },
    ]);
  });
});

describe('formatDueForCustomer', () => {
  const due = at('2026-11-24T10:00:00Z'); // 18:00 in Shanghai, 05:00 in New York

  it('formats in the business time zone for each language', () => {
    expect(formatDueForCustomer(due, 'zh', 'Asia/Shanghai')).toBe('2026年11月24日 18:00');
    expect(formatDueForCustomer(due, 'en', 'Asia/Shanghai')).toBe('Nov 24, 2026, 18:00 (Asia/Shanghai)');
    expect(formatDueForCustomer(due, 'en', 'America/New_York')).toBe(
      'Nov 24, 2026, 05:00 (America/New_York)',
    );
    expect(formatDueForCustomer(at('2026-03-05T01:05:00Z'), 'zh', 'Asia/Shanghai')).toBe(
      '2026年3月5日 09:05',
    );
  });

  it('names the zone in Chinese only outside China Standard Time', () => {
    expect(formatDueForCustomer(due, 'zh', 'America/New_York')).toBe(
      '2026年11月24日 05:00（America/New_York）',
    );
  });
});

describe('clock state of new deadlines', () => {
  it('starts every clock running at the given moment, unescalated', () => {
    const calendar = new BusinessCalendar(policy.calendar);
    const from = new Date('2026-11-24T02:00:00.000Z');
    const deadlines = computeDeadlines(policy, calendar, {
      category: 'billing_dispute',
      severity: 'general',
      tier: 'standard',
      from,
    });
    for (const clock of ['acknowledge', 'firstResponse', 'resolution'] as const) {
      expect(deadlines[clock]).toMatchObject({
        startedAt: from.toISOString(),
        state: 'running',
        escalationLevel: 0,
      });
      expect(deadlines[clock]?.breachedAt).toBeUndefined();
    }
  });
});
