/**
 * The local runtime's delivery engine: what AWS promises for an accepted event on its way to a target
 * — EventBridge rule targets, Scheduler targets and Lambda's asynchronous invocations — kept here once.
 *
 * A delivery is accepted ({@link DeliveryEngine.accept}) and from then on is never dropped silently:
 * - it is attempted at once, and a failed attempt is retried with exponential backoff and jitter
 *   (configurable, fast by default: 1 s doubling up to 30 s, so a 15 s outage is ridden out in about
 *   30 s) until its {@link RetryPolicy} runs out — `maximumRetryAttempts` retries, or
 *   `maximumEventAgeSeconds` since acceptance, whichever comes first — or at once for an error that
 *   retrying cannot fix (a missing target);
 * - a throttled attempt (the target is at its concurrency limit) is not a failed attempt: the
 *   delivery waits and is tried again on a shorter backoff, for as long as its event age allows;
 * - an exhausted delivery goes to its dead-letter destination through the handler of its kind; when
 *   that send fails it is retried (never dropped); only a delivery with no destination is dropped,
 *   logged and counted, as AWS drops it;
 * - every pending delivery is written to a {@link DeliveryJournal} on change, so `close()` loses
 *   nothing: a new engine on the same journal resumes them at `start()`.
 *
 * What a delivery *is* (a SendMessage, a Lambda invocation) and where its dead letters go belongs to
 * the handler registered for its kind (`rule-targets.ts`, `runtime/async-invoke.ts`); payloads are
 * JSON so the journal can hold them.
 */
import { randomUUID } from 'node:crypto';
import { type DeliveryJournal, memoryJournal } from './journal';

export interface RetryPolicy {
  /** Retries after the first attempt (EventBridge: 0–185, default 185; Lambda async: 0–2, default 2). */
  maximumRetryAttempts: number;
  /** How long after acceptance a delivery may still be attempted (EventBridge default 86,400). */
  maximumEventAgeSeconds: number;
  /** Backoff of failed attempts for this delivery (e.g. Lambda's slower async retries); the engine's otherwise. */
  backoff?: Backoff;
}

/** EventBridge's default retry policy for a rule target. */
export const EVENTBRIDGE_RETRY_POLICY: RetryPolicy = {
  maximumRetryAttempts: 185,
  maximumEventAgeSeconds: 86_400,
};

export interface Backoff {
  /** Delay before the first retry. */
  firstDelayMs: number;
  /** Longest delay; each retry doubles the previous delay up to this. */
  maxDelayMs: number;
  /** Share (0–1) of each delay taken off at random, so retries of many deliveries spread out. */
  jitter?: number;
}

/** Failed attempts: 1 s, 2 s, 4 s … 30 s (AWS waits longer; a local run wants to recover fast). */
export const DEFAULT_BACKOFF: Backoff = { firstDelayMs: 1000, maxDelayMs: 30_000, jitter: 0.25 };
/** Throttled attempts wait for a free instance: 50 ms doubling up to 1 s. */
export const DEFAULT_THROTTLE_BACKOFF: Backoff = { firstDelayMs: 50, maxDelayMs: 1000, jitter: 0.25 };

/** The delay before retry number `n` (1-based): exponential, capped, with jitter taken off. */
export function backoffDelay(backoff: Backoff, n: number, random: () => number = Math.random): number {
  const nominal = Math.min(backoff.firstDelayMs * 2 ** Math.max(0, n - 1), backoff.maxDelayMs);
  return Math.round(nominal * (1 - (backoff.jitter ?? 0) * random()));
}

/**
 * Why a delivery stopped being retried: EventBridge's `EXHAUSTED_RETRY_CONDITION` values, or
 * `NotRetriable` for an error retrying cannot fix (sent to the dead-letter destination at once).
 */
export type ExhaustedCondition = 'MaximumRetryAttemptsExhausted' | 'MaximumEventAgeExceeded' | 'NotRetriable';

export interface DeliveryError {
  /** Short code (EventBridge's `ERROR_CODE`, Lambda's `errorType`). */
  code: string;
  message: string;
  /** What the target answered, for the dead-letter record (e.g. a Lambda error object). */
  detail?: unknown;
}

