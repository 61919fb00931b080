/**
 * The template's Lambda functions with a bundle, each with its environment resolved for the local run
 * (the `AWS_ENDPOINT_URL_*` variables of the endpoints it may call, its own access key), and the
 * template's SQS event source mappings feeding them.
 */
import { availableParallelism } from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import { type SqsEventSource, startSqsEventSource } from '../event-source-mapping';
import type { Faults } from '../faults';
import { DEFAULT_LAMBDA_RUNTIME, ensureNodeBinary, nodeMajorOf } from '../lambda/node-runtime';
import { DEFAULT_LOCAL_CONCURRENCY, type LocalLambda, loadLambda } from '../lambda-runner';
import { type LoadedStack, resourcesOfType, type TemplateResolver } from '../template';
import { unqualified } from './async-invoke';
import { accessKeyOf, type ServiceEndpoints } from './iam';
import type { LocalQueue } from './queues';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

export const FUNCTION_TYPE = 'AWS::Lambda::Function';

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  lambda: LocalLambda;
}

/**
 * Loads every function with a bundle into `functions` (logical id) and `byArn`, each with its template's
 * runtime, timeout, memory size and reserved concurrency (else `defaultConcurrency`), fetches the Node.js
 * binaries they run on, and cold-starts one instance of each (reporting bundles that fail to load).
 */
export async function loadFunctions(options: {
  stack: LoadedStack;
  resolver: TemplateResolver;
  endpoints: ServiceEndpoints;
  enforceIam: boolean;
  functionEnv?: Record<string, string>;
  /** Concurrency of functions without `ReservedConcurrentExecutions`. @default DEFAULT_LOCAL_CONCURRENCY */
  defaultConcurrency?: number;
  /** Asked at each invocation for a crash or timeout to inject. */
  faults?: Faults;
  functions: Map<string, LocalFunction>;
  byArn: Map<string, LocalFunction>;
  log: (message: string) => void;
}): Promise<void> {
  const { stack, resolver, endpoints, faults } = options;
  const runtimes = new Set<string>();
  for (const [id, resource] of resourcesOfType(stack.template, FUNCTION_TYPE)) {
    const bundleDir = stack.assetDir(id);
    const p = resource.Properties ?? {};
    // Functions without a bundle (CDK's own custom-resource providers with inline code) do not run locally.
    if (bundleDir === undefined || p.Code?.ZipFile !== undefined) continue;
    const name = resolver.ref(id);
    const variables = resolver.resolve(p.Environment?.Variables ?? {}) as Record<string, unknown>;
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: options.enforceIam ? accessKeyOf(id) : LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
      AWS_ENDPOINT_URL_SCHEDULER: endpoints.scheduler,
      AWS_ENDPOINT_URL_KMS: endpoints.kms,
      // No X-Ray daemon here.
      POWERTOOLS_TRACE_ENABLED: 'false',
      // DynamoDB Local answers in milliseconds when idle, but on a small machine under load (cold
      // starts, Java sharing the cores) a call can take seconds: the SDK's 3 s default would abort
      // and retry healthy calls. A frozen dependency still fails well before a function's timeout.
      AWS_SDK_REQUEST_TIMEOUT_MS: '8000',
      ...options.functionEnv,
    };
    const runtime = String(p.Runtime ?? DEFAULT_LAMBDA_RUNTIME);
    runtimes.add(runtime);
    const lambda = loadLambda({
      name,
      bundleDir,
      handler: String(p.Handler ?? 'index.handler'),
      env,
      timeoutSeconds: Number(p.Timeout ?? 3),
      memoryMb: Number(p.MemorySize ?? 128),
      runtime,
      concurrency:
        p.ReservedConcurrentExecutions !== undefined
          ? Number(p.ReservedConcurrentExecutions)
          : (options.defaultConcurrency ?? DEFAULT_LOCAL_CONCURRENCY),
      ...(faults !== undefined ? { fault: () => faults.functionFault(id) } : {}),
    });
    const fn: LocalFunction = { logicalId: id, name, arn: resolver.getAtt(id, 'Arn'), lambda };
    options.functions.set(id, fn);
    options.byArn.set(fn.arn, fn);
  }
  // Fetched once here (a clear error if it cannot be), rather than at the first cold start.
  for (const runtime of runtimes) await ensureNodeBinary(nodeMajorOf(runtime));
  await Promise.all(
    [...options.functions.values()].map(async (fn) => {
      const error = await fn.lambda.init();
      if (error !== undefined)
        options.log(
          `local runtime: ${fn.logicalId} does not start: ${error.errorType}: ${error.errorMessage}`,
        );
    }),
  );
}

