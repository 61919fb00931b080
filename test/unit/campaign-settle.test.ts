import { describe, expect, it } from 'vitest';
import { type SettleSnapshot, settle } from '../../infra/local/campaign/settle';

const quiet: SettleSnapshot = { queued: 0, pendingDeliveries: 0, overdueSchedules: 0, activity: 0, down: [] };

/** A probe that answers the given snapshots in turn, then the last one for ever. */
function probeOf(snapshots: SettleSnapshot[]) {
  let i = 0;
  return {
    calls: () => i,
    snapshot: async () => snapshots[Math.min(i++, snapshots.length - 1)] as SettleSnapshot,
  };
}

describe('settling after a campaign', () => {
  it('is not settled while a delivery waits out its retry backoff, even with every queue empty', async () => {
    const probe = probeOf([{ ...quiet, pendingDeliveries: 1 }]);
    const result = await settle(probe, { capMs: 2500, quietMs: 500 });
    expect(result.settled).toBe(false);
    expect(result.last?.pendingDeliveries).toBe(1);
  });

  it('settles once the pending delivery is done and the quiet period has passed', async () => {
    const probe = probeOf([{ ...quiet, pendingDeliveries: 1 }, { ...quiet, queued: 2 }, quiet]);
    const result = await settle(probe, { capMs: 10_000, quietMs: 500 });
    expect(result.settled).toBe(true);
    expect(probe.calls()).toBeGreaterThanOrEqual(4);
  });
});
