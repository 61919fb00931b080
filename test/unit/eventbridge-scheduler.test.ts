import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  atExpression,
  EventBridgeTimerScheduler,
  type EventBridgeTimerSchedulerOptions,
  MAX_EVENT_AGE_SECONDS,
  RETRY_ATTEMPTS,
  scheduleTime,
  TimerSchedulingError,
  TimerTargetNotConfiguredError,
  unqualifiedFunctionArn,
} from '../../shared/scheduling/eventbridge-scheduler';
import { type Timer, type TimerPayload, timerName, timerTarget } from '../../shared/scheduling/timers';

const scheduler = mockClient(SchedulerClient);
const NOW = new Date('2026-03-02T08:00:20.000Z');
const SLA_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:ComplaintService-Sla';
const SURVEY_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:ComplaintService-Survey';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ComplaintService-SchedulerRole';
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:ComplaintService-TimerDlq';

function options(
  overrides: Partial<EventBridgeTimerSchedulerOptions> = {},
): EventBridgeTimerSchedulerOptions {
  return {
    groupName: 'ComplaintService-timers',
    roleArn: ROLE_ARN,
    deadLetterArn: DLQ_ARN,
    targets: { sla: SLA_ARN, survey: SURVEY_ARN },
    now: () => NOW,
    ...overrides,
  };
}

function timer(at: string, overrides: Partial<TimerPayload> = {}): Timer {
  const payload: TimerPayload = {
    version: 1,
    complaintId: 'C20260302-0001',
    kind: 'clock_due',
    clock: 'acknowledge',
    at,
    ...overrides,
  };
  return { name: timerName(payload), at, target: timerTarget(payload.kind), payload };
}

const conflict = () =>
  new ConflictException({
    message: 'Schedule already exists',
    Message: 'Schedule already exists',
    $metadata: {},
  });
const notFound = () =>
  new ResourceNotFoundException({
    message: 'Schedule not found',
    Message: 'Schedule not found',
    $metadata: {},
  });

beforeEach(() => {
  scheduler.reset();
});

describe('EventBridgeTimerScheduler: upsert', () => {
  it('creates a one-time UTC schedule in the group, deleted after completion, with retries and the DLQ', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    const t = timer('2026-03-04T09:30:00.000Z');
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [t],
      remove: [],
    });

    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toMatchObject({
      Name: 'C20260302-0001-ack-due',
      GroupName: 'ComplaintService-timers',
      ScheduleExpression: 'at(2026-03-04T09:30:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: SLA_ARN,
        RoleArn: ROLE_ARN,
        RetryPolicy: {
          MaximumRetryAttempts: RETRY_ATTEMPTS,
          MaximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
        },
        DeadLetterConfig: { Arn: DLQ_ARN },
      },
    });
    expect(RETRY_ATTEMPTS).toBe(185);
    expect(MAX_EVENT_AGE_SECONDS).toBe(86_400);
    expect(JSON.parse(input?.Target?.Input as string)).toEqual(t.payload);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('routes survey timers to the survey function', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const t = timer('2026-03-05T01:00:00.000Z', { kind: 'survey_send', clock: undefined });
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [t],
      remove: [],
    });
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(input?.Name).toBe('C20260302-0001-survey-send');
    expect(input?.Target?.Arn).toBe(SURVEY_ARN);
  });

  it('omits the dead-letter config when no DLQ is configured', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const { deadLetterArn: _, ...withoutDlq } = options();
    await new EventBridgeTimerScheduler(new SchedulerClient({}), withoutDlq).apply({
      upsert: [timer('2026-03-04T09:30:00.000Z')],
      remove: [],
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.DeadLetterConfig).toBe(
      undefined,
    );
  });

  it('updates with the same definition when the schedule already exists (ConflictException)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(conflict());
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [timer('2026-03-04T09:30:00.000Z')],
      remove: [],
    });
    const created = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    const updated = scheduler.commandCalls(UpdateScheduleCommand);
    expect(updated).toHaveLength(1);
    expect(updated[0]?.args[0].input).toEqual(created);
  });

  it('creates again when the schedule fired and vanished between the conflict and the update', async () => {
    scheduler.on(CreateScheduleCommand).rejectsOnce(conflict()).resolves({});
    scheduler.on(UpdateScheduleCommand).rejects(notFound());
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [timer('2026-03-04T09:30:00.000Z')],
      remove: [],
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(2);
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(1);
  });

  it('propagates other errors as a TimerSchedulingError naming the schedule', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejects(new ValidationException({ message: 'bad', Message: 'bad', $metadata: {} }));
    const apply = new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [timer('2026-03-04T09:30:00.000Z')],
      remove: [],
    });
    await expect(apply).rejects.toThrow(TimerSchedulingError);
    await expect(apply).rejects.toThrow(/C20260302-0001-ack-due: ValidationException: bad/);
  });
});

