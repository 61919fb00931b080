import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LoadLambdaOptions, type LocalLambda, loadLambda } from '../../infra/local/lambda-runner';
import { eventually } from '../support/eventually';
import { type Gate, startGate } from './support/gate';

/**
 * The local Lambda runner on tiny `.mjs` bundles written to a temp folder: every instance is a real
 * child process on the Node.js the runtime names. Overlap is proven with an HTTP barrier the functions
 * call (`support/gate.ts`), never with timing.
 */

let workDir: string;
let gate: Gate;
const loaded: LocalLambda[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'lambda-runner-'));
  gate = await startGate();
});

afterEach(async () => {
  await Promise.all(loaded.splice(0).map((fn) => fn.close()));
});

afterAll(async () => {
  await gate.close();
  await rm(workDir, { recursive: true, force: true });
});

let bundleCounter = 0;
/** Writes `index.mjs` with `source` into a fresh bundle folder. */
async function bundle(source: string): Promise<string> {
  const dir = join(workDir, `fn-${++bundleCounter}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.mjs'), source);
  return dir;
}

/** Loads a function (closed after the test) whose environment knows the gate's URL. */
async function load(
  source: string,
  options: Partial<Omit<LoadLambdaOptions, 'bundleDir'>> = {},
): Promise<LocalLambda> {
  const fn = loadLambda({
    name: `fn-${bundleCounter + 1}`,
    timeoutSeconds: 10,
    memoryMb: 128,
    ...options,
    env: { GATE: gate.url, ...options.env },
    bundleDir: await bundle(source),
  });
  loaded.push(fn);
  return fn;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A handler reporting its instance: process id, invocations so far in this module, the event echoed. */
const INSTANCE_PROBE = `
let invocations = 0;
export const handler = async (event) => {
  invocations++;
  if (event.barrier) await fetch(process.env.GATE + '/barrier/' + event.barrier + '/' + event.parties);
  if (event.hold) await fetch(process.env.GATE + '/hold/' + event.hold);
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.exitCode !== undefined) process.exit(event.exitCode);
  if (event.allocateMb) {
    const kept = [];
    for (let i = 0; i < event.allocateMb; i++) kept.push(new Array(131072).fill(i + 0.5));
    return { pid: process.pid, invocations, allocated: kept.length };
  }
  return { pid: process.pid, invocations };
};
`;

type Probe = { pid: number; invocations: number };

describe('local Lambda runner: instances as processes', () => {
  it('runs on the Node.js major its runtime names (nodejs24.x → Node 24)', async () => {
    const fn = await load(
      `export const handler = async () => ({ version: process.version, env: process.env.AWS_EXECUTION_ENV });`,
      { runtime: 'nodejs24.x' },
    );
    const { result, error } = await fn.invoke({});
    expect(error).toBeUndefined();
    expect((result as { version: string }).version).toMatch(/^v24\./);
    expect((result as { env: string }).env).toBe('AWS_Lambda_nodejs24.x');
  });

  it('gives each function only its own environment, at cold start and on every invocation', async () => {
    process.env.ONLY_IN_THE_RUNNER = 'leaked';
    const probe = `
      const atColdStart = { greeting: process.env.GREETING, onlyA: process.env.ONLY_A };
      export const handler = async () => ({
        atColdStart,
        now: { greeting: process.env.GREETING, onlyA: process.env.ONLY_A },
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        runnerOnly: process.env.ONLY_IN_THE_RUNNER ?? null,
      });`;
    try {
      const a = await load(probe, { name: 'fn-a', env: { GREETING: 'from-a', ONLY_A: 'yes' } });
      const b = await load(probe, { name: 'fn-b', env: { GREETING: 'from-b' } });
      const seenA = { greeting: 'from-a', onlyA: 'yes' };
      const seenB = { greeting: 'from-b' };
      const expectA = { atColdStart: seenA, now: seenA, functionName: 'fn-a', runnerOnly: null };
      expect(await a.invoke({})).toEqual({ result: expectA });
      expect(await b.invoke({})).toEqual({
        result: { atColdStart: seenB, now: seenB, functionName: 'fn-b', runnerOnly: null },
      });
      expect(await a.invoke({})).toEqual({ result: expectA });
    } finally {
      delete process.env.ONLY_IN_THE_RUNNER;
    }
  });

  it('keeps two functions apart even while both run at the same moment (credentials included)', async () => {
    const probe = `
      export const handler = async () => {
        const before = process.env.AWS_ACCESS_KEY_ID + '/' + process.env.GREETING;
        await fetch(process.env.GATE + '/barrier/both-at-once/2');
        return { before, after: process.env.AWS_ACCESS_KEY_ID + '/' + process.env.GREETING };
      };`;
    const a = await load(probe, { env: { AWS_ACCESS_KEY_ID: 'key-a', GREETING: 'a' } });
    const b = await load(probe, { env: { AWS_ACCESS_KEY_ID: 'key-b', GREETING: 'b' } });
    // Each waits for the other at the barrier: neither can finish unless both run at once.
    const [fromA, fromB] = await Promise.all([a.invoke({}), b.invoke({})]);
    expect(fromA).toEqual({ result: { before: 'key-a/a', after: 'key-a/a' } });
    expect(fromB).toEqual({ result: { before: 'key-b/b', after: 'key-b/b' } });
  });

  it('runs invocations of one function at the same time, each in its own instance', async () => {
    const fn = await load(INSTANCE_PROBE, { concurrency: 2 });
    const event = { barrier: 'overlap', parties: 2 };
    const results = await Promise.all([fn.invoke(event), fn.invoke(event)]);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    const pids = results.map((r) => (r.result as Probe).pid);
    expect(new Set(pids).size).toBe(2);
    expect(fn.stats()).toMatchObject({ instances: 2, coldStarts: 2, invocations: 2, busy: 0 });
  });

  it('cold-starts an instance once, then reuses it warm', async () => {
    const fn = await load(INSTANCE_PROBE);
    const results: Probe[] = [];
    for (let i = 0; i < 3; i++) results.push((await fn.invoke({})).result as Probe);
    expect(results.map((r) => r.invocations)).toEqual([1, 2, 3]);
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    expect(fn.stats()).toMatchObject({ instances: 1, coldStarts: 1, invocations: 3 });
  });

  it('bills each invocation by its duration, a cold start with its init, a throttled call not at all', async () => {
    const fn = await load(
      `await new Promise((resolve) => setTimeout(resolve, 300)); // init
      export const handler = async (event) => {
        if (event.hold) await fetch(process.env.GATE + '/hold/' + event.hold);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return 'ok';
      };`,
      { concurrency: 1 },
    );
    expect(await fn.invoke({})).toEqual({ result: 'ok' });
    const cold = fn.stats().billedMs;
    expect(cold).toBeGreaterThanOrEqual(500); // 300 ms of init + 200 ms of handler
    // The instance's start is billed, and told apart from the handler's time.
    const started = fn.stats().instanceMs;
    expect(started).toBeGreaterThanOrEqual(300);
    expect(cold - started).toBeGreaterThanOrEqual(200);
    expect(await fn.invoke({})).toEqual({ result: 'ok' });
    const warm = fn.stats().billedMs - cold;
    expect(warm).toBeGreaterThanOrEqual(200);
    expect(fn.stats().instanceMs - started).toBeLessThan(warm);
    expect(Number.isInteger(fn.stats().billedMs)).toBe(true);

    const held = fn.invoke({ hold: 'billing' });
    await eventually(
      async () => gate.arrivals('billing'),
      (n) => n === 1,
    );
    const before = fn.stats().billedMs;
    expect(await fn.invoke({})).toMatchObject({ error: { errorType: 'TooManyRequestsException' } });
    expect(fn.stats().billedMs).toBe(before);
    gate.release('billing');
    expect(await held).toEqual({ result: 'ok' });
    expect(fn.stats()).toMatchObject({ invocations: 3, throttles: 1 });
  });

  it('throttles a caller at the concurrency limit with TooManyRequestsException, or lets it wait', async () => {
    const fn = await load(INSTANCE_PROBE, { concurrency: 1 });
    const first = fn.invoke({ hold: 'limit' });
    await eventually(
      async () => gate.arrivals('limit'),
      (n) => n === 1,
    );
    expect(await fn.invoke({})).toEqual({
      error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
    });
    const waiting = fn.invoke({}, { wait: true });
    expect(fn.stats()).toMatchObject({ busy: 1, waiting: 1, throttles: 1 });
    gate.release('limit');
    const [held, waited] = await Promise.all([first, waiting]);
    expect((held.result as Probe).invocations).toBe(1);
    // The waiting caller ran on the same instance once it was free.
    expect(waited.result).toEqual({ pid: (held.result as Probe).pid, invocations: 2 });
    expect(fn.stats()).toMatchObject({ instances: 1, coldStarts: 1, invocations: 2, throttles: 1 });
  });

  it('ends a timed-out instance (Sandbox.Timedout); the next invocation cold-starts', async () => {
    const fn = await load(INSTANCE_PROBE, { timeoutSeconds: 0.5 });
    const before = (await fn.invoke({})).result as Probe;
    const timedOut = await fn.invoke({ sleepMs: 60_000 }, { requestId: 'slow-1' });
    expect(timedOut).toEqual({
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'slow-1 Task timed out after 0.50 seconds' },
    });
    await eventually(
      async () => alive(before.pid),
      (isAlive) => !isAlive,
    );
    const after = (await fn.invoke({})).result as Probe;
    expect(after.invocations).toBe(1);
    expect(after.pid).not.toBe(before.pid);
    expect(fn.stats()).toMatchObject({ coldStarts: 2, timeouts: 1, errors: 1, instances: 1 });
  });

  it('limits the heap to the memory size: a function allocating past it dies with Runtime.ExitError', async () => {
    const fn = await load(INSTANCE_PROBE, { memoryMb: 128 });
    expect((await fn.invoke({ allocateMb: 32 })).result).toMatchObject({ allocated: 32 });
    const outOfMemory = await fn.invoke({ allocateMb: 1024 }, { requestId: 'oom-1' });
    expect(outOfMemory.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/^RequestId: oom-1 Error: Runtime exited with error: /),
    });
    expect((await fn.invoke({})).result).toMatchObject({ invocations: 1 });
    expect(fn.stats()).toMatchObject({ crashes: 1, coldStarts: 2 });
  });

  it('reports an instance that exits mid-invocation as Runtime.ExitError and replaces it', async () => {
    const fn = await load(INSTANCE_PROBE);
    const exited = await fn.invoke({ exitCode: 3 }, { requestId: 'exit-1' });
    expect(exited.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: exit-1 Error: Runtime exited with error: exit status 3',
    });
    expect((await fn.invoke({})).result).toMatchObject({ invocations: 1 });
  });

  it('injects crash and timeout faults where the fault controller says so', async () => {
    const faults: Array<'crash' | 'timeout' | undefined> = ['crash', undefined, 'timeout', undefined];
    const fn = await load(
      `let invocations = 0;
       export const handler = async () => {
         invocations++;
         await fetch(process.env.GATE + '/seen/faulty');
         return { invocations };
       };`,
      { timeoutSeconds: 1, fault: () => faults.shift() },
    );
    const crashed = await fn.invoke({}, { requestId: 'crash-1' });
    expect(crashed.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: 'RequestId: crash-1 Error: Runtime exited with error: signal: killed',
    });
    expect(await fn.invoke({})).toEqual({ result: { invocations: 1 } });
    const hung = await fn.invoke({}, { requestId: 'hang-1' });
    expect(hung.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'hang-1 Task timed out after 1.00 seconds',
    });
    // The hung invocation did its work before hanging; its instance is gone, the next one is fresh.
    expect(await fn.invoke({})).toEqual({ result: { invocations: 1 } });
    expect(gate.arrivals('faulty')).toBeGreaterThanOrEqual(3);
    expect(fn.stats()).toMatchObject({ crashes: 1, timeouts: 1, errors: 2, coldStarts: 3 });
  });

  it("sends the function's output through this process's stdout and stderr, line by line", async () => {
    const written: string[] = [];
    const spy = (stream: NodeJS.WriteStream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        written.push(String(chunk));
        return true;
      });
    const out = spy(process.stdout);
    const err = spy(process.stderr);
    try {
      const fn = await load(
        `export const handler = async () => {
          console.log(JSON.stringify({ level: 'INFO', message: 'to stdout' }));
          console.error('to stderr');
          return null;
        };`,
      );
      expect(await fn.invoke({})).toEqual({ result: null });
      await eventually(
        async () => written,
        (lines) => lines.includes('to stderr\n'),
      );
      expect(written).toContain('{"level":"INFO","message":"to stdout"}\n');
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('passes a Lambda context with a remaining time counting down from the timeout', async () => {
    const fn = await load(
      `export const handler = async (event, context) => {
        const before = context.getRemainingTimeInMillis();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const { getRemainingTimeInMillis, done, fail, succeed, ...fields } = context;
        return { event, fields, before, after: context.getRemainingTimeInMillis() };
      };`,
      { name: 'ctx', timeoutSeconds: 3, memoryMb: 256 },
    );
    const { result, error } = await fn.invoke({ hello: 'world' }, { requestId: 'req-123' });
    expect(error).toBeUndefined();
    const r = result as { event: unknown; fields: Record<string, unknown>; before: number; after: number };
    expect(r.event).toEqual({ hello: 'world' });
    expect(r.fields).toEqual({
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'ctx',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ctx',
      memoryLimitInMB: '256',
      awsRequestId: 'req-123',
      logGroupName: '/aws/lambda/ctx',
      logStreamName: expect.any(String),
    });
    expect(r.before).toBeLessThanOrEqual(3_000);
    expect(r.before).toBeGreaterThan(2_000);
    expect(r.after).toBeLessThan(r.before);
  });

  it('returns errors the way Lambda reports them, never throwing', async () => {
    const throwing = await load(`export const handler = async () => { throw new TypeError('bad input'); };`);
    expect((await throwing.invoke({})).error).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'bad input',
    });

    const missingExport = await load('export const other = () => 1;');
    expect((await missingExport.invoke({})).error?.errorType).toBe('Runtime.HandlerNotFound');

    const broken = await load(`throw new Error('cannot start');`);
    expect(await broken.init()).toMatchObject({ errorType: 'Runtime.ImportModuleError' });
    expect((await broken.invoke({})).error).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: expect.stringContaining('cannot start'),
    });

    const absent = loadLambda({
      name: 'absent',
      bundleDir: join(workDir, 'nope'),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    loaded.push(absent);
    expect((await absent.invoke({})).error?.errorType).toBe('Runtime.ImportModuleError');

    const callback = await load(
      `export const handler = (event, context, done) => { done(null, { via: 'callback' }); };`,
    );
    expect(await callback.invoke({})).toEqual({ result: { via: 'callback' } });
  });

  it('kills every instance on close and refuses invocations after', async () => {
    const fn = await load(INSTANCE_PROBE, { concurrency: 2 });
    const event = { barrier: 'closing', parties: 2 };
    const pids = (await Promise.all([fn.invoke(event), fn.invoke(event)])).map(
      (r) => (r.result as Probe).pid,
    );
    await fn.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect((await fn.invoke({})).error?.errorType).toBe('ServiceException');
    expect(fn.stats().instances).toBe(0);
  });
});
