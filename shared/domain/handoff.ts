import type { Complaint } from './complaint';

/**
 * The hand-off from intake to classification, repaired when it was lost.
 *
 * Intake stores a complaint and then publishes `Complaint Received`. A crash or an EventBridge failure
 * between the two leaves the complaint stored and `received`, with nothing on its way to
 * classification. A caller with an idempotency key retries and the replay publishes again; a caller
 * without one (or an event producer told of a failure after the write) does not, and the complaint
 * would wait forever, unclassified and missing from every report.
 *
 * So a complaint still `received` some time after it arrived is due for a hand-off repair: the backstop
 * sweep finds it in the open-deadline index (the item's sweep entry is the earlier of its next deadline
 * and {@link handoffDueAt}), records the repair on the complaint and publishes its intake events again
 * with the same event ids (classification and the reports absorb a duplicate). Repairs back off and
 * stop after {@link MAX_HANDOFF_REPAIRS}: a complaint classification keeps refusing is left to its
 * acknowledgement deadline and the people it escalates to, not republished forever.
 */

/** The kind of a hand-off entry in the sweep index (`nextDeadlineKind`). */
export const HANDOFF_KIND = 'handoff';

/** How long after receipt (or the last repair) a complaint may still wait for classification. */
export const HANDOFF_GRACE_SECONDS = 60;

/** Repairs of one complaint at most; each waits twice as long as the one before. */
export const MAX_HANDOFF_REPAIRS = 5;

/** When the next hand-off repair of `c` is due, or undefined when none can be (not `received`, or repairs spent). */
export function handoffDueAt(c: Pick<Complaint, 'status' | 'receivedAt' | 'handoff'>): string | undefined {
  if (c.status !== 'received') return undefined;
  const repairs = c.handoff?.repairs ?? 0;
  if (repairs >= MAX_HANDOFF_REPAIRS) return undefined;
  const from = Date.parse(c.handoff?.lastAt ?? c.receivedAt);
  return new Date(from + HANDOFF_GRACE_SECONDS * 1000 * 2 ** repairs).toISOString();
}

/** True when `c` is due for a hand-off repair at `now`. */
export function handoffRepairDue(
  c: Pick<Complaint, 'status' | 'receivedAt' | 'handoff'>,
  now: Date,
): boolean {
  const due = handoffDueAt(c);
  return due !== undefined && due <= now.toISOString();
}

/** The complaint with one more repair recorded (the caller writes it conditionally, version + 1). */
export function recordHandoffRepair(c: Complaint, now: Date): Complaint {
  return {
    ...c,
    handoff: { repairs: (c.handoff?.repairs ?? 0) + 1, lastAt: now.toISOString() },
    version: c.version + 1,
    updatedAt: now.toISOString(),
  };
}