/** One accepted delivery not yet settled; plain JSON, as the journal stores it. */
export interface PendingDelivery {
  id: string;
  /** The handler that attempts it (`events`, `async`, `scheduler`…). */
  kind: string;
  /** What statistics are kept under (a rule target, a function). */
  key: string;
  payload: unknown;
  policy: RetryPolicy;
  /** Epoch ms when it was accepted; the event age counts from here. */
  acceptedAt: number;
  /** Attempts that failed (throttled attempts are not counted). */
  attempts: number;
  /** Attempts refused because the target was at its concurrency limit. */
  throttles: number;
  /** Epoch ms of the next attempt (or of the next dead-letter send). */
  nextAt: number;
  lastError?: DeliveryError;
  /** Set once retries are over: the delivery now waits for its dead-letter send. */
  exhausted?: ExhaustedCondition;
  /** Failed dead-letter sends so far. */
  deadLetterAttempts?: number;
}

export type AttemptOutcome =
  | { status: 'delivered' }
  | ({ status: 'throttled' } & DeliveryError)
  | ({ status: 'failed'; retriable?: boolean } & DeliveryError);

export interface DeliveryHandler {
  /** One attempt; should not throw (a throw counts as a retriable failure). */
  attempt(delivery: Readonly<PendingDelivery>): Promise<AttemptOutcome>;
  /**
   * Sends an exhausted delivery to its dead-letter destination (`delivery.exhausted` says why):
   * `'dead-lettered'`, or `'dropped'` when it has none. Throws when the destination cannot be reached;
   * the engine then tries again later.
   */
  deadLetter(delivery: Readonly<PendingDelivery>): Promise<'dead-lettered' | 'dropped'>;
}

/** Counters for one key (target or function): cumulative figures and what is pending now. */
export interface DeliveryCounters {
  accepted: number;
  delivered: number;
  /** Retries attempted after a failed attempt. */
  retried: number;
  /** Throttled attempts (not counted as failed). */
  throttled: number;
  deadLettered: number;
  dropped: number;
  /** Pending now: accepted and not yet delivered, dead-lettered or dropped. */
  pending: number;
  /** Pending with no failed attempt yet (waiting for its first attempt, or throttled). */
  queued: number;
  /** Pending after at least one failed attempt (or waiting for its dead-letter send). */
  retrying: number;
}

export interface DeliveryEngine {
  /** Registers how deliveries of a kind are attempted and dead-lettered. */
  register(kind: string, handler: DeliveryHandler): void;
  /** Accepts a delivery; from now on it is delivered, dead-lettered or (without a DLQ) dropped. */
  accept(kind: string, key: string, payload: unknown, policy: RetryPolicy): string;
  /** Loads the journal's pending deliveries and starts attempting (idempotent). */
  start(): Promise<void>;
  /** Counters by key, for one kind. */
  stats(kind: string): Record<string, DeliveryCounters>;
  /** The deliveries pending now. */
  pending(): readonly PendingDelivery[];
  /** Resolves when nothing is pending (tests; never resolves while a target keeps failing). */
  idle(): Promise<void>;
  /**
   * Stops attempting, waits for the attempts in flight and writes what is still pending to the
   * journal. Deliveries accepted after this are journaled, not attempted.
   */
  close(): Promise<void>;
}

export interface DeliveryEngineOptions {
  /** Where pending deliveries are kept across restarts. @default in memory */
  journal?: DeliveryJournal;
  backoff?: Backoff;
  throttleBackoff?: Backoff;
  /** Delay between dead-letter send attempts: the failed-attempt backoff unless given. */
  deadLetterBackoff?: Backoff;
  log?: (message: string) => void;
  random?: () => number;
}

const emptyCounters = (): DeliveryCounters => ({
  accepted: 0,
  delivered: 0,
  retried: 0,
  throttled: 0,
  deadLettered: 0,
  dropped: 0,
  pending: 0,
  queued: 0,
  retrying: 0,
});

const errorOf = (error: unknown): DeliveryError => ({
  code: error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
});

