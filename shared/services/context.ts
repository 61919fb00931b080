import type { BusinessCalendar } from '../domain/business-calendar';
import type { EventPublisher } from '../events/publisher';
import type { Policy } from '../policy/schema';
import type { TimerScheduler } from '../scheduling/timers';
import type { ServiceKeys } from '../security/service-keys';
import type { ComplaintStore } from '../storage/ports';

/**
 * What an application service needs: the ports and the policy. Handlers build it
 * once per cold start; tests build it with DynamoDB Local and a recording publisher.
 */
export interface ServiceContext {
  store: ComplaintStore;
  publisher: EventPublisher;
  policy: Policy;
  calendar: BusinessCalendar;
  /** Per-complaint SLA and survey timers (EventBridge Scheduler in a deployment). */
  scheduler: TimerScheduler;
  /** The service's own secrets (tracking tokens, sealed cursors, idempotency fingerprints). */
  keys: ServiceKeys;
  /** The clock; injected so tests control time. */
  now: () => Date;
}

/** A message that can never succeed (bad shape, unknown complaint): it goes to the DLQ with this reason. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}
