/**
 * Runs a synthesized Lambda bundle (the `index.mjs` `cdk deploy` would upload) the way Lambda runs it:
 * each execution environment (instance) is its own OS process (`lambda/instance.ts`, `bootstrap.mjs`)
 * on the Node.js major the function's runtime names (`lambda/node-runtime.ts`), with only its own
 * environment and credentials, its memory size as the heap limit, and its timeout enforced by ending
 * the instance. Errors are returned, never thrown, in Lambda's `{ errorType, errorMessage }` shape.
 *
 * **Instances and concurrency.** A function keeps its idle instances warm and reuses them; a new
 * instance (a cold start) is started only when every instance is busy and the function's concurrency
 * (its reserved concurrency, else the local default {@link DEFAULT_LOCAL_CONCURRENCY}) allows one more.
 * At most {@link MAX_PARALLEL_COLD_STARTS} cold starts run at once on the machine; an invocation waiting
 * for its turn takes a warm instance instead if one frees up first.
 * Each instance runs one invocation at a time, so up to `concurrency` invocations run at once.
 *
 * **Throttling — the contract for callers.** When `concurrency` invocations are in flight:
 * - `invoke(event)` (a synchronous caller: the HTTP API) answers at once with Lambda's
 *   `{ errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' }` and runs nothing;
 * - `invoke(event, { wait: true })` (an asynchronous caller: event source mappings, asynchronous
 *   invocations) waits, first come first served, until an instance frees up, then runs. It still gets
 *   `TooManyRequestsException` when the function's concurrency is 0 (it would never run).
 * Throttled calls are counted in `stats().throttles`; waiting ones in `stats().waiting`.
 *
 * **Failures.** A timeout kills the instance: `Sandbox.Timedout`, and the next invocation cold-starts.
 * An instance that exits or is killed mid-invocation (crash, out of heap) fails it with
 * `Runtime.ExitError` and is replaced by the next cold start. A bundle that cannot load fails with
 * `Runtime.ImportModuleError` (or `Runtime.HandlerNotFound`…), and each invocation tries again.
 *
 * **Faults.** With `fault`, each invocation asks it what to do (`faults.functionFault`): `'crash'`
 * kills the instance once the handler started (`Runtime.ExitError`), `'timeout'` lets it hang until
 * the timeout (`Sandbox.Timedout`).
 *
 * Not modelled: idle instances are never reaped (Lambda ends them after some minutes of idleness),
 * the init phase is not retried within the invoke phase, no SnapStart or provisioned concurrency.
 */

import { availableParallelism } from 'node:os';
import { type FunctionFault, type LambdaInstance, startInstance } from './lambda/instance';
import { DEFAULT_LAMBDA_RUNTIME, ensureNodeBinary, nodeMajorOf } from './lambda/node-runtime';

/** Region and account the local ARNs use (the local runtime's fixed identity). */
const LOCAL_REGION = 'us-east-1';
const LOCAL_ACCOUNT = '123456789012';

/**
 * Instances a function may run at once unless its template reserves a concurrency: the local stand-in
 * for the account's unreserved concurrency (1,000 on AWS), kept small since every instance is a process.
 */
export const DEFAULT_LOCAL_CONCURRENCY = 32;

export interface LoadLambdaOptions {
  /** Function name, as in the template (used for the context, ARN and log group). */
  name: string;
  /** Folder holding the bundle (`cdk.out/asset.<hash>`). */
  bundleDir: string;
  /** `<module path>.<export>`, Lambda's `Handler` property. */
  handler?: string;
  /** The function's environment variables, already resolved for the local run. */
  env: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** Lambda's `Runtime` (`nodejs24.x`): the Node.js major the instances run on. @default 'nodejs24.x' */
  runtime?: string;
  /** Instances that may run at once (reserved concurrency). @default DEFAULT_LOCAL_CONCURRENCY */
  concurrency?: number;
  /** Asked at each invocation what fault to inject (`faults.functionFault(logicalId)`). */
  fault?: () => FunctionFault;
}

export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeResult {
  /** The handler's result after a JSON round trip (as Lambda serializes it); `null` for `undefined`. */
  result?: unknown;
  /** Set instead of `result` when the function failed, timed out, was throttled or could not start. */
  error?: LambdaError;
}

export interface InvokeOptions {
  requestId?: string;
  /** Wait for a free instance instead of being throttled at the concurrency limit (asynchronous callers). */
  wait?: boolean;
}

