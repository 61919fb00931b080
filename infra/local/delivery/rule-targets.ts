/**
 * EventBridge rule targets on the delivery engine (`engine.ts`): each matched target of an accepted
 * event (pattern rules and scheduled rules alike) becomes one delivery, retried per the target's
 * `RetryPolicy` (EventBridge's defaults: 185 retries, 24 hours) and then sent to its
 * `DeadLetterConfig.Arn` queue with EventBridge's message attributes — `RULE_ARN`, `TARGET_ARN`,
 * `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION` (`MaximumRetryAttemptsExhausted` or
 * `MaximumEventAgeExceeded`) and `RETRY_ATTEMPTS` — and the event as the body. Errors retrying cannot
 * fix (no such target, no permission) go to the DLQ at once, as in AWS. A target without a DLQ whose
 * retries run out is dropped, logged and counted, as AWS drops it.
 *
 * Reaching the target itself is the caller's `deliver` (the runtime sends to SQS or invokes a function
 * asynchronously); what the target receives is shaped here at each attempt (`transformForTarget`).
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { EventEnvelope, EventTarget } from '../eventbridge-rules';
import { transformForTarget } from '../eventbridge-rules';
import type { Faults } from '../faults';
import {
  type AttemptOutcome,
  type DeliveryCounters,
  type DeliveryEngine,
  type DeliveryError,
  EVENTBRIDGE_RETRY_POLICY,
  type RetryPolicy,
} from './engine';

/** The engine kind of rule-target deliveries. */
export const RULE_TARGET_KIND = 'events';

/**
 * Sends the (transformed) event to a target. `event` is the parsed payload (or the raw text when an
 * input template is not JSON); `body` is the exact text AWS would hand to the target, e.g. an SQS
 * message body. Rejecting means the attempt failed (see {@link classifyTargetError}).
 */
export type DeliverFn = (target: EventTarget, event: unknown, body: string) => Promise<void>;

/** Sends a message with attributes to an SQS queue by ARN (a dead-letter queue). */
export type SendToDeadLetter = (
  queueArn: string,
  body: string,
  attributes: Record<string, MessageAttributeValue>,
) => Promise<void>;

export interface RuleTargetDelivery {
  ruleArn: string;
  ruleName: string;
  target: EventTarget;
  /** The event as EventBridge built it: shaped for the target at each attempt, the DLQ's body. */
  event: EventEnvelope;
}

/** The target's retry policy, EventBridge's defaults for what it leaves out. */
export function retryPolicyOf(target: EventTarget): RetryPolicy {
  return {
    maximumRetryAttempts:
      target.retryPolicy?.maximumRetryAttempts ?? EVENTBRIDGE_RETRY_POLICY.maximumRetryAttempts,
    maximumEventAgeSeconds:
      target.retryPolicy?.maximumEventAgeInSeconds ?? EVENTBRIDGE_RETRY_POLICY.maximumEventAgeSeconds,
  };
}

/** Target delivery figures: cumulative, and `pending` now. */
export interface TargetDeliveryStats {
  delivered: number;
  retried: number;
  pending: number;
  deadLettered: number;
  dropped: number;
}

/** The target figures of an engine's counters. */
export const targetFigures = (c: DeliveryCounters): TargetDeliveryStats => ({
  delivered: c.delivered,
  retried: c.retried,
  pending: c.pending,
  deadLettered: c.deadLettered,
  dropped: c.dropped,
});

/** Per-key figures of one kind, and their sum. */
export function targetStatsOf(
  engine: DeliveryEngine,
  kind: string,
): { total: TargetDeliveryStats; byKey: Record<string, TargetDeliveryStats> } {
  const total: TargetDeliveryStats = { delivered: 0, retried: 0, pending: 0, deadLettered: 0, dropped: 0 };
  const byKey: Record<string, TargetDeliveryStats> = {};
  for (const [key, c] of Object.entries(engine.stats(kind))) {
    const figures = targetFigures(c);
    byKey[key] = figures;
    for (const field of Object.keys(total) as Array<keyof TargetDeliveryStats>)
      total[field] += figures[field];
  }
  return { total, byKey };
}

/** The statistics key of a rule's target. */
export const targetKey = (ruleName: string, targetId: string) => `${ruleName}/${targetId}`;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/**
 * An error from `deliver` as EventBridge reports it in `ERROR_CODE`, and whether retrying can help.
 * An error may say so itself with `retriable: false` (and an `errorCode`).
 */
