/**
 * Runs a synthesized Lambda bundle (the `index.mjs` `cdk deploy` would upload) inside
 * this Node.js process, the way the Lambda Node.js runtime would: one cold start per
 * execution environment, then invocations with a proper context, a timeout, and
 * errors returned (never thrown) in Lambda's `{ errorType, errorMessage }` shape.
 *
 * Known limits, because every function shares one process instead of getting its
 * own sandbox:
 * - **Environment.** `process.env` is global. The function's environment is applied
 *   while its module is imported (so configuration read at cold start, which is what
 *   our bundles do, is always right) and again just before each invocation. Code that
 *   reads `process.env` *after an `await`* inside a handler may see another
 *   function's environment if two different functions run at the same moment.
 *   Cold starts are serialized across all functions so module scope always sees
 *   its own environment, even with top-level `await`.
 * - **Concurrency.** Invocations of one function are serialized (reserved
 *   concurrency 1): one execution environment, like a single warm sandbox. Different
 *   functions run concurrently unless loaded as `exclusive` (the local runtime does:
 *   then one invocation runs at a time, so lazily resolved SDK credentials always come
 *   from the right function's environment).
 * - **Timeouts.** A timed-out invocation is reported as `Sandbox.Timedout`, but its
 *   promise cannot be killed; it keeps running in the background. As Lambda does,
 *   the environment is discarded: the next invocation cold-starts a fresh module
 *   instance (a new module URL, so module scope is fresh).
 * - **Memory** is reported in the context and environment but not enforced.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** Region and account the local ARNs use (the local runtime's fixed identity). */
const LOCAL_REGION = 'us-east-1';
const LOCAL_ACCOUNT = '123456789012';

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
  /**
   * Runs this function's invocations one at a time with every other exclusive function's, so that
   * `process.env` holds only its environment while it runs. The AWS SDK resolves credentials and
   * endpoints lazily, after an `await`: with two functions running at once, a client could pick up
   * the other function's access key (and identity, when the runtime checks IAM). @default false
   */
  exclusive?: boolean;
}

export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeResult {
  /** The handler's result after a JSON round trip (as Lambda serializes it); `null` for `undefined`. */
  result?: unknown;
  /** Set instead of `result` when the function failed, timed out or could not start. */
  error?: LambdaError;
}

export interface LocalLambda {
  readonly name: string;
  readonly functionArn: string;
  /**
   * Cold-starts the function now instead of on its first invocation, so a runtime can
   * report a bundle that fails to load at startup. Resolves to the error, or `undefined`.
   */
  init(): Promise<LambdaError | undefined>;
  /** Invokes the function; never rejects. */
  invoke(event: unknown, options?: { requestId?: string }): Promise<InvokeResult>;
}

type Handler = (
  event: unknown,
  context: Context,
  callback?: (error?: unknown, result?: unknown) => void,
) => unknown;

/** Keys the Lambda service sets itself; they win over the function's own variables, as on AWS. */
function reservedEnv(options: LoadLambdaOptions, handler: string): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: options.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${options.name}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
    LAMBDA_TASK_ROOT: options.bundleDir,
    _HANDLER: handler,
  };
}

// ---------------------------------------------------------------------------
// Process-wide environment switching
// ---------------------------------------------------------------------------

/** `process.env` values before any function's environment was applied, for keys a function set. */
const baseline = new Map<string, string | undefined>();
/** Keys the last applied function environment set. */
let appliedKeys = new Set<string>();

/**
 * Makes `process.env` hold exactly the process's own variables plus `env`: keys a
 * previously applied function set but this one does not are restored to what they
 * were before any function ran, so one function never sees another's variables.
 */
function applyEnv(env: Record<string, string>): void {
  for (const key of appliedKeys) {
    if (key in env) continue;
    const original = baseline.get(key);
    if (original === undefined) delete process.env[key];
    else process.env[key] = original;
  }
  for (const [key, value] of Object.entries(env)) {
    if (!baseline.has(key)) baseline.set(key, process.env[key]);
    process.env[key] = value;
  }
  appliedKeys = new Set(Object.keys(env));
}

/** Serializes the invocations of all exclusive functions (see {@link LoadLambdaOptions.exclusive}). */
let exclusiveChain: Promise<unknown> = Promise.resolve();
function runExclusively<T>(work: () => Promise<T>): Promise<T> {
  const result = exclusiveChain.then(work);
  exclusiveChain = result.catch(() => undefined);
  return result;
}

/** Serializes cold starts of all functions: module scope must see only its own environment. */
let coldStartChain: Promise<unknown> = Promise.resolve();
/** Makes each cold start load a distinct module instance (same file, fresh module scope). */
let coldStartCounter = 0;

// ---------------------------------------------------------------------------
// Loading and invoking
// ---------------------------------------------------------------------------

/** Splits `dir/index.handler` into the module file in `bundleDir` and the export name. */
function resolveHandler(
  bundleDir: string,
  handler: string,
): { file: string; exportName: string } | LambdaError {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    return { errorType: 'Runtime.MalformedHandlerName', errorMessage: `Bad handler ${handler}` };
  }
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  // The Node.js runtime tries these extensions in this order.
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = join(bundleDir, `${modulePath}${ext}`);
    if (existsSync(file)) return { file, exportName };
  }
  return {
    errorType: 'Runtime.ImportModuleError',
    errorMessage: `Error: Cannot find module '${modulePath}' in ${bundleDir}`,
  };
}

