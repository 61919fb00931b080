/**
 * The campaign's printout: a table of the figures for people, then, as the last line, one JSON
 * object with every figure for machines (CI, comparisons between runs).
 */
import type { CampaignResult } from './campaign';
import type { SettleSnapshot } from './settle';

const ms = (v: number | null) => (v === null ? '—' : `${(v / 1000).toFixed(2)} s`);

/** The rows of the table: label, value, and whether the value is a failure. */
export function campaignRows(r: CampaignResult): Array<[string, string, boolean]> {
  const dlqByQueue = Object.entries(r.otherDlqByQueue)
    .map(([q, n]) => `${q} ${n}`)
    .join(', ');
  const faults = Object.entries(r.faultsInjected)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    ['fault profile', `${r.profile}${faults ? ` (injected: ${faults})` : ''}`, false],
    ['submitted', String(r.submitted), false],
    ['accepted', String(r.accepted), false],
    ['complaints stored', String(r.stored), false],
    ['lost (not stored, or stuck)', `${r.lost}${r.stuck ? ` (${r.stuck} stuck)` : ''}`, r.lost > 0],
    ['duplicated', String(r.duplicated), r.duplicated > 0],
    ['stored though not accepted', String(r.storedNotAccepted), false],
    [
      'double escalations',
      `${r.doubleEscalations} (of ${r.escalations} escalations)`,
      r.doubleEscalations > 0,
    ],
    [
      'poison in DLQ with reason',
      `${r.poison.inDlqWithReason}/${r.poison.sent}${r.poison.missing ? ` (${r.poison.missing} missing)` : ''}`,
      r.poison.inDlqWithReason !== r.poison.sent,
    ],
    ['other DLQ leftovers', `${r.otherDlq}${dlqByQueue ? ` (${dlqByQueue})` : ''}`, false],
    [
      'report vs table',
      `${r.reportVsTable.match ? 'match' : 'MISMATCH'}: received ${r.reportVsTable.report.received} vs ${r.reportVsTable.table.received}, ` +
        `closed ${r.reportVsTable.report.closed} vs ${r.reportVsTable.table.closed}`,
      !r.reportVsTable.match,
    ],
    [
      'breach delay p50 / p99',
      `${ms(r.breachDelayMs.p50)} / ${ms(r.breachDelayMs.p99)} (${r.breaches} breaches, max ${ms(r.breachDelayMs.max)})`,
      false,
    ],
    [
      'throughput',
      `${r.throughput.acceptedPerSecond}/s accepted over ${r.throughput.driveSeconds} s; ${r.throughput.assignedPerSecond}/s assigned ` +
        `(intake → assigned p50 ${ms(r.throughput.intakeToAssignedMs.p50)}, p99 ${ms(r.throughput.intakeToAssignedMs.p99)})`,
      false,
    ],
    [
      'agent journeys',
      `${r.journeys.started} started, ${r.journeys.resolved} resolved, ${r.journeys.surveysAnswered} surveys, ${r.journeys.abandoned} abandoned`,
      false,
    ],
    [
      'settled',
      `${r.settled ? 'yes' : `NO (cap reached${notSettledBecause(r.settleLast)})`} after ${r.settleSeconds} s`,
      !r.settled,
    ],
  ];
}

export function formatCampaign(r: CampaignResult, color = false): string {
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  const rows = campaignRows(r);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value, bad]) => `  ${label.padEnd(width)}  ${bad ? red(value) : value}`);
  if (r.examples.lost.length > 0) lines.push(`  e.g. lost: ${r.examples.lost.join('; ')}`);
  if (r.examples.duplicated.length > 0) lines.push(`  e.g. duplicated: ${r.examples.duplicated.join('; ')}`);
  if (r.examples.notInReport.length > 0)
    lines.push(`  e.g. stored, not counted by the report: ${r.examples.notInReport.join('; ')}`);
  return `Fault campaign ${r.runId}\n${lines.join('\n')}\n${JSON.stringify(r)}`;
}

/** What still held the system busy at the cap, e.g. `: 3 queued, 1 awaiting classification`. */
function notSettledBecause(last: SettleSnapshot | undefined): string {
  if (last === undefined) return ': the runtime did not answer';
  const busy = [
    last.queued > 0 && `${last.queued} queued`,
    last.pendingDeliveries > 0 && `${last.pendingDeliveries} deliveries pending`,
    last.overdueSchedules > 0 && `${last.overdueSchedules} overdue schedules`,
    last.awaitingClassification > 0 && `${last.awaitingClassification} awaiting classification`,
    last.down.length > 0 && `down: ${last.down.join(', ')}`,
  ].filter((part): part is string => typeof part === 'string');
  return busy.length > 0 ? `: ${busy.join(', ')}` : '';
}
