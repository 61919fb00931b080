import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import {
  applyClockDecisions,
  type ClockPatch,
  dueDecisions,
  type EscalationChain,
  escalationContact,
  evaluateTimer,
  meetClock,
  nextTimerAt,
  pauseClocks,
  planTimers,
  reclassifyClocks,
  restartClocks,
  resumeClocks,
  stopClocks,
  type TimerDecision,
} from '../../shared/domain/clocks';
import type { ClockName, Complaint, Deadline } from '../../shared/domain/complaint';
import type { ComplaintStatus } from '../../shared/domain/lifecycle';
import { computeDeadlines } from '../../shared/domain/sla';
import { loadPolicyFile } from '../../shared/policy/load';
import type { Severity } from '../../shared/policy/schema';
import { type TimerPayload, TimerPayloadSchema, timerName } from '../../shared/scheduling/timers';

const policy = loadPolicyFile(fileURLToPath(new URL('../../policy/default-policy.json', import.meta.url)));
/** Asia/Shanghai, Mon–Fri 09:00–12:00 and 13:00–18:00, cn-official holidays. */
const calendar = new BusinessCalendar(policy.calendar);
const chain: EscalationChain = { policy, calendar };

/** A wall time in Shanghai (the business zone). 2026-11-20 is a Friday, 2026-11-23 a Monday; no holidays. */
const sh = (local: string): Date => new Date(`${local}+08:00`);
const iso = (d: Date): string => d.toISOString();
const plus = (isoTime: string, hours: number): Date => new Date(Date.parse(isoTime) + hours * 3_600_000);
const HOUR = 3_600;

interface Shape {
  category?: string;
  severity?: Severity;
  /** When the clocks start (default Monday 2026-11-23 10:00 Shanghai). */
  from?: Date;
}

/** A classified, assigned complaint whose three clocks run from `from` per the default policy. */
function makeComplaint(shape: Shape = {}, overrides: Partial<Complaint> = {}): Complaint {
  const { category = 'other', severity = 'general', from = sh('2026-11-23T10:00:00') } = shape;
  const fromIso = iso(from);
  return {
    id: 'cmp-1',
    number: 'C20261123-000001',
    version: 3,
    status: 'in_progress',
    source: { system: 'test', messageId: 'm-1' },
    submission: {
      channel: 'app',
      customer: { id: 'cust-1', tier: 'standard', language: 'zh' },
      description: '无法登录',
      evidence: [],
    },
    tier: 'standard',
    customerNamespace: 'verified',
    language: 'zh',
    receivedAt: fromIso,
    promisedResponseBy: iso(plus(fromIso, 24)),
    fingerprint: '0123456789abcdef',
    classification: {
      category,
      severity,
      priority: 3,
      validity: 'valid',
      repeat: { isRepeat: false, previous: [] },
      severityRules: [],
      matchedKeywords: [],
      language: 'zh',
      classifiedAt: fromIso,
    },
    assignment: {
      leadDepartment: 'technical_support',
      collaborators: [],
      assignee: 'agent.zhang',
      reason: 'routing rule',
      assignedAt: fromIso,
    },
    deadlines: computeDeadlines(policy, calendar, { category, severity, tier: 'standard', from }),
    clockLog: [],
    timers: {},
    work: {},
    reopenCount: 0,
    updatedAt: fromIso,
    ...overrides,
  };
}

function clockOf(c: Pick<Complaint, 'deadlines'>, clock: ClockName): Deadline {
  const d = c.deadlines[clock];
  if (d === undefined) throw new Error(`no ${clock} clock`);
  return d;
}

const merge = (c: Complaint, patch: ClockPatch): Complaint => ({ ...c, ...patch });

function payload(
  c: Complaint,
  kind: TimerPayload['kind'],
  at: string,
  extra: Partial<TimerPayload> = {},
): TimerPayload {
  return { version: 1, complaintId: c.id, kind, at, ...extra };
}

