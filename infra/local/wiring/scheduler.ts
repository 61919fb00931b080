/**
 * The template's EventBridge Scheduler side on the project's endpoint: the schedule groups and the
 * template's own schedules (e.g. the periodic reports). Lambda targets are invoked asynchronously (the
 * function's async queue then retries, see `async-invoke.ts`); SQS targets get the input as the body,
 * as a delivery on the runtime's delivery engine: retried per the schedule's `RetryPolicy` with
 * backoff (journaled, so a restart does not lose it), and what still fails goes to the target's DLQ
 * with Scheduler's error attributes (never dropped while it has one).
 */
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  GetScheduleGroupCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { type DeliveryEngine, EVENTBRIDGE_RETRY_POLICY } from '../delivery/engine';
import { classifyTargetError } from '../delivery/rule-targets';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import type { Faults } from '../faults';
import { type SchedulerServer, type ScheduleView, startSchedulerServer } from '../scheduler-server';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import type { SendToQueue } from './queues';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

/** The engine kind of Scheduler deliveries to SQS targets. */
export const SCHEDULER_TARGET_KIND = 'scheduler';

/** What the journal keeps of one Scheduler delivery to an SQS target. */
interface SchedulerTargetDelivery {
  scheduleArn: string;
  schedule: string;
  targetArn: string;
  body: string;
  deadLetterArn?: string;
}

/** Scheduler's dead-letter message attributes. */
function schedulerDeadLetterAttributes(
  delivery: SchedulerTargetDelivery,
  failure: { attempts: number; lastError?: { code: string; message: string } },
): Record<string, MessageAttributeValue> {
  return {
    ERROR_CODE: { DataType: 'String', StringValue: 'TargetInvocationFailed' },
    ERROR_MESSAGE: {
      DataType: 'String',
      StringValue: (failure.lastError?.message ?? 'failed').slice(0, 1000) || 'failed',
    },
    RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(Math.max(0, failure.attempts - 1)) },
    SCHEDULE_ARN: { DataType: 'String', StringValue: delivery.scheduleArn },
    TARGET_ARN: { DataType: 'String', StringValue: delivery.targetArn },
  };
}

