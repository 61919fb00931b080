import type { Policy } from '../policy/schema';
import type { Timer, TimerPayload } from '../scheduling/timers';
import { timerName, timerTarget } from '../scheduling/timers';
import type { BusinessCalendar } from './business-calendar';
import type { ClockLogEntry, ClockName, Complaint, Deadline } from './complaint';
import { isOpen } from './lifecycle';
import { CLOCK_NAMES, computeDeadlines, escalationTimes, UNCLASSIFIED } from './sla';

/**
 * The SLA clock state machine: what pausing, resuming, meeting, stopping and
 * restarting do to a complaint's clocks, what an arriving timer (or the backstop
 * sweep) should do, and which timers should exist.
 *
 * Everything is decided from the stored complaint alone, so the exact-time timer and
 * the sweep reach the same decisions; applying them bumps the stored state
 * (`warnedAt`, `breachedAt`, `escalationLevel`, `nextEscalationAt`), so whichever of
 * the two paths writes second (optimistic concurrency) re-reads and finds nothing
 * left to do. Every change is appended to `clockLog`, the proof of SLA compliance
 * after the fact.
 *
 * Pure: no I/O, no clock reads (the caller passes `now`), inputs are never mutated.
 */

/** The part of a complaint the clock functions change; the caller merges it into its write. */
export type ClockPatch = Pick<Complaint, 'deadlines' | 'clockLog'>;

/** Who is alerted for an escalation level (the policy's roles). */
export type EscalationRole = 'team_lead' | 'department_head' | 'executive_on_duty';

/**
 * The policy and calendar needed to chain escalation levels. Optional for
 * `evaluateTimer`/`dueDecisions` (their agreed signature has no policy); without it a
 * breach decides only the breach itself, and level 1 follows via `nextEscalationAt`
 * (its timer or the next sweep) instead of at the same instant.
 */
export interface EscalationChain {
  policy: Policy;
  calendar: BusinessCalendar;
}

type Deadlines = Complaint['deadlines'];
type LogDetail = NonNullable<ClockLogEntry['detail']>;

const ms = (isoTime: string): number => Date.parse(isoTime);
/** Same instant, whatever the ISO spelling (`Z` vs `+08:00`, with or without milliseconds). */
const sameInstant = (a: string | undefined, b: string): boolean => a !== undefined && ms(a) === ms(b);

function logEntry(
  at: Date,
  clock: ClockName,
  event: ClockLogEntry['event'],
  detail?: LogDetail,
): ClockLogEntry {
  return detail === undefined
    ? { at: at.toISOString(), clock, event }
    : { at: at.toISOString(), clock, event, detail };
}

/** A deadline without the given optional keys (removed rather than set to `undefined`, which some stores reject). */
function without(d: Deadline, ...keys: ('pausedAt' | 'nextEscalationAt')[]): Deadline {
  const copy: Deadline = { ...d };
  for (const key of keys) Reflect.deleteProperty(copy, key);
  return copy;
}

/**
 * Pauses every running clock (the complaint now waits on the customer): state
 * `paused`, `pausedAt = at`, log `paused`. Breached, met, stopped and already paused
 * clocks are left alone, so pausing twice changes nothing.
 */
export function pauseClocks(c: Complaint, at: Date): ClockPatch {
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  for (const clock of CLOCK_NAMES) {
    const d = deadlines[clock];
    if (d?.state !== 'running') continue;
    deadlines[clock] = { ...d, state: 'paused', pausedAt: at.toISOString() };
    clockLog.push(logEntry(at, clock, 'paused', { dueAt: d.dueAt }));
  }
  return { deadlines, clockLog };
}

/**
 * Resumes every paused clock (the customer replied) so that the paused time does not
 * count: each target still ahead at the pause (`dueAt`, `warnAt` unless already
 * warned, `nextEscalationAt`) moves by the paused time in the clock's own basis. A
 * working-time clock keeps exactly the working time it had left at the pause
 * (`workingSecondsBetween(pausedAt, target)` added from `at`); a calendar clock moves
 * by the wall-clock pause. A target already behind at the pause stays put. Log
 * `resumed` with the paused seconds (in the clock's basis) and the new due time.
 * Running clocks are left alone, so resuming twice changes nothing.
 */
