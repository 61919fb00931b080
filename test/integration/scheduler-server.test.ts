import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type SchedulerServer,
  type ScheduleView,
  startSchedulerServer,
} from '../../infra/local/scheduler-server';

/**
 * The local Scheduler endpoint driven by the real SDK client, so the request shapes and error parsing
 * are the ones the service code meets. Time is an injected clock advanced by the tests and firing is
 * triggered with `fireDue`, so nothing waits for real time.
 */

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:sla';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/scheduler';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:timers-dlq';

let clock = new Date('2025-06-01T00:00:00Z');
const invocations: { target: { Arn: string; Input?: string; RoleArn: string }; schedule: ScheduleView }[] =
  [];
let server: SchedulerServer;
let client: SchedulerClient;

beforeAll(async () => {
  server = await startSchedulerServer({
    region: 'us-east-1',
    accountId: '123456789012',
    now: () => clock,
    tickMs: 0,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 5,
    log: () => {},
    invoke: async (target, schedule) => {
      invocations.push({ target, schedule });
      if (target.Arn.endsWith(':failing')) throw new Error('function crashed');
    },
  });
  client = new SchedulerClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

afterEach(async () => {
  for (const s of server.schedules()) {
    await client.send(new DeleteScheduleCommand({ Name: s.name, GroupName: s.group }));
  }
  invocations.length = 0;
});

const definition = (overrides: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: 'timer-1',
  ScheduleExpression: 'at(2025-06-01T00:05:00)',
  ScheduleExpressionTimezone: 'UTC',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: '{"complaintId":"c-1"}' },
  ...overrides,
});

async function expectError(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  message?: string,
) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  if (message !== undefined) expect((error as Error).message).toBe(message);
}

describe('scheduler server API', () => {
  it('creates, gets, updates, lists and deletes a schedule', async () => {
    const created = await client.send(new CreateScheduleCommand(definition({ Description: 'sla warning' })));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:123456789012:schedule/default/timer-1');

    const got = await client.send(new GetScheduleCommand({ Name: 'timer-1' }));
    expect(got).toMatchObject({
      Name: 'timer-1',
      GroupName: 'default',
      ScheduleExpression: 'at(2025-06-01T00:05:00)',
      Description: 'sla warning',
      State: 'ENABLED',
      Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: '{"complaintId":"c-1"}' },
    });
    expect(got.CreationDate).toEqual(clock);

    await client.send(new UpdateScheduleCommand(definition({ ScheduleExpression: 'rate(5 minutes)' })));
    const updated = await client.send(new GetScheduleCommand({ Name: 'timer-1', GroupName: 'default' }));
    expect(updated.ScheduleExpression).toBe('rate(5 minutes)');

    await client.send(new CreateScheduleGroupCommand({ Name: 'timers' }));
    await client.send(new CreateScheduleCommand(definition({ Name: 'timer-2', GroupName: 'timers' })));
    await client.send(new CreateScheduleCommand(definition({ Name: 'other', GroupName: 'timers' })));
    const listed = await client.send(new ListSchedulesCommand({ GroupName: 'timers', NamePrefix: 'timer' }));
    expect(listed.Schedules?.map((s) => `${s.GroupName}/${s.Name}`)).toEqual(['timers/timer-2']);

    const firstPage = await client.send(new ListSchedulesCommand({ MaxResults: 2 }));
    expect(firstPage.Schedules).toHaveLength(2);
    const secondPage = await client.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: firstPage.NextToken }),
    );
    expect(secondPage.Schedules?.map((s) => s.Name)).toEqual(['timer-2']);
    expect(secondPage.NextToken).toBeUndefined();

    await client.send(new DeleteScheduleCommand({ Name: 'timer-1' }));
    await expectError(client.send(new GetScheduleCommand({ Name: 'timer-1' })), ResourceNotFoundException);
  });

  it('rejects a duplicate, a missing schedule and an unknown group', async () => {
    await client.send(new CreateScheduleCommand(definition()));
    await expectError(
      client.send(new CreateScheduleCommand(definition())),
      ConflictException,
      'Schedule timer-1 already exists.',
    );
    await expectError(
      client.send(new DeleteScheduleCommand({ Name: 'missing' })),
      ResourceNotFoundException,
      'Schedule missing does not exist.',
    );
    await expectError(
      client.send(new UpdateScheduleCommand(definition({ Name: 'missing' }))),
      ResourceNotFoundException,
    );
    await expectError(
      client.send(new CreateScheduleCommand(definition({ GroupName: 'nope' }))),
      ResourceNotFoundException,
      'Schedule group nope does not exist.',
    );
  });

  it.each([
    'at(2025-13-01T00:00:00)',
    'rate(0 minutes)',
    'rate(1 minutes)',
    'cron(0 9 * * * *)',
    'every day',
  ])('rejects %s with AWS message', async (expression) => {
    await expectError(
      client.send(new CreateScheduleCommand(definition({ ScheduleExpression: expression }))),
      ValidationException,
      `Invalid Schedule Expression ${expression}.`,
    );
  });

  it('rejects a target without Arn or RoleArn and a FLEXIBLE window without maximum', async () => {
    await expectError(
      client.send(new CreateScheduleCommand(definition({ Target: { RoleArn: ROLE_ARN } as never }))),
      ValidationException,
    );
    await expectError(
      client.send(new CreateScheduleCommand(definition({ Target: { Arn: FUNCTION_ARN } as never }))),
      ValidationException,
    );
    await expectError(
      client.send(new CreateScheduleCommand(definition({ FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }))),
      ValidationException,
    );
    expect(server.schedules()).toHaveLength(0);
  });
});

