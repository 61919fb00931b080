/**
 * The local runtime: runs a synthesized CDK stack (a `cdk.out` cloud assembly) on this machine, with
 * the same Lambda bundles that would deploy, on real local services and without Docker or an AWS
 * account.
 *
 * From the template it builds:
 * - **DynamoDB** tables (keys, GSIs, TTL) on DynamoDB Local (started here, or an endpoint given);
 * - **SQS** queues on local-aws-sqs with their visibility timeouts and redrive policies;
 * - the **EventBridge** buses, rules (patterns and schedules) and targets on the project's endpoint:
 *   queue targets get `SendMessage`, function targets an asynchronous invocation; scheduled rules
 *   fire on their `rate()`/`cron()` expressions;
 * - the **Scheduler** schedule groups on the project's endpoint, whose schedules invoke functions
 *   asynchronously and send what still fails after the retry policy to the target's DLQ;
 * - the **KMS** keys on the project's endpoint (`kms-server.ts`: HMAC keys answer GenerateMac and
 *   VerifyMac; key material random per start, in memory only);
 * - every **Lambda function** with a bundle, its environment resolved from the template plus the
 *   `AWS_ENDPOINT_URL_*` variables of the local endpoints; asynchronous invocations honour the
 *   function's `EventInvokeConfig` (retries, on-failure destination on SQS) like Lambda does;
 * - the **event source mappings** (SQS → function: batch size, batching window, partial batch
 *   responses; failed records return after the visibility timeout and reach the DLQ by redrive);
 * - the **HTTP API** routes (payload format 2.0), JWT routes checked against the local issuer.
 *
 * With `enforceIam` (default on) each function signs its AWS calls with its own local access key and
 * reaches every endpoint through an authorizing proxy that evaluates the function's role policies from
 * the template, answering `AccessDeniedException` as AWS would (`iam-proxy.ts`); `PutEvents` is decided
 * by the EventBridge endpoint per entry, for every caller (functions and outside producers alike),
 * against the function's role and the template's bus policy (`bus-policy.ts`).
 *
 * Known gaps are listed in the README ("Local runtime").
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  createTableFromTemplate,
  type DynamoDbLocalInstance,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  type TemplateTableProperties,
  tablePartitionKeys,
} from './dynamodb-local';
import type {
  AcceptedEvent,
  EventBridgeServer,
  EventBridgeServerOptions,
  EventTarget,
} from './eventbridge-server';
import { createFaults, type Faults } from './faults';
import type { HttpApi } from './http-api';
import { createLocalIssuer, type LocalIssuer } from './jwt';
import { type KmsServer, startKmsServer } from './kms-server';
import { createAsyncInvoker, errorText } from './runtime/async-invoke';
import { startLocalEventBus } from './runtime/event-bus';
import {
  closeFunctions,
  FUNCTION_TYPE,
  type LocalFunction,
  loadFunctions,
  startEventSourceMappings,
} from './runtime/functions';
import { startLocalHttpApi } from './runtime/http-routes';
import { type Denial, type ServiceEndpoints, startLocalIam } from './runtime/iam';
import { type LocalQueue, startLocalQueues } from './runtime/queues';
import { startLocalScheduler } from './runtime/scheduler';
import type { SchedulerServer } from './scheduler-server';
import {
  type CfnResource,
  LOCAL_ACCOUNT_ID,
  type LoadedStack,
  loadStack,
  resourcesOfType,
  TemplateResolver,
} from './template';

export type { LocalFunction } from './runtime/functions';
export { accessKeyOf, type Denial } from './runtime/iam';
export type { LocalQueue } from './runtime/queues';

export interface StartLocalRuntimeOptions {
  /** The cloud assembly (`cdk.out`) to run. */
  assemblyDir: string;
  /** The stack to run when the assembly holds several. */
  stackName?: string;
  /** A running DynamoDB Local to use instead of starting one (tests share one). */
  dynamoDbEndpoint?: string;
  /** Appended to table names, so several runtimes can share one DynamoDB Local. */
  tableNameSuffix?: string;
  /** Fixed ports (0 or absent: a free port). */
  ports?: {
    httpApi?: number;
    eventBridge?: number;
    scheduler?: number;
    sqs?: number;
    dynamodb?: number;
    kms?: number;
  };
  /** Check every AWS call of a function against its role in the template (default true). */
  enforceIam?: boolean;
  /** The issuer the JWT routes trust (default: the key in `.local/jwt-key.json`). */
  issuer?: LocalIssuer;
  /** Variables added to every function's environment (log levels, metrics switches). */
  functionEnv?: Record<string, string>;
  /**
   * Instances a function may run at once when its template sets no `ReservedConcurrentExecutions`
   * (the stand-in for the account's unreserved concurrency). @default 32 (`DEFAULT_LOCAL_CONCURRENCY`)
   */
  defaultConcurrency?: number;
  /** Period of the Scheduler's firing engine and of scheduled rules, in ms. @default 250 */
  tickMs?: number;
  /** Delay before each retry of a failed asynchronous invocation (Lambda waits minutes). @default 1000 */
  asyncRetryDelayMs?: number;
  /** Where the runtime reports what goes wrong (failed invocations, deliveries). @default console.warn */
  log?: (message: string) => void;
  /**
   * Faults to inject (`faults.ts`); the runtime consults it where AWS can fail. @default a controller
   * with no profile (no fault), reachable as `runtime.faults` to set one later.
   */
  faults?: Faults;
  /**
   * Where the runtime keeps its state across restarts (DynamoDB Local's files, queues, schedules,
   * pending deliveries). Absent: everything is in memory and lost at `close()` (tests).
   */
  stateDir?: string;
}

