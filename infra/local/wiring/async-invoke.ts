/**
 * Lambda's asynchronous invocation, as EventBridge, Scheduler and `InvocationType: Event` use it: the
 * call is accepted at once into the function's async queue (the runtime's delivery engine, journaled
 * with the state directory) and runs in the background. Per the function's `EventInvokeConfig`
 * (defaults: 2 retries, 6 hours):
 * - a function error is retried with backoff up to `MaximumRetryAttempts`, within
 *   `MaximumEventAgeInSeconds`;
 * - a throttle (the runner answers `TooManyRequestsException` when the function is at its concurrency
 *   limit) is not a failed attempt: the event waits in the queue and is tried again, for as long as
 *   its maximum event age allows, as Lambda keeps throttled events;
 * - what still fails goes to the on-failure destination (an SQS queue) with Lambda's invocation record
 *   (`condition` `RetriesExhausted` or `EventAgeExceeded`); without one it is dropped, logged and
 *   counted, as Lambda drops it.
 * The fault profile may deliver an invocation twice (`faults.duplicate('async')`).
 */
import { randomUUID } from 'node:crypto';
import type { AttemptOutcome, Backoff, DeliveryEngine, RetryPolicy } from '../delivery/engine';
import type { Faults } from '../faults';
import type { LocalLambda } from '../lambda-runner';
import { resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import type { SendToQueue } from './queues';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

/** The engine kind of asynchronous invocations. */
export const ASYNC_INVOKE_KIND = 'async';

/** Lambda's answer when a function is at its concurrency limit: a throttle, not a failure. */
export const THROTTLE_ERROR_TYPE = 'TooManyRequestsException';

export interface AsyncTarget {
  logicalId: string;
  name: string;
  arn: string;
  lambda: Pick<LocalLambda, 'name' | 'functionArn' | 'init' | 'invoke'>;
}

export interface AsyncInvoker {
  /** Invokes a function asynchronously as Lambda would (retries, throttles, on-failure destination). */
  invokeAsync(functionArn: string, event: unknown): Promise<void>;
}

/** Asynchronous invocations of one function (see `deliveries.ts`). */
export interface AsyncInvocationStats {
  /** Waiting for a first attempt, or throttled before one (now). */
  queued: number;
  /** Waiting for a retry after a function error, or for the on-failure send (now). */
  retrying: number;
  /** Throttled attempts so far. */
  throttled: number;
  /** Sent to the on-failure destination so far. */
  deadLettered: number;
  delivered: number;
  /** Exhausted without an on-failure destination (dropped, as Lambda does). */
  dropped: number;
}

export interface AsyncConfig {
  retries: number;
  maxAgeSeconds: number;
  onFailure?: string;
}

/** Lambda's defaults when a function has no `EventInvokeConfig`. */
export const DEFAULT_ASYNC_CONFIG: AsyncConfig = { retries: 2, maxAgeSeconds: 21_600 };

/** Function name → its `AWS::Lambda::EventInvokeConfig`. */
export function asyncConfigsFromTemplate(
  template: StackTemplate,
  resolver: TemplateResolver,
): Map<string, AsyncConfig> {
  const configs = new Map<string, AsyncConfig>();
  for (const [, resource] of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')) {
    const p = resolver.resolve(resource.Properties) as Props;
    configs.set(String(p.FunctionName), {
      retries: p.MaximumRetryAttempts ?? DEFAULT_ASYNC_CONFIG.retries,
      maxAgeSeconds: p.MaximumEventAgeInSeconds ?? DEFAULT_ASYNC_CONFIG.maxAgeSeconds,
      ...(p.DestinationConfig?.OnFailure?.Destination
        ? { onFailure: String(p.DestinationConfig.OnFailure.Destination) }
        : {}),
    });
  }
  return configs;
}

/** What the journal keeps of one asynchronous invocation. */
interface AsyncInvocation {
  functionArn: string;
  requestId: string;
  event: unknown;
}

/** The local stand-in for Lambda's asynchronous retry delays (about 1 and 2 minutes on AWS). */
export const ASYNC_RETRY_BACKOFF: Backoff = { firstDelayMs: 10_000, maxDelayMs: 20_000, jitter: 0.25 };

export function createAsyncInvoker(options: {
  /** Function name → its asynchronous invocation config (see {@link asyncConfigsFromTemplate}). */
  configs: ReadonlyMap<string, AsyncConfig>;
  /** Function ARN (unqualified) → function; may be filled in after the invoker is created. */
  functionByArn: ReadonlyMap<string, AsyncTarget>;
  sendToQueue: SendToQueue;
  delivery: DeliveryEngine;
  faults?: Pick<Faults, 'duplicate'>;
  /**
   * Backoff between a failed invocation and its retry. Lambda waits about one minute, then two;
   * locally 10 s, then 20 s: long enough to ride out a dependency outage of a few seconds (as the
   * minutes do on AWS), short enough for a demo. @default {@link ASYNC_RETRY_BACKOFF}
   */
  backoff?: Backoff;
  log: (message: string) => void;
}): AsyncInvoker {
  const { log, delivery } = options;
  const configOf = (fn: AsyncTarget): AsyncConfig => options.configs.get(fn.name) ?? DEFAULT_ASYNC_CONFIG;

  delivery.register(ASYNC_INVOKE_KIND, {
    async attempt(pending): Promise<AttemptOutcome> {
      const invocation = pending.payload as AsyncInvocation;
      const fn = options.functionByArn.get(unqualified(invocation.functionArn));
      if (fn === undefined) {
        return {
          status: 'failed',
          retriable: false,
          code: 'ResourceNotFoundException',
          message: `Function not found: ${invocation.functionArn}`,
        };
      }
      const result = await fn.lambda.invoke(invocation.event, {
        requestId: invocation.requestId,
        wait: true,
      });
      if (result.error === undefined) return { status: 'delivered' };
      const { errorType, errorMessage } = result.error;
      if (errorType === THROTTLE_ERROR_TYPE) {
        return { status: 'throttled', code: errorType, message: errorMessage };
      }
      log(
        `local runtime: ${fn.logicalId} failed (attempt ${pending.attempts + 1}): ${errorType}: ${errorMessage}`,
      );
      return { status: 'failed', code: errorType, message: errorMessage, detail: result.error };
    },
    async deadLetter(pending) {
      const invocation = pending.payload as AsyncInvocation;
      const fn = options.functionByArn.get(unqualified(invocation.functionArn));
      const onFailure = fn === undefined ? undefined : configOf(fn).onFailure;
      const what = `asynchronous invocation ${invocation.requestId} of ${fn?.logicalId ?? invocation.functionArn} after ${pending.attempts} attempt(s) and ${pending.throttles} throttle(s)`;
      if (onFailure === undefined) {
        log(`local runtime: dropped ${what}: no on-failure destination`);
        return 'dropped';
      }
      const functionError = pending.attempts > 0 && pending.lastError?.detail !== undefined;
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: invocation.requestId,
          functionArn: `${fn?.arn ?? invocation.functionArn}:$LATEST`,
          condition:
            pending.exhausted === 'MaximumEventAgeExceeded' ? 'EventAgeExceeded' : 'RetriesExhausted',
          approximateInvokeCount: pending.attempts,
        },
        requestPayload: invocation.event,
        ...(functionError
          ? {
              responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
              responsePayload: pending.lastError?.detail,
            }
          : {}),
      };
      await options.sendToQueue(onFailure, JSON.stringify(record));
      log(`local runtime: sent ${what} to its on-failure destination`);
      return 'dead-lettered';
    },
  });

  const invokeAsync = async (functionArn: string, event: unknown): Promise<void> => {
    const fn = options.functionByArn.get(unqualified(functionArn));
    if (fn === undefined) {
      throw Object.assign(new Error(`Function not found: ${functionArn}`), {
        name: 'ResourceNotFoundException',
        retriable: false,
      });
    }
    // Accepted (202): the invocation, its retries and throttles run in the background.
    const config = configOf(fn);
    const policy: RetryPolicy = {
      maximumRetryAttempts: config.retries,
      maximumEventAgeSeconds: config.maxAgeSeconds,
      backoff: options.backoff ?? ASYNC_RETRY_BACKOFF,
    };
    // A duplicate (fault profile) is the same invocation delivered twice: same request id.
    const invocation: AsyncInvocation = { functionArn: fn.arn, requestId: randomUUID(), event };
    const copies = options.faults?.duplicate('async') === true ? 2 : 1;
    for (let i = 0; i < copies; i++) delivery.accept(ASYNC_INVOKE_KIND, fn.logicalId, invocation, policy);
  };

  return { invokeAsync };
}

/** A function ARN without its version or alias qualifier. */
export function unqualified(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
