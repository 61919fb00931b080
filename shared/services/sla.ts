import {
  type Alert,
  applyClockDecisions,
  dueDecisions,
  type EscalationChain,
  evaluateTimer,
  type TimerDecision,
} from '../domain/clocks';
import type { Complaint } from '../domain/complaint';
import { HANDOFF_KIND, handoffRepairDue, MAX_HANDOFF_REPAIRS, recordHandoffRepair } from '../domain/handoff';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { TimerPayload } from '../scheduling/timers';
import type { BacklogGroup } from '../storage/ports';
import type { ServiceContext } from './context';
import { republishIntakeEvents } from './intake';
import { retryOnConflict } from './retry';
import { handleSurveyDecision } from './survey';
import { syncTimers, withTimers } from './timers';

export type Detection = 'timer' | 'sweep';

export interface TimerOutcome {
  /** What was done: the decisions applied (empty when the timer was moot). */
  applied: TimerDecision['kind'][];
}

/**
 * An SLA timer fired (EventBridge Scheduler → SLA function). Decides from the
 * stored state alone whether the deadline was really missed — a met, moot, stale or
 * already-handled deadline does nothing — then records it on the clock, escalates
 * one level and publishes the events. The write is conditional on the version
 * read, so a duplicate delivery or the sweep racing this timer cannot act twice:
 * the loser re-reads, finds the state applied, and does nothing.
 */
export async function handleSlaTimer(ctx: ServiceContext, payload: TimerPayload): Promise<TimerOutcome> {
  return retryOnConflict(async () => {
    const complaint = await ctx.store.get(payload.complaintId);
    if (complaint === undefined) return { applied: [] };
    return applyDecisions(
      ctx,
      complaint,
      evaluateTimer(complaint, payload, ctx.now(), chainOf(ctx)),
      'timer',
    );
  });
}

/** The escalation chain, so a breach alerts every level already due at that moment (level 1 at the deadline). */
function chainOf(ctx: ServiceContext): EscalationChain {
  return { policy: ctx.policy, calendar: ctx.calendar };
}

/**
 * Applies clock and survey decisions to one complaint: a conditional write of the
 * new clock state and timer map, then the schedule changes and the events.
 * Also used by the sweep, with the decisions it found due.
 */
export async function applyDecisions(
  ctx: ServiceContext,
  complaint: Complaint,
  decisions: readonly TimerDecision[],
  detectedBy: Detection,
): Promise<TimerOutcome> {
  const clockDecisions = decisions.filter(
    (d) => d.kind === 'warn' || d.kind === 'breach' || d.kind === 'escalate',
  );
  const surveyDecisions = decisions.filter((d) => d.kind === 'survey_send' || d.kind === 'survey_close');
  const applied: TimerDecision['kind'][] = [];
  let current = complaint;
  if (clockDecisions.length > 0) {
    const now = ctx.now();
    const { patch, alerts } = applyClockDecisions(current, clockDecisions, ctx.policy, ctx.calendar, now);
    const next = withTimers(
      { ...current, ...patch, version: current.version + 1, updatedAt: now.toISOString() },
      ctx.policy,
    );
    await ctx.store.update({
      next,
      expectedVersion: current.version,
      timeline: alerts.map((alert) => ({
        at: now.toISOString(),
        type: `sla_${alert.kind}`,
        actor: `system:sla-${detectedBy}`,
        summary: alertSummary(alert),
        data: {
          clock: alert.clock,
          dueAt: alert.dueAt,
          level: alert.level,
          role: alert.role,
          contact: alert.contact,
        },
      })),
    });
    await syncTimers(ctx, current, next);
    await ctx.publisher.publish(alerts.map((alert) => alertEvent(next, alert, detectedBy)));
    applied.push(...clockDecisions.map((d) => d.kind));
    current = next;
  }
  for (const decision of surveyDecisions) {
    const next = await handleSurveyDecision(ctx, current, decision);
    if (next !== undefined) {
      applied.push(decision.kind);
      current = next;
    }
  }
  if (applied.length === 0) await dropFiredTimers(ctx, complaint);
  return { applied };
}

/**
 * A moot timer still leaves its entry in the record's timer map (Scheduler deleted
 * the schedule after it fired). Rewriting the map keeps the sweep index pointing at
 * the next real deadline instead of the past one.
 */
async function dropFiredTimers(ctx: ServiceContext, complaint: Complaint): Promise<void> {
  const planned = withTimers(complaint, ctx.policy);
  if (JSON.stringify(planned.timers) === JSON.stringify(complaint.timers)) return;
  const now = ctx.now();
  const next = { ...planned, version: complaint.version + 1, updatedAt: now.toISOString() };
  await ctx.store.update({ next, expectedVersion: complaint.version, timeline: [] });
  await syncTimers(ctx, complaint, next);
}

/** Complaints one sweep run examines at most (the earliest due first; the next run takes the rest). */
export const SWEEP_LIMIT = 200;

export interface SweepResult {
  examined: number;
  /** Complaints whose due deadlines the sweep applied (their timers were lost). */
  applied: number;
  /** Complaints whose intake events the sweep published again (`shared/domain/handoff.ts`). */
  handoffsRepaired: number;
}

