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
 *   function's `EventInvokeConfig` (retries, event age, throttles, on-failure destination on SQS)
 *   like Lambda does;
 * - **deliveries** (rule targets, Scheduler SQS targets, asynchronous invocations) on one delivery
 *   engine (`runtime/deliveries.ts`): retried per their policies with backoff, then dead-lettered;
 *   pending ones are journaled to `<stateDir>/deliveries.json` and resume at the next start;
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
 * Faults (`faults.ts`) are injected where AWS can fail: the proxies answer dependency errors and drop
 * connections during outages; `runtime.faults` and `GET|PUT|DELETE /_local/faults` on the HTTP API's
 * port (`fault-control.ts`) set them on a running runtime (docs/faults.md).
 *
 * Known gaps are listed in the README ("Local runtime").
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Backoff } from './delivery/engine';
import { LOCAL_REGION } from './dynamodb-local';
import type { SqsEventSourceStats } from './event-source-mapping';
import type {
  AcceptedEvent,
  EventBridgeServer,
  EventBridgeServerOptions,
  EventTarget,
} from './eventbridge-server';
import { createFaultControl } from './fault-control';
import { createFaults, type Faults } from './faults';
import type { HttpApi } from './http-api';
import { createLocalIssuer, type LocalIssuer } from './jwt';
import { type KmsServer, startKmsServer } from './kms-server';
import { shadowTransactions } from './metering/transaction-shadow';
import type { UsageMeter } from './metering/usage-meter';
import type { SchedulerServer } from './scheduler-server';
import { functionStatus, type RuntimeStatus } from './status';
import { type DependencyStatus, RestartBudget } from './supervisor';
import {
  type CfnResource,
  LOCAL_ACCOUNT_ID,
  type LoadedStack,
  loadStack,
  resourcesOfType,
  TemplateResolver,
} from './template';
import {
  ASYNC_RETRY_BACKOFF,
  asyncConfigsFromTemplate,
  createAsyncInvoker,
  errorText,
} from './wiring/async-invoke';
import { createRuntimeDeliveries, type DeliveryStats } from './wiring/deliveries';
import { startLocalDynamoDb } from './wiring/dynamodb';
import { startLocalEventBus } from './wiring/event-bus';
import {
  closeFunctions,
  FUNCTION_TYPE,
  type LocalFunction,
  loadFunctions,
  startEventSourceMappings,
} from './wiring/functions';
import { startLocalHttpApi } from './wiring/http-routes';
import { type Denial, type ServiceEndpoints, startLocalIam } from './wiring/iam';
import { type LocalQueue, type SendToQueue, startLocalQueues } from './wiring/queues';
import { startLocalScheduler } from './wiring/scheduler';

