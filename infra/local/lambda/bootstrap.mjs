/**
 * The bootstrap of one local Lambda execution environment (an instance): a child process the local
 * Lambda runner (`instance.ts`) forks on the function's Node.js binary, with the function's environment
 * and heap limit. Plain JavaScript, run as is by whatever Node.js the function's runtime names.
 *
 * At start it imports the handler from `$LAMBDA_TASK_ROOT` per `$_HANDLER` (the init phase), then
 * serves one invocation at a time over the IPC channel:
 *
 * - child → parent `{ type: 'ready' }` once the handler is loaded, or `{ type: 'init-error', error }`
 *   (then it exits: the next invocation cold-starts a new instance, as on Lambda);
 * - parent → child `{ type: 'invoke', requestId, event, deadline, functionArn, ack?, hang? }`;
 *   `ack` asks for `{ type: 'started', requestId }` as the handler starts (the runner's crash fault
 *   kills the instance then); `hang` runs the handler but never answers (the timeout fault);
 * - child → parent `{ type: 'result', requestId, payload }` (the result as JSON text, as Lambda
 *   serializes it) or `{ type: 'error', requestId, error }` with Lambda's `{ errorType, errorMessage,
 *   trace }`.
 *
 * An uncaught exception or unhandled rejection fails the invocation in flight and ends the instance
 * (Lambda's Node.js runtime does the same); losing the parent ends it too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** @type {{ requestId: string } | undefined} */
let current;

function send(message, then) {
  if (process.connected) process.send(message, then);
  else then?.();
}

/** Lambda's error shape for anything a handler throws or rejects with. */
function toLambdaError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || error.constructor?.name || 'Error',
      errorMessage: error.message,
      trace: error.stack?.split('\n') ?? [],
    };
  }
  return { errorType: typeof error === 'string' ? 'string' : 'Error', errorMessage: String(error) };
}

/** Splits `dir/index.handler` into the module file in the task root and the export name. */
function resolveHandler(taskRoot, handler) {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    return { errorType: 'Runtime.MalformedHandlerName', errorMessage: `Bad handler ${handler}` };
  }
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  // The Node.js runtime tries these extensions in this order.
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = join(taskRoot, `${modulePath}${ext}`);
    if (existsSync(file)) return { file, exportName };
  }
  return {
    errorType: 'Runtime.ImportModuleError',
    errorMessage: `Error: Cannot find module '${modulePath}' in ${taskRoot}`,
  };
}

async function loadHandler() {
  const handlerSpec = process.env._HANDLER ?? 'index.handler';
  const resolved = resolveHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), handlerSpec);
  if ('errorType' in resolved) return resolved;
  let module;
  try {
    module = await import(pathToFileURL(resolved.file).href);
  } catch (error) {
    const cause = toLambdaError(error);
    return {
      ...cause,
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `${cause.errorType}: ${cause.errorMessage}`,
    };
  }
  // A CommonJS bundle imported as ESM exposes its exports on `default`.
  const exported = module[resolved.exportName] ?? module.default?.[resolved.exportName];
  if (typeof exported !== 'function') {
    return {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${handlerSpec} is undefined or not exported`,
    };
  }
  return exported;
}

function contextFor(message) {
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? '';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId: message.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${name}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs the handler to completion (callback-style handlers finish through the callback). */
function execute(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) =>
      error !== undefined && error !== null ? reject(error) : resolve(result);
    try {
      const returned = handler.length >= 3 ? handler(event, context, callback) : handler(event, context);
      if (handler.length < 3 || typeof returned?.then === 'function')
        Promise.resolve(returned).then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

async function invoke(handler, message) {
  current = { requestId: message.requestId };
  if (message.ack) send({ type: 'started', requestId: message.requestId });
  let reply;
  try {
    const value = await execute(handler, message.event ?? null, contextFor(message));
    try {
      reply = {
        type: 'result',
        requestId: message.requestId,
        payload: JSON.stringify(value ?? null) ?? 'null',
      };
    } catch (error) {
      reply = {
        type: 'error',
        requestId: message.requestId,
        error: { errorType: 'Runtime.MalformedResponse', errorMessage: toLambdaError(error).errorMessage },
      };
    }
  } catch (error) {
    reply = { type: 'error', requestId: message.requestId, error: toLambdaError(error) };
  }
  current = undefined;
  // The timeout fault: the work is done but the answer never comes; the runner's timer ends the instance.
  if (!message.hang) send(reply);
}

function fatal(errorType, error) {
  const cause = toLambdaError(error);
  console.error(`${errorType}: ${cause.errorMessage}`);
  if (current === undefined) process.exit(128);
  send({ type: 'error', requestId: current.requestId, error: { ...cause, errorType } }, () =>
    process.exit(128),
  );
}

process.on('uncaughtException', (error) => fatal('Runtime.UncaughtException', error));
process.on('unhandledRejection', (reason) => fatal('Runtime.UnhandledPromiseRejection', reason));
// The runner is gone: nobody will invoke this instance again.
process.on('disconnect', () => process.exit(0));

const handler = await loadHandler();
if (typeof handler !== 'function') {
  send({ type: 'init-error', error: handler }, () => process.exit(1));
} else {
  process.on('message', (message) => {
    if (message?.type === 'invoke') void invoke(handler, message);
  });
  send({ type: 'ready' });
}