export function createDeliveryEngine(options: DeliveryEngineOptions = {}): DeliveryEngine {
  const journal = options.journal ?? memoryJournal();
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const throttleBackoff = options.throttleBackoff ?? DEFAULT_THROTTLE_BACKOFF;
  const deadLetterBackoff = options.deadLetterBackoff ?? backoff;
  const log = options.log ?? ((message: string) => console.warn(message));
  const random = options.random ?? Math.random;

  const handlers = new Map<string, DeliveryHandler>();
  const deliveries = new Map<string, PendingDelivery>();
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  /** kind → key → counters (cumulative; pending figures are computed). */
  const counters = new Map<string, Map<string, DeliveryCounters>>();
  const idleWaiters: Array<() => void> = [];
  const unknownKinds = new Set<string>();
  let started = false;
  let closed = false;

  const countersOf = (kind: string, key: string): DeliveryCounters => {
    let byKey = counters.get(kind);
    if (byKey === undefined) {
      byKey = new Map();
      counters.set(kind, byKey);
    }
    let c = byKey.get(key);
    if (c === undefined) {
      c = emptyCounters();
      byKey.set(key, c);
    }
    return c;
  };

  // --- Journal: written on change, one write at a time, the latest state last ---------------------
  let dirty = false;
  let saving: Promise<void> | undefined;
  const save = (): Promise<void> => {
    // Before start the journal's content is not loaded yet: writing now would overwrite it.
    if (!started) return Promise.resolve();
    dirty = true;
    if (saving !== undefined) return saving;
    saving = (async () => {
      while (dirty) {
        dirty = false;
        try {
          await journal.save([...deliveries.values()]);
        } catch (error) {
          log(`delivery: could not write the journal: ${errorOf(error).message}`);
        }
      }
    })().finally(() => {
      saving = undefined;
    });
    return saving;
  };

  // --- Scheduling ----------------------------------------------------------------------------------
  const schedule = (delivery: PendingDelivery): void => {
    if (!started || closed || running.has(delivery.id)) return;
    const handler = handlers.get(delivery.kind);
    if (handler === undefined) {
      if (!unknownKinds.has(delivery.kind)) {
        unknownKinds.add(delivery.kind);
        log(`delivery: no handler for ${delivery.kind} deliveries; they stay pending`);
      }
      return;
    }
    clearTimeout(timers.get(delivery.id));
    const wait = Math.max(0, delivery.nextAt - Date.now());
    timers.set(
      delivery.id,
      setTimeout(() => {
        timers.delete(delivery.id);
        const run = step(delivery, handler).catch((error: unknown) =>
          log(`delivery: ${delivery.kind} ${delivery.id} failed unexpectedly: ${errorOf(error).message}`),
        );
        inFlight.add(run);
        void run.finally(() => inFlight.delete(run));
      }, wait),
    );
  };

  const settle = (delivery: PendingDelivery, outcome: 'delivered' | 'deadLettered' | 'dropped') => {
    deliveries.delete(delivery.id);
    countersOf(delivery.kind, delivery.key)[outcome]++;
    void save();
    if (deliveries.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  };

  /** Marks a delivery exhausted: from now on only its dead-letter send is attempted. */
  const exhaust = (delivery: PendingDelivery, condition: ExhaustedCondition) => {
    delivery.exhausted = condition;
    delivery.nextAt = Date.now();
  };

  const ageLimit = (delivery: PendingDelivery) =>
    delivery.acceptedAt + delivery.policy.maximumEventAgeSeconds * 1000;

  /** One attempt (or one dead-letter send), then the next step is scheduled. */
  const step = async (delivery: PendingDelivery, handler: DeliveryHandler): Promise<void> => {
    running.add(delivery.id);
    try {
      if (delivery.exhausted === undefined && Date.now() > ageLimit(delivery)) {
        exhaust(delivery, 'MaximumEventAgeExceeded');
      }
      if (delivery.exhausted === undefined) {
        const outcome = await handler
          .attempt(delivery)
          .catch((error: unknown): AttemptOutcome => ({ status: 'failed', ...errorOf(error) }));
        const now = Date.now();
        if (outcome.status === 'delivered') {
          settle(delivery, 'delivered');
          return;
        }
        const { code, message, detail } = outcome;
        delivery.lastError = { code, message, ...(detail !== undefined ? { detail } : {}) };
        if (outcome.status === 'throttled') {
          delivery.throttles++;
          countersOf(delivery.kind, delivery.key).throttled++;
          delivery.nextAt = now + backoffDelay(throttleBackoff, delivery.throttles, random);
          if (delivery.nextAt > ageLimit(delivery)) exhaust(delivery, 'MaximumEventAgeExceeded');
        } else {
          delivery.attempts++;
          const retry = delivery.attempts; // the retry that would come next
          delivery.nextAt = now + backoffDelay(delivery.policy.backoff ?? backoff, retry, random);
          if (outcome.retriable === false) exhaust(delivery, 'NotRetriable');
          else if (retry > delivery.policy.maximumRetryAttempts)
            exhaust(delivery, 'MaximumRetryAttemptsExhausted');
          else if (delivery.nextAt > ageLimit(delivery)) exhaust(delivery, 'MaximumEventAgeExceeded');
          else countersOf(delivery.kind, delivery.key).retried++;
        }
        void save();
        if (delivery.exhausted === undefined) return;
      }
      // Retries are over: the dead-letter destination, or a logged drop when there is none.
      try {
        const result = await handler.deadLetter(delivery);
        settle(delivery, result === 'dead-lettered' ? 'deadLettered' : 'dropped');
      } catch (error) {
        delivery.deadLetterAttempts = (delivery.deadLetterAttempts ?? 0) + 1;
        delivery.nextAt = Date.now() + backoffDelay(deadLetterBackoff, delivery.deadLetterAttempts, random);
        log(
          `delivery: dead-letter send of ${delivery.kind} ${delivery.key} failed (${delivery.deadLetterAttempts}), trying again: ${errorOf(error).message}`,
        );
        void save();
      }
    } finally {
      running.delete(delivery.id);
      if (deliveries.has(delivery.id)) schedule(delivery);
    }
  };

  return {
    register(kind, handler) {
      handlers.set(kind, handler);
      unknownKinds.delete(kind);
      for (const delivery of deliveries.values()) if (delivery.kind === kind) schedule(delivery);
    },
    accept(kind, key, payload, policy) {
      const now = Date.now();
      const delivery: PendingDelivery = {
        id: randomUUID(),
        kind,
        key,
        payload,
        policy,
        acceptedAt: now,
        attempts: 0,
        throttles: 0,
        nextAt: now,
      };
      deliveries.set(delivery.id, delivery);
      countersOf(kind, key).accepted++;
      void save();
      schedule(delivery);
      return delivery.id;
    },
    async start() {
      if (started) return;
      for (const delivery of await journal.load()) {
        if (deliveries.has(delivery.id)) continue;
        deliveries.set(delivery.id, delivery);
        countersOf(delivery.kind, delivery.key);
      }
      if (deliveries.size > 0) log(`delivery: resuming ${deliveries.size} pending deliveries`);
      started = true;
      if (deliveries.size > 0) void save();
      for (const delivery of deliveries.values()) schedule(delivery);
    },
    stats(kind) {
      const out: Record<string, DeliveryCounters> = {};
      for (const [key, c] of counters.get(kind) ?? [])
        out[key] = { ...c, pending: 0, queued: 0, retrying: 0 };
      for (const d of deliveries.values()) {
        if (d.kind !== kind) continue;
        const c = out[d.key] ?? emptyCounters();
        out[d.key] = c;
        c.pending++;
        if (d.attempts === 0 && d.exhausted === undefined) c.queued++;
        else c.retrying++;
      }
      return out;
    },
    pending: () => [...deliveries.values()],
    idle: () =>
      deliveries.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    async close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await save();
      if (deliveries.size > 0) {
        log(
          started
            ? `delivery: ${deliveries.size} pending deliveries kept in the ${journal.description}`
            : `delivery: ${deliveries.size} deliveries accepted before the engine started are not kept`,
        );
      }
    },
  };
}
