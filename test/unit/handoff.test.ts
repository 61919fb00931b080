import { describe, expect, it } from 'vitest';
import {
  HANDOFF_GRACE_SECONDS,
  handoffDueAt,
  handoffRepairDue,
  MAX_HANDOFF_REPAIRS,
} from '../../shared/domain/handoff';

const receivedAt = '2026-11-24T02:00:00.000Z';
const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

describe('the hand-off repair schedule', () => {
  it('is due one grace after receipt while the complaint is received, and never in another status', () => {
    expect(handoffDueAt({ status: 'received', receivedAt })).toBe(plus(receivedAt, HANDOFF_GRACE_SECONDS));
    for (const status of ['classified', 'assigned', 'rejected', 'closed'] as const) {
      expect(handoffDueAt({ status, receivedAt }), status).toBeUndefined();
    }
  });

  it('doubles the wait after each repair, counted from the last one, and stops after the last repair', () => {
    const lastAt = plus(receivedAt, 500);
    expect(handoffDueAt({ status: 'received', receivedAt, handoff: { repairs: 1, lastAt } })).toBe(
      plus(lastAt, 2 * HANDOFF_GRACE_SECONDS),
    );
    expect(handoffDueAt({ status: 'received', receivedAt, handoff: { repairs: 3, lastAt } })).toBe(
      plus(lastAt, 8 * HANDOFF_GRACE_SECONDS),
    );
    expect(
      handoffDueAt({ status: 'received', receivedAt, handoff: { repairs: MAX_HANDOFF_REPAIRS, lastAt } }),
    ).toBeUndefined();
  });

  it('is due at its time, not a millisecond before', () => {
    const due = plus(receivedAt, HANDOFF_GRACE_SECONDS);
    expect(handoffRepairDue({ status: 'received', receivedAt }, new Date(Date.parse(due) - 1))).toBe(false);
    expect(handoffRepairDue({ status: 'received', receivedAt }, new Date(due))).toBe(true);
  });
});