describe('EventBridgeTimerScheduler: remove', () => {
  it('deletes the schedule from the group', async () => {
    scheduler.on(DeleteScheduleCommand).resolves({});
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [],
      remove: ['C20260302-0001-ack-warn'],
    });
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'C20260302-0001-ack-warn',
      GroupName: 'ComplaintService-timers',
    });
  });

  it('treats a missing schedule (already fired and auto-deleted) as removed', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(notFound());
    await expect(
      new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
        upsert: [],
        remove: ['C20260302-0001-ack-warn'],
      }),
    ).resolves.toBeUndefined();
  });

  it('fails on other delete errors', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(conflict());
    await expect(
      new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
        upsert: [],
        remove: ['C20260302-0001-ack-warn'],
      }),
    ).rejects.toThrow(TimerSchedulingError);
  });
});

describe('EventBridgeTimerScheduler: times', () => {
  it('schedules a past timer at now plus the lead time, rounded up to the minute, keeping the payload time', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const past = timer('2026-03-01T17:00:00.000Z');
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [past],
      remove: [],
    });
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    // now 08:00:20 + 10 s lead = 08:00:30 → next whole minute.
    expect(input?.ScheduleExpression).toBe('at(2026-03-02T08:01:00)');
    expect(JSON.parse(input?.Target?.Input as string).at).toBe('2026-03-01T17:00:00.000Z');
  });

  it('treats a timer due exactly now, or within the lead time, like a past one', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const late = options({ now: () => new Date('2026-03-02T08:00:55.000Z') });
    await new EventBridgeTimerScheduler(new SchedulerClient({}), late).apply({
      upsert: [
        timer('2026-03-02T08:00:55.000Z'),
        timer('2026-03-02T08:01:02.000Z', { clock: 'firstResponse' }),
      ],
      remove: [],
    });
    const expressions = scheduler
      .commandCalls(CreateScheduleCommand)
      .map((c) => c.args[0].input.ScheduleExpression)
      .sort();
    // 08:00:55 + 10 s = 08:01:05 → 08:02:00 for both: never in the past, never before the deadline.
    expect(expressions).toEqual(['at(2026-03-02T08:02:00)', 'at(2026-03-02T08:02:00)']);
  });

  it('keeps a lead for the call itself on a finer scheduler: a due timer goes 3 s out at 1 s precision', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const fine = options({ precisionSeconds: 1, now: () => new Date('2026-03-02T08:00:55.400Z') });
    await new EventBridgeTimerScheduler(new SchedulerClient({}), fine).apply({
      upsert: [
        timer('2026-03-02T08:00:55.000Z'),
        timer('2026-03-02T08:01:30.000Z', { clock: 'firstResponse' }),
      ],
      remove: [],
    });
    const expressions = scheduler
      .commandCalls(CreateScheduleCommand)
      .map((c) => c.args[0].input.ScheduleExpression)
      .sort();
    // 08:00:55.4 + 3 s → 08:00:59 (whole seconds); a timer well ahead keeps its own time.
    expect(expressions).toEqual(['at(2026-03-02T08:00:59)', 'at(2026-03-02T08:01:30)']);
  });

  it('rounds a future time with seconds up to the next minute, so the timer never arrives early', () => {
    const now = Date.parse('2026-03-02T08:00:00.000Z');
    expect(scheduleTime(Date.parse('2026-03-04T09:30:01.000Z'), now, 10_000)).toBe(
      Date.parse('2026-03-04T09:31:00.000Z'),
    );
    expect(scheduleTime(Date.parse('2026-03-04T09:30:00.000Z'), now, 10_000)).toBe(
      Date.parse('2026-03-04T09:30:00.000Z'),
    );
    expect(atExpression(Date.parse('2026-12-31T23:59:00.000Z'))).toBe('at(2026-12-31T23:59:00)');
  });

  it('converts times with an offset to UTC', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert: [timer('2026-03-04T17:30:00+08:00')],
      remove: [],
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.ScheduleExpression).toBe(
      'at(2026-03-04T09:30:00)',
    );
  });
});