/** Lambda's error shape for anything a handler throws or rejects with. */
function toLambdaError(error: unknown): LambdaError {
  if (error instanceof Error) {
    return {
      errorType: error.name || error.constructor.name || 'Error',
      errorMessage: error.message,
      trace: error.stack?.split('\n') ?? [],
    };
  }
  return { errorType: typeof error === 'string' ? 'string' : 'Error', errorMessage: String(error) };
}

/**
 * Prepares a function for local invocation. Nothing is imported until the first
 * invocation (the cold start), so a bundle that fails to load reports
 * `Runtime.ImportModuleError` from `invoke` as Lambda would, instead of throwing here.
 */
export function loadLambda(options: LoadLambdaOptions): LocalLambda {
  const handlerSpec = options.handler ?? 'index.handler';
  const env = { ...options.env, ...reservedEnv(options, handlerSpec) };
  const functionArn = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${options.name}`;
  const timeoutMs = Math.round(options.timeoutSeconds * 1000);
  let handler: Handler | undefined;
  let requestCounter = 0;
  /** The tail of this function's invocation queue (serialized: one execution environment). */
  let queue: Promise<unknown> = Promise.resolve();

  async function coldStart(): Promise<Handler | LambdaError> {
    const resolved = resolveHandler(options.bundleDir, handlerSpec);
    if ('errorType' in resolved) return resolved;
    const load = coldStartChain.then(async () => {
      applyEnv(env);
      const url = `${pathToFileURL(resolved.file).href}?instance=${++coldStartCounter}`;
      return (await import(url)) as Record<string, unknown>;
    });
    coldStartChain = load.catch(() => undefined);
    let module: Record<string, unknown>;
    try {
      module = await load;
    } catch (error) {
      const cause = toLambdaError(error);
      return {
        ...cause,
        errorType: 'Runtime.ImportModuleError',
        errorMessage: `${cause.errorType}: ${cause.errorMessage}`,
      };
    }
    // A CommonJS bundle imported as ESM exposes its exports on `default`.
    const exported =
      module[resolved.exportName] ??
      (module.default as Record<string, unknown> | undefined)?.[resolved.exportName];
    if (typeof exported !== 'function') {
      return {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: `${handlerSpec} is undefined or not exported`,
      };
    }
    return exported as Handler;
  }

  async function run(event: unknown, requestId: string): Promise<InvokeResult> {
    const fn = await ensureLoaded();
    if (typeof fn !== 'function') return { error: fn };
    applyEnv(env);
    const started = Date.now();
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: options.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn,
      memoryLimitInMB: String(options.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${options.name}`,
      logStreamName: `local/[$LATEST]${options.name}`,
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    // The handler gets its own copy of the event, as it would after Lambda's JSON transport.
    const payload: unknown = event === undefined ? null : JSON.parse(JSON.stringify(event));

    const execution = new Promise<unknown>((resolve, reject) => {
      // Callback-style handlers (three parameters) finish through the callback.
      const callback = (error?: unknown, result?: unknown) =>
        error !== undefined && error !== null ? reject(error) : resolve(result);
      try {
        const returned = fn.length >= 3 ? fn(payload, context, callback) : fn(payload, context);
        if (
          fn.length < 3 ||
          (returned !== undefined && typeof (returned as Promise<unknown>)?.then === 'function')
        ) {
          Promise.resolve(returned).then(resolve, reject);
        }
      } catch (error) {
        reject(error);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([execution.then((value) => ({ value })), timedOut]);
      if (outcome === 'timeout') {
        // The sandbox is torn down on AWS; here the next invocation re-imports a fresh module instance.
        handler = undefined;
        execution.catch(() => undefined);
        return {
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `${requestId} Task timed out after ${options.timeoutSeconds.toFixed(2)} seconds`,
          },
        };
      }
      const value = outcome.value;
      try {
        return { result: value === undefined ? null : JSON.parse(JSON.stringify(value)) };
      } catch (error) {
        return {
          error: { errorType: 'Runtime.MalformedResponse', errorMessage: toLambdaError(error).errorMessage },
        };
      }
    } catch (error) {
      return { error: toLambdaError(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Loads the module unless it is loaded; the error if it cannot be. */
  async function ensureLoaded(): Promise<Handler | LambdaError> {
    if (handler !== undefined) return handler;
    const loaded = await coldStart();
    if (typeof loaded === 'function') handler = loaded;
    return loaded;
  }

  return {
    name: options.name,
    functionArn,
    init() {
      const result = queue.then(ensureLoaded);
      queue = result.catch(() => undefined);
      return result.then(
        (loaded) => (typeof loaded === 'function' ? undefined : loaded),
        (error: unknown) => toLambdaError(error),
      );
    },
    invoke(event, invokeOptions = {}) {
      const requestId = invokeOptions.requestId ?? `${options.name}-${Date.now()}-${++requestCounter}`;
      const execute = () => run(event, requestId);
      const result = queue.then(() => (options.exclusive ? runExclusively(execute) : execute()));
      queue = result.catch(() => undefined);
      return result.catch((error: unknown) => ({ error: toLambdaError(error) }));
    },
  };
}
