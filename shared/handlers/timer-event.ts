import type { Context } from 'aws-lambda';
import { type TimerPayload, TimerPayloadSchema, type TimerTarget, timerTarget } from '../scheduling/timers';
import type { ServiceContext } from '../services/context';
import { PoisonMessageError } from '../services/context';
import { describeIssues } from './sqs-batch';

/**
 * Validates what EventBridge Scheduler delivered to a timer target. A payload that
 * does not parse, or that belongs to the other target, is poison: the function fails
 * and Lambda's asynchronous retries end in the on-failure destination (the timer
 * DLQ), with the reason in the error message.
 */
export function parseTimerEvent(event: unknown, expected: TimerTarget): TimerPayload {
  const parsed = TimerPayloadSchema.safeParse(event);
  if (!parsed.success) throw new PoisonMessageError(`Invalid timer payload: ${describeIssues(parsed.error)}`);
  if (timerTarget(parsed.data.kind) !== expected) {
    throw new PoisonMessageError(
      `Timer kind "${parsed.data.kind}" does not belong to the ${expected} function`,
    );
  }
  return parsed.data;
}

/** A target function schedules its own follow-up timers: tell the scheduler its ARN (qualifier removed). */
export function registerSelf(ctx: ServiceContext, target: TimerTarget, context: Context): void {
  const arn = context.invokedFunctionArn.split(':').slice(0, 7).join(':');
  ctx.scheduler.setTargetArn?.(target, arn);
}