export function resumeClocks(c: Complaint, at: Date, calendar: BusinessCalendar): ClockPatch {
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  for (const clock of CLOCK_NAMES) {
    const d = deadlines[clock];
    if (d?.state !== 'paused') continue;
    const pausedAt = d.pausedAt === undefined ? at : new Date(d.pausedAt);
    // A resume stamped before its pause (clock skew between writers) counts as no pause at all.
    const resumedAt = at.getTime() < pausedAt.getTime() ? pausedAt : at;
    const shift = (target: string): string => {
      const t = new Date(target);
      if (t.getTime() < pausedAt.getTime()) return target;
      if (d.basis === 'working') {
        const remaining = calendar.workingSecondsBetween(pausedAt, t);
        return calendar.add(resumedAt, { value: remaining, unit: 'seconds', time: 'working' }).toISOString();
      }
      return new Date(t.getTime() + (resumedAt.getTime() - pausedAt.getTime())).toISOString();
    };
    const pausedSeconds =
      d.basis === 'working'
        ? calendar.workingSecondsBetween(pausedAt, resumedAt)
        : (resumedAt.getTime() - pausedAt.getTime()) / 1000;
    const next: Deadline = {
      ...without(d, 'pausedAt'),
      state: 'running',
      dueAt: shift(d.dueAt),
      warnAt: d.warnedAt === undefined ? shift(d.warnAt) : d.warnAt,
    };
    if (d.nextEscalationAt !== undefined) next.nextEscalationAt = shift(d.nextEscalationAt);
    deadlines[clock] = next;
    clockLog.push(logEntry(at, clock, 'resumed', { pausedSeconds, dueAt: next.dueAt }));
  }
  return { deadlines, clockLog };
}

/**
 * Marks one clock met at `at` (the acknowledgement, first response or resolution
 * happened). A running, paused or breached clock becomes `met` with `metAt`; a
 * breach stays provable through `breachedAt`, and the log's `late` says whether the
 * target was missed (breached, or met after `dueAt`; a paused clock is judged at its
 * pause, since paused time does not count). Pending escalations end. A met, stopped
 * or absent clock is returned unchanged.
 */
export function meetClock(c: Complaint, clock: ClockName, at: Date): ClockPatch {
  const d = c.deadlines[clock];
  if (d === undefined || d.state === 'met' || d.state === 'stopped') {
    return { deadlines: { ...c.deadlines }, clockLog: [...c.clockLog] };
  }
  const judgedAt = d.state === 'paused' && d.pausedAt !== undefined ? ms(d.pausedAt) : at.getTime();
  const late = d.breachedAt !== undefined || judgedAt > ms(d.dueAt);
  return {
    deadlines: {
      ...c.deadlines,
      [clock]: { ...without(d, 'pausedAt', 'nextEscalationAt'), state: 'met', metAt: at.toISOString() },
    },
    clockLog: [...c.clockLog, logEntry(at, clock, 'met', { late, dueAt: d.dueAt })],
  };
}

/**
 * Stops clocks that no longer apply (rejection, closing, or the other clocks once the
 * complaint is resolved): every listed clock (default: all) that is not met or
 * already stopped becomes `stopped`, with no pending escalation; log `stopped`.
 */
export function stopClocks(c: Complaint, at: Date, clocks: readonly ClockName[] = CLOCK_NAMES): ClockPatch {
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  for (const clock of clocks) {
    const d = deadlines[clock];
    if (d === undefined || d.state === 'met' || d.state === 'stopped') continue;
    deadlines[clock] = { ...without(d, 'pausedAt', 'nextEscalationAt'), state: 'stopped' };
    clockLog.push(logEntry(at, clock, 'stopped', { previousState: d.state }));
  }
  return { deadlines, clockLog };
}

/**
 * New running clocks from `at` after a reopening or a reclassification: first
 * response and resolution always, the acknowledgement too unless it was already met
 * (then it is kept as is). Targets come from the SLA row of the complaint's current
 * classification (or the unclassified row) and tier. `escalationLevel` starts at
 * `baseEscalationLevel` (default 0), so a reopened complaint's next breach escalates
 * above the levels already alerted. Log `recomputed` for a replaced clock (with the
 * previous due time and state) and `started` for a new one.
 */