export type { DeliveryStats } from './wiring/deliveries';
export type { LocalFunction } from './wiring/functions';
export { accessKeyOf, type Denial } from './wiring/iam';
export type { LocalQueue } from './wiring/queues';

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
  /**
   * Batches one SQS event source mapping keeps in flight at most (within the function's concurrency and
   * the mapping's `ScalingConfig.MaximumConcurrency`). @default the machine's cores, at least 2
   * (`DEFAULT_LOCAL_MAX_POLLERS`)
   */
  maxPollers?: number;
  /** Period of the Scheduler's firing engine and of scheduled rules, in ms. @default 250 */
  tickMs?: number;
  /**
   * Delay before the first retry of a failed delivery or asynchronous invocation (tests make it short).
   * @default 1000 for deliveries; 10,000 for asynchronous invocations (Lambda waits about a minute)
   */
  asyncRetryDelayMs?: number;
  /** Retry backoff of deliveries (doubling from `firstDelayMs` up to `maxDelayMs`). @default 1 s to 30 s */
  deliveryBackoff?: Partial<Backoff>;
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
  /** When a dependency that keeps dying is given up (fatal): more than `max` failures within `windowMs`. @default 3 in 60 s */
  restartBudget?: { max: number; windowMs: number };
  /** Counts billable usage as it happens (`metering/usage-meter.ts`, `npm run cost`). */
  meter?: UsageMeter;
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
  /** Endpoints the functions call (the authorizing, fault-injecting proxies). */
  readonly functionEndpoints: ServiceEndpoints;
  /** Process ids of the child processes it started (DynamoDB Local's Java process). */
  readonly childPids: readonly number[];
  /** A client for the local SQS server. */
  readonly sqs: SQSClient;
  /** Fires a scheduled rule now (its logical id prefix), as if its expression had come due. */
  fireScheduledRule(prefix: string): Promise<void>;
  /** Invokes a function asynchronously as Lambda would (retries, on-failure destination). */
  invokeAsync(functionArn: string, event: unknown): Promise<void>;
  /** Delivery figures: rule targets, Scheduler targets, asynchronous invocations per function. */
  deliveryStats(): DeliveryStats;
  /** Each SQS event source mapping's figures (polls, receives, invocations, deletes). */
  eventSourceStats(): SqsEventSourceStats[];
  /** The live status (functions, queues, pending schedules, dependencies, injected faults). */
  status(): RuntimeStatus;
  /** What this start found in the state directory (nothing when in memory or fresh). */
  readonly resumed: { tablesFound: number; messages: number; schedules: number };
  /**
   * Calls `listener` once if a dependency fails for good (it cannot be restarted); the runtime has
   * then stopped itself. Returns the unsubscribe function.
   */
  onFatal(listener: (reason: string) => void): () => void;
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
  const faults = options.faults ?? createFaults();
  const startedAt = Date.now();
  const closers: Array<() => Promise<void>> = [];
  const fatalListeners = new Set<(reason: string) => void>();
  let fatalReason: string | undefined;
  const onFatal = (reason: string) => {
    if (fatalReason !== undefined) return;
    fatalReason = reason;
    log(`local runtime: stopping: ${reason}`);
    void close().finally(() => {
      for (const listener of fatalListeners) listener(reason);
    });
  };
  const stateDir = options.stateDir;
  if (stateDir !== undefined) mkdirSync(stateDir, { recursive: true });
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((error: unknown) =>
        log(`local runtime: shutdown step failed: ${errorText(error)}`),
      );
    }
  };

  try {
    // --- DynamoDB (supervised; on disk with a state directory) ------------------------------------
    const childPids: number[] = [];
    const budget = options.restartBudget;
    const db = await startLocalDynamoDb({
      template,
      resolver,
      ...(options.dynamoDbEndpoint !== undefined ? { endpoint: options.dynamoDbEndpoint } : {}),
      port: options.ports?.dynamodb ?? 0,
      ...(options.tableNameSuffix !== undefined ? { tableNameSuffix: options.tableNameSuffix } : {}),
      ...(stateDir !== undefined ? { stateDir } : {}),
      childPids,
      ...(budget ? { restartBudget: new RestartBudget(budget.max, budget.windowMs) } : {}),
      log,
      onFatal,
    });
    closers.push(() => db.close());
    const { tables, partitionKeys } = db;
    const dynamodbEndpoint = db.endpoint;
    // Transactions billed by AWS's rules: replayed as plain writes on shadow tables.
    if (options.meter !== undefined) closers.push(shadowTransactions(options.meter, dynamodbEndpoint));

    // --- KMS: the template's keys (ids from the resolver, so ARNs stay stable across restarts) -----
    const kms = await startKmsServer({
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      port: options.ports?.kms ?? 0,
      log,
    });
    closers.push(() => kms.close());
    const kmsKeys: Record<string, string> = {};
    // Key material persists with the state (tracking tokens and idempotency fingerprints depend on it).
    const materials = stateDir === undefined ? undefined : loadKeyMaterials(join(stateDir, 'kms-keys.json'));
    for (const [id, resource] of resourcesOfType(template, 'AWS::KMS::Key')) {
      const p = resolver.resolve(resource.Properties ?? {}) as Props;
      const keyId = resolver.ref(id);
      const bits = /^HMAC_(\d+)$/.exec(String(p.KeySpec ?? ''))?.[1];
      if (materials !== undefined && bits !== undefined)
        materials.values[keyId] ??= randomBytes(Number(bits) / 8).toString('base64');
      const material = materials?.values[keyId];
      const key = kms.addKey({
        keyId,
        ...(material !== undefined ? { material: Buffer.from(material, 'base64') } : {}),
        keySpec: p.KeySpec ?? 'SYMMETRIC_DEFAULT',
        keyUsage: p.KeyUsage ?? 'ENCRYPT_DECRYPT',
        ...(p.Description !== undefined ? { description: String(p.Description) } : {}),
        ...(p.Enabled === false ? { enabled: false } : {}),
      });
      kmsKeys[id] = key.arn;
    }
    materials?.save();

    // --- SQS --------------------------------------------------------------------------------------
    const local = await startLocalQueues({
      template,
      resolver,
      port: options.ports?.sqs ?? 0,
      ...(stateDir !== undefined ? { stateDir: join(stateDir, 'sqs') } : {}),
      log,
      onFatal,
    });
    closers.push(() => local.close());
    const { queues, sqs } = local;
    // In-process deliveries (rule and Scheduler targets, on-failure destinations) fail while SQS is
    // in an outage, as they would with the server stopped.
    const { meter } = options;
    const sendToQueue: SendToQueue = async (arn, body, attributes) => {
      if (faults.isDown('sqs')) throw new Error(`SQS is unreachable (outage): cannot send to ${arn}`);
      await local.sendToQueue(arn, body, attributes);
      meter?.queueDelivery();
    };
    const sqsEndpoint = local.endpoint;

    // --- Names of the rest, so environment variables resolve before anything runs ----------------
    for (const [id] of resourcesOfType(template, FUNCTION_TYPE)) resolver.ref(id);

    // --- Deliveries and asynchronous invocation (started once everything they reach is up) ---------
    const deliveries = createRuntimeDeliveries({
      ...(options.stateDir !== undefined && { stateDir: options.stateDir }),
      backoff: {
        ...(options.asyncRetryDelayMs !== undefined && { firstDelayMs: options.asyncRetryDelayMs }),
        ...options.deliveryBackoff,
      },
      log,
    });
    const delivery = deliveries.engine;
    const functions = new Map<string, LocalFunction>();
    const functionByArn = new Map<string, LocalFunction>();
    // Instances end after everything that invokes them has stopped (closers run in reverse order).
    closers.push(() => closeFunctions(functions));
    const { invokeAsync } = createAsyncInvoker({
      configs: asyncConfigsFromTemplate(template, resolver),
      functionByArn,
      sendToQueue,
      delivery,
      faults,
      ...(options.asyncRetryDelayMs !== undefined && {
        backoff: {
          ...ASYNC_RETRY_BACKOFF,
          firstDelayMs: options.asyncRetryDelayMs,
          maxDelayMs: options.asyncRetryDelayMs * 2,
        },
      }),
      log,
    });

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
      sendToDeadLetter: (arn, body, attributes) => sendToQueue(arn, body, attributes),
      delivery,
      faults,
    });
    closers.push(() => bus.close());
    const events = bus.server;
    if (meter !== undefined) {
      const unsubscribe = bus.onEvent(({ event }) => meter.eventAccepted(event));
      closers.push(async () => unsubscribe());
    }
    async function deliverToTarget(target: EventTarget, body: string): Promise<void> {
      if (local.byArn.has(target.arn)) return sendToQueue(target.arn, body);
      if (target.arn.startsWith('arn:aws:lambda:')) return invokeAsync(target.arn, JSON.parse(body));
      // Retrying cannot help: the target goes to its DLQ at once (EventBridge's NO_RESOURCE).
      throw Object.assign(new Error(`The local runtime cannot deliver to ${target.arn}`), {
        retriable: false,
      });
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
      delivery,
      faults,
      ...(stateDir !== undefined ? { stateFile: join(stateDir, 'scheduler', 'journal.jsonl') } : {}),
      clockSkewMs: () => faults.clockSkewMs(),
    });
    closers.push(() => scheduler.close());
    const restoredSchedules = scheduler.stats().restored;

    // --- Outages on demand: DynamoDB Local frozen, the SQS and Scheduler listeners closed ----------
    const unsubscribeOutages = faults.onOutage((service, down) => {
      const act = async () => {
        if (service === 'dynamodb') {
          if (!down) db.thaw();
          else if (!db.freeze())
            log('local runtime: DynamoDB outage not applied: its endpoint was given, not started here');
        } else if (service === 'sqs') await (down ? local.suspend() : local.resume());
        else if (service === 'scheduler') await (down ? scheduler.suspend() : scheduler.resume());
        else
          log(
            `local runtime: outage of ${service}: its endpoint keeps listening (only injected errors apply)`,
          );
      };
      log(`local runtime: outage: ${service} ${down ? 'down' : 'back up'}`);
      act().catch((error: unknown) => log(`local runtime: outage of ${service}: ${errorText(error)}`));
    });
    closers.push(async () => unsubscribeOutages());

    // --- IAM: each function signs with its own key and calls through an authorizing proxy ----------
    const upstream: ServiceEndpoints = {
      dynamodb: dynamodbEndpoint,
      sqs: sqsEndpoint,
      eventBridge: events.endpoint,
      scheduler: scheduler.endpoint,
      kms: kms.endpoint,
    };
    const denials: Denial[] = [];
    const enforceIam = options.enforceIam ?? true;
    // The proxies run with IAM checks off too: they also inject the dependency faults.
    const iam = await startLocalIam({
      template,
      resolver,
      upstream,
      queues: queues.values(),
      partitionKeys,
      denials,
      log,
      enforce: enforceIam,
      faults,
      ...(meter !== undefined && { observerOf: (service) => meter.proxyObserver(service) }),
    });
    closers.push(() => iam.close());
    if (enforceIam) authorizePutEvents = iam.authorizePutEvents;
    const localEndpoints = iam.endpoints;

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
      onArrival: local.onArrival,
      functions,
      faults,
      ...(options.maxPollers !== undefined && { maxPollers: options.maxPollers }),
      log,
    });
    closers.push(async () => {
      await Promise.all(mappings.map((m) => m.stop()));
    });

    // Deliveries stop before what they reach (queues, functions) and after the HTTP API: in-flight
    // attempts finish, what is still pending stays in the journal for the next start.
    closers.push(() => delivery.close());

    // --- HTTP API ---------------------------------------------------------------------------------
    const issuer = options.issuer ?? createLocalIssuer();
    const httpApi: HttpApi | undefined = await startLocalHttpApi({
      template,
      resolver,
      functionByArn,
      issuer,
      port: options.ports?.httpApi ?? 0,
      log,
      ...(meter !== undefined && { onAdmitted: (_route: string, bytes: number) => meter.httpRequest(bytes) }),
    });
    if (httpApi !== undefined) closers.push(() => httpApi.close());
    await delivery.start();
    const dependencyState = (service: 'scheduler' | 'events' | 'kms'): DependencyStatus => ({
      state: faults.isDown(service) ? 'down' : 'up',
      restarts: 0,
    });
    const status = (): RuntimeStatus => {
      const schedules = scheduler.stats();
      return {
        at: new Date().toISOString(),
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        state: {
          dir: stateDir ?? null,
          resumed: db.existingTables + local.restored + restoredSchedules > 0,
        },
        functions: Object.fromEntries(
          [...functions.values()].map((f) => [f.logicalId, functionStatus(f.lambda)]),
        ),
        queues: local.depths(),
        schedules: {
          pending: schedules.pending,
          nextDue: schedules.nextDue?.toISOString() ?? null,
          lateFirings: schedules.lateFirings,
          maxLatenessMs: schedules.maxLatenessMs,
        },
        dependencies: {
          dynamodb: db.status() ?? { state: 'external', restarts: 0 },
          sqs: local.status(),
          scheduler: dependencyState('scheduler'),
          events: dependencyState('events'),
          kms: dependencyState('kms'),
        },
        faults: faults.counts(),
        deliveries: deliveries.stats(),
      };
    };
    httpApi?.setLocalRoute('status', () => ({ status: 200, body: status() }));
    const faultControl = createFaultControl(faults);
    httpApi?.setLocalRoute('faults', (request) => faultControl(request.method, request.body));

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
      deliveryStats: deliveries.stats,
      eventSourceStats: () => mappings.map((m) => m.stats()),
      status,
      resumed: { tablesFound: db.existingTables, messages: local.restored, schedules: restoredSchedules },
      onFatal(listener) {
        if (fatalReason !== undefined) {
          const reason = fatalReason;
          queueMicrotask(() => listener(reason));
        }
        fatalListeners.add(listener);
        return () => fatalListeners.delete(listener);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type { CfnResource };

/** The HMAC key material of the local KMS keys, kept in the state directory (key id → base64). */
function loadKeyMaterials(file: string): { values: Record<string, string>; save(): void } {
  const values = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  return {
    values,
    save: () => writeFileSync(file, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 }),
  };
}
