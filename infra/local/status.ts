/**
 * The local runtime's live status: what `GET /_local/status` answers and `npm start -- --status`
 * prints as a table every few seconds.
 *
 * Per function: instances, invocations in flight, invocations queued for an instance, errors and
 * throttles — read from the Lambda runner's `stats()` when it offers one (`null` where it does not);
 * per queue: visible and in-flight messages and what waits in its DLQ; the Scheduler's pending timers
 * (count, next due, late firings); each dependency's state and restarts; the faults injected so far.
 */

import type { DependencyStatus } from './supervisor';
import type { QueueDepth } from './wiring/queues';

export interface FunctionStatus {
  instances: number | null;
  inFlight: number | null;
  queued: number | null;
  errors: number | null;
  throttles: number | null;
}

import type { DeliveryStats } from './wiring/deliveries';

export interface RuntimeStatus {
  /** When this status was taken (ISO). */
  at: string;
  uptimeSeconds: number;
  /** Where the state lives (absent: in memory) and whether this start resumed it. */
  state: { dir: string | null; resumed: boolean };
  functions: Record<string, FunctionStatus>;
  queues: Record<string, QueueDepth>;
  schedules: {
    pending: number;
    nextDue: string | null;
    lateFirings: number;
    maxLatenessMs: number;
  };
  dependencies: Record<'dynamodb' | 'sqs' | 'scheduler' | 'events' | 'kms', DependencyStatus>;
  faults: Record<string, number>;
  /** Rule targets, Scheduler targets and asynchronous invocations: delivered, retried, pending, dead-lettered. */
  deliveries?: DeliveryStats;
}

/** What the Lambda runner may report (its `stats()`, when it has one); every field optional. */
interface LambdaStatsLike {
  instances?: number;
  busy?: number;
  inFlight?: number;
  queued?: number;
  /** Invocations waiting for an instance (the runner's name for queued). */
  waiting?: number;
  errors?: number;
  throttles?: number;
}

/** A function's figures from its runner's `stats()` if it has one (all `null` otherwise). */
export function functionStatus(lambda: unknown): FunctionStatus {
  const stats = (lambda as { stats?: () => LambdaStatsLike | undefined }).stats?.();
  const n = (value: number | undefined) => (typeof value === 'number' ? value : null);
  return {
    instances: n(stats?.instances),
    inFlight: n(stats?.busy ?? stats?.inFlight),
    queued: n(stats?.waiting ?? stats?.queued),
    errors: n(stats?.errors),
    throttles: n(stats?.throttles),
  };
}

/** A compact text table of a status, for the console. */
export function formatStatus(status: RuntimeStatus): string {
  const lines: string[] = [];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));
  const short = (id: string) => id.replace(/[0-9A-F]{8}$/, '');
  lines.push(
    `status at ${status.at.slice(11, 19)} (up ${Math.round(status.uptimeSeconds)} s` +
      `${status.state.dir ? `, state in ${status.state.dir}` : ', in memory'})`,
  );
  const functions = Object.entries(status.functions).filter(
    ([, f]) =>
      (f.inFlight ?? 0) + (f.queued ?? 0) + (f.errors ?? 0) + (f.throttles ?? 0) + (f.instances ?? 0) > 0,
  );
  lines.push(
    `  functions ${'inst'.padStart(5)} ${'busy'.padStart(5)} ${'queued'.padStart(6)} ${'errors'.padStart(6)} ${'thrott'.padStart(6)}`,
  );
  for (const [id, f] of functions) {
    lines.push(
      `  ${short(id).slice(0, 40).padEnd(40)} ${cell(f.instances).padStart(5)} ${cell(f.inFlight).padStart(5)} ${cell(f.queued).padStart(6)} ${cell(f.errors).padStart(6)} ${cell(f.throttles).padStart(6)}`,
    );
  }
  if (functions.length === 0) lines.push('  (no function has run yet, or the runner reports no figures)');
  lines.push(`  queues ${'visible'.padStart(36)} ${'flight'.padStart(6)} ${'dlq'.padStart(5)}`);
  for (const [id, q] of Object.entries(status.queues)) {
    if (/DeadLetter|Dlq/i.test(id) && q.visible + q.inFlight === 0) continue;
    lines.push(
      `  ${short(id).slice(0, 40).padEnd(40)} ${String(q.visible).padStart(5)} ${String(q.inFlight).padStart(6)} ${cell(q.dlq).padStart(5)}`,
    );
  }
  const s = status.schedules;
  lines.push(
    `  schedules: ${s.pending} pending, next ${s.nextDue ? s.nextDue.slice(11, 19) : '–'}, ` +
      `${s.lateFirings} late (max ${(s.maxLatenessMs / 1000).toFixed(1)} s)`,
  );
  lines.push(
    `  dependencies: ${Object.entries(status.dependencies)
      .map(([name, d]) => `${name} ${d.state}${d.restarts > 0 ? ` (${d.restarts} restarts)` : ''}`)
      .join(', ')}`,
  );
  const faults = Object.entries(status.faults);
  if (faults.length > 0) lines.push(`  faults injected: ${faults.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return lines.join('\n');
}
