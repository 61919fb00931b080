/**
 * One local Lambda execution environment: a child process running `bootstrap.mjs` on the function's
 * Node.js binary, with exactly the function's environment (nothing inherited from this process but
 * `PATH`), its memory size as the V8 heap limit (`--max-old-space-size`) and its bundle folder as the
 * working directory. It serves one invocation at a time.
 *
 * - **Cold start**: {@link startInstance} forks the process and resolves once the handler module is
 *   imported (Lambda's init phase, limited to {@link INIT_TIMEOUT_MS} as on Lambda), or to the init
 *   error (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`…).
 * - **Timeout**: an invocation over the function's timeout kills the process (SIGKILL) and fails with
 *   `Sandbox.Timedout`; the instance is gone.
 * - **Exit**: a process that exits or is killed mid-invocation (a crash, running out of heap) fails the
 *   invocation with `Runtime.ExitError`, as Lambda reports it.
 * - **Faults**: `crash` kills the process as soon as it reports the handler started; `timeout` lets the
 *   handler run but withholds its answer, so the timeout above ends it.
 * - **Logs**: the child's stdout and stderr are forwarded line by line through this process's
 *   `process.stdout.write` / `process.stderr.write` (looked up at each line, so a caller that replaces
 *   them, like `npm start` diverting function logs to a file, sees every line).
 *
 * Every live child is killed when this process exits; a child whose parent disappears exits by itself
 * (its IPC channel closes).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { InvokeResult, LambdaError } from '../lambda-runner';

/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

export interface InstanceSpec {
  nodeBinary: string;
  bundleDir: string;
  /** The complete environment of the process. */
  env: Record<string, string>;
  memoryMb: number;
  functionArn: string;
}

export type FunctionFault = 'crash' | 'timeout' | undefined;

/** How an invocation ended, for the runner's counters. */
export type Outcome = 'ok' | 'error' | 'timeout' | 'exit';

export interface InstanceInvokeResult extends InvokeResult {
  outcome: Outcome;
}

export interface LambdaInstance {
  readonly pid: number | undefined;
  /** False once the process has exited or was killed. */
  readonly alive: boolean;
  invoke(
    event: unknown,
    options: { requestId: string; timeoutSeconds: number; fault?: FunctionFault },
  ): Promise<InstanceInvokeResult>;
  /** Kills the process; resolves once it has exited. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Forwards a child's output line by line through `target()`'s `write`, so each write is one line. */
function forwardLines(stream: Readable | null, target: () => NodeJS.WriteStream): void {
  if (stream === null) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) target().write(`${line}\n`);
  });
  stream.on('end', () => {
    if (partial !== '') target().write(`${partial}\n`);
    partial = '';
  });
}

/** `Runtime exited with error: …` in the words Lambda uses (Go's names for exit statuses and signals). */
function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) {
    const names: Partial<Record<NodeJS.Signals, string>> = {
      SIGKILL: 'killed',
      SIGABRT: 'aborted (core dumped)',
      SIGSEGV: 'segmentation fault',
      SIGTERM: 'terminated',
    };
    return `Runtime exited with error: signal: ${names[signal] ?? signal}`;
  }
  return code === 0
    ? 'Runtime exited without providing a reason'
    : `Runtime exited with error: exit status ${code}`;
}

/** The child stays referenced (keeps this process alive) only while it works. */
function setReferenced(child: ChildProcess, referenced: boolean): void {
  const handles = [child, child.channel, child.stdout, child.stderr] as Array<
    { ref?: () => void; unref?: () => void } | null | undefined
  >;
  for (const handle of handles) {
    if (referenced) handle?.ref?.();
    else handle?.unref?.();
  }
}

type Message =
  | { type: 'ready' }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'started'; requestId: string }
  | { type: 'result'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; error: LambdaError };

