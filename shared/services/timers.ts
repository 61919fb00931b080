import { planTimers } from '../domain/clocks';
import type { Complaint } from '../domain/complaint';
import { diffTimers, type Timer } from '../scheduling/timers';
import type { ServiceContext } from './context';

/**
 * Keeping a complaint's EventBridge Scheduler timers in step with its stored state,
 * for the agent and customer actions.
 *
 * The order matters: the record's `timers` map is set to the desired timers *before*
 * the conditional write (so the store's sparse deadline index already points at the
 * next timer), and the schedules are changed *after* it. If the Scheduler calls then
 * fail, the record is still right: the backstop sweep finds the due deadline through
 * the index, and a stale schedule that still fires finds its `at` no longer matching
 * the stored clock and does nothing.
 */

/** The schedule name → fire time map of the timers `c` should have. */
export function plannedTimerMap(c: Complaint, policy: ServiceContext['policy']): Record<string, string> {
  return Object.fromEntries(planTimers(c, policy).map((t) => [t.name, t.at]));
}

/** `c` with its `timers` map set to what its state calls for (to be written with that state). */
export function withTimers(c: Complaint, policy: ServiceContext['policy']): Complaint {
  return { ...c, timers: plannedTimerMap(c, policy) };
}

/**
 * Applies the schedule changes from `before` (what was scheduled) to `after` (the
 * written state): creates or moves the timers `after` needs, deletes the others.
 * Returns the changes; throws what the scheduler throws (callers decide whether a
 * failure after their write is fatal).
 */
export async function syncTimers(
  ctx: Pick<ServiceContext, 'policy' | 'scheduler'>,
  before: Pick<Complaint, 'timers'>,
  after: Complaint,
): Promise<{ upsert: Timer[]; remove: string[] }> {
  const desired = planTimers(after, ctx.policy);
  const changes = diffTimers(before.timers ?? {}, desired);
  if (changes.upsert.length > 0 || changes.remove.length > 0) await ctx.scheduler.apply(changes);
  return changes;
}
