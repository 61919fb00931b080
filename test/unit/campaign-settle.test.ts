import { describe, expect, it } from 'vitest';
import { owedDeliveries, type SettleSnapshot, settle } from '../../infra/local/campaign/settle';

const quiet: SettleSnapshot = {
  queued: 0,
  pendingDeliveries: 0,
  overdueSchedules: 0,
  activity: 0,
  down: [],
  awaitingClassification: 0,
};

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

  it('is not settled while a stored complaint still waits for classification', async () => {
    const probe = probeOf([{ ...quiet, awaitingClassification: 1 }]);
    const result = await settle(probe, { capMs: 2500, quietMs: 500 });
    expect(result.settled).toBe(false);
    expect(result.last?.awaitingClassification).toBe(1);
  });

  it('settles once the pending delivery is done and the quiet period has passed', async () => {
    const probe = probeOf([{ ...quiet, pendingDeliveries: 1 }, { ...quiet, queued: 2 }, quiet]);
    const result = await settle(probe, { capMs: 10_000, quietMs: 500 });
    expect(result.settled).toBe(true);
    expect(probe.calls()).toBeGreaterThanOrEqual(4);
  });
});

describe('deliveries a campaign waits for', () => {
  const none = { delivered: 0, retried: 0, pending: 0, deadLettered: 0, dropped: 0 };
  const idle = { queued: 0, retrying: 0, throttled: 0, deadLettered: 0, delivered: 0, dropped: 0 };

  it('counts target deliveries pending and asynchronous invocations retrying, not first attempts', () => {
    expect(
      owedDeliveries({
        targets: { total: { ...none, pending: 2 }, byTarget: {} },
        schedules: { 'g/s': { ...none, pending: 1 } },
        async: { Timer: { ...idle, queued: 5, retrying: 3 } },
        pending: 11,
      }),
    ).toBe(6);
  });
});
