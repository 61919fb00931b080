import { DateTime } from 'luxon';
import type { Policy, SlaRow } from '../policy/schema';
import type { Language, Severity } from '../policy/vocabulary';
import type { BusinessCalendar } from './business-calendar';
import type { ClockName, Deadline } from './complaint';

/**
 * SLA targets: which row of the policy's SLA matrix applies to a complaint, and the
 * deadlines, warnings and escalation times that follow from it on the business
 * calendar. Pure: the caller supplies the policy, the calendar and the clock start.
 */

/** All clocks in the order they normally expire. */
export const CLOCK_NAMES: readonly ClockName[] = ['acknowledge', 'firstResponse', 'resolution'];

/** What an SLA row is matched against. `category: '*'` means "not classified yet": only wildcard rows match. */
export interface SlaKey {
  category: string;
  severity: Severity;
  tier: string;
}

/**
 * The key used before classification: no category is known and the severity is
 * assumed to be the lowest, so the tier row or the catch-all row decides.
 */
export const UNCLASSIFIED = { category: '*', severity: 'general' } as const satisfies Omit<SlaKey, 'tier'>;

function specificity(row: SlaRow): number {
  return (row.category === '*' ? 0 : 1) + (row.severity === '*' ? 0 : 1) + (row.tier === '*' ? 0 : 1);
}

/**
 * The SLA row that applies: among the matching rows the most specific (fewest
 * wildcards) wins and ties go to the earlier row, so a policy orders its equally
 * specific rows by precedence (the default policy: severity major/urgent, then the
 * VIP tier, then the category). The schema guarantees a catch-all row, so there is
 * always a match.
 */
export function selectSlaRow(policy: Policy, key: SlaKey): SlaRow {
  let best: SlaRow | undefined;
  for (const row of policy.sla.targets) {
    const matches =
      (row.category === '*' || row.category === key.category) &&
      (row.severity === '*' || row.severity === key.severity) &&
      (row.tier === '*' || row.tier === key.tier);
    if (matches && (best === undefined || specificity(row) > specificity(best))) best = row;
  }
  if (best === undefined)
    throw new Error('the policy has no catch-all SLA row (category, severity and tier "*")');
  return best;
}

/**
 * One deadline of a row's target: due after the full target, warned after
 * `warnAtFraction` of it, both measured in the target's own basis (a working target
 * warns after that share of its working time, so the warning never falls at night).
 */
function deadlineFor(
  policy: Policy,
  calendar: BusinessCalendar,
  row: SlaRow,
  clock: ClockName,
  from: Date,
): Deadline {
  const target = row[clock];
  const due = calendar.add(from, target);
  const fraction = policy.sla.warnAtFraction;
  let warn: Date;
  if (target.time === 'working') {
    const workingSeconds = calendar.workingSecondsBetween(from, due);
    warn = calendar.add(from, { value: workingSeconds * fraction, unit: 'seconds', time: 'working' });
  } else {
    warn = new Date(from.getTime() + Math.round((due.getTime() - from.getTime()) * fraction));
  }
  return {
    dueAt: due.toISOString(),
    warnAt: warn.toISOString(),
    basis: target.time,
    startedAt: from.toISOString(),
    state: 'running',
    escalationLevel: 0,
  };
}

/**
 * Deadlines for the requested clocks (default: all three), all started at `from`.
 * Timestamps are ISO 8601 in UTC (`Z`); a working-time target that starts outside
 * working hours starts counting at the next working moment.
 */
export function computeDeadlines(
  policy: Policy,
  calendar: BusinessCalendar,
  input: SlaKey & { from: Date; clocks?: readonly ClockName[] },
): Partial<Record<ClockName, Deadline>> {
  const row = selectSlaRow(policy, input);
  const deadlines: Partial<Record<ClockName, Deadline>> = {};
  for (const clock of input.clocks ?? CLOCK_NAMES)
    deadlines[clock] = deadlineFor(policy, calendar, row, clock, input.from);
  return deadlines;
}

/**
 * The acknowledgement deadline set at intake, before classification: the tier's row
 * or the catch-all row (category unknown, severity assumed `general`). The
 * classifier recomputes the clocks once the category and severity are known.
 */
export function acknowledgementDeadline(
  policy: Policy,
  calendar: BusinessCalendar,
  input: { tier: string; from: Date },
): Deadline {
  const row = selectSlaRow(policy, { ...UNCLASSIFIED, tier: input.tier });
  return deadlineFor(policy, calendar, row, 'acknowledge', input.from);
}

/**
 * All provisional deadlines at intake (same row as `acknowledgementDeadline`), e.g.
 * the first-response time promised as `{respondBy}` in the acknowledgement message.
 */
export function provisionalDeadlines(
  policy: Policy,
  calendar: BusinessCalendar,
  input: { tier: string; from: Date; clocks?: readonly ClockName[] },
): Partial<Record<ClockName, Deadline>> {
  return computeDeadlines(policy, calendar, { ...UNCLASSIFIED, ...input });
}

/** One escalation step: who is alerted and when (ISO 8601, UTC). */
export interface EscalationTime {
  level: number;
  role: Policy['escalation']['levels'][number]['role'];
  at: string;
}

/**
 * When each escalation level fires after a missed deadline: level 1 `after` the
 * deadline itself, each further level `after` the previous level's time (delays are
 * chained, not all measured from the deadline). Working-time delays use the calendar.
 */
export function escalationTimes(
  policy: Policy,
  calendar: BusinessCalendar,
  missedAt: Date,
): EscalationTime[] {
  const levels = [...policy.escalation.levels].sort((a, b) => a.level - b.level);
  let previous = missedAt;
  return levels.map((l) => {
    previous = calendar.add(previous, l.after);
    return { level: l.level, role: l.role, at: previous.toISOString() };
  });
}

/**
 * A due time as shown to the customer in the business time zone, to the minute:
 * zh `2026年11月24日 18:00`, en `Nov 24, 2026, 18:00 (Asia/Shanghai)`. The Chinese
 * text names the zone only when it is not China Standard Time (Asia/Shanghai), which
 * Chinese customers assume.
 */
export function formatDueForCustomer(date: Date, language: Language, timeZone: string): string {
  const local = DateTime.fromJSDate(date, { zone: timeZone });
  if (!local.isValid) throw new RangeError(`cannot format ${String(date)} in time zone "${timeZone}"`);
  if (language === 'zh') {
    const text = local.toFormat("yyyy'年'M'月'd'日' HH:mm");
    return timeZone === 'Asia/Shanghai' ? text : `${text}（${timeZone}）`;
  }
  return `${local.setLocale('en-US').toFormat('LLL d, yyyy, HH:mm')} (${timeZone})`;
}