export interface LambdaStats {
  /** Instances alive now (idle, busy or starting). */
  instances: number;
  /** Invocations running now (including their cold starts). */
  busy: number;
  /** Callers waiting for a free instance (`wait: true` at the limit). */
  waiting: number;
  coldStarts: number;
  /** Invocations that ran (throttled ones excluded). */
  invocations: number;
  /**
   * Milliseconds billed, as Lambda bills an on-demand function: each invocation's duration rounded up
   * to the millisecond, a cold start's init included (billed since August 2025). Waiting for a free
   * instance is not billed; the local runtime's own wait for a cold-start slot on a busy machine is
   * (AWS has none). Times memory size, it gives the GB-seconds of a cost estimate.
   */
  billedMs: number;
  /**
   * The part of `billedMs` spent getting an instance: cold starts (a process spawned and the bundle
   * loaded, slower here than on Lambda) and waits for a cold-start slot. `billedMs - instanceMs` is the
   * handlers' own time.
   */
  instanceMs: number;
  /** Invocations that failed: function errors, init failures, timeouts and crashes. */
  errors: number;
  throttles: number;
  timeouts: number;
  /** Instances that exited or were killed mid-invocation. */
  crashes: number;
}

export interface LocalLambda {
  readonly name: string;
  readonly functionArn: string;
  /** Instances that may run at once. */
  readonly concurrency: number;
  /**
   * Cold-starts one instance now (kept warm) instead of on the first invocation, so a runtime can
   * report a bundle that fails to load at startup. Resolves to the error, or `undefined`.
   */
  init(): Promise<LambdaError | undefined>;
  /** Invokes the function; never rejects. */
  invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  stats(): LambdaStats;
  /** Kills every instance (invocations in flight fail) and refuses further invocations. */
  close(): Promise<void>;
}

/**
 * Cold starts running at once, across all functions: each is a Node.js process booting and importing a
 * bundle, CPU-bound, so more than the machine has cores would only slow every one of them (and starve
 * the runtime's own event loop). Lambda has no such limit; locally an invocation waiting for its turn
 * takes a warm instance instead if one frees up first.
 */
export const MAX_PARALLEL_COLD_STARTS = Math.max(2, availableParallelism());
let coldStartsInProgress = 0;
/** Callers waiting for a warm instance or a cold-start turn; woken on every change. */
const pokes = new Set<() => void>();
function poke(): void {
  const waiting = [...pokes];
  pokes.clear();
  for (const wake of waiting) wake();
}
function nextPoke(): Promise<void> {
  return new Promise((resolve) => pokes.add(resolve));
}

/** Lambda's answer to an invocation over the function's concurrency. */
export const THROTTLED: LambdaError = {
  errorType: 'TooManyRequestsException',
  errorMessage: 'Rate Exceeded.',
};

/**
 * The process environment of an instance: a Lambda-like base, the function's variables, then the keys
 * the Lambda service sets itself (they win over the function's own, as on AWS). Nothing else of this
 * process's environment leaks in.
 */
