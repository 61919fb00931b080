import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { type SchedulerServer, startSchedulerServer } from '../../infra/local/scheduler-server';

/**
 * The local Scheduler on a state file: groups, schedules and pending firings survive a restart; what
 * came due while it was down fires at start, late and counted; an injected clock skew moves what is
 * due. Time is an injected clock; `fireDue()` reads it as the ticker would.
 */

const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
let clock = new Date('2026-03-02T09:00:00Z');
const fired: string[] = [];
const open: Array<{ server: SchedulerServer; client: SchedulerClient }> = [];

afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client.destroy();
    await server.close();
  }
});

async function start(stateFile: string, extra: { clockSkewMs?: () => number } = {}) {
  const server = await startSchedulerServer({
    now: () => clock,
    tickMs: 0,
    stateFile,
    log: () => undefined,
    invoke: async (target) => {
      fired.push(String(target.Input));
    },
    ...extra,
  });
  const client = new SchedulerClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  open.push({ server, client });
  return { server, client };
}
const stop = async (server: SchedulerServer) => {
  const index = open.findIndex((o) => o.server === server);
  const [entry] = open.splice(index, 1);
  entry?.client.destroy();
  await server.close();
};
const at = (date: Date) => `at(${date.toISOString().slice(0, 19)})`;
const plus = (ms: number) => new Date(clock.getTime() + ms);

describe('the Scheduler on a state file', () => {
  it('restores groups and schedules; a timer due while it was down fires at start, late and counted, once', async () => {
    fired.length = 0;
    const file = join(mkdtempSync(join(tmpdir(), 'scheduler-state-')), 'journal.jsonl');
    const first = await start(file);
    await first.client.send(new CreateScheduleGroupCommand({ Name: 'timers' }));
    const schedule = (name: string, expression: string, input: string) =>
      first.client.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: 'timers',
          ScheduleExpression: expression,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:sla', RoleArn: ROLE, Input: input },
        }),
      );
    await schedule('breach', at(plus(60_000)), 'breach');
    await schedule('later', at(plus(3_600_000)), 'later');
    await schedule('report', 'rate(5 minutes)', 'report');
    await schedule('gone', at(plus(30_000)), 'gone');
    await first.client.send(new DeleteScheduleCommand({ Name: 'gone', GroupName: 'timers' }));
    await stop(first.server);

    // Down for 20.5 minutes: the breach timer and four report occurrences came due meanwhile.
    clock = plus(20 * 60_000 + 30_000);
    const second = await start(file);
    expect(second.server.stats()).toMatchObject({ restored: 3, lateFirings: 0, pending: 3 });
    expect(
      second.server
        .schedules()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['breach', 'later', 'report']);
    expect(await second.server.fireDue()).toBe(2);
    expect(fired.sort()).toEqual(['breach', 'report']);
    const stats = second.server.stats();
    expect(stats.lateFirings).toBe(2);
    expect(stats.maxLatenessMs).toBe(19 * 60_000 + 30_000);
    expect(stats.pending).toBe(2);
    expect(stats.nextDue?.toISOString()).toBe('2026-03-02T09:25:00.000Z');
    await stop(second.server);

    // What fired is journaled as done: a third start fires nothing again.
    fired.length = 0;
    const third = await start(file);
    expect(await third.server.fireDue()).toBe(0);
    expect(fired).toEqual([]);
    expect(
      third.server
        .schedules()
        .find((s) => s.name === 'later')
        ?.nextFireAt?.toISOString(),
    ).toBe('2026-03-02T10:00:00.000Z');
  });

  it('decides what is due on the skewed clock: a positive skew fires timers late', async () => {
    fired.length = 0;
    clock = new Date('2026-03-02T12:00:00Z');
    let skew = 30_000;
    const file = join(mkdtempSync(join(tmpdir(), 'scheduler-state-')), 'journal.jsonl');
    const { server, client } = await start(file, { clockSkewMs: () => skew });
    await client.send(
      new CreateScheduleCommand({
        Name: 'skewed',
        ScheduleExpression: at(plus(10_000)),
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:sla', RoleArn: ROLE, Input: 'skewed' },
      }),
    );
    clock = plus(20_000);
    expect(await server.fireDue()).toBe(0);
    clock = plus(25_000);
    expect(await server.fireDue()).toBe(1);
    expect(server.stats().lateFirings).toBe(1);
    skew = 0;
  });
});
