/**
 * The template's EventBridge Scheduler side on the project's endpoint: the schedule groups and the
 * template's own schedules (e.g. the periodic reports). Lambda targets are invoked asynchronously, SQS
 * targets get the input as the body, and what still fails after the retry policy goes to the target's
 * DLQ with Scheduler's error attributes.
 */
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  GetScheduleGroupCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import { type SchedulerServer, startSchedulerServer } from '../scheduler-server';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import type { SendToQueue } from './queues';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

export async function startLocalScheduler(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  port?: number;
  tickMs: number;
  log: (message: string) => void;
  sendToQueue: SendToQueue;
  invokeAsync: (functionArn: string, event: unknown) => Promise<void>;
  /** The journal that keeps schedules and pending timers across restarts; absent: in memory. */
  stateFile?: string;
  /** Injected clock skew (`faults.clockSkewMs`). */
  clockSkewMs?: () => number;
}): Promise<{ server: SchedulerServer; groups: string[] }> {
  const { resolver, sendToQueue } = options;
  const server = await startSchedulerServer({
    port: options.port ?? 0,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    tickMs: options.tickMs,
    log: options.log,
    ...(options.stateFile !== undefined ? { stateFile: options.stateFile } : {}),
    ...(options.clockSkewMs !== undefined ? { clockSkewMs: options.clockSkewMs } : {}),
    invoke: async (target) => {
      if (target.Arn.startsWith('arn:aws:sqs:')) return sendToQueue(target.Arn, target.Input ?? '{}');
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