function instanceEnv(options: LoadLambdaOptions, handler: string, major: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    ...options.env,
    AWS_LAMBDA_FUNCTION_NAME: options.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${options.name}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${major}.x`,
    LAMBDA_TASK_ROOT: options.bundleDir,
    TZ: ':UTC',
    _HANDLER: handler,
  };
}

/**
 * Prepares a function for local invocation. No process starts until the first invocation (or `init`),
 * so a bundle that fails to load reports `Runtime.ImportModuleError` from `invoke` as Lambda would.
 */
export function loadLambda(options: LoadLambdaOptions): LocalLambda {
  const handlerSpec = options.handler ?? 'index.handler';
  const functionArn = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${options.name}`;
  const concurrency = options.concurrency ?? DEFAULT_LOCAL_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 0) {
    throw new Error(`${options.name}: concurrency must be a whole number ≥ 0, got ${concurrency}`);
  }
  const runtime = options.runtime ?? DEFAULT_LAMBDA_RUNTIME;
  const counters = {
    coldStarts: 0,
    invocations: 0,
    billedMs: 0,
    instanceMs: 0,
    errors: 0,
    throttles: 0,
    timeouts: 0,
    crashes: 0,
  };
  /** Warm instances with nothing to do, most recently used last. */
  const idle: LambdaInstance[] = [];
  /** Every live instance, busy or idle. */
  const instances = new Set<LambdaInstance>();
  let starting = 0;
  /** Concurrency slots held by invocations (and `init`) now. */
  let active = 0;
  let busy = 0;
  const waiters: Array<(granted: boolean) => void> = [];
  let closed = false;
  let requestCounter = 0;

  const stopping = (): LambdaError => ({
    errorType: 'ServiceException',
    errorMessage: `${options.name}: the local runtime is stopping`,
  });

  /** A concurrency slot now, after waiting (with `wait`), or `false` when throttled. */
  function acquireSlot(wait: boolean): Promise<boolean> | boolean {
    if (closed) return false;
    if (active < concurrency) {
      active++;
      return true;
    }
    if (!wait || concurrency === 0) return false;
    return new Promise<boolean>((resolve) => waiters.push(resolve));
  }

  /** Hands the slot to the first waiter, or frees it. */
  function releaseSlot(): void {
    const next = closed ? undefined : waiters.shift();
    if (next !== undefined) next(true);
    else active--;
  }

  /**
   * A warm instance, or a cold start of a new one (the caller holds a slot). While the machine is busy
   * with {@link MAX_PARALLEL_COLD_STARTS} cold starts, it waits for either a warm instance to come back or
   * its turn to cold-start, whichever comes first.
   */
  async function takeInstance(): Promise<LambdaInstance | LambdaError> {
    for (;;) {
      for (let warm = idle.pop(); warm !== undefined; warm = idle.pop()) {
        if (warm.alive) return warm;
        instances.delete(warm);
      }
      if (closed) return stopping();
      if (coldStartsInProgress < MAX_PARALLEL_COLD_STARTS) break;
      await nextPoke();
    }
    counters.coldStarts++;
    starting++;
    coldStartsInProgress++;
    try {
      const major = nodeMajorOf(runtime);
      const nodeBinary = await ensureNodeBinary(major);
      const started = await startInstance({
        nodeBinary,
        bundleDir: options.bundleDir,
        env: instanceEnv(options, handlerSpec, major),
        memoryMb: options.memoryMb,
        functionArn,
      });
      if ('errorType' in started) return started;
      if (closed) {
        await started.kill();
        return stopping();
      }
      instances.add(started);
      return started;
    } catch (error) {
      return {
        errorType: 'Runtime.StartError',
        errorMessage: error instanceof Error ? error.message : String(error),
      };
    } finally {
      starting--;
      coldStartsInProgress--;
      poke();
    }
  }

  /** Puts an instance back to the warm pool, or forgets it when it is gone. */
  function giveBack(instance: LambdaInstance): void {
    if (instance.alive && !closed) {
      idle.push(instance);
      poke();
    } else instances.delete(instance);
  }

  async function invoke(event: unknown, invokeOptions: InvokeOptions = {}): Promise<InvokeResult> {
    const requestId = invokeOptions.requestId ?? `${options.name}-${Date.now()}-${++requestCounter}`;
    if (!(await acquireSlot(invokeOptions.wait === true))) {
      if (closed) return { error: stopping() };
      counters.throttles++;
      return { error: THROTTLED };
    }
    busy++;
    const started = performance.now();
    try {
      counters.invocations++;
      const instance = await takeInstance();
      counters.instanceMs += Math.ceil(performance.now() - started);
      if ('errorType' in instance) {
        counters.errors++;
        return { error: instance };
      }
      const outcome = await instance.invoke(event, {
        requestId,
        timeoutSeconds: options.timeoutSeconds,
        fault: options.fault?.(),
      });
      giveBack(instance);
      if (outcome.outcome !== 'ok') counters.errors++;
      if (outcome.outcome === 'timeout') counters.timeouts++;
      if (outcome.outcome === 'exit') counters.crashes++;
      return outcome.error !== undefined ? { error: outcome.error } : { result: outcome.result };
    } finally {
      counters.billedMs += Math.ceil(performance.now() - started);
      busy--;
      releaseSlot();
    }
  }

  return {
    name: options.name,
    functionArn,
    concurrency,
    async init() {
      if (instances.size > 0) return undefined;
      if (!(await acquireSlot(false))) return undefined;
      try {
        const instance = await takeInstance();
        if ('errorType' in instance) return instance;
        giveBack(instance);
        return undefined;
      } finally {
        releaseSlot();
      }
    },
    invoke,
    stats: () => ({
      ...counters,
      instances: instances.size + starting,
      busy,
      waiting: waiters.length,
    }),
    async close() {
      closed = true;
      poke();
      for (const waiter of waiters.splice(0)) waiter(false);
      idle.length = 0;
      await Promise.all([...instances].map((instance) => instance.kill()));
      instances.clear();
    },
  };
}
