import type { Context } from 'aws-lambda';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { parseTimerEvent, registerSelf } from '../../shared/handlers/timer-event';
import { handleSurveyTimer } from '../../shared/services/survey';

const { ctx } = createRuntime({ timers: eventBridgeTimers });

/** EventBridge Scheduler target for survey timers: send the survey, or close an unanswered one. */
export async function surveyTimer(event: unknown, context: Context): Promise<{ applied: string[] }> {
  registerSelf(ctx, 'survey', context);
  const payload = parseTimerEvent(event, 'survey');
  const outcome = await handleSurveyTimer(ctx, payload);
  logger.info('Survey timer handled', {
    complaintId: payload.complaintId,
    kind: payload.kind,
    applied: outcome.applied,
  });
  return outcome;
}

export const handler = withObservability(surveyTimer);