/**
 * The backstop sweep (a scheduled rule every few minutes): reads what is due in the department
 * queues, which order every complaint by its next deadline, and applies whatever is still due. A
 * deadline is taken once it is more than `grace` old — the exact timer gets the first chance —; a
 * complaint still `received` (no timer stands behind its hand-off) as soon as its repair is due.
 * Never a table scan: one bounded query per department and status.
 */
export async function sweepDueDeadlines(
  ctx: ServiceContext,
  options: { graceSeconds?: number; limit?: number } = {},
): Promise<SweepResult> {
  const now = ctx.now();
  const timersBefore = new Date(now.getTime() - (options.graceSeconds ?? 60) * 1000).toISOString();
  const result: SweepResult = { examined: 0, applied: 0, handoffsRepaired: 0 };
  const departments = ctx.policy.routing.departments.map((d) => d.id);
  const due = await ctx.store.dueForSweep(departments, now.toISOString(), options.limit ?? SWEEP_LIMIT);
  for (const entry of due) {
    if (entry.kind !== HANDOFF_KIND && entry.dueAt > timersBefore) continue;
    result.examined++;
    // Counted outside the retried attempt: an attempt that repaired and then lost a race on its
    // next write is retried from a fresh read, which finds the repair done.
    let repaired = false;
    const outcome = await retryOnConflict(async () => {
      const complaint = await ctx.store.get(entry.complaintId);
      if (complaint === undefined) return { applied: [] };
      const handoff = handoffRepairDue(complaint, now) ? await repairHandoff(ctx, complaint, now) : undefined;
      if (handoff !== undefined) repaired = true;
      // A received complaint has no timers yet (classification schedules them): whatever is due
      // for it, only the sweep can find.
      const current = handoff ?? complaint;
      return applyDecisions(ctx, current, dueDecisions(current, now, chainOf(ctx)), 'sweep');
    });
    if (outcome.applied.length > 0) result.applied++;
    if (repaired) result.handoffsRepaired++;
  }
  return result;
}

/**
 * A complaint still `received` past its hand-off grace: records the repair (conditional on the
 * version read, so two sweeps repair once) and publishes its intake events again.
 */
async function repairHandoff(ctx: ServiceContext, complaint: Complaint, now: Date): Promise<Complaint> {
  const next = recordHandoffRepair(complaint, now);
  const repairs = next.handoff?.repairs ?? 1;
  const waited = Math.round((now.getTime() - Date.parse(complaint.receivedAt)) / 1000);
  await ctx.store.update({
    next,
    expectedVersion: complaint.version,
    timeline: [
      {
        at: now.toISOString(),
        type: 'handoff_repaired',
        actor: 'system:sla-sweep',
        summary: `Not classified ${waited} s after receipt: intake events published again (repair ${repairs} of ${MAX_HANDOFF_REPAIRS})`,
        data: { repairs },
      },
    ],
  });
  await republishIntakeEvents(ctx, next);
  return next;
}

/**
 * The open backlog for the live gauge, run by the sweep after its repairs: every open complaint
 * per lead department (the policy's departments and the not yet routed ones) and status, with the
 * oldest receipt of each group. The deadline index cannot give it: a complaint waiting on the
 * customer (paused clocks) or past its last escalation has no pending timer and is not in it.
 */
export async function measureBacklog(ctx: ServiceContext): Promise<BacklogGroup[]> {
  return ctx.store.openBacklog(ctx.policy.routing.departments.map((d) => d.id));
}

function alertSummary(alert: Alert): string {
  if (alert.kind === 'warning') return `SLA warning: ${alert.clock} due ${alert.dueAt}`;
  if (alert.kind === 'breach') return `SLA breached: ${alert.clock} was due ${alert.dueAt}`;
  return `Escalated to level ${alert.level} (${alert.role}: ${alert.contact}) for ${alert.clock}`;
}

function alertEvent(c: Complaint, alert: Alert, detectedBy: Detection): OutboundEvent {
  const ref = { complaintId: c.id, number: c.number };
  const metadata = (what: string) => ({
    version: 1 as const,
    eventId: `${c.id}:sla:${alert.clock}:${what}:${alert.dueAt}`,
    occurredAt: c.updatedAt,
    correlationId: c.id,
  });
  if (alert.kind === 'escalation') {
    return buildEvent('escalated', SOURCES.sla, {
      metadata: metadata(`escalated:${alert.level}`),
      data: {
        ...ref,
        clock: alert.clock,
        level: alert.level ?? 1,
        role: alert.role ?? 'team_lead',
        contact: alert.contact ?? '',
        reason: 'deadline_missed',
        leadDepartment: c.assignment?.leadDepartment,
        assignee: c.assignment?.assignee,
        detectedBy,
      },
    });
  }
  return buildEvent(alert.kind === 'warning' ? 'slaWarning' : 'slaBreached', SOURCES.sla, {
    metadata: metadata(alert.kind),
    data: {
      ...ref,
      clock: alert.clock,
      dueAt: alert.dueAt,
      assignee: c.assignment?.assignee,
      leadDepartment: c.assignment?.leadDepartment,
      severity: c.classification?.severity,
      detectedBy,
    },
  });
}
