import * as z from 'zod';
import { ClockNameSchema } from '../domain/complaint';

/**
 * Per-complaint timers: one-time EventBridge Scheduler schedules, one per purpose,
 * named `<complaintId>-<purpose>` (deterministic, so creating one that exists is an
 * update and deleting a missing one is a no-op). The payload is what the target
 * function receives; it is validated on arrival, and a timer whose `at` no longer
 * matches the stored clock (it moved since) does nothing.
 */

export const TIMER_KINDS = [
  'clock_warning',
  'clock_due',
  'escalation',
  'survey_send',
  'survey_close',
] as const;
export const TimerKindSchema = z.enum(TIMER_KINDS);
export type TimerKind = z.infer<typeof TimerKindSchema>;

export const TimerPayloadSchema = z
  .object({
    version: z.literal(1),
    complaintId: z.string().min(1),
    kind: TimerKindSchema,
    /** The clock, for clock_warning, clock_due and escalation. */
    clock: ClockNameSchema.optional(),
    /** The escalation level this timer raises to (escalation only). */
    level: z.number().int().min(1).optional(),
    /** The time the timer was set for. */
    at: z.iso.datetime({ offset: true }),
  })
  .strict();
export type TimerPayload = z.infer<typeof TimerPayloadSchema>;

/** Which function a timer invokes. */
export type TimerTarget = 'sla' | 'survey';

export interface Timer {
  /** Schedule name: `<complaintId>-<purpose>` (≤ 64 characters). */
  name: string;
  at: string;
  target: TimerTarget;
  payload: TimerPayload;
}

const CLOCK_SHORT = { acknowledge: 'ack', firstResponse: 'fr', resolution: 'res' } as const;

/** The deterministic schedule name of a timer. */
export function timerName(payload: Pick<TimerPayload, 'complaintId' | 'kind' | 'clock'>): string {
  const clock = payload.clock === undefined ? '' : `${CLOCK_SHORT[payload.clock]}-`;
  const purpose = {
    clock_warning: 'warn',
    clock_due: 'due',
    escalation: 'esc',
    survey_send: 'survey-send',
    survey_close: 'survey-close',
  }[payload.kind];
  return `${payload.complaintId}-${clock}${purpose}`;
}

export function timerTarget(kind: TimerKind): TimerTarget {
  return kind === 'survey_send' || kind === 'survey_close' ? 'survey' : 'sla';
}

/** What to change so the scheduled timers equal `desired`, given what is scheduled now (name → at). */
export function diffTimers(
  scheduled: Readonly<Record<string, string>>,
  desired: readonly Timer[],
): { upsert: Timer[]; remove: string[] } {
  const wanted = new Map(desired.map((t) => [t.name, t]));
  return {
    upsert: desired.filter((t) => scheduled[t.name] !== t.at),
    remove: Object.keys(scheduled).filter((name) => !wanted.has(name)),
  };
}

/** The scheduling port: makes schedules exist (create or update) or not exist, idempotently. */
export interface TimerScheduler {
  apply(changes: { upsert: readonly Timer[]; remove: readonly string[] }): Promise<void>;
  /**
   * A target ARN learnt at run time: a target function knows its own ARN only from
   * its Lambda context (passing it in the environment would be a CloudFormation cycle).
   */
  setTargetArn?(target: TimerTarget, arn: string): void;
}
