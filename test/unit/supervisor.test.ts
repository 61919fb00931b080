import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../infra/local/http-api';
import { formatStatus, functionStatus, type RuntimeStatus } from '../../infra/local/status';
import { RestartBudget, type SupervisedProcess, supervise } from '../../infra/local/supervisor';

/** A process whose death the test decides. */
function fakeProcess(pid: number) {
  let die: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => {
    die = resolve;
  });
  const signals: string[] = [];
  const process: SupervisedProcess & { die(): void; signals: string[] } = {
    pid,
    exited,
    exitReason: () => 'signal SIGKILL',
    stop: async () => {
      signals.push('stop');
      die();
    },
    freeze: () => signals.push('SIGSTOP'),
    thaw: () => signals.push('SIGCONT'),
    die,
    signals,
  };
  return process;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('supervise', () => {
  it('says at once that the process died, restarts it, runs afterRestart, and counts the restart', async () => {
    const logs: string[] = [];
    const first = fakeProcess(1);
    const second = fakeProcess(2);
    const after: number[] = [];
    const supervisor = supervise({
      name: 'DynamoDB Local',
      initial: first,
      restart: async () => second,
      afterRestart: async (p) => {
        after.push(p.pid);
      },
      recovery: 'from its files',
      log: (m) => logs.push(m),
      onFatal: () => {
        throw new Error('not fatal');
      },
    });
    first.die();
    await until(() => supervisor.status().state === 'up' && supervisor.status().restarts === 1);
    expect(logs[0]).toBe(
      'local runtime: DynamoDB Local (pid 1) died (signal SIGKILL); restarting it (from its files)',
    );
    expect(after).toEqual([2]);
    expect(supervisor.current()).toBe(second);
    expect(supervisor.status()).toMatchObject({ state: 'up', restarts: 1, pid: 2 });
    await supervisor.stop();
  });

  it('gives up with a fatal reason when restarts keep failing, and does not take a frozen process for dead', async () => {
    const reasons: string[] = [];
    const first = fakeProcess(1);
    let attempts = 0;
    const supervisor = supervise({
      name: 'DynamoDB Local',
      initial: first,
      restart: async () => {
        attempts += 1;
        throw new Error('port 8000 is already in use');
      },
      budget: new RestartBudget(2, 60_000),
      retryDelayMs: 1,
      log: () => undefined,
      onFatal: (reason) => reasons.push(reason),
    });
    supervisor.freeze();
    expect(first.signals).toEqual(['SIGSTOP']);
    expect(supervisor.status().state).toBe('frozen');
    supervisor.thaw();
    expect(first.signals).toEqual(['SIGSTOP', 'SIGCONT']);
    expect(supervisor.status().state).toBe('up');
    first.die();
    await until(() => reasons.length === 1);
    expect(attempts).toBe(2);
    expect(reasons[0]).toBe('DynamoDB Local: it failed too often (3 failures within 60 s)');
    expect(supervisor.status().state).toBe('failed');
  });

  it('does not restart a process it stopped itself', async () => {
    const first = fakeProcess(1);
    let restarted = false;
    const supervisor = supervise({
      name: 'x',
      initial: first,
      restart: async () => {
        restarted = true;
        return fakeProcess(2);
      },
      log: () => undefined,
      onFatal: () => undefined,
    });
    await supervisor.stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(restarted).toBe(false);
    expect(supervisor.status().state).toBe('stopped');
  });
});

describe('RestartBudget', () => {
  it('allows max failures within the window, and forgets older ones', () => {
    const budget = new RestartBudget(3, 60_000);
    expect([0, 1000, 2000].map((t) => budget.spend(t))).toEqual([true, true, true]);
    expect(budget.spend(3000)).toBe(false);
    expect(budget.spend(70_000)).toBe(true);
  });
});

describe('local control routes answer this machine only', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.3.2.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.7', false],
    ['192.168.1.20', false],
    ['::ffff:10.0.0.7', false],
    ['fe80::1', false],
    ['1270.0.0.1', false],
    [undefined, false],
  ])('%s → %s', (address, local) => {
    expect(isLoopback(address)).toBe(local);
  });
});

describe('the status', () => {
  it('reads the Lambda runner’s stats() when it has one, and null figures when it has not', () => {
    expect(functionStatus({})).toEqual({
      instances: null,
      inFlight: null,
      queued: null,
      errors: null,
      throttles: null,
    });
    expect(
      functionStatus({
        stats: () => ({ instances: 2, busy: 1, coldStarts: 2, invocations: 9, errors: 1, throttles: 3 }),
      }),
    ).toEqual({ instances: 2, inFlight: 1, queued: null, errors: 1, throttles: 3 });
  });

  it('prints as a compact table', () => {
    const status: RuntimeStatus = {
      at: '2026-12-07T05:00:00.000Z',
      uptimeSeconds: 12,
      state: { dir: '/x/.local', resumed: true },
      functions: {
        IntakeFunctionAB12CD34: { instances: 2, inFlight: 1, queued: 0, errors: 0, throttles: 0 },
        IdleFunction: { instances: null, inFlight: null, queued: null, errors: null, throttles: null },
      },
      queues: {
        AssignmentQueue: { visible: 3, inFlight: 1, dlq: 0 },
        AssignmentDeadLetterQueue: { visible: 0, inFlight: 0 },
      },
      schedules: { pending: 4, nextDue: '2026-12-07T05:00:09.000Z', lateFirings: 2, maxLatenessMs: 4200 },
      dependencies: {
        dynamodb: { state: 'up', restarts: 1 },
        sqs: { state: 'up', restarts: 0 },
        scheduler: { state: 'up', restarts: 0 },
        events: { state: 'up', restarts: 0 },
        kms: { state: 'up', restarts: 0 },
      },
      faults: { 'outage:dynamodb': 1 },
    };
    const text = formatStatus(status);
    expect(text).toContain('IntakeFunction');
    expect(text).not.toContain('IdleFunction');
    expect(text).toContain('AssignmentQueue');
    expect(text).not.toContain('AssignmentDeadLetterQueue');
    expect(text).toContain('schedules: 4 pending, next 05:00:09, 2 late (max 4.2 s)');
    expect(text).toContain('dynamodb up (1 restarts)');
    expect(text).toContain('faults injected: outage:dynamodb 1');
  });
});