export function restartClocks(
  c: Complaint,
  policy: Policy,
  calendar: BusinessCalendar,
  at: Date,
  baseEscalationLevel?: number,
): ClockPatch {
  const keepAcknowledge = c.deadlines.acknowledge?.state === 'met';
  const clocks = CLOCK_NAMES.filter((clock) => !(clock === 'acknowledge' && keepAcknowledge));
  const key = c.classification
    ? { category: c.classification.category, severity: c.classification.severity }
    : UNCLASSIFIED;
  const fresh = computeDeadlines(policy, calendar, { ...key, tier: c.tier, from: at, clocks });
  const escalationLevel = baseEscalationLevel ?? 0;
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  for (const clock of clocks) {
    const computed = fresh[clock];
    if (computed === undefined) continue;
    const next: Deadline = { ...computed, state: 'running', escalationLevel };
    const previous = c.deadlines[clock];
    deadlines[clock] = next;
    clockLog.push(
      previous === undefined
        ? logEntry(at, clock, 'started', { dueAt: next.dueAt, escalationLevel })
        : logEntry(at, clock, 'recomputed', {
            dueAt: next.dueAt,
            escalationLevel,
            previousDueAt: previous.dueAt,
            previousState: previous.state,
          }),
    );
  }
  return { deadlines, clockLog };
}

/** A wait on the customer recorded in the clock log: from its pause to its resume. */
interface Wait {
  from: number;
  to: number;
}

/**
 * The completed waits on the customer, from the clock log: each clock's `paused` entry
 * up to its next `resumed` entry (a resume stamped before its pause counts as no
 * pause, as in `resumeClocks`), merged over all clocks. Waiting is a fact about the
 * complaint, not about one clock: a clock that was breached (so not paused) during a
 * wait still has that wait found through the clocks that were running, and a
 * `recomputed` entry that left a clock paused opens its pause at its `pausedAt`.
 */
function completedWaits(clockLog: readonly ClockLogEntry[]): Wait[] {
  const open = new Map<ClockName, number>();
  const waits: Wait[] = [];
  for (const entry of clockLog) {
    if (entry.event === 'paused') open.set(entry.clock, ms(entry.at));
    else if (entry.event === 'recomputed' && typeof entry.detail?.pausedAt === 'string') {
      // A clock a reclassification made paused (it was breached during the wait): paused since then.
      if (!open.has(entry.clock)) open.set(entry.clock, ms(entry.detail.pausedAt));
    } else if (entry.event === 'resumed') {
      const from = open.get(entry.clock);
      if (from === undefined) continue;
      open.delete(entry.clock);
      waits.push({ from, to: Math.max(from, ms(entry.at)) });
    }
  }
  waits.sort((a, b) => a.from - b.from);
  const merged: Wait[] = [];
  for (const wait of waits) {
    const last = merged.at(-1);
    if (last !== undefined && wait.from <= last.to) last.to = Math.max(last.to, wait.to);
    else merged.push({ ...wait });
  }
  return merged;
}

/**
 * Recomputes the clocks after a reclassification. `c` already carries the new
 * category and severity; `at` is the reclassification. The rule:
 *
 * - **Met and stopped clocks are kept** as they are: a met target stays met whatever
 *   the new row says (unlike `restartClocks`, which restarts the first response).
 * - **Targets are measured from when the clock started**, not from the
 *   reclassification: the new SLA row's target from the clock's `startedAt` (the
 *   receipt; the reopening for a reopened complaint; the receipt when absent), via
 *   `computeDeadlines`. A first response started at receipt is capped at
 *   `promisedResponseBy`, as at classification. The completed waits on the customer
 *   since that start (paused → resumed in the clock log) are then added exactly as
 *   `resumeClocks` added them, so the waiting time still does not count.
 * - **Judged at `at`**, or at the start of the current wait when the complaint is
 *   waiting on the customer (its clocks stopped counting then):
 *   - new due time still ahead → the clock runs again, or stays paused (since the
 *     wait began, not since the reclassification) when the complaint waits on the
 *     customer; a breach under the old target is lifted (`breachedAt` and the pending
 *     escalation dropped; the `breached` log entry remains as proof). The escalation
 *     level is kept, so a later breach escalates above the levels already alerted;
 *   - new due time already passed, clock breached → it **stays breached**
 *     (`breachedAt`, `escalationLevel` kept) on the new due time, and its next
 *     escalation is re-chained from the new due time, as the SLA check chains every
 *     level from the stored `dueAt` (a level already due fires at once; levels
 *     already alerted are not repeated);
 *   - new due time already passed, clock running → it stays running on the passed due
 *     time: its timer fires at once and the SLA function breaches and escalates it
 *     like any missed deadline (one breach path, one `Complaint SLA Breached`);
 *   - a paused clock stays paused whatever its new target (a target that fell before
 *     the wait is kept by the resume and breached as soon as the clock runs again).
 * - A warning already sent is kept only when the new warning time has passed too;
 *   otherwise the owner is warned again at the new warning time.
 * - Each changed clock logs `recomputed` with the previous and new due time and state
 *   (`reason: reclassification`, and `pausedAt` for a paused one); a clock whose
 *   target and state stay the same is left untouched and not logged.
 */
