import type { Context } from 'aws-lambda';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseTimerEvent, registerSelf } from '../../shared/handlers/timer-event';
import { handleSlaTimer } from '../../shared/services/sla';

const { ctx } = createRuntime({ timers: eventBridgeTimers });

/**
 * EventBridge Scheduler target for SLA timers (warning, deadline, escalation). The
 * decision is taken from the stored state: a met or moot deadline does nothing.
 */
export async function slaTimer(event: unknown, context: Context): Promise<{ applied: string[] }> {
  registerSelf(ctx, 'sla', context);
  const payload = parseTimerEvent(event, 'sla');
  const outcome = await handleSlaTimer(ctx, payload);
  logger.info('SLA timer handled', {
    complaintId: payload.complaintId,
    kind: payload.kind,
    clock: payload.clock,
    applied: outcome.applied,
  });
  return outcome;
}

export const handler = withObservability(slaTimer);
