/**
 * The runtime's delivery engine (`delivery/engine.ts`), shared by EventBridge rule targets, Scheduler
 * SQS targets and asynchronous invocations: journaled to `<stateDir>/deliveries.json` when the
 * runtime has a state directory (pending deliveries resume at the next start), in memory otherwise;
 * and the delivery figures the runtime reports ({@link DeliveryStats}).
 */
import { type Backoff, createDeliveryEngine, DEFAULT_BACKOFF, type DeliveryEngine } from '../delivery/engine';
import { fileJournal, memoryJournal } from '../delivery/journal';
import { RULE_TARGET_KIND, type TargetDeliveryStats, targetStatsOf } from '../delivery/rule-targets';
import { ASYNC_INVOKE_KIND, type AsyncInvocationStats } from './async-invoke';
import { SCHEDULER_TARGET_KIND } from './scheduler';

export interface DeliveryStats {
  /** EventBridge rule targets (pattern and scheduled rules): all together, and per `<rule>/<target id>`. */
  targets: { total: TargetDeliveryStats; byTarget: Record<string, TargetDeliveryStats> };
  /** Scheduler deliveries to SQS targets, per `<group>/<schedule>`. */
  schedules: Record<string, TargetDeliveryStats>;
  /** Asynchronous invocations per function (logical id). */
  async: Record<string, AsyncInvocationStats>;
  /** Deliveries of every kind pending now (kept in the journal when the runtime has a state directory). */
  pending: number;
}

export function createRuntimeDeliveries(options: {
  stateDir?: string;
  /** Backoff of failed attempts. @default 1 s doubling up to 30 s, with jitter */
  backoff?: Partial<Backoff>;
  throttleBackoff?: Backoff;
  log: (message: string) => void;
}): { engine: DeliveryEngine; stats(): DeliveryStats } {
  const engine = createDeliveryEngine({
    journal: options.stateDir === undefined ? memoryJournal() : fileJournal(options.stateDir),
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    ...(options.throttleBackoff !== undefined && { throttleBackoff: options.throttleBackoff }),
    log: options.log,
  });
  return {
    engine,
    stats() {
      const { total, byKey: byTarget } = targetStatsOf(engine, RULE_TARGET_KIND);
      const async = Object.fromEntries(
        Object.entries(engine.stats(ASYNC_INVOKE_KIND)).map(([key, c]) => [
          key,
          {
            queued: c.queued,
            retrying: c.retrying,
            throttled: c.throttled,
            deadLettered: c.deadLettered,
            delivered: c.delivered,
            dropped: c.dropped,
          },
        ]),
      );
      return {
        targets: { total, byTarget },
        schedules: targetStatsOf(engine, SCHEDULER_TARGET_KIND).byKey,
        async,
        pending: engine.pending().length,
      };
    },
  };
}