export function reclassifyClocks(
  c: Complaint,
  policy: Policy,
  calendar: BusinessCalendar,
  at: Date,
): ClockPatch {
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  const classification = c.classification;
  if (classification === undefined) return { deadlines, clockLog };
  const waits = completedWaits(c.clockLog);
  const anyPausedAt = CLOCK_NAMES.map((clock) => c.deadlines[clock]?.pausedAt).find((p) => p !== undefined);
  const waitStart =
    c.status === 'waiting_on_customer' ? (c.work.waitingSince ?? anyPausedAt ?? at.toISOString()) : undefined;

  for (const clock of CLOCK_NAMES) {
    const d = c.deadlines[clock];
    if (d === undefined || d.state === 'met' || d.state === 'stopped') continue;
    const startedAt = d.startedAt ?? c.receivedAt;
    const fresh = computeDeadlines(policy, calendar, {
      category: classification.category,
      severity: classification.severity,
      tier: c.tier,
      from: new Date(startedAt),
      clocks: [clock],
    })[clock];
    if (fresh === undefined) continue;
    let dueAt = ms(fresh.dueAt);
    let warnAt = ms(fresh.warnAt);
    const promised = ms(c.promisedResponseBy);
    if (clock === 'firstResponse' && sameInstant(startedAt, c.receivedAt) && dueAt > promised) {
      dueAt = promised;
      warnAt = Math.min(warnAt, promised);
    }
    const shift = (target: number, wait: Wait): number => {
      if (target < wait.from) return target;
      if (fresh.basis === 'working') {
        const remaining = calendar.workingSecondsBetween(new Date(wait.from), new Date(target));
        return calendar
          .add(new Date(wait.to), { value: remaining, unit: 'seconds', time: 'working' })
          .getTime();
      }
      return target + (wait.to - wait.from);
    };
    for (const wait of waits) {
      if (wait.from < ms(startedAt)) continue;
      dueAt = shift(dueAt, wait);
      warnAt = shift(warnAt, wait);
    }

    const pausedSince = d.state === 'paused' ? (d.pausedAt ?? waitStart) : waitStart;
    const judgedAt = pausedSince === undefined ? at.getTime() : ms(pausedSince);
    const target = {
      dueAt: new Date(dueAt).toISOString(),
      warnAt: new Date(warnAt).toISOString(),
      basis: fresh.basis,
      startedAt,
      escalationLevel: d.escalationLevel,
    };
    const keepWarning = d.warnedAt !== undefined && warnAt <= judgedAt ? { warnedAt: d.warnedAt } : {};
    let next: Deadline;
    if (d.state === 'breached' && dueAt <= judgedAt) {
      next = {
        ...target,
        state: 'breached',
        ...(d.warnedAt === undefined ? {} : { warnedAt: d.warnedAt }),
        ...(d.breachedAt === undefined ? {} : { breachedAt: d.breachedAt }),
      };
      const nextAt = escalationAt(policy, calendar, next, d.escalationLevel + 1);
      if (nextAt !== undefined) next.nextEscalationAt = nextAt;
    } else if (pausedSince !== undefined) {
      next = { ...target, state: 'paused', pausedAt: pausedSince, ...keepWarning };
    } else {
      next = { ...target, state: 'running', ...keepWarning };
    }
    if (
      next.state === d.state &&
      sameInstant(d.dueAt, next.dueAt) &&
      sameInstant(d.warnAt, next.warnAt) &&
      next.basis === d.basis
    ) {
      continue;
    }
    deadlines[clock] = next;
    clockLog.push(
      logEntry(at, clock, 'recomputed', {
        reason: 'reclassification',
        dueAt: next.dueAt,
        previousDueAt: d.dueAt,
        state: next.state,
        previousState: d.state,
        ...(next.state === 'paused' && next.pausedAt !== undefined ? { pausedAt: next.pausedAt } : {}),
      }),
    );
  }
  return { deadlines, clockLog };
}