/** Evaluates and applies like the SLA function would, returning the new complaint and the alerts. */
function deliver(c: Complaint, p: TimerPayload, now: Date) {
  const decisions = evaluateTimer(c, p, now, chain);
  const { patch, alerts } = applyClockDecisions(c, decisions, policy, calendar, now);
  return { decisions, alerts, complaint: merge(c, patch) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('pauseClocks / resumeClocks', () => {
  it('shifts a working-time deadline by exactly the paused working time', () => {
    // billing_dispute: first response 8 working hours, resolution 5 working days.
    const base = makeComplaint({ category: 'billing_dispute', from: sh('2026-11-20T11:00:00') });
    const c = merge(base, meetClock(base, 'acknowledge', sh('2026-11-20T11:30:00')));
    const before = clockOf(c, 'firstResponse');
    expect(before.dueAt).toBe(iso(sh('2026-11-23T11:00:00')));

    const paused = merge(c, pauseClocks(c, sh('2026-11-20T17:00:00')));
    expect(clockOf(paused, 'firstResponse')).toMatchObject({
      state: 'paused',
      pausedAt: iso(sh('2026-11-20T17:00:00')),
    });
    expect(clockOf(paused, 'acknowledge').state).toBe('met');

    // Friday 17:00 → Monday 10:00 is 2 working hours (17–18 Friday, 9–10 Monday).
    const resumedAt = sh('2026-11-23T10:00:00');
    const resumed = merge(paused, resumeClocks(paused, resumedAt, calendar));
    const fr = clockOf(resumed, 'firstResponse');
    expect(fr.state).toBe('running');
    expect(fr.pausedAt).toBeUndefined();
    expect(fr.dueAt).toBe(iso(sh('2026-11-23T14:00:00')));
    const moved = (a: string, b: string) => calendar.workingSecondsBetween(new Date(a), new Date(b));
    expect(moved(before.dueAt, fr.dueAt)).toBe(2 * HOUR);
    expect(moved(before.warnAt, fr.warnAt)).toBe(2 * HOUR);
    const res = clockOf(resumed, 'resolution');
    expect(moved(clockOf(c, 'resolution').dueAt, res.dueAt)).toBe(2 * HOUR);
    expect(clockOf(resumed, 'acknowledge')).toEqual(clockOf(c, 'acknowledge'));

    const log = resumed.clockLog.filter((e) => e.event === 'resumed');
    expect(log.map((e) => e.clock)).toEqual(['firstResponse', 'resolution']);
    expect(log[0]).toEqual({
      at: iso(resumedAt),
      clock: 'firstResponse',
      event: 'resumed',
      detail: { pausedSeconds: 2 * HOUR, dueAt: fr.dueAt },
    });
  });

  it('shifts a calendar-time deadline by the wall-clock pause', () => {
    const c = makeComplaint({ from: sh('2026-11-20T11:00:00') }); // first response 24 calendar hours
    const before = clockOf(c, 'firstResponse');
    const paused = merge(c, pauseClocks(c, sh('2026-11-20T17:00:00')));
    const resumed = merge(paused, resumeClocks(paused, sh('2026-11-23T10:00:00'), calendar));
    const fr = clockOf(resumed, 'firstResponse');
    expect(Date.parse(fr.dueAt) - Date.parse(before.dueAt)).toBe(65 * HOUR * 1000);
    expect(Date.parse(fr.warnAt) - Date.parse(before.warnAt)).toBe(65 * HOUR * 1000);
    expect(resumed.clockLog.at(-1)?.detail).toMatchObject({ pausedSeconds: 65 * HOUR });
  });

  it('keeps a warning already sent and a target already behind at the pause', () => {
    const c = makeComplaint();
    const fr = clockOf(c, 'firstResponse');
    const ack = clockOf(c, 'acknowledge'); // due Monday 12:00
    const warned = merge(c, {
      deadlines: { ...c.deadlines, firstResponse: { ...fr, warnedAt: fr.warnAt } },
      clockLog: [],
    });
    const pausedAt = sh('2026-11-23T13:00:00');
    const paused = merge(warned, pauseClocks(warned, pausedAt));
    const resumed = merge(paused, resumeClocks(paused, plus(iso(pausedAt), 3), calendar));
    expect(clockOf(resumed, 'firstResponse').warnAt).toBe(fr.warnAt);
    expect(clockOf(resumed, 'firstResponse').dueAt).toBe(iso(plus(fr.dueAt, 3)));
    expect(clockOf(resumed, 'acknowledge').dueAt).toBe(ack.dueAt);
  });

  it('does nothing when pausing twice or resuming a running clock', () => {
    const c = makeComplaint();
    const paused = merge(c, pauseClocks(c, sh('2026-11-23T11:00:00')));
    expect(paused.clockLog).toHaveLength(3);
    const again = pauseClocks(paused, sh('2026-11-23T11:30:00'));
    expect(again.deadlines).toEqual(paused.deadlines);
    expect(again.clockLog).toEqual(paused.clockLog);

    const running = resumeClocks(c, sh('2026-11-23T11:30:00'), calendar);
    expect(running.deadlines).toEqual(c.deadlines);
    expect(running.clockLog).toEqual([]);
  });

  it('leaves met and breached clocks alone', () => {
    const c = makeComplaint();
    const met = merge(c, meetClock(c, 'acknowledge', sh('2026-11-23T10:30:00')));
    const fr = clockOf(met, 'firstResponse');
    const breached = merge(met, {
      deadlines: { ...met.deadlines, firstResponse: { ...fr, state: 'breached', breachedAt: fr.dueAt } },
      clockLog: met.clockLog,
    });
    const paused = pauseClocks(breached, sh('2026-11-23T11:00:00'));
    expect(paused.deadlines.acknowledge).toEqual(breached.deadlines.acknowledge);
    expect(paused.deadlines.firstResponse).toEqual(breached.deadlines.firstResponse);
    expect(paused.deadlines.resolution?.state).toBe('paused');
  });
});

describe('meetClock / stopClocks', () => {
  it('a met deadline makes its timers moot', () => {
    const c = makeComplaint();
    const fr = clockOf(c, 'firstResponse');
    const met = merge(c, meetClock(c, 'firstResponse', sh('2026-11-23T15:00:00')));
    expect(clockOf(met, 'firstResponse')).toMatchObject({
      state: 'met',
      metAt: iso(sh('2026-11-23T15:00:00')),
    });
    expect(met.clockLog.at(-1)).toMatchObject({ event: 'met', detail: { late: false } });
    const late = plus(fr.dueAt, 1);
    expect(
      evaluateTimer(c, payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }), late, chain),
    ).toEqual([
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
    expect(
      evaluateTimer(met, payload(met, 'clock_due', fr.dueAt, { clock: 'firstResponse' }), late, chain),
    ).toEqual([]);
    expect(
      evaluateTimer(met, payload(met, 'clock_warning', fr.warnAt, { clock: 'firstResponse' }), late, chain),
    ).toEqual([]);
    expect(planTimers(met, policy).some((t) => t.payload.clock === 'firstResponse')).toBe(false);
    // Meeting again changes nothing.
    const again = meetClock(met, 'firstResponse', late);
    expect(again.deadlines).toEqual(met.deadlines);
    expect(again.clockLog).toEqual(met.clockLog);
  });

  it('a clock met after its breach keeps the breach on record and ends the escalation', () => {
    const c = makeComplaint();
    const fr = clockOf(c, 'firstResponse');
    const breached = deliver(
      c,
      payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
      new Date(fr.dueAt),
    ).complaint;
    const next = clockOf(breached, 'firstResponse').nextEscalationAt;
    expect(next).toBe(iso(plus(fr.dueAt, 4)));
    const met = merge(breached, meetClock(breached, 'firstResponse', plus(fr.dueAt, 1)));
    const d = clockOf(met, 'firstResponse');
    expect(d).toMatchObject({ state: 'met', breachedAt: fr.dueAt, escalationLevel: 1 });
    expect(d.nextEscalationAt).toBeUndefined();
    expect(met.clockLog.at(-1)).toMatchObject({ event: 'met', detail: { late: true } });
    expect(
      evaluateTimer(
        met,
        payload(met, 'escalation', next ?? '', { clock: 'firstResponse', level: 2 }),
        plus(fr.dueAt, 5),
        chain,
      ),
    ).toEqual([]);
  });

  it('counts a running clock met after its due time as late even before the breach was processed', () => {
    const c = makeComplaint();
    const fr = clockOf(c, 'firstResponse');
    const met = meetClock(c, 'firstResponse', plus(fr.dueAt, 0.5));
    expect(met.clockLog.at(-1)?.detail).toMatchObject({ late: true });
    expect(met.deadlines.firstResponse?.breachedAt).toBeUndefined();
  });

  it('stops every clock not yet met and silences their timers', () => {
    const c = makeComplaint();
    const met = merge(c, meetClock(c, 'acknowledge', sh('2026-11-23T10:30:00')));
    const stopped = merge(met, stopClocks(met, sh('2026-11-23T11:00:00')));
    expect(clockOf(stopped, 'acknowledge').state).toBe('met');
    expect(clockOf(stopped, 'firstResponse').state).toBe('stopped');
    expect(clockOf(stopped, 'resolution').state).toBe('stopped');
    expect(stopped.clockLog.filter((e) => e.event === 'stopped').map((e) => e.clock)).toEqual([
      'firstResponse',
      'resolution',
    ]);
    const fr = clockOf(c, 'firstResponse');
    expect(
      evaluateTimer(
        stopped,
        payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
        plus(fr.dueAt, 1),
      ),
    ).toEqual([]);
    expect(planTimers(stopped, policy)).toEqual([]);
    // Only the listed clocks.
    const partly = stopClocks(c, sh('2026-11-23T11:00:00'), ['resolution']);
    expect(partly.deadlines.firstResponse?.state).toBe('running');
    expect(partly.deadlines.resolution?.state).toBe('stopped');
  });
});

describe('evaluateTimer', () => {
  const c = makeComplaint();
  const fr = clockOf(c, 'firstResponse');
  const due = payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' });
  const warning = payload(c, 'clock_warning', fr.warnAt, { clock: 'firstResponse' });

  it('does nothing before the timer is due or for another complaint', () => {
    expect(evaluateTimer(c, warning, new Date(Date.parse(fr.warnAt) - 1))).toEqual([]);
    expect(evaluateTimer(c, { ...warning, complaintId: 'other' }, new Date(fr.warnAt))).toEqual([]);
    expect(evaluateTimer(c, warning, new Date(fr.warnAt))).toEqual([
      { kind: 'warn', clock: 'firstResponse' },
    ]);
  });

  it('matches the stored target whatever its ISO spelling', () => {
    const local = new Date(fr.warnAt)
      .toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' })
      .replace(' ', 'T');
    const spelled = { ...warning, at: `${local}+08:00` };
    expect(evaluateTimer(c, spelled, new Date(fr.warnAt))).toEqual([
      { kind: 'warn', clock: 'firstResponse' },
    ]);
  });

  it('acts once on a duplicate delivery', () => {
    const first = deliver(c, warning, new Date(fr.warnAt));
    expect(first.alerts).toEqual([
      { kind: 'warning', clock: 'firstResponse', dueAt: fr.dueAt, contact: 'agent.zhang' },
    ]);
    expect(clockOf(first.complaint, 'firstResponse').warnedAt).toBe(fr.warnAt);
    expect(first.complaint.clockLog.at(-1)).toMatchObject({ event: 'warned', clock: 'firstResponse' });
    expect(evaluateTimer(first.complaint, warning, plus(fr.warnAt, 1), chain)).toEqual([]);
    const warnAgain = applyClockDecisions(
      first.complaint,
      first.decisions,
      policy,
      calendar,
      plus(fr.warnAt, 1),
    );
    expect(warnAgain.alerts).toEqual([]);
    expect(warnAgain.patch.deadlines).toEqual(first.complaint.deadlines);

    const breached = deliver(first.complaint, due, new Date(fr.dueAt));
    expect(breached.decisions).toHaveLength(2);
    expect(evaluateTimer(breached.complaint, due, plus(fr.dueAt, 1), chain)).toEqual([]);
    // The warning timer arriving after the breach is moot too.
    expect(evaluateTimer(breached.complaint, warning, plus(fr.dueAt, 1), chain)).toEqual([]);
    // Applying the same decisions twice alerts once.
    const twice = applyClockDecisions(
      breached.complaint,
      breached.decisions,
      policy,
      calendar,
      new Date(fr.dueAt),
    );
    expect(twice.alerts).toEqual([]);
    expect(twice.patch.deadlines).toEqual(breached.complaint.deadlines);
  });

  it('ignores a stale timer after the clock moved (resume)', () => {
    const paused = merge(c, pauseClocks(c, sh('2026-11-23T11:00:00')));
    const resumed = merge(paused, resumeClocks(paused, sh('2026-11-23T13:00:00'), calendar));
    const moved = clockOf(resumed, 'firstResponse');
    expect(moved.dueAt).toBe(iso(plus(fr.dueAt, 2)));
    const later = plus(moved.dueAt, 0);
    expect(evaluateTimer(resumed, due, later, chain)).toEqual([]);
    expect(evaluateTimer(resumed, warning, later, chain)).toEqual([]);
    expect(evaluateTimer(resumed, { ...due, at: moved.dueAt }, later, chain)).toEqual([
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
    // While paused, clock timers do nothing.
    expect(evaluateTimer(paused, due, later, chain)).toEqual([]);
  });

  it('ignores clock timers of a complaint that is no longer open', () => {
    for (const status of ['resolved', 'closed', 'rejected'] satisfies ComplaintStatus[]) {
      expect(evaluateTimer({ ...c, status }, due, plus(fr.dueAt, 1), chain)).toEqual([]);
    }
  });

  it('breaches and escalates level by level: 1 at the deadline, 2 four hours later, 3 eight more, then stops', () => {
    const t0 = new Date(fr.dueAt);
    const step1 = deliver(c, due, t0);
    expect(step1.decisions).toEqual([
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
    expect(step1.alerts).toEqual([
      { kind: 'breach', clock: 'firstResponse', dueAt: fr.dueAt, contact: 'agent.zhang' },
      {
        kind: 'escalation',
        clock: 'firstResponse',
        dueAt: fr.dueAt,
        level: 1,
        role: 'team_lead',
        contact: 'lead.tech',
      },
    ]);
    const d1 = clockOf(step1.complaint, 'firstResponse');
    expect(d1).toMatchObject({
      state: 'breached',
      breachedAt: fr.dueAt,
      escalationLevel: 1,
      nextEscalationAt: iso(plus(fr.dueAt, 4)),
    });

    const [esc2] = planTimers(step1.complaint, policy).filter((t) => t.payload.kind === 'escalation');
    expect(esc2).toMatchObject({ name: 'cmp-1-fr-esc', at: iso(plus(fr.dueAt, 4)), target: 'sla' });
    expect(esc2?.payload).toMatchObject({ kind: 'escalation', clock: 'firstResponse', level: 2 });
    if (esc2 === undefined) throw new Error('no escalation timer');
    expect(evaluateTimer(step1.complaint, esc2.payload, new Date(Date.parse(esc2.at) - 1), chain)).toEqual(
      [],
    );
    const step2 = deliver(step1.complaint, esc2.payload, new Date(esc2.at));
    expect(step2.alerts).toEqual([
      expect.objectContaining({
        kind: 'escalation',
        level: 2,
        role: 'department_head',
        contact: 'head.tech',
      }),
    ]);
    expect(clockOf(step2.complaint, 'firstResponse').nextEscalationAt).toBe(iso(plus(fr.dueAt, 12)));

    const [esc3] = planTimers(step2.complaint, policy).filter((t) => t.payload.kind === 'escalation');
    if (esc3 === undefined) throw new Error('no escalation timer');
    expect(esc3.payload).toMatchObject({ level: 3, at: iso(plus(fr.dueAt, 12)) });
    const step3 = deliver(step2.complaint, esc3.payload, new Date(esc3.at));
    expect(step3.alerts).toEqual([
      expect.objectContaining({
        kind: 'escalation',
        level: 3,
        role: 'executive_on_duty',
        contact: 'exec.on_duty',
      }),
    ]);
    const d3 = clockOf(step3.complaint, 'firstResponse');
    expect(d3.escalationLevel).toBe(3);
    expect(d3.nextEscalationAt).toBeUndefined();
    expect(planTimers(step3.complaint, policy).filter((t) => t.payload.kind === 'escalation')).toEqual([]);
    // Replays of any level do nothing any more.
    for (const p of [esc2.payload, esc3.payload, due])
      expect(evaluateTimer(step3.complaint, p, plus(fr.dueAt, 48), chain)).toEqual([]);
    expect(
      dueDecisions(step3.complaint, plus(fr.dueAt, 12), chain).filter(
        (d) => 'clock' in d && d.clock === 'firstResponse',
      ),
    ).toEqual([]);

    expect(
      step3.complaint.clockLog.map((e) => [e.event, e.detail?.level]).filter(([, l]) => l !== undefined),
    ).toEqual([
      ['escalated', 1],
      ['escalated', 2],
      ['escalated', 3],
    ]);
  });

  it('without the escalation chain, breaches only and level 1 follows through nextEscalationAt', () => {
    const t0 = new Date(fr.dueAt);
    const decisions = evaluateTimer(c, due, t0);
    expect(decisions).toEqual([{ kind: 'breach', clock: 'firstResponse' }]);
    const breached = merge(c, applyClockDecisions(c, decisions, policy, calendar, t0).patch);
    expect(clockOf(breached, 'firstResponse')).toMatchObject({
      escalationLevel: 0,
      nextEscalationAt: fr.dueAt,
    });
    const esc = planTimers(breached, policy).find((t) => t.payload.kind === 'escalation');
    expect(esc?.payload).toMatchObject({ level: 1, at: fr.dueAt });
    if (esc === undefined) throw new Error('no escalation timer');
    expect(evaluateTimer(breached, esc.payload, t0)).toEqual([
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
  });

  it('a late due timer catches up with every level already due; a wrong level does nothing', () => {
    expect(evaluateTimer(c, due, plus(fr.dueAt, 5), chain)).toEqual([
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
      { kind: 'escalate', clock: 'firstResponse', level: 2 },
    ]);
    const breached = deliver(c, due, new Date(fr.dueAt)).complaint;
    const next = clockOf(breached, 'firstResponse').nextEscalationAt ?? '';
    const late = plus(next, 1);
    for (const level of [1, 3])
      expect(
        evaluateTimer(
          breached,
          payload(c, 'escalation', next, { clock: 'firstResponse', level }),
          late,
          chain,
        ),
      ).toEqual([]);
  });
});

describe('dueDecisions (the backstop sweep)', () => {
  const c = makeComplaint(); // Monday 10:00: ack due 12:00, first response due Tuesday 10:00
  const fr = clockOf(c, 'firstResponse');
  const now = plus(fr.dueAt, 1);
  const timersDue = (x: Complaint) => planTimers(x, policy).filter((t) => Date.parse(t.at) <= now.getTime());

  it('decides exactly what the individual timers would', () => {
    const fromTimers = timersDue(c).flatMap((t) => evaluateTimer(c, t.payload, now, chain));
    const swept = dueDecisions(c, now, chain);
    expect(swept).toEqual(fromTimers);
    expect(swept).toEqual<TimerDecision[]>([
      { kind: 'warn', clock: 'acknowledge' },
      { kind: 'breach', clock: 'acknowledge' },
      { kind: 'escalate', clock: 'acknowledge', level: 1 },
      { kind: 'escalate', clock: 'acknowledge', level: 2 },
      { kind: 'escalate', clock: 'acknowledge', level: 3 },
      { kind: 'warn', clock: 'firstResponse' },
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
  });

  it('never acts twice when a sweep and the timers race', () => {
    // Sweep first, then the timers arrive.
    const swept = merge(c, applyClockDecisions(c, dueDecisions(c, now, chain), policy, calendar, now).patch);
    expect(dueDecisions(swept, now, chain)).toEqual([]);
    for (const t of timersDue(c)) expect(evaluateTimer(swept, t.payload, now, chain)).toEqual([]);

    // Timers first (each on the state the previous one wrote), then the sweep.
    let viaTimers = c;
    for (const t of timersDue(c)) viaTimers = deliver(viaTimers, t.payload, now).complaint;
    expect(dueDecisions(viaTimers, now, chain)).toEqual([]);
    expect(viaTimers.deadlines).toEqual(swept.deadlines);

    // What is left: the first response's level 2, four hours after its deadline.
    expect(planTimers(swept, policy).filter((t) => t.payload.kind === 'escalation')).toEqual([
      expect.objectContaining({ name: 'cmp-1-fr-esc', at: iso(plus(fr.dueAt, 4)) }),
    ]);
  });
});

describe('planTimers / nextTimerAt', () => {
  const c = makeComplaint();

  it('plans a warning and a deadline per running clock', () => {
    const timers = planTimers(c, policy);
    expect(timers.map((t) => t.name)).toEqual([
      'cmp-1-ack-warn',
      'cmp-1-ack-due',
      'cmp-1-fr-warn',
      'cmp-1-fr-due',
      'cmp-1-res-warn',
      'cmp-1-res-due',
    ]);
    for (const t of timers) {
      expect(TimerPayloadSchema.parse(t.payload)).toEqual(t.payload);
      expect(t.target).toBe('sla');
      expect(t.at).toBe(t.payload.at);
      expect(t.name).toBe(timerName(t.payload));
    }
    expect(timers[3]?.payload).toEqual({
      version: 1,
      complaintId: 'cmp-1',
      kind: 'clock_due',
      clock: 'firstResponse',
      at: clockOf(c, 'firstResponse').dueAt,
    });
    expect(nextTimerAt(c, policy)).toEqual({ at: clockOf(c, 'acknowledge').warnAt, kind: 'clock_warning' });
  });

  it('plans nothing for paused, met or stopped clocks, and no warning once warned', () => {
    const paused = merge(c, pauseClocks(c, sh('2026-11-23T10:30:00')));
    expect(planTimers({ ...paused, status: 'waiting_on_customer' }, policy)).toEqual([]);
    expect(nextTimerAt(paused, policy)).toBeUndefined();

    const warned = deliver(
      c,
      payload(c, 'clock_warning', clockOf(c, 'acknowledge').warnAt, { clock: 'acknowledge' }),
      sh('2026-11-23T11:40:00'),
    ).complaint;
    const met = merge(warned, meetClock(warned, 'firstResponse', sh('2026-11-23T11:45:00')));
    const stopped = merge(met, stopClocks(met, sh('2026-11-23T11:50:00'), ['resolution']));
    expect(planTimers(stopped, policy).map((t) => t.name)).toEqual(['cmp-1-ack-due']);
  });

  it('plans the next escalation of a breached clock', () => {
    const ack = clockOf(c, 'acknowledge');
    const breached = deliver(
      c,
      payload(c, 'clock_due', ack.dueAt, { clock: 'acknowledge' }),
      new Date(ack.dueAt),
    ).complaint;
    const esc = planTimers(breached, policy).find((t) => t.name === 'cmp-1-ack-esc');
    expect(esc?.payload).toEqual({
      version: 1,
      complaintId: 'cmp-1',
      kind: 'escalation',
      clock: 'acknowledge',
      level: 2,
      at: iso(plus(ack.dueAt, 4)),
    });
    expect(nextTimerAt(breached, policy)).toEqual({ at: iso(plus(ack.dueAt, 4)), kind: 'escalation' });
  });

  it('plans the survey of a resolved complaint: send, then close, then nothing', () => {
    const resolvedAt = sh('2026-11-24T15:00:00');
    const base = merge(c, stopClocks(c, resolvedAt));
    const sendAt = iso(calendar.add(resolvedAt, policy.survey.sendAfter));
    const resolved: Complaint = { ...base, status: 'resolved', survey: { sendAt } };
    const send = planTimers(resolved, policy);
    expect(send).toEqual([
      {
        name: 'cmp-1-survey-send',
        at: sendAt,
        target: 'survey',
        payload: { version: 1, complaintId: 'cmp-1', kind: 'survey_send', at: sendAt },
      },
    ]);
    const sendPayload = send[0]?.payload as TimerPayload;
    expect(evaluateTimer(resolved, sendPayload, new Date(sendAt))).toEqual([{ kind: 'survey_send' }]);
    expect(evaluateTimer(resolved, { ...sendPayload, at: iso(resolvedAt) }, new Date(sendAt))).toEqual([]);
    expect(evaluateTimer({ ...resolved, status: 'reopened' }, sendPayload, new Date(sendAt))).toEqual([]);

    const closesAt = iso(calendar.add(new Date(sendAt), policy.survey.answerWindow));
    const requested: Complaint = { ...resolved, survey: { sendAt, requestedAt: sendAt, closesAt } };
    expect(evaluateTimer(requested, sendPayload, new Date(sendAt))).toEqual([]);
    const close = planTimers(requested, policy);
    expect(close.map((t) => [t.name, t.at, t.target])).toEqual([['cmp-1-survey-close', closesAt, 'survey']]);
    const closePayload = close[0]?.payload as TimerPayload;
    expect(evaluateTimer(requested, closePayload, new Date(closesAt))).toEqual([{ kind: 'survey_close' }]);
    expect(nextTimerAt(requested, policy)).toEqual({ at: closesAt, kind: 'survey_close' });
    // Survey decisions change no clock.
    const applied = applyClockDecisions(
      requested,
      [{ kind: 'survey_close' }],
      policy,
      calendar,
      new Date(closesAt),
    );
    expect(applied).toEqual({
      patch: { deadlines: requested.deadlines, clockLog: requested.clockLog },
      alerts: [],
    });

    const answered: Complaint = {
      ...requested,
      survey: { ...requested.survey, sendAt, score: 5, answeredAt: closesAt, outcome: 'satisfied' },
    };
    expect(planTimers(answered, policy)).toEqual([]);
    expect(evaluateTimer(answered, closePayload, new Date(closesAt))).toEqual([]);
  });

  it('plans nothing for a closed complaint, whatever its clocks say', () => {
    expect(planTimers({ ...c, status: 'closed' }, policy)).toEqual([]);
    expect(nextTimerAt({ ...c, status: 'closed' }, policy)).toBeUndefined();
    expect(dueDecisions({ ...c, status: 'closed' }, plus(clockOf(c, 'resolution').dueAt, 48), chain)).toEqual(
      [],
    );
  });
});

describe('restartClocks', () => {
  it('restarts first response and resolution on reopening, keeps a met acknowledgement, raises the base level', () => {
    const c = makeComplaint();
    let done = c;
    for (const clock of ['acknowledge', 'firstResponse', 'resolution'] as const)
      done = merge(done, meetClock(done, clock, sh('2026-11-23T11:00:00')));
    const reopenedAt = sh('2026-11-27T10:00:00');
    const reopened = merge(
      { ...done, status: 'reopened', reopenCount: 1 },
      restartClocks({ ...done, status: 'reopened' }, policy, calendar, reopenedAt, 1),
    );
    expect(reopened.deadlines.acknowledge).toEqual(done.deadlines.acknowledge);
    const expected = computeDeadlines(policy, calendar, {
      category: 'other',
      severity: 'general',
      tier: 'standard',
      from: reopenedAt,
    });
    for (const clock of ['firstResponse', 'resolution'] as const) {
      expect(clockOf(reopened, clock)).toEqual({ ...expected[clock], escalationLevel: 1 });
      expect(clockOf(reopened, clock).metAt).toBeUndefined();
    }
    expect(reopened.clockLog.slice(-2)).toEqual([
      {
        at: iso(reopenedAt),
        clock: 'firstResponse',
        event: 'recomputed',
        detail: {
          dueAt: expected.firstResponse?.dueAt,
          escalationLevel: 1,
          previousDueAt: clockOf(c, 'firstResponse').dueAt,
          previousState: 'met',
        },
      },
      expect.objectContaining({ clock: 'resolution', event: 'recomputed' }),
    ]);

    // Its next breach starts above level 1: the department head, 4 hours after the deadline.
    const fr = clockOf(reopened, 'firstResponse');
    const breach = deliver(
      reopened,
      payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
      new Date(fr.dueAt),
    );
    expect(breach.decisions).toEqual([{ kind: 'breach', clock: 'firstResponse' }]);
    expect(clockOf(breach.complaint, 'firstResponse').nextEscalationAt).toBe(iso(plus(fr.dueAt, 4)));
    const esc = planTimers(breach.complaint, policy).find((t) => t.payload.kind === 'escalation');
    expect(esc?.payload.level).toBe(2);
    if (esc === undefined) throw new Error('no escalation timer');
    expect(deliver(breach.complaint, esc.payload, new Date(esc.at)).alerts).toEqual([
      expect.objectContaining({ level: 2, role: 'department_head', contact: 'head.tech' }),
    ]);
  });

  it('restarts an acknowledgement not yet met, follows a reclassification, and logs new clocks as started', () => {
    const c = makeComplaint();
    const at = sh('2026-11-23T11:00:00');
    const reclassified: Complaint = {
      ...c,
      classification: {
        ...(c.classification as NonNullable<Complaint['classification']>),
        severity: 'major',
      },
    };
    const patch = restartClocks(reclassified, policy, calendar, at);
    expect(patch.deadlines.acknowledge?.dueAt).toBe(iso(plus(iso(at), 0.25)));
    expect(patch.deadlines.firstResponse?.dueAt).toBe(iso(plus(iso(at), 1)));
    expect(patch.deadlines.firstResponse?.escalationLevel).toBe(0);
    expect(patch.clockLog.map((e) => e.event)).toEqual(['recomputed', 'recomputed', 'recomputed']);

    const fresh = restartClocks({ ...c, deadlines: {}, classification: undefined }, policy, calendar, at);
    expect(fresh.clockLog.map((e) => [e.clock, e.event])).toEqual([
      ['acknowledge', 'started'],
      ['firstResponse', 'started'],
      ['resolution', 'started'],
    ]);
    expect(fresh.deadlines.acknowledge?.startedAt).toBe(iso(at));
  });
});

describe('reclassifyClocks', () => {
  /** `c` with a new category and/or severity (what the reclassify action does before the clocks). */
  const as = (c: Complaint, shape: { category?: string; severity?: Severity }): Complaint => ({
    ...c,
    classification: { ...(c.classification as NonNullable<Complaint['classification']>), ...shape },
  });
  const receipt = sh('2026-11-23T10:00:00');
  const sinceReceipt = (hours: number) => plus(iso(receipt), hours);

  it('measures the new targets from receipt, keeps a met clock and logs the old and new due times', () => {
    const c = makeComplaint();
    const acked = merge(c, meetClock(c, 'acknowledge', sh('2026-11-23T10:10:00')));
    const at = sh('2026-11-23T10:30:00');
    const major = as(acked, { severity: 'major' });
    const next = merge(major, reclassifyClocks(major, policy, calendar, at));

    expect(next.deadlines.acknowledge).toEqual(acked.deadlines.acknowledge);
    const expected = computeDeadlines(policy, calendar, {
      category: 'other',
      severity: 'major',
      tier: 'standard',
      from: receipt,
    });
    for (const clock of ['firstResponse', 'resolution'] as const) {
      expect(clockOf(next, clock)).toEqual({ ...expected[clock], startedAt: iso(receipt) });
    }
    expect(clockOf(next, 'firstResponse').dueAt).toBe(iso(sinceReceipt(1)));
    expect(next.clockLog.slice(acked.clockLog.length)).toEqual([
      {
        at: iso(at),
        clock: 'firstResponse',
        event: 'recomputed',
        detail: {
          reason: 'reclassification',
          dueAt: iso(sinceReceipt(1)),
          previousDueAt: clockOf(c, 'firstResponse').dueAt,
          state: 'running',
          previousState: 'running',
        },
      },
      expect.objectContaining({ clock: 'resolution', event: 'recomputed' }),
    ]);
  });

  it('leaves clocks whose target does not move untouched and unlogged', () => {
    const c = makeComplaint();
    // other → service_quality (general): same acknowledgement and first response, resolution 48 h instead of 72 h.
    const sq = as(c, { category: 'service_quality' });
    const patch = reclassifyClocks(sq, policy, calendar, sinceReceipt(1));
    expect(patch.deadlines.acknowledge).toBe(c.deadlines.acknowledge);
    expect(patch.deadlines.firstResponse).toBe(c.deadlines.firstResponse);
    expect(clockOf(patch, 'resolution').dueAt).toBe(iso(sinceReceipt(48)));
    expect(patch.clockLog.map((e) => e.clock)).toEqual(['resolution']);
  });

  it('keeps the first response within what the customer was promised at intake', () => {
    const c = makeComplaint({ severity: 'urgent' }, { promisedResponseBy: iso(sinceReceipt(8)) });
    const general = as(c, { severity: 'general' });
    const fr = clockOf(reclassifyClocks(general, policy, calendar, sinceReceipt(1)), 'firstResponse');
    expect(fr.dueAt).toBe(iso(sinceReceipt(8)));
    expect(Date.parse(fr.warnAt)).toBeLessThanOrEqual(Date.parse(fr.dueAt));
  });

  it('gives the clocks the complaint would have had, classified so from the start, waits included', () => {
    // Calendar rows (other → major) and working-time rows (other → billing_dispute): a wait of
    // Friday 17:00 → Monday 10:00 and the reclassification on Monday 11:00.
    for (const target of [{ severity: 'major' as const }, { category: 'billing_dispute' }]) {
      const from = sh('2026-11-20T16:00:00');
      const wait = (c: Complaint) => {
        const paused = merge(c, pauseClocks(c, sh('2026-11-20T16:30:00')));
        return merge(paused, resumeClocks(paused, sh('2026-11-23T10:00:00'), calendar));
      };
      // (No cap from the intake promise here: classification applies the same cap to both.)
      const promise = { promisedResponseBy: iso(plus(iso(from), 24 * 7)) };
      const actual = wait(makeComplaint({ from }, promise));
      const reclassified = as(actual, target);
      const next = reclassifyClocks(reclassified, policy, calendar, sh('2026-11-23T11:00:00'));
      const ideal = wait(makeComplaint({ from, ...target }, promise));
      for (const clock of ['acknowledge', 'firstResponse', 'resolution'] as const) {
        const mine = clockOf(next, clock);
        const theirs = clockOf(ideal, clock);
        expect([mine.dueAt, mine.warnAt, mine.basis], `${JSON.stringify(target)} ${clock}`).toEqual([
          theirs.dueAt,
          theirs.warnAt,
          theirs.basis,
        ]);
      }
    }
  });

  it('keeps the clocks paused while waiting on the customer, from the start of the wait', () => {
    const c = makeComplaint();
    const acked = merge(c, meetClock(c, 'acknowledge', sh('2026-11-23T10:05:00')));
    const waitStart = sh('2026-11-23T10:30:00');
    const waiting: Complaint = {
      ...merge(acked, pauseClocks(acked, waitStart)),
      status: 'waiting_on_customer',
      work: { waitingSince: iso(waitStart) },
    };
    const major = as(waiting, { severity: 'major' });
    const next = merge(major, reclassifyClocks(major, policy, calendar, sh('2026-11-23T14:00:00')));
    // Due 11:00 under the major row: still ahead when the wait began, so paused, not breached.
    expect(clockOf(next, 'firstResponse')).toMatchObject({
      state: 'paused',
      pausedAt: iso(waitStart),
      dueAt: iso(sinceReceipt(1)),
    });
    expect(clockOf(next, 'resolution')).toMatchObject({ state: 'paused', pausedAt: iso(waitStart) });
    expect(planTimers(next, policy)).toEqual([]);
    // The customer replies at 15:00: the 30 minutes left at the wait remain.
    const resumed = merge(next, resumeClocks(next, sh('2026-11-23T15:00:00'), calendar));
    expect(clockOf(resumed, 'firstResponse')).toMatchObject({
      state: 'running',
      dueAt: iso(sh('2026-11-23T15:30:00')),
    });
  });

  it('a running clock whose new due time has passed stays running: its timer breaches and escalates at once', () => {
    const c = makeComplaint();
    const acked = merge(c, meetClock(c, 'acknowledge', sh('2026-11-23T10:10:00')));
    const now = sinceReceipt(2);
    const major = as(acked, { severity: 'major' });
    const next = merge(major, reclassifyClocks(major, policy, calendar, now));
    const fr = clockOf(next, 'firstResponse');
    expect(fr).toMatchObject({ state: 'running', dueAt: iso(sinceReceipt(1)) });
    const due = planTimers(next, policy).find(
      (t) => t.payload.kind === 'clock_due' && t.payload.clock === 'firstResponse',
    );
    expect(due?.at).toBe(iso(sinceReceipt(1)));
    if (due === undefined) throw new Error('no due timer');
    const { decisions } = deliver(next, due.payload, now);
    expect(decisions).toEqual([
      { kind: 'breach', clock: 'firstResponse' },
      { kind: 'escalate', clock: 'firstResponse', level: 1 },
    ]);
  });

  it('a breached clock stays breached when the new due time has passed too, its escalation re-chained', () => {
    const c = makeComplaint();
    const fr = clockOf(c, 'firstResponse'); // due after 24 h
    const breached = deliver(
      c,
      payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
      sinceReceipt(24),
    );
    const level1 = breached.complaint;
    expect(clockOf(level1, 'firstResponse')).toMatchObject({ state: 'breached', escalationLevel: 1 });
    const urgent = as(level1, { severity: 'urgent' });
    const next = merge(urgent, reclassifyClocks(urgent, policy, calendar, sinceReceipt(25)));
    expect(clockOf(next, 'firstResponse')).toMatchObject({
      state: 'breached',
      dueAt: iso(sinceReceipt(4)),
      breachedAt: iso(sinceReceipt(24)),
      escalationLevel: 1,
      // Level 2 is 4 hours after the (new) deadline: already due, so its timer fires at once.
      nextEscalationAt: iso(sinceReceipt(8)),
    });
    expect(next.clockLog.at(-2)).toMatchObject({
      clock: 'firstResponse',
      event: 'recomputed',
      detail: { previousState: 'breached', state: 'breached', previousDueAt: fr.dueAt },
    });
  });

  it('lifts a breach when the new target is still ahead, keeping the levels already alerted', () => {
    const c = makeComplaint({ severity: 'urgent' });
    const fr = clockOf(c, 'firstResponse'); // due after 4 h
    const level1 = deliver(
      c,
      payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
      sinceReceipt(4),
    ).complaint;
    const general = as(level1, { severity: 'general' });
    const next = merge(general, reclassifyClocks(general, policy, calendar, sinceReceipt(5)));
    const lifted = clockOf(next, 'firstResponse');
    expect(lifted).toMatchObject({ state: 'running', dueAt: iso(sinceReceipt(24)), escalationLevel: 1 });
    expect(lifted.breachedAt).toBeUndefined();
    expect(lifted.nextEscalationAt).toBeUndefined();
    // The breach stays provable from the log.
    expect(next.clockLog.some((e) => e.clock === 'firstResponse' && e.event === 'breached')).toBe(true);
    // A new breach escalates above the level already alerted.
    const again = deliver(
      next,
      payload(c, 'clock_due', lifted.dueAt, { clock: 'firstResponse' }),
      sinceReceipt(24),
    ).decisions;
    expect(again).toEqual([{ kind: 'breach', clock: 'firstResponse' }]);
  });

  it('a breach lifted during a wait pauses the clock from the start of the wait, and that wait keeps counting', () => {
    const c = makeComplaint({ severity: 'urgent' });
    const fr = clockOf(c, 'firstResponse'); // due after 4 h
    const level1 = deliver(
      c,
      payload(c, 'clock_due', fr.dueAt, { clock: 'firstResponse' }),
      sinceReceipt(4),
    ).complaint;
    const waitStart = sinceReceipt(5);
    const waiting: Complaint = {
      ...merge(level1, pauseClocks(level1, waitStart)),
      status: 'waiting_on_customer',
      work: { waitingSince: iso(waitStart) },
    };
    expect(clockOf(waiting, 'firstResponse').state).toBe('breached');
    const general = as(waiting, { severity: 'general' });
    const lifted = merge(general, reclassifyClocks(general, policy, calendar, sinceReceipt(6)));
    expect(clockOf(lifted, 'firstResponse')).toMatchObject({
      state: 'paused',
      pausedAt: iso(waitStart),
      dueAt: iso(sinceReceipt(24)),
    });
    expect(lifted.clockLog.at(-2)?.detail).toMatchObject({ pausedAt: iso(waitStart), state: 'paused' });
    // The customer replies 3 hours into the wait: both clocks move by those 3 hours.
    const resumed = {
      ...merge(lifted, resumeClocks(lifted, sinceReceipt(8), calendar)),
      status: 'in_progress' as const,
    };
    expect(clockOf(resumed, 'firstResponse')).toMatchObject({
      state: 'running',
      dueAt: iso(sinceReceipt(27)),
    });
    // A later reclassification with the same first-response target still counts that wait: nothing moves.
    const sq = as(resumed, { category: 'service_quality' });
    const again = reclassifyClocks(sq, policy, calendar, sinceReceipt(9));
    expect(again.deadlines.firstResponse).toBe(resumed.deadlines.firstResponse);
    expect(clockOf(again, 'resolution').dueAt).toBe(iso(sinceReceipt(48 + 3)));
  });

  it('warns again at a new warning time still ahead, and keeps a warning whose new time has passed', () => {
    const c = makeComplaint({ severity: 'urgent' });
    const fr = clockOf(c, 'firstResponse'); // warned after 3.2 h
    const warned = deliver(
      c,
      payload(c, 'clock_warning', fr.warnAt, { clock: 'firstResponse' }),
      sinceReceipt(3.5),
    );
    expect(clockOf(warned.complaint, 'firstResponse').warnedAt).toBe(iso(sinceReceipt(3.5)));
    const general = as(warned.complaint, { severity: 'general' });
    const later = clockOf(reclassifyClocks(general, policy, calendar, sinceReceipt(3.6)), 'firstResponse');
    expect(later.warnedAt).toBeUndefined();
    expect(later.warnAt).toBe(iso(sinceReceipt(24 * 0.8)));
    const major = as(warned.complaint, { severity: 'major' });
    const earlier = clockOf(reclassifyClocks(major, policy, calendar, sinceReceipt(3.6)), 'firstResponse');
    expect(earlier.warnedAt).toBe(iso(sinceReceipt(3.5)));
  });
});

describe('escalation contacts', () => {
  const c = makeComplaint();

  it('resolve to the lead department, the fallback department and the executive on duty', () => {
    const billing: Complaint = {
      ...c,
      assignment: { ...(c.assignment as NonNullable<Complaint['assignment']>), leadDepartment: 'billing' },
    };
    expect(escalationContact(policy, billing, 'team_lead')).toBe('lead.billing');
    expect(escalationContact(policy, billing, 'department_head')).toBe('head.billing');
    expect(escalationContact(policy, billing, 'executive_on_duty')).toBe('exec.on_duty');
    const unassigned: Complaint = { ...c, assignment: undefined };
    expect(escalationContact(policy, unassigned, 'team_lead')).toBe('lead.cs');
    expect(escalationContact(policy, unassigned, 'department_head')).toBe('head.cs');
  });

  it('warn the team lead when nobody is assigned', () => {
    const noAgent: Complaint = {
      ...c,
      assignment: { ...(c.assignment as NonNullable<Complaint['assignment']>), assignee: undefined },
    };
    const ack = clockOf(c, 'acknowledge');
    const { alerts } = deliver(
      noAgent,
      payload(c, 'clock_warning', ack.warnAt, { clock: 'acknowledge' }),
      new Date(ack.warnAt),
    );
    expect(alerts).toEqual([
      { kind: 'warning', clock: 'acknowledge', dueAt: ack.dueAt, role: 'team_lead', contact: 'lead.tech' },
    ]);
  });
});

describe('purity', () => {
  it('never mutates its input', () => {
    const c = deepFreeze(makeComplaint());
    const snapshot = structuredClone(c);
    const fr = clockOf(c, 'firstResponse');
    const at = plus(fr.dueAt, 20);
    const paused = deepFreeze(merge(c, pauseClocks(c, sh('2026-11-23T11:00:00'))));
    resumeClocks(paused, sh('2026-11-23T12:00:00'), calendar);
    meetClock(c, 'acknowledge', at);
    stopClocks(c, at);
    restartClocks(c, policy, calendar, at, 2);
    reclassifyClocks(
      {
        ...c,
        classification: {
          ...(c.classification as NonNullable<Complaint['classification']>),
          severity: 'major',
        },
      },
      policy,
      calendar,
      at,
    );
    const decisions = dueDecisions(c, at, chain);
    expect(decisions.length).toBeGreaterThan(0);
    applyClockDecisions(c, decisions, policy, calendar, at);
    planTimers(c, policy);
    expect(c).toEqual(snapshot);
  });
});
