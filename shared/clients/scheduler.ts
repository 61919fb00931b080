import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { RuntimeConfig } from '../config';
import { EventBridgeTimerScheduler } from '../scheduling/eventbridge-scheduler';
import type { TimerScheduler } from '../scheduling/timers';
import { clientConfig } from './config';

/**
 * The per-complaint SLA and survey timers on EventBridge Scheduler, for the functions the stack lets
 * schedule (`ComplaintFunction.useTimers`): their handlers pass this to `createRuntime`, the others
 * never load the Scheduler client. Needs `SCHEDULE_GROUP_NAME` and `SCHEDULER_ROLE_ARN`.
 */
export function newSchedulerClient(): SchedulerClient {
  return new SchedulerClient(clientConfig());
}

export function eventBridgeTimers(config: RuntimeConfig): TimerScheduler | undefined {
  const groupName = config.SCHEDULE_GROUP_NAME;
  const roleArn = config.SCHEDULER_ROLE_ARN;
  if (groupName === undefined || roleArn === undefined) return undefined;
  return new EventBridgeTimerScheduler(newSchedulerClient(), {
    groupName,
    roleArn,
    deadLetterArn: config.TIMER_DLQ_ARN,
    targets: { sla: config.SLA_FUNCTION_ARN, survey: config.SURVEY_FUNCTION_ARN },
    ...(config.TIMER_PRECISION_SECONDS !== undefined
      ? { precisionSeconds: config.TIMER_PRECISION_SECONDS }
      : {}),
  });
}
