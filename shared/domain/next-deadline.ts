import type { Complaint } from './complaint';

/**
 * The next moment something must happen for a complaint: the earliest timer it
 * should have (the record's `timers` map, set with every state change), else the
 * earliest running deadline. The queues order by it (`nextDueAt`), so the backstop
 * sweep finds a complaint whose timer was lost.
 */
export function nextDeadline(c: Complaint): { dueAt: string; kind: string } | undefined {
  let best: { dueAt: string; kind: string } | undefined;
  const consider = (dueAt: string, kind: string) => {
    if (best === undefined || dueAt < best.dueAt) best = { dueAt, kind };
  };
  const timers = Object.entries(c.timers ?? {});
  if (timers.length > 0) {
    for (const [name, at] of timers) consider(at, name.slice(c.id.length + 1));
    return best;
  }
  for (const [kind, deadline] of Object.entries(c.deadlines)) {
    if (deadline !== undefined && deadline.state === 'running') consider(deadline.dueAt, kind);
  }
  return best;
}
