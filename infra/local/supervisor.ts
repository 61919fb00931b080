/**
 * Supervision of the local runtime's dependencies: a child process (DynamoDB Local's Java process)
 * is watched, its death is reported at once and it is restarted; when it cannot be restarted, or
 * dies too often ({@link RestartBudget}: by default more than 3 times within a minute), the
 * supervisor gives up and reports a fatal reason, on which the runtime stops.
 *
 * A frozen process (SIGSTOP, an outage injected on demand) is not dead: the supervisor only acts on
 * the process exiting, never on it being slow or silent.
 */

/** A child process as the supervisor sees it. */
export interface SupervisedProcess {
  readonly pid: number;
  /** Settles when the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** How it ended (`signal SIGKILL`), once it has. */
  exitReason?(): string | undefined;
  stop(): Promise<void>;
  freeze?(): void;
  thaw?(): void;
}

/** `external`: an endpoint given to the runtime, not started (nor supervised) by it. */
export type DependencyState = 'up' | 'frozen' | 'down' | 'restarting' | 'failed' | 'stopped' | 'external';

export interface DependencyStatus {
  state: DependencyState;
  /** Restarts after a death (or a failed listener) since the runtime started. */
  restarts: number;
  pid?: number;
  /** The last unexpected exit, e.g. `signal SIGKILL at 2026-…`. */
  lastFailure?: string;
}

/** Counts failures in a sliding window; over `max` within `windowMs` means give up. */
export class RestartBudget {
  private readonly failures: number[] = [];
  constructor(
    readonly max = 3,
    readonly windowMs = 60_000,
  ) {}
  /** Records a failure; false when this one exceeds the budget. */
  spend(now = Date.now()): boolean {
    this.failures.push(now);
    while (this.failures.length > 0 && (this.failures[0] as number) < now - this.windowMs)
      this.failures.shift();
    return this.failures.length <= this.max;
  }
  describe(): string {
    return `${this.failures.length} failures within ${Math.round(this.windowMs / 1000)} s`;
  }
}

export interface SuperviseOptions<T extends SupervisedProcess> {
  /** For the log, e.g. `DynamoDB Local`. */
  name: string;
  /** The running process. */
  initial: T;
  /** Starts a new process in the place of the dead one (same port, same files). */
  restart: () => Promise<T>;
  /** Runs after each restart (e.g. recreating in-memory tables); throwing counts as a failed restart. */
  afterRestart?: (process: T) => Promise<void>;
  /** What a restart keeps, for the log line (`its data in .local/dynamodb`, `nothing: it ran in memory`). */
  recovery?: string;
  budget?: RestartBudget;
  /** Pause between failed restart attempts. @default 500 */
  retryDelayMs?: number;
  log: (message: string) => void;
  /** Called once when the supervisor gives up. */
  onFatal: (reason: string) => void;
}

export interface Supervisor<T extends SupervisedProcess> {
  /** The process running now. */
  current(): T;
  status(): DependencyStatus;
  /** SIGSTOP (an outage); the supervisor keeps watching only for exits. */
  freeze(): void;
  thaw(): void;
  /** Stops supervising and stops the process. */
  stop(): Promise<void>;
}

export function supervise<T extends SupervisedProcess>(options: SuperviseOptions<T>): Supervisor<T> {
  const budget = options.budget ?? new RestartBudget();
  const retryDelayMs = options.retryDelayMs ?? 500;
  let process = options.initial;
  let state: DependencyState = 'up';
  let restarts = 0;
  let lastFailure: string | undefined;
  let stopping = false;
  let frozen = false;

  const giveUp = (reason: string) => {
    if (state === 'failed' || stopping) return;
    state = 'failed';
    options.log(`local runtime: ${options.name} cannot be restarted: ${reason}`);
    options.onFatal(`${options.name}: ${reason}`);
  };

  const watch = (watched: T) => {
    void watched.exited.then(() => {
      if (stopping || watched !== process) return;
      const how = watched.exitReason?.() ?? 'exited';
      lastFailure = `${how} at ${new Date().toISOString()}`;
      state = 'down';
      options.log(
        `local runtime: ${options.name} (pid ${watched.pid}) died (${how}); restarting it` +
          (options.recovery ? ` (${options.recovery})` : ''),
      );
      void recover();
    });
  };

  const recover = async () => {
    for (;;) {
      if (stopping) return;
      if (!budget.spend()) return giveUp(`it failed too often (${budget.describe()})`);
      state = 'restarting';
      let started: T | undefined;
      try {
        started = await options.restart();
        if (stopping) {
          await started.stop();
          return;
        }
        process = started;
        await options.afterRestart?.(started);
        restarts += 1;
        state = 'up';
        if (frozen) {
          started.freeze?.();
          state = 'frozen';
        }
        watch(started);
        options.log(`local runtime: ${options.name} is back (pid ${started.pid}, restart ${restarts})`);
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
        lastFailure = `restart failed: ${message}`;
        options.log(`local runtime: ${options.name} restart failed: ${message}`);
        await started?.stop().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  };

  watch(process);
  return {
    current: () => process,
    status: () => ({
      state,
      restarts,
      ...(state === 'up' || state === 'frozen' ? { pid: process.pid } : {}),
      ...(lastFailure !== undefined ? { lastFailure } : {}),
    }),
    freeze() {
      frozen = true;
      if (state !== 'up') return;
      process.freeze?.();
      state = 'frozen';
    },
    thaw() {
      frozen = false;
      if (state !== 'frozen') return;
      process.thaw?.();
      state = 'up';
    },
    async stop() {
      stopping = true;
      state = 'stopped';
      await process.stop();
    },
  };
}