/** Cold-starts an instance: resolves once its handler is loaded, or to why it could not start. */
export function startInstance(spec: InstanceSpec): Promise<LambdaInstance | LambdaError> {
  const child = fork(BOOTSTRAP, [], {
    execPath: spec.nodeBinary,
    // Not this process's flags (a TypeScript loader, inspector…): only the heap limit.
    execArgv: [`--max-old-space-size=${spec.memoryMb}`],
    env: spec.env,
    ...(existsSync(spec.bundleDir) ? { cwd: spec.bundleDir } : {}),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  track(child);
  forwardLines(child.stdout, () => process.stdout);
  forwardLines(child.stderr, () => process.stderr);
  let alive = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      alive = false;
      resolve();
    });
    child.once('error', () => {
      // Spawning failed: no exit event follows.
      if (child.pid === undefined) {
        alive = false;
        resolve();
      }
    });
  });

  /** The invocation in flight, settled by a message, the timeout or the process's exit. */
  let pending:
    | { requestId: string; fault: FunctionFault; finish: (result: InstanceInvokeResult) => void }
    | undefined;

  const kill = async () => {
    // Referenced again, so this process waits for the exit it awaits.
    if (alive) setReferenced(child, true);
    if (alive) child.kill('SIGKILL');
    await exited;
  };

  const instance: LambdaInstance = {
    get pid() {
      return child.pid;
    },
    get alive() {
      return alive;
    },
    invoke(event, { requestId, timeoutSeconds, fault }) {
      if (!alive || pending !== undefined) {
        return Promise.resolve({
          outcome: 'exit',
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${requestId} Error: ${exitText(1, null)}`,
          },
        });
      }
      setReferenced(child, true);
      const timeoutMs = Math.round(timeoutSeconds * 1000);
      return new Promise<InstanceInvokeResult>((resolve) => {
        const timer = setTimeout(() => {
          // Lambda ends the execution environment; the next invocation cold-starts.
          child.kill('SIGKILL');
          alive = false;
          finish({
            outcome: 'timeout',
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
            },
          });
        }, timeoutMs);
        const finish = (result: InstanceInvokeResult) => {
          if (pending?.requestId !== requestId) return;
          pending = undefined;
          clearTimeout(timer);
          if (alive) setReferenced(child, false);
          resolve(result);
        };
        pending = { requestId, fault, finish };
        child.send(
          {
            type: 'invoke',
            requestId,
            event: event === undefined ? null : event,
            deadline: Date.now() + timeoutMs,
            functionArn: spec.functionArn,
            ...(fault === 'crash' ? { ack: true } : {}),
            ...(fault === 'timeout' ? { hang: true } : {}),
          },
          // A failed send means the process is gone: its exit settles the invocation.
          () => undefined,
        );
      });
    },
    kill,
  };

  child.on('message', (message: Message) => {
    const current = pending;
    if (current === undefined || !('requestId' in message) || message.requestId !== current.requestId) return;
    if (message.type === 'started') {
      if (current.fault === 'crash') child.kill('SIGKILL');
      return;
    }
    // A crashing instance never gets to answer, even if the handler was quicker than the kill.
    if (current.fault === 'crash') return;
    if (message.type === 'result') {
      current.finish({ outcome: 'ok', result: JSON.parse(message.payload) });
    } else if (message.type === 'error') {
      current.finish({ outcome: 'error', error: message.error });
    }
  });
  // 'close' rather than 'exit': messages the process sent before exiting have arrived by then.
  child.on('close', (code, signal) => {
    const current = pending;
    current?.finish({
      outcome: 'exit',
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${current.requestId} Error: ${exitText(code, signal)}`,
      },
    });
  });

  return new Promise<LambdaInstance | LambdaError>((resolve) => {
    let settled = false;
    const settle = (outcome: LambdaInstance | LambdaError) => {
      if (settled) return;
      settled = true;
      clearTimeout(initTimer);
      child.off('message', onInitMessage);
      if ('errorType' in outcome) void kill();
      else setReferenced(child, false);
      resolve(outcome);
    };
    const onInitMessage = (message: Message) => {
      if (message.type === 'ready') settle(instance);
      else if (message.type === 'init-error') settle(message.error);
    };
    const initTimer = setTimeout(
      () =>
        settle({
          errorType: 'Sandbox.Timedout',
          errorMessage: `Init phase timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
        }),
      INIT_TIMEOUT_MS,
    );
    child.on('message', onInitMessage);
    child.once('error', (error) =>
      settle({ errorType: 'Runtime.StartError', errorMessage: `${spec.nodeBinary}: ${error.message}` }),
    );
    child.once('close', (code, signal) =>
      settle({
        errorType: 'Runtime.ExitError',
        errorMessage: `Error: ${exitText(code, signal)} during init`,
      }),
    );
  });
}