/** What an arriving timer (or the sweep) should do; applied by `applyClockDecisions`. */
export type TimerDecision =
  | { kind: 'warn'; clock: ClockName }
  | { kind: 'breach'; clock: ClockName }
  | { kind: 'escalate'; clock: ClockName; level: number }
  | { kind: 'survey_send' }
  | { kind: 'survey_close' };

/**
 * Escalation levels from `fromLevel` up whose chained time (from the missed `dueAt`)
 * is due by `now`, in order; stops at the first level not yet due. The same times
 * `applyClockDecisions` stores as `nextEscalationAt`, so the chain is consistent.
 */
function dueEscalations(
  d: Deadline,
  clock: ClockName,
  fromLevel: number,
  now: Date,
  chain?: EscalationChain,
): TimerDecision[] {
  if (chain === undefined) return [];
  const decisions: TimerDecision[] = [];
  for (const step of escalationTimes(chain.policy, chain.calendar, new Date(d.dueAt))) {
    if (step.level < fromLevel) continue;
    if (ms(step.at) > now.getTime()) break;
    decisions.push({ kind: 'escalate', clock, level: step.level });
  }
  return decisions;
}

/** Survey send/close apply only to a resolved complaint (a reopened or closed one has moved on). */
function surveyDecision(c: Complaint, payload: TimerPayload): TimerDecision[] {
  const s = c.survey;
  if (c.status !== 'resolved' || s === undefined) return [];
  if (payload.kind === 'survey_send') {
    return s.requestedAt === undefined && sameInstant(s.sendAt, payload.at) ? [{ kind: 'survey_send' }] : [];
  }
  const open = s.requestedAt !== undefined && s.answeredAt === undefined && s.outcome === undefined;
  return open && sameInstant(s.closesAt, payload.at) ? [{ kind: 'survey_close' }] : [];
}

/**
 * What an arriving timer should do, decided only from the stored state, so a
 * duplicate, late, early or stale delivery does nothing:
 *
 * - `[]` when moot: another complaint, `now` before the payload's `at`, the complaint
 *   no longer open (clock timers), the clock absent, met, stopped or paused, the step
 *   already taken (warned, breached, escalated to that level), or the payload's `at`
 *   not the stored target it refers to (the clock moved since: stale).
 * - `clock_warning` on a running, unwarned clock → `warn`.
 * - `clock_due` on a running clock → `breach`, followed (given `chain`) by every
 *   escalation level already due at `now` (level 1 when its `after` is 0).
 * - `escalation` level n on a breached clock at level n−1 whose `nextEscalationAt` is
 *   the payload's `at` → `escalate n`, followed (given `chain`) by any further level
 *   already due (a late delivery catches up instead of waiting for another timer).
 * - `survey_send` on a resolved complaint whose survey is not yet requested and whose
 *   `sendAt` is `at`; `survey_close` on a resolved complaint whose requested survey is
 *   unanswered and whose `closesAt` is `at`.
 *
 * `chain` is an addition to the agreed signature: without the policy the level-1
 * escalation cannot be known to be due at the breach itself.
 */
export function evaluateTimer(
  c: Complaint,
  payload: TimerPayload,
  now: Date,
  chain?: EscalationChain,
): TimerDecision[] {
  const at = ms(payload.at);
  if (payload.complaintId !== c.id || Number.isNaN(at) || now.getTime() < at) return [];
  if (payload.kind === 'survey_send' || payload.kind === 'survey_close') return surveyDecision(c, payload);
  const clock = payload.clock;
  if (!isOpen(c.status) || clock === undefined) return [];
  const d = c.deadlines[clock];
  if (d === undefined) return [];
  switch (payload.kind) {
    case 'clock_warning':
      return d.state === 'running' && d.warnedAt === undefined && sameInstant(d.warnAt, payload.at)
        ? [{ kind: 'warn', clock }]
        : [];
    case 'clock_due':
      return d.state === 'running' && sameInstant(d.dueAt, payload.at)
        ? [{ kind: 'breach', clock }, ...dueEscalations(d, clock, d.escalationLevel + 1, now, chain)]
        : [];
    case 'escalation': {
      const level = payload.level;
      if (
        level === undefined ||
        d.state !== 'breached' ||
        d.metAt !== undefined ||
        d.escalationLevel !== level - 1 ||
        !sameInstant(d.nextEscalationAt, payload.at)
      ) {
        return [];
      }
      return [{ kind: 'escalate', clock, level }, ...dueEscalations(d, clock, level + 1, now, chain)];
    }
  }
}