export async function startLocalScheduler(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  port?: number;
  tickMs: number;
  log: (message: string) => void;
  sendToQueue: SendToQueue;
  invokeAsync: (functionArn: string, event: unknown) => Promise<void>;
  /** The runtime's delivery engine, for SQS targets. */
  delivery: DeliveryEngine;
  faults: Pick<Faults, 'duplicate'>;
  /** The journal that keeps schedules and pending timers across restarts; absent: in memory. */
  stateFile?: string;
  /** Injected clock skew (`faults.clockSkewMs`). */
  clockSkewMs?: () => number;
}): Promise<{ server: SchedulerServer; groups: string[] }> {
  const { resolver, sendToQueue, delivery, log } = options;
  delivery.register(SCHEDULER_TARGET_KIND, {
    async attempt(pending) {
      const target = pending.payload as SchedulerTargetDelivery;
      try {
        await sendToQueue(target.targetArn, target.body);
        return { status: 'delivered' };
      } catch (error) {
        const failure = classifyTargetError(error);
        log(
          `Scheduler: ${target.schedule} → ${target.targetArn} failed (attempt ${pending.attempts + 1}): ${failure.message}`,
        );
        return { status: 'failed', ...failure };
      }
    },
    async deadLetter(pending) {
      const target = pending.payload as SchedulerTargetDelivery;
      const what = `${target.schedule} → ${target.targetArn} after ${pending.attempts} attempt(s)`;
      if (target.deadLetterArn === undefined) {
        log(`Scheduler: dropped ${what}: no DeadLetterConfig`);
        return 'dropped';
      }
      await sendToQueue(target.deadLetterArn, target.body, schedulerDeadLetterAttributes(target, pending));
      log(`Scheduler: dead-lettered ${what} to ${target.deadLetterArn}`);
      return 'dead-lettered';
    },
  });
  /** Accepts a delivery to an SQS target (twice when the fault profile duplicates it). */
  const acceptSqsTarget = (schedule: ScheduleView, body: string) => {
    const policy = schedule.target.RetryPolicy ?? {};
    const payload: SchedulerTargetDelivery = {
      scheduleArn: schedule.arn,
      schedule: `${schedule.group}/${schedule.name}`,
      targetArn: schedule.target.Arn,
      body,
      ...(schedule.target.DeadLetterConfig?.Arn
        ? { deadLetterArn: schedule.target.DeadLetterConfig.Arn }
        : {}),
    };
    const copies = options.faults.duplicate('scheduler') ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      delivery.accept(SCHEDULER_TARGET_KIND, payload.schedule, payload, {
        maximumRetryAttempts: policy.MaximumRetryAttempts ?? EVENTBRIDGE_RETRY_POLICY.maximumRetryAttempts,
        maximumEventAgeSeconds:
          policy.MaximumEventAgeInSeconds ?? EVENTBRIDGE_RETRY_POLICY.maximumEventAgeSeconds,
      });
    }
  };
  const server = await startSchedulerServer({
    port: options.port ?? 0,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    tickMs: options.tickMs,
    log: options.log,
    ...(options.stateFile !== undefined ? { stateFile: options.stateFile } : {}),
    ...(options.clockSkewMs !== undefined ? { clockSkewMs: options.clockSkewMs } : {}),
    invoke: async (target, schedule) => {
      if (target.Arn.startsWith('arn:aws:sqs:')) return acceptSqsTarget(schedule, target.Input ?? '{}');
      return options.invokeAsync(target.Arn, target.Input === undefined ? {} : JSON.parse(target.Input));
    },
    sendToDeadLetter: (arn, invocation, schedule) =>
      sendToQueue(arn, invocation.input ?? '', {
        ERROR_CODE: { DataType: 'String', StringValue: 'TargetInvocationFailed' },
        ERROR_MESSAGE: { DataType: 'String', StringValue: (invocation.error ?? 'failed').slice(0, 1000) },
        RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(invocation.attempts - 1) },
        SCHEDULE_ARN: { DataType: 'String', StringValue: schedule.arn },
        TARGET_ARN: { DataType: 'String', StringValue: schedule.target.Arn },
      }),
  });
  const client = new SchedulerClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const groups: string[] = [];
    for (const [id] of resourcesOfType(options.template, 'AWS::Scheduler::ScheduleGroup')) {
      const name = resolver.physicalName(id);
      // Restored from the state directory: kept.
      if (!(await groupExists(client, name)))
        await client.send(new CreateScheduleGroupCommand({ Name: name }));
      groups.push(name);
    }
    for (const [id, resource] of resourcesOfType(options.template, 'AWS::Scheduler::Schedule')) {
      const p = resolver.resolve(resource.Properties) as Props;
      const name = p.Name ?? resolver.physicalName(id);
      const existing = server
        .schedules()
        .find((s) => s.name === name && s.group === (p.GroupName ?? 'default'));
      // Restored from the state directory: kept (with its pending firing) unless the template changed it.
      if (
        existing !== undefined &&
        existing.expression === p.ScheduleExpression &&
        JSON.stringify(existing.target) === JSON.stringify(p.Target)
      )
        continue;
      await client.send(
        new (existing === undefined ? CreateScheduleCommand : UpdateScheduleCommand)({
          Name: name,
          ...(p.GroupName ? { GroupName: p.GroupName } : {}),
          ScheduleExpression: p.ScheduleExpression,
          ...(p.ScheduleExpressionTimezone
            ? { ScheduleExpressionTimezone: p.ScheduleExpressionTimezone }
            : {}),
          FlexibleTimeWindow: p.FlexibleTimeWindow,
          ...(p.Description ? { Description: p.Description } : {}),
          State: p.State ?? 'ENABLED',
          Target: p.Target,
        }),
      );
    }
    return { server, groups };
  } catch (error) {
    await server.close();
    throw error;
  } finally {
    client.destroy();
  }
}

async function groupExists(client: SchedulerClient, name: string): Promise<boolean> {
  try {
    await client.send(new GetScheduleGroupCommand({ Name: name }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
    throw error;
  }
}
