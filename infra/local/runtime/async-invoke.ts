/**
 * Lambda's asynchronous invocation, as EventBridge, Scheduler and `InvocationType: Event` use it: the
 * call is accepted at once, the function runs in the background, a failure is retried per the
 * function's `EventInvokeConfig` (`MaximumRetryAttempts`, default 2) and what still fails goes to its
 * on-failure destination (an SQS queue) with Lambda's invocation record.
 */
import { randomUUID } from 'node:crypto';
import type { InvokeResult, LocalLambda } from '../lambda-runner';
import { resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import type { SendToQueue } from './queues';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

export interface AsyncTarget {
  logicalId: string;
  name: string;
  arn: string;
  lambda: LocalLambda;
}

export interface AsyncInvoker {
  /** Invokes a function asynchronously as Lambda would (retries, on-failure destination). */
  invokeAsync(functionArn: string, event: unknown): Promise<void>;
  /** Stops retrying and waits for the invocations in flight. */
  close(): Promise<void>;
}

interface AsyncConfig {
  retries: number;
  maxAgeSeconds: number;
  onFailure?: string;
}

export function createAsyncInvoker(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  /** Function ARN (unqualified) → function; filled in after the invoker is created. */
  functionByArn: ReadonlyMap<string, AsyncTarget>;
  sendToQueue: SendToQueue;
  retryDelayMs: number;
  log: (message: string) => void;
}): AsyncInvoker {
  const { log } = options;
  const asyncConfig = new Map<string, AsyncConfig>();
  for (const [, resource] of resourcesOfType(options.template, 'AWS::Lambda::EventInvokeConfig')) {
    const p = options.resolver.resolve(resource.Properties) as Props;
    asyncConfig.set(String(p.FunctionName), {
      retries: p.MaximumRetryAttempts ?? 2,
      maxAgeSeconds: p.MaximumEventAgeInSeconds ?? 21_600,
      ...(p.DestinationConfig?.OnFailure?.Destination
        ? { onFailure: String(p.DestinationConfig.OnFailure.Destination) }
        : {}),
    });
  }
  const pending = new Set<Promise<void>>();
  let closing = false;

  const invokeAsync = async (functionArn: string, event: unknown): Promise<void> => {
    const fn = options.functionByArn.get(unqualified(functionArn));
    if (fn === undefined) {
      throw Object.assign(new Error(`Function not found: ${functionArn}`), {
        name: 'ResourceNotFoundException',
      });
    }
    // Accepted (202): the invocation and its retries run in the background.
    const run = (async () => {
      const config = asyncConfig.get(fn.name) ?? { retries: 2, maxAgeSeconds: 21_600 };
      const requestId = randomUUID();
      let last: InvokeResult = {};
      let attempts = 0;
      for (; attempts <= config.retries && !closing; attempts++) {
        if (attempts > 0) await sleep(options.retryDelayMs * attempts);
        last = await fn.lambda.invoke(event, { requestId });
        if (last.error === undefined) return;
        log(
          `local runtime: ${fn.logicalId} failed (attempt ${attempts + 1}): ${last.error.errorType}: ${last.error.errorMessage}`,
        );
      }
      if (config.onFailure === undefined || last.error === undefined) return;
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId,
          functionArn: `${fn.arn}:$LATEST`,
          condition: 'RetriesExhausted',
          approximateInvokeCount: attempts,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: last.error,
      };
      await options
        .sendToQueue(config.onFailure, JSON.stringify(record))
        .catch((error: unknown) =>
          log(`local runtime: on-failure destination of ${fn.logicalId} failed: ${errorText(error)}`),
        );
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  };

  return {
    invokeAsync,
    close: async () => {
      closing = true;
      await Promise.allSettled([...pending]);
    },
  };
}

/** A function ARN without its version or alias qualifier. */
export function unqualified(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