/**
 * The payloads of the timers that should exist for the stored state (see
 * `planTimers`); shared by the plan and the sweep so both see the same targets.
 */
function plannedPayloads(c: Complaint): TimerPayload[] {
  const payloads: TimerPayload[] = [];
  const base = { version: 1, complaintId: c.id } as const;
  if (isOpen(c.status)) {
    for (const clock of CLOCK_NAMES) {
      const d = c.deadlines[clock];
      if (d === undefined) continue;
      if (d.state === 'running') {
        if (d.warnedAt === undefined) payloads.push({ ...base, kind: 'clock_warning', clock, at: d.warnAt });
        payloads.push({ ...base, kind: 'clock_due', clock, at: d.dueAt });
      } else if (d.state === 'breached' && d.metAt === undefined && d.nextEscalationAt !== undefined) {
        payloads.push({
          ...base,
          kind: 'escalation',
          clock,
          level: d.escalationLevel + 1,
          at: d.nextEscalationAt,
        });
      }
    }
  }
  const s = c.survey;
  if (c.status === 'resolved' && s !== undefined) {
    if (s.requestedAt === undefined) payloads.push({ ...base, kind: 'survey_send', at: s.sendAt });
    else if (s.answeredAt === undefined && s.outcome === undefined && s.closesAt !== undefined)
      payloads.push({ ...base, kind: 'survey_close', at: s.closesAt });
  }
  return payloads;
}

/**
 * The backstop sweep for a lost timer: every decision due by `now`, computed exactly
 * as the planned timers would decide on arrival (each planned timer with `at <= now`
 * through `evaluateTimer`, in time order). Because both paths derive from the same
 * stored state and applying a decision removes its own cause, a sweep racing a timer
 * (optimistic concurrency) never acts twice. `chain` as for `evaluateTimer`.
 */
export function dueDecisions(c: Complaint, now: Date, chain?: EscalationChain): TimerDecision[] {
  return plannedPayloads(c)
    .filter((p) => ms(p.at) <= now.getTime())
    .sort((a, b) => ms(a.at) - ms(b.at))
    .flatMap((p) => evaluateTimer(c, p, now, chain));
}

/** An alert to publish after applying decisions (`Complaint SLA Warning`/`Breached`/`Escalated`). */
export interface Alert {
  kind: 'warning' | 'breach' | 'escalation';
  clock: ClockName;
  dueAt: string;
  level?: number;
  role?: EscalationRole;
  contact?: string;
}

/**
 * The person an escalation role means for this complaint: the lead department's team
 * lead or head (the assignment's department, else the policy's fallback department,
 * which also stands in for a department since removed from the policy), or the
 * executive on duty.
 */
export function escalationContact(policy: Policy, c: Complaint, role: EscalationRole): string {
  if (role === 'executive_on_duty') return policy.escalation.executiveOnDuty;
  const departments = policy.routing.departments;
  const department =
    departments.find((d) => d.id === c.assignment?.leadDepartment) ??
    departments.find((d) => d.id === policy.routing.fallbackDepartment);
  if (department === undefined)
    throw new Error(`fallback department "${policy.routing.fallbackDepartment}" is not in the policy`);
  return role === 'team_lead' ? department.teamLead : department.head;
}

/** Warnings and breaches go to the owner: the assignee, or the team lead while nobody is assigned. */
function ownerOf(policy: Policy, c: Complaint): Pick<Alert, 'role' | 'contact'> {
  const assignee = c.assignment?.assignee;
  return assignee !== undefined
    ? { contact: assignee }
    : { role: 'team_lead', contact: escalationContact(policy, c, 'team_lead') };
}

/** The chained time of an escalation level after the missed `dueAt`, or undefined past the top level. */
function escalationAt(
  policy: Policy,
  calendar: BusinessCalendar,
  d: Deadline,
  level: number,
): string | undefined {
  return escalationTimes(policy, calendar, new Date(d.dueAt)).find((step) => step.level === level)?.at;
}