export function classifyTargetError(error: unknown): DeliveryError & { retriable: boolean } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: string;
    code?: string;
    message?: string;
    errorCode?: string;
    retriable?: boolean;
    cause?: { code?: string };
  };
  const message = e.message ?? String(error);
  const name = `${e.name ?? ''} ${e.code ?? ''} ${e.cause?.code ?? ''}`;
  const explicit = e.errorCode;
  if (e.retriable === false) return { code: explicit ?? 'NO_RESOURCE', message, retriable: false };
  if (explicit !== undefined) return { code: explicit, message, retriable: true };
  if (
    [e.code, e.cause?.code].some((c) => c !== undefined && CONNECTION_CODES.has(c)) ||
    /socket hang up/.test(message)
  )
    return { code: 'CONNECTION_FAILURE', message, retriable: true };
  if (/Timeout|ETIMEDOUT/i.test(name)) return { code: 'TIMEOUT', message, retriable: true };
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name))
    return { code: 'THROTTLING', message, retriable: true };
  if (/AccessDenied|NotAuthorized|Forbidden/i.test(name))
    return { code: 'NO_PERMISSIONS', message, retriable: false };
  if (/NonExistentQueue|QueueDoesNotExist|ResourceNotFound/i.test(name))
    return { code: 'NO_RESOURCE', message, retriable: false };
  return { code: 'SDK_CLIENT_ERROR', message, retriable: true };
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** EventBridge's dead-letter message attributes for a delivery whose retries are over. */
export function deadLetterAttributes(
  delivery: RuleTargetDelivery,
  failure: { attempts: number; lastError?: DeliveryError; exhausted?: string },
): Record<string, MessageAttributeValue> {
  return {
    RULE_ARN: text(delivery.ruleArn),
    TARGET_ARN: text(delivery.target.arn),
    ERROR_CODE: text(failure.lastError?.code ?? 'UNKNOWN'),
    ERROR_MESSAGE: text(
      (failure.lastError?.message ?? 'Delivery failed').slice(0, 1000) || 'Delivery failed',
    ),
    ...(failure.exhausted === 'MaximumRetryAttemptsExhausted' ||
    failure.exhausted === 'MaximumEventAgeExceeded'
      ? { EXHAUSTED_RETRY_CONDITION: text(failure.exhausted) }
      : {}),
    RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(Math.max(0, failure.attempts - 1)) },
  };
}

/** Registers the rule-target kind on `engine`: attempts through `deliver`, dead letters to SQS. */
export function registerRuleTargets(
  engine: DeliveryEngine,
  options: { deliver: DeliverFn; sendToDeadLetter?: SendToDeadLetter; log: (message: string) => void },
): void {
  const { log } = options;
  engine.register(RULE_TARGET_KIND, {
    async attempt(pending): Promise<AttemptOutcome> {
      const delivery = pending.payload as RuleTargetDelivery;
      try {
        const { payload, body } = transformForTarget(delivery.target, delivery.event, {
          name: delivery.ruleName,
          arn: delivery.ruleArn,
        });
        await options.deliver(delivery.target, payload, body);
        return { status: 'delivered' };
      } catch (error) {
        const failure = classifyTargetError(error);
        log(
          `EventBridge: delivery of ${delivery.event.id} (rule ${delivery.ruleName}) to ${delivery.target.arn} failed (attempt ${pending.attempts + 1}): ${failure.code}: ${failure.message}`,
        );
        return { status: 'failed', ...failure };
      }
    },
    async deadLetter(pending) {
      const delivery = pending.payload as RuleTargetDelivery;
      const dlq = delivery.target.deadLetterArn;
      const what = `${delivery.event.id} (rule ${delivery.ruleName}) to ${delivery.target.arn} after ${pending.attempts} attempt(s), ${pending.exhausted}`;
      if (dlq === undefined || options.sendToDeadLetter === undefined) {
        log(`EventBridge: dropped ${what}: the target has no dead-letter queue`);
        return 'dropped';
      }
      await options.sendToDeadLetter(
        dlq,
        JSON.stringify(delivery.event),
        deadLetterAttributes(delivery, pending),
      );
      log(`EventBridge: dead-lettered ${what} to ${dlq}`);
      return 'dead-lettered';
    },
  });
}

/** Accepts one delivery per target of a matched rule (two when the fault profile duplicates it). */
export function acceptRuleTargets(
  engine: DeliveryEngine,
  rule: { name: string; arn: string; targets: Iterable<EventTarget> },
  event: EventEnvelope,
  faults?: Pick<Faults, 'duplicate'>,
): void {
  for (const target of rule.targets) {
    const delivery: RuleTargetDelivery = {
      ruleArn: rule.arn,
      ruleName: rule.name,
      target: { ...target },
      event,
    };
    const copies = faults?.duplicate('events') === true ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      engine.accept(RULE_TARGET_KIND, targetKey(rule.name, target.id), delivery, retryPolicyOf(target));
    }
  }
}