describe('EventBridgeTimerScheduler: concurrency', () => {
  it('applies many timers with at most five calls in flight, and all of them', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return {};
    };
    scheduler.on(CreateScheduleCommand).callsFake(slow);
    scheduler.on(DeleteScheduleCommand).callsFake(slow);
    const upsert = Array.from({ length: 23 }, (_, i) =>
      timer('2026-03-04T09:30:00.000Z', { complaintId: `C20260302-${String(i).padStart(4, '0')}` }),
    );
    const remove = Array.from({ length: 7 }, (_, i) => `C20260301-${i}-ack-warn`);
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({ upsert, remove });
    expect(peak).toBe(5);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(23);
    expect(scheduler.commandCalls(DeleteScheduleCommand)).toHaveLength(7);
  });

  it('honours a configured concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    scheduler.on(CreateScheduleCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      return {};
    });
    const upsert = Array.from({ length: 6 }, (_, i) =>
      timer('2026-03-04T09:30:00.000Z', { complaintId: `C20260302-${i}` }),
    );
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options({ concurrency: 2 })).apply({
      upsert,
      remove: [],
    });
    expect(peak).toBe(2);
  });

  it('attempts every change even when one fails, then reports the failure', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .resolves({})
      .on(CreateScheduleCommand, { Name: 'C20260302-0003-ack-due' })
      .rejects(new Error('throttled'));
    const upsert = Array.from({ length: 6 }, (_, i) =>
      timer('2026-03-04T09:30:00.000Z', { complaintId: `C20260302-000${i}` }),
    );
    const apply = new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({
      upsert,
      remove: [],
    });
    await expect(apply).rejects.toThrow(/1 of 6 schedule changes failed: C20260302-0003-ack-due/);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(6);
  });
});

describe('EventBridgeTimerScheduler: targets and validation', () => {
  it('throws a clear error, before any call, for a target without an ARN', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const onlySla = new EventBridgeTimerScheduler(
      new SchedulerClient({}),
      options({ targets: { sla: SLA_ARN } }),
    );
    const apply = onlySla.apply({
      upsert: [
        timer('2026-03-04T09:30:00.000Z'),
        timer('2026-03-05T01:00:00.000Z', { kind: 'survey_close', clock: undefined }),
      ],
      remove: [],
    });
    await expect(apply).rejects.toThrow(TimerTargetNotConfiguredError);
    await expect(apply).rejects.toThrow(/"survey" timer target.*SURVEY_FUNCTION_ARN/);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });

  it('learns a target ARN at run time, without its version or alias qualifier', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const self = new EventBridgeTimerScheduler(new SchedulerClient({}), options({ targets: {} }));
    self.setTargetArn('sla', `${SLA_ARN}:live`);
    await self.apply({ upsert: [timer('2026-03-04T09:30:00.000Z')], remove: [] });
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input.Target?.Arn).toBe(SLA_ARN);
  });

  it('strips qualifiers from configured ARNs and rejects what is not a function ARN', () => {
    expect(unqualifiedFunctionArn(`${SLA_ARN}:7`)).toBe(SLA_ARN);
    expect(unqualifiedFunctionArn(SLA_ARN)).toBe(SLA_ARN);
    expect(() => unqualifiedFunctionArn(DLQ_ARN)).toThrow(TimerSchedulingError);
  });

  it('refuses an invalid payload, name or contradictory change before any call', async () => {
    const s = new EventBridgeTimerScheduler(new SchedulerClient({}), options());
    const t = timer('2026-03-04T09:30:00.000Z');
    await expect(
      s.apply({ upsert: [{ ...t, payload: { ...t.payload, version: 2 as never } }], remove: [] }),
    ).rejects.toThrow(/Invalid payload/);
    await expect(s.apply({ upsert: [{ ...t, name: 'x'.repeat(65) }], remove: [] })).rejects.toThrow(
      /Invalid schedule name/,
    );
    await expect(s.apply({ upsert: [t], remove: [t.name] })).rejects.toThrow(/both upserted and removed/);
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('does nothing for an empty change', async () => {
    await new EventBridgeTimerScheduler(new SchedulerClient({}), options()).apply({ upsert: [], remove: [] });
    expect(scheduler.calls()).toHaveLength(0);
  });
});