/**
 * Applies decisions in order to the clocks and says whom to alert:
 *
 * - `warn` → `warnedAt = now`, log `warned`, a warning to the owner.
 * - `breach` → state `breached`, `breachedAt = now`, log `breached`, `nextEscalationAt`
 *   = the time of level `escalationLevel + 1` chained from the missed `dueAt`; a
 *   breach alert to the owner.
 * - `escalate n` → `escalationLevel = n`, log `escalated`, `nextEscalationAt` = the
 *   next level's time (none after the top level); an escalation alert to the role's
 *   contact (`escalationContact`).
 * - survey decisions change no clock (the caller handles them).
 *
 * A decision that no longer fits the state as updated so far (e.g. a second `warn`,
 * a level not above the current one, a level the policy lacks) is skipped, so
 * applying a list twice cannot alert twice.
 */
export function applyClockDecisions(
  c: Complaint,
  decisions: readonly TimerDecision[],
  policy: Policy,
  calendar: BusinessCalendar,
  now: Date,
): { patch: ClockPatch; alerts: Alert[] } {
  const deadlines: Deadlines = { ...c.deadlines };
  const clockLog = [...c.clockLog];
  const alerts: Alert[] = [];
  const nowIso = now.toISOString();
  for (const decision of decisions) {
    if (decision.kind === 'survey_send' || decision.kind === 'survey_close') continue;
    const { clock } = decision;
    const d = deadlines[clock];
    if (d === undefined) continue;
    if (decision.kind === 'warn') {
      if (d.state !== 'running' || d.warnedAt !== undefined) continue;
      deadlines[clock] = { ...d, warnedAt: nowIso };
      clockLog.push(logEntry(now, clock, 'warned', { warnAt: d.warnAt, dueAt: d.dueAt }));
      alerts.push({ kind: 'warning', clock, dueAt: d.dueAt, ...ownerOf(policy, c) });
    } else if (decision.kind === 'breach') {
      if (d.state !== 'running') continue;
      const next: Deadline = { ...without(d, 'nextEscalationAt'), state: 'breached', breachedAt: nowIso };
      const nextAt = escalationAt(policy, calendar, d, d.escalationLevel + 1);
      if (nextAt !== undefined) next.nextEscalationAt = nextAt;
      deadlines[clock] = next;
      clockLog.push(logEntry(now, clock, 'breached', { dueAt: d.dueAt }));
      alerts.push({ kind: 'breach', clock, dueAt: d.dueAt, ...ownerOf(policy, c) });
    } else {
      const { level } = decision;
      const role = policy.escalation.levels.find((l) => l.level === level)?.role;
      if (d.state !== 'breached' || level <= d.escalationLevel || role === undefined) continue;
      const next: Deadline = { ...without(d, 'nextEscalationAt'), escalationLevel: level };
      const nextAt = escalationAt(policy, calendar, d, level + 1);
      if (nextAt !== undefined) next.nextEscalationAt = nextAt;
      deadlines[clock] = next;
      const contact = escalationContact(policy, c, role);
      clockLog.push(logEntry(now, clock, 'escalated', { level, role, contact }));
      alerts.push({ kind: 'escalation', clock, dueAt: d.dueAt, level, role, contact });
    }
  }
  return { patch: { deadlines, clockLog }, alerts };
}

/**
 * The timers that should exist now (the caller diffs them against `c.timers` with
 * `diffTimers`). For an open complaint, per clock: running → `clock_warning` at
 * `warnAt` (unless warned) and `clock_due` at `dueAt`; breached, not met, with a
 * `nextEscalationAt` → `escalation` to level `escalationLevel + 1`; paused, met and
 * stopped clocks need none. A resolved complaint's survey: `survey_send` at `sendAt`
 * until requested, then `survey_close` at `closesAt` until answered. Read from the
 * stored state only, like the sweep; `_policy` is kept for the agreed signature.
 */
export function planTimers(c: Complaint, _policy: Policy): Timer[] {
  return plannedPayloads(c).map((payload) => ({
    name: timerName(payload),
    at: payload.at,
    target: timerTarget(payload.kind),
    payload,
  }));
}

/** The earliest planned timer, for the store's sparse index of open deadlines (none → not indexed). */
export function nextTimerAt(c: Complaint, policy: Policy): { at: string; kind: string } | undefined {
  let earliest: Timer | undefined;
  for (const timer of planTimers(c, policy)) {
    if (earliest === undefined || ms(timer.at) < ms(earliest.at)) earliest = timer;
  }
  return earliest === undefined ? undefined : { at: earliest.at, kind: earliest.payload.kind };
}
