/**
 * Faults on demand for the local runtime: what a fault profile asks for, and one controller every part
 * of the runtime consults at the points where AWS itself can fail.
 *
 * Who asks what:
 * - the dependency proxies in front of DynamoDB Local, SQS, EventBridge, Scheduler and KMS ask
 *   {@link Faults.dependencyFault} for each request (an AWS error answer instead of forwarding);
 * - the Lambda runner asks {@link Faults.functionFault} at each invocation (crash the instance mid-run,
 *   or hang until the function's timeout);
 * - deliveries (event source mappings, rule targets, asynchronous invocations) ask
 *   {@link Faults.duplicate} whether to deliver a record twice;
 * - the Scheduler asks {@link Faults.clockSkewMs} when deciding what is due;
 * - outages ({@link FaultProfile.outages}) stop a dependency for a while: the runtime's supervisor
 *   acts on {@link Faults.onOutage}.
 *
 * Every injected fault is counted ({@link Faults.counts}) so a campaign can tell injected failures
 * from real ones. Randomness comes from a seeded generator, so a campaign can be replayed.
 */

export type FaultService = 'dynamodb' | 'sqs' | 'events' | 'scheduler' | 'kms';
export const FAULT_SERVICES: readonly FaultService[] = ['dynamodb', 'sqs', 'events', 'scheduler', 'kms'];

export interface FaultProfile {
  /**
   * Error rates (0–1) per dependency, or per dependency and operation: `dynamodb` (every operation),
   * `dynamodb:TransactWriteItems`, `sqs:SendMessage`, `events:PutEvents`… The most specific key wins.
   * The error is the one AWS answers for overload (DynamoDB `ThrottlingException` or
   * `InternalServerError` alternately, SQS `ServiceUnavailable`, EventBridge `InternalException`…).
   */
  errors?: Record<string, number>;
  /** Share of invocations whose instance dies mid-run (`Runtime.ExitError`), per function or all. */
  crashRate?: number;
  /** Share of invocations that hang until the function's timeout (`Sandbox.Timedout`). */
  timeoutRate?: number;
  /** Functions (logical id prefixes) the crash and timeout rates apply to; absent: all. */
  functions?: string[];
  /** Share of deliveries (queue records, rule targets, async invocations) delivered twice. */
  duplicateRate?: number;
  /** Dependencies stopped for a while, counted from when the profile is applied. */
  outages?: Array<{ service: FaultService; afterSeconds: number; forSeconds: number }>;
  /** Added to the Scheduler's clock (positive: timers fire late, negative: early), in ms. */
  clockSkewMs?: number;
  /** Seed of the fault generator (same seed, same choices for the same sequence of questions). */
  seed?: number;
}

export interface DependencyFault {
  /** HTTP status the proxy answers with. */
  status: number;
  /** AWS error code (`__type` / `x-amzn-query-error` / `x-amzn-errortype`). */
  code: string;
  message: string;
}

export interface Faults {
  /** The profile in force (an empty object when none). */
  profile(): FaultProfile;
  /** Applies a profile from now on (outage times count from now); replaces the previous one. */
  set(profile: FaultProfile): void;
  clear(): void;
  /** For a dependency proxy: the error to answer instead of forwarding, or undefined to forward. */
  dependencyFault(service: FaultService, operation: string): DependencyFault | undefined;
  /** Whether a dependency is in an outage now. */
  isDown(service: FaultService): boolean;
  /** For the Lambda runner: what to do to this invocation of a function. */
  functionFault(functionLogicalId: string): 'crash' | 'timeout' | undefined;
  /** For a delivery: whether to deliver this one twice. */
  duplicate(kind: 'sqs' | 'events' | 'async' | 'scheduler'): boolean;
  clockSkewMs(): number;
  /** Registers a listener for outages starting and ending (the runtime stops and restarts dependencies). */
  onOutage(listener: (service: FaultService, down: boolean) => void): () => void;
  /** Faults injected so far, by kind (`dynamodb:ThrottlingException`, `crash`, `duplicate:sqs`, …). */
  counts(): Record<string, number>;
  /** Stops the outage timers. */
  close(): void;
}

const OVERLOAD_ERRORS: Record<FaultService, DependencyFault[]> = {
  dynamodb: [
    { status: 400, code: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' },
    { status: 500, code: 'InternalServerError', message: 'Internal server error (injected fault)' },
  ],
  sqs: [{ status: 503, code: 'ServiceUnavailable', message: 'Service is unavailable (injected fault)' }],
  events: [{ status: 500, code: 'InternalException', message: 'Internal exception (injected fault)' }],
  scheduler: [{ status: 500, code: 'InternalServerException', message: 'Internal error (injected fault)' }],
  kms: [{ status: 500, code: 'KMSInternalException', message: 'Internal error (injected fault)' }],
};

/** mulberry32: a small seeded generator, enough for fault choices and a replayable campaign mix. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function createFaults(initial: FaultProfile = {}): Faults {
  let current: FaultProfile = {};
  let random = seeded(1);
  let timers: NodeJS.Timeout[] = [];
  const down = new Set<FaultService>();
  const listeners = new Set<(service: FaultService, down: boolean) => void>();
  const counts: Record<string, number> = {};
  const count = (kind: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  const chance = (rate: number | undefined) => rate !== undefined && rate > 0 && random() < rate;
  const setDown = (service: FaultService, isDown: boolean) => {
    if (isDown === down.has(service)) return;
    if (isDown) down.add(service);
    else down.delete(service);
    if (isDown) count(`outage:${service}`);
    for (const listener of listeners) listener(service, isDown);
  };
  const clearTimers = () => {
    for (const timer of timers) clearTimeout(timer);
    timers = [];
  };

  const faults: Faults = {
    profile: () => current,
    set(profile) {
      clearTimers();
      for (const service of [...down]) setDown(service, false);
      current = profile;
      random = seeded(profile.seed ?? 1);
      for (const outage of profile.outages ?? []) {
        const start = setTimeout(() => setDown(outage.service, true), outage.afterSeconds * 1000);
        const end = setTimeout(
          () => setDown(outage.service, false),
          (outage.afterSeconds + outage.forSeconds) * 1000,
        );
        start.unref();
        end.unref();
        timers.push(start, end);
      }
    },
    clear: () => faults.set({}),
    dependencyFault(service, operation) {
      const rates = current.errors;
      if (rates === undefined) return undefined;
      const rate = rates[`${service}:${operation}`] ?? rates[service];
      if (!chance(rate)) return undefined;
      const options = OVERLOAD_ERRORS[service];
      const fault = options[Math.floor(random() * options.length)] as DependencyFault;
      count(`${service}:${fault.code}`);
      return fault;
    },
    isDown: (service) => down.has(service),
    functionFault(functionLogicalId) {
      const only = current.functions;
      if (only !== undefined && !only.some((prefix) => functionLogicalId.startsWith(prefix)))
        return undefined;
      if (chance(current.crashRate)) {
        count('crash');
        return 'crash';
      }
      if (chance(current.timeoutRate)) {
        count('timeout');
        return 'timeout';
      }
      return undefined;
    },
    duplicate(kind) {
      if (!chance(current.duplicateRate)) return false;
      count(`duplicate:${kind}`);
      return true;
    },
    clockSkewMs: () => current.clockSkewMs ?? 0,
    onOutage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    counts: () => ({ ...counts }),
    close: clearTimers,
  };
  faults.set(initial);
  return faults;
}