export interface LocalEndpoints {
  httpApi: string;
  eventBridge: string;
  scheduler: string;
  sqs: string;
  dynamodb: string;
  /** The local KMS endpoint and its keys (logical id → key ARN), e.g. the service key. */
  kms: string;
  kmsKeys: Record<string, string>;
  region: string;
  eventBusName: string;
  eventBusNames: string[];
  tables: Record<string, string>;
  queues: Record<string, string>;
  scheduleGroups: string[];
  tokenCommand: string;
}

export interface LocalRuntime {
  readonly stack: LoadedStack;
  readonly endpoints: LocalEndpoints;
  readonly events: EventBridgeServer;
  readonly scheduler: SchedulerServer;
  readonly kms: KmsServer;
  readonly issuer: LocalIssuer;
  /** The fault controller every part consults (set a profile on it to inject faults). */
  readonly faults: Faults;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly queues: ReadonlyMap<string, LocalQueue>;
  /** The function whose logical id starts with `prefix` (e.g. `SlaTimerFunction`). */
  functionNamed(prefix: string): LocalFunction;
  /** The queue whose logical id starts with `prefix` (e.g. `IntakeInboundDeadLetterQueue`). */
  queueNamed(prefix: string): LocalQueue;
  /** Calls `listener` with every event a bus accepts from now on; returns the unsubscribe function. */
  onEvent(listener: (accepted: AcceptedEvent) => void): () => void;
  /** The AWS calls refused so far for lack of a permission in the function's role (IAM checks on). */
  denials(): readonly Denial[];
  /** Endpoints the functions call (the authorizing proxies when IAM checks are on). */
  readonly functionEndpoints: ServiceEndpoints;
  /** Process ids of the child processes it started (DynamoDB Local's Java process). */
  readonly childPids: readonly number[];
  /** A client for the local SQS server. */
  readonly sqs: SQSClient;
  /** Fires a scheduled rule now (its logical id prefix), as if its expression had come due. */
  fireScheduledRule(prefix: string): Promise<void>;
  /** Invokes a function asynchronously as Lambda would (retries, on-failure destination). */
  invokeAsync(functionArn: string, event: unknown): Promise<void>;
  /** Stops everything it started; resolves when all of it has stopped. */
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

export async function startLocalRuntime(options: StartLocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? ((message: string) => console.warn(message));
  const stack = loadStack(options.assemblyDir, options.stackName);
  const { template } = stack;
  const resolver = new TemplateResolver(stack, LOCAL_REGION, LOCAL_ACCOUNT_ID);
  const tickMs = options.tickMs ?? 250;
  const retryDelayMs = options.asyncRetryDelayMs ?? 1000;
  const faults = options.faults ?? createFaults();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((error: unknown) =>
        log(`local runtime: shutdown step failed: ${errorText(error)}`),
      );
    }
  };

  try {
    // --- DynamoDB ---------------------------------------------------------------------------------
    let dynamodbEndpoint = options.dynamoDbEndpoint;
    const childPids: number[] = [];
    if (dynamodbEndpoint === undefined) {
      const instance: DynamoDbLocalInstance = await startDynamoDbLocal({
        port: options.ports?.dynamodb ?? 0,
      });
      closers.push(() => instance.stop());
      dynamodbEndpoint = instance.endpoint;
      childPids.push(instance.pid);
    }
    const dynamodb = new DynamoDBClient({
      endpoint: dynamodbEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    closers.push(async () => dynamodb.destroy());
    const tables: Record<string, string> = {};
    /** Table name → partition key of the table ('') and of each index, for `dynamodb:LeadingKeys`. */
    const partitionKeys = new Map<string, Map<string, string>>();
    for (const [id, resource] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      const name = `${resolver.physicalName(id, 255 - (options.tableNameSuffix?.length ?? 0))}${options.tableNameSuffix ?? ''}`;
      await createTableFromTemplate(
        dynamodb,
        name,
        resolver.resolve(resource.Properties) as TemplateTableProperties,
      );
      resolver.set(id, name, {
        Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}`,
        StreamArn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}/stream/local`,
      });
      tables[id] = name;
      partitionKeys.set(
        name,
        tablePartitionKeys(resolver.resolve(resource.Properties) as TemplateTableProperties),
      );
    }

    // --- KMS: the template's keys (ids from the resolver, so ARNs stay stable across restarts) -----
    const kms = await startKmsServer({
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      port: options.ports?.kms ?? 0,
      log,
    });
    closers.push(() => kms.close());
    const kmsKeys: Record<string, string> = {};
    for (const [id, resource] of resourcesOfType(template, 'AWS::KMS::Key')) {
      const p = resolver.resolve(resource.Properties ?? {}) as Props;
      const key = kms.addKey({
        keyId: resolver.ref(id),
        keySpec: p.KeySpec ?? 'SYMMETRIC_DEFAULT',
        keyUsage: p.KeyUsage ?? 'ENCRYPT_DECRYPT',
        ...(p.Description !== undefined ? { description: String(p.Description) } : {}),
        ...(p.Enabled === false ? { enabled: false } : {}),
      });
      kmsKeys[id] = key.arn;
    }

    // --- SQS --------------------------------------------------------------------------------------
    const local = await startLocalQueues({ template, resolver, port: options.ports?.sqs ?? 0 });
    closers.push(() => local.close());
    const { queues, sqs, sendToQueue } = local;
    const sqsEndpoint = local.endpoint;

    // --- Names of the rest, so environment variables resolve before anything runs ----------------
    for (const [id] of resourcesOfType(template, FUNCTION_TYPE)) resolver.ref(id);

    // --- Asynchronous invocation ------------------------------------------------------------------
    const functions = new Map<string, LocalFunction>();
    const functionByArn = new Map<string, LocalFunction>();
    // Instances end after everything that invokes them has stopped (closers run in reverse order).
    closers.push(() => closeFunctions(functions));
    const asyncInvoker = createAsyncInvoker({
      template,
      resolver,
      functionByArn,
      sendToQueue,
      retryDelayMs,
      log,
    });
    closers.push(() => asyncInvoker.close());
    const { invokeAsync } = asyncInvoker;

    // --- EventBridge ------------------------------------------------------------------------------
    // Set with the IAM checks below: the endpoint authorizes PutEvents per entry (bus-policy.ts).
    let authorizePutEvents: EventBridgeServerOptions['authorizePutEvents'];
    const bus = await startLocalEventBus({
      template,
      resolver,
      port: options.ports?.eventBridge ?? 0,
      tickMs,
      log,
      authorizePutEvents: () => authorizePutEvents,
      deliver: (target, body) => deliverToTarget(target, body),
    });
    closers.push(() => bus.close());
    const events = bus.server;
    async function deliverToTarget(target: EventTarget, body: string): Promise<void> {
      if (target.arn.startsWith('arn:aws:sqs:')) return sendToQueue(target.arn, body);
      if (target.arn.startsWith('arn:aws:lambda:')) return invokeAsync(target.arn, JSON.parse(body));
      throw new Error(`The local runtime cannot deliver to ${target.arn}`);
    }

    // --- Scheduler --------------------------------------------------------------------------------
    const { server: scheduler, groups: scheduleGroups } = await startLocalScheduler({
      template,
      resolver,
      port: options.ports?.scheduler ?? 0,
      tickMs,
      log,
      sendToQueue,
      invokeAsync,
    });
    closers.push(() => scheduler.close());

    // --- IAM: each function signs with its own key and calls through an authorizing proxy ----------
    const upstream: ServiceEndpoints = {
      dynamodb: dynamodbEndpoint,
      sqs: sqsEndpoint,
      eventBridge: events.endpoint,
      scheduler: scheduler.endpoint,
      kms: kms.endpoint,
    };
    let localEndpoints = upstream;
    const denials: Denial[] = [];
    const enforceIam = options.enforceIam ?? true;
    if (enforceIam) {
      const iam = await startLocalIam({
        template,
        resolver,
        upstream,
        queues: queues.values(),
        partitionKeys,
        denials,
        log,
      });
      closers.push(() => iam.close());
      authorizePutEvents = iam.authorizePutEvents;
      localEndpoints = iam.endpoints;
    }

    // --- Lambda functions and event source mappings -----------------------------------------------
    await loadFunctions({
      stack,
      resolver,
      endpoints: localEndpoints,
      enforceIam,
      ...(options.functionEnv ? { functionEnv: options.functionEnv } : {}),
      ...(options.defaultConcurrency !== undefined ? { defaultConcurrency: options.defaultConcurrency } : {}),
      faults,
      functions,
      byArn: functionByArn,
      log,
    });
    const mappings = startEventSourceMappings({
      stack,
      resolver,
      sqs,
      queueByArn: local.byArn,
      functions,
      faults,
      log,
    });
    closers.push(async () => {
      await Promise.all(mappings.map((m) => m.stop()));
    });

    // --- HTTP API ---------------------------------------------------------------------------------
    const issuer = options.issuer ?? createLocalIssuer();
    const httpApi: HttpApi | undefined = await startLocalHttpApi({
      template,
      resolver,
      functionByArn,
      issuer,
      port: options.ports?.httpApi ?? 0,
      log,
    });
    if (httpApi !== undefined) closers.push(() => httpApi.close());

    const endpoints: LocalEndpoints = {
      httpApi: httpApi?.endpoint ?? '',
      eventBridge: events.endpoint,
      scheduler: scheduler.endpoint,
      sqs: sqsEndpoint,
      dynamodb: dynamodbEndpoint,
      kms: kms.endpoint,
      kmsKeys,
      region: LOCAL_REGION,
      eventBusName: bus.busNames[0] ?? 'default',
      eventBusNames: bus.busNames,
      tables,
      queues: Object.fromEntries([...queues.values()].map((q) => [q.logicalId, q.url])),
      scheduleGroups,
      tokenCommand: 'npm run token -- --role agent --department billing',
    };
    const byPrefix = <T>(map: ReadonlyMap<string, T>, prefix: string, what: string): T => {
      const found = [...map.entries()].filter(([id]) => id.startsWith(prefix));
      if (found.length !== 1) throw new Error(`${found.length} ${what}s start with ${prefix}`);
      return (found[0] as [string, T])[1];
    };
    return {
      stack,
      endpoints,
      events,
      scheduler,
      kms,
      issuer,
      faults,
      functions,
      queues,
      sqs,
      childPids,
      denials: () => denials,
      functionEndpoints: localEndpoints,
      onEvent: bus.onEvent,
      functionNamed: (prefix) => byPrefix(functions, prefix, 'function'),
      queueNamed: (prefix) => byPrefix(queues, prefix, 'queue'),
      fireScheduledRule: bus.fireScheduledRule,
      invokeAsync,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type { CfnResource };