/** Kills every function's instances. */
export async function closeFunctions(functions: ReadonlyMap<string, LocalFunction>): Promise<void> {
  await Promise.all([...functions.values()].map((fn) => fn.lambda.close()));
}

/**
 * Batches one event source mapping keeps in flight at most, unless told otherwise: as many as the
 * machine has cores (at least 2). On AWS an SQS mapping scales to hundreds of concurrent batches
 * against a store that scales with it; here every batch is a function process and every record's
 * writes go to one DynamoDB Local on the same cores. Measured on 2 cores (`npm run bench`, 300
 * complaints at 16 in flight, default policy): up to the function's concurrency (32), a burst started a
 * storm of cold starts, starved DynamoDB Local and batches timed out, to come back a visibility timeout
 * (a minute) later: 1.5 complaints/s; 4 pollers: 3.6–4.4/s with a one-minute tail; 2 pollers: 9.5/s,
 * no batch out of time.
 */
export const DEFAULT_LOCAL_MAX_POLLERS = Math.max(2, availableParallelism());

/**
 * Starts the template's enabled SQS → function event source mappings, each scaling its pollers up to
 * the function's concurrency, the mapping's `ScalingConfig.MaximumConcurrency` or `maxPollers`
 * (the local cap, {@link DEFAULT_LOCAL_MAX_POLLERS}), whichever is lowest.
 */
/**
 * Short-poll interval of a mapping whose pollers are woken by arrivals: a message that became visible
 * again after its visibility timeout is seen this late at most (Lambda's long polls see it at once).
 */
export const SIGNALLED_POLL_INTERVAL_MS = 250;

export function startEventSourceMappings(options: {
  stack: LoadedStack;
  resolver: TemplateResolver;
  sqs: SQSClient;
  queueByArn: ReadonlyMap<string, LocalQueue>;
  /** The SQS server's arrival signals (`LocalQueues.onArrival`): pollers wake at once, as long polls do. */
  onArrival?: (queueName: string, listener: () => void) => () => void;
  functions: ReadonlyMap<string, LocalFunction>;
  /** Asked per batch whether to deliver it twice. */
  faults?: Faults;
  /** Batches one mapping keeps in flight at most. @default DEFAULT_LOCAL_MAX_POLLERS */
  maxPollers?: number;
  log: (message: string) => void;
}): SqsEventSource[] {
  const { faults, onArrival } = options;
  const mappings: SqsEventSource[] = [];
  for (const [id, resource] of resourcesOfType(options.stack.template, 'AWS::Lambda::EventSourceMapping')) {
    const p = options.resolver.resolve(resource.Properties) as Props;
    if (p.Enabled === false) continue;
    const queue = options.queueByArn.get(String(p.EventSourceArn));
    const fn = functionNamed(options.functions, String(p.FunctionName));
    if (queue === undefined || fn === undefined) {
      options.log(`local runtime: event source mapping ${id} skipped (only SQS → function is supported)`);
      continue;
    }
    mappings.push(
      startSqsEventSource({
        sqs: options.sqs,
        queueUrl: queue.url,
        batchSize: Number(p.BatchSize ?? 10),
        maxBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
        reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        lambda: fn.lambda,
        maxPollers: Math.min(
          fn.lambda.concurrency,
          Number(p.ScalingConfig?.MaximumConcurrency ?? Infinity),
          options.maxPollers ?? DEFAULT_LOCAL_MAX_POLLERS,
        ),
        ...(faults !== undefined ? { duplicate: () => faults.duplicate('sqs') } : {}),
        ...(onArrival !== undefined
          ? {
              arrivals: (listener: () => void) => onArrival(queue.name, listener),
              // Arrivals wake the pollers; the interval only bounds messages that become visible by themselves.
              pollIntervalMs: SIGNALLED_POLL_INTERVAL_MS,
            }
          : {}),
        log: options.log,
      }),
    );
  }
  return mappings;
}

function functionNamed(
  functions: ReadonlyMap<string, LocalFunction>,
  nameOrArn: string,
): LocalFunction | undefined {
  const name = unqualified(nameOrArn).split(':').at(-1);
  return [...functions.values()].find((f) => f.name === name);
}