describe('scheduler server firing', () => {
  it('fires an at() schedule once with its input, then deletes it', async () => {
    clock = new Date('2025-06-01T00:00:00Z');
    await client.send(new CreateScheduleCommand(definition({ ActionAfterCompletion: 'DELETE' })));
    expect(await server.fireDue(new Date('2025-06-01T00:04:59Z'))).toBe(0);
    expect(await server.fireDue(new Date('2025-06-01T00:05:00Z'))).toBe(1);
    expect(invocations.map((i) => i.target)).toEqual([
      { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: '{"complaintId":"c-1"}' },
    ]);
    expect(server.fired().at(-1)).toMatchObject({
      name: 'timer-1',
      group: 'default',
      at: new Date('2025-06-01T00:05:00Z'),
      outcome: 'succeeded',
    });
    expect(await server.fireDue(new Date('2025-06-01T01:00:00Z'))).toBe(0);
    await expectError(client.send(new GetScheduleCommand({ Name: 'timer-1' })), ResourceNotFoundException);
  });

  it('judges "in the past" from when the request was signed: a call that waited here still fires, late', async () => {
    // The caller signed at 00:09:57; this server handles the request at 00:10:00 (it was busy).
    clock = new Date('2025-06-01T00:10:00Z');
    const slow = new SchedulerClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      systemClockOffset: Date.parse('2025-06-01T00:09:57Z') - Date.now(),
    });
    try {
      // Still ahead when it was sent: fires at the next look, late.
      await slow.send(
        new CreateScheduleCommand(
          definition({ Name: 'sent-in-time', ScheduleExpression: 'at(2025-06-01T00:09:59)' }),
        ),
      );
      // Already past when it was sent: never fires (as on AWS).
      await slow.send(
        new CreateScheduleCommand(
          definition({ Name: 'sent-late', ScheduleExpression: 'at(2025-06-01T00:09:50)' }),
        ),
      );
    } finally {
      slow.destroy();
    }
    expect(await server.fireDue(new Date('2025-06-01T00:10:01Z'))).toBe(1);
    expect(server.fired().at(-1)).toMatchObject({
      name: 'sent-in-time',
      at: new Date('2025-06-01T00:09:59Z'),
    });
    expect(server.schedules().find((x) => x.name === 'sent-late')?.nextFireAt).toBeUndefined();
  });

  it('fires a cron in Asia/Shanghai at the right UTC instant', async () => {
    clock = new Date('2025-06-01T00:00:00Z');
    await client.send(
      new CreateScheduleCommand(
        definition({ ScheduleExpression: 'cron(0 9 * * ? *)', ScheduleExpressionTimezone: 'Asia/Shanghai' }),
      ),
    );
    // 09:00 in Shanghai (UTC+8) is 01:00 UTC.
    expect(await server.fireDue(new Date('2025-06-01T00:59:59Z'))).toBe(0);
    expect(await server.fireDue(new Date('2025-06-01T01:00:00Z'))).toBe(1);
    expect(server.fired().at(-1)?.at).toEqual(new Date('2025-06-01T01:00:00Z'));
    expect(server.schedules()[0]?.nextFireAt).toEqual(new Date('2025-06-02T01:00:00Z'));
  });

  it('fires rate(1 minute) repeatedly under an advancing clock', async () => {
    clock = new Date('2025-06-01T00:00:00Z');
    await client.send(new CreateScheduleCommand(definition({ ScheduleExpression: 'rate(1 minute)' })));
    const times: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      expect(await server.fireDue()).toBe(1);
      times.push(server.fired().at(-1)?.at.toISOString() ?? '');
      clock = new Date(clock.getTime() + 60_000);
    }
    expect(times).toEqual([
      '2025-06-01T00:00:00.000Z',
      '2025-06-01T00:01:00.000Z',
      '2025-06-01T00:02:00.000Z',
      '2025-06-01T00:03:00.000Z',
    ]);
    expect(invocations).toHaveLength(4);
    expect(server.schedules()).toHaveLength(1);
  });

  it('retries a failing invocation, then dead-letters it', async () => {
    clock = new Date('2025-06-01T00:00:00Z');
    await client.send(
      new CreateScheduleCommand(
        definition({
          Name: 'failing',
          Target: {
            Arn: 'arn:aws:lambda:us-east-1:123456789012:function:failing',
            RoleArn: ROLE_ARN,
            Input: '{"at":"<aws.scheduler.scheduled-time>"}',
            RetryPolicy: { MaximumRetryAttempts: 2 },
            DeadLetterConfig: { Arn: DLQ_ARN },
          },
        }),
      ),
    );
    expect(await server.fireDue(new Date('2025-06-01T00:05:00Z'))).toBe(1);
    expect(invocations).toHaveLength(3);
    expect(invocations[0]?.target.Input).toBe('{"at":"2025-06-01T00:05:00Z"}');
    expect(server.deadLetters().at(-1)).toMatchObject({
      name: 'failing',
      attempts: 3,
      outcome: 'dead-lettered',
      deadLetterArn: DLQ_ARN,
      error: 'function crashed',
    });
  });
});

describe('scheduler server ticker', () => {
  it('fires due schedules on its own under the real clock', async () => {
    const seen: string[] = [];
    const ticking = await startSchedulerServer({
      tickMs: 20,
      log: () => {},
      invoke: async (target) => {
        seen.push(target.Input ?? '');
      },
    });
    const tickingClient = new SchedulerClient({
      endpoint: ticking.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await tickingClient.send(new CreateScheduleCommand(definition({ ScheduleExpression: 'rate(1 hour)' })));
      const deadline = Date.now() + 5_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(seen).toEqual(['{"complaintId":"c-1"}']);
    } finally {
      tickingClient.destroy();
      await ticking.close();
    }
  });
});
