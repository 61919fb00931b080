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
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import type { AwsService } from './aws-request-actions';
import { createPutEventsAuthorizer, isDecidedByEndpoint } from './bus-policy';
import {
  createTableFromTemplate,
  type DynamoDbLocalInstance,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  type TemplateTableProperties,
  tablePartitionKeys,
} from './dynamodb-local';
import { type SqsEventSource, startSqsEventSource } from './event-source-mapping';
import {
  type AcceptedEvent,
  type EventBridgeServer,
  type EventBridgeServerOptions,
  type EventTarget,
  startEventBridgeServer,
} from './eventbridge-server';
import { type HttpApi, type HttpApiRoute, startHttpApi } from './http-api';
import { type AccessCheck, denialOf, type Principal, permissionsFromTemplate } from './iam-policy';
import { startAuthorizingProxy } from './iam-proxy';
import {
  createLocalIssuer,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER_URL,
  LOCAL_ROLE_CLAIM,
  type LocalIssuer,
} from './jwt';
import { type KmsServer, startKmsServer } from './kms-server';
import { type InvokeResult, type LocalLambda, loadLambda } from './lambda-runner';
import { parseScheduleExpression } from './schedule-expression';
import { type SchedulerServer, startSchedulerServer } from './scheduler-server';
import {
  type CfnResource,
  LOCAL_ACCOUNT_ID,
  type LoadedStack,
  loadStack,
  resourcesOfType,
  TemplateResolver,
} from './template';
import { throttlesFromTemplate } from './throttle';

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
  /** Period of the Scheduler's firing engine and of scheduled rules, in ms. @default 250 */
  tickMs?: number;
  /** Delay before each retry of a failed asynchronous invocation (Lambda waits minutes). @default 1000 */
  asyncRetryDelayMs?: number;
  /** Where the runtime reports what goes wrong (failed invocations, deliveries). @default console.warn */
  log?: (message: string) => void;
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

export interface LocalQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  lambda: LocalLambda;
}

export interface LocalRuntime {
  readonly stack: LoadedStack;
  readonly endpoints: LocalEndpoints;
  readonly events: EventBridgeServer;
  readonly scheduler: SchedulerServer;
  readonly kms: KmsServer;
  readonly issuer: LocalIssuer;
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
  readonly functionEndpoints: {
    dynamodb: string;
    sqs: string;
    eventBridge: string;
    scheduler: string;
    kms: string;
  };
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

const FUNCTION_TYPE = 'AWS::Lambda::Function';

/** Resolved resource properties: untyped CloudFormation JSON. */
// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

export async function startLocalRuntime(options: StartLocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? ((message: string) => console.warn(message));
  const stack = loadStack(options.assemblyDir, options.stackName);
  const { template } = stack;
  const resolver = new TemplateResolver(stack, LOCAL_REGION, LOCAL_ACCOUNT_ID);
  const tickMs = options.tickMs ?? 250;
  const retryDelayMs = options.asyncRetryDelayMs ?? 1000;
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
    const sqsServer: Server = await createSqsServer({
      port: options.ports?.sqs ?? 0,
      hostname: '127.0.0.1',
      emulateQueueCreationLifecycle: false,
    });
    closers.push(() => closeServer(sqsServer));
    const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
    const sqs = new SQSClient({
      endpoint: sqsEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    closers.push(async () => sqs.destroy());
    const queues = new Map<string, LocalQueue>();
    const queueByArn = new Map<string, LocalQueue>();
    // Dead-letter queues first: a redrive policy names its DLQ by ARN.
    const queueResources = resourcesOfType(template, 'AWS::SQS::Queue').sort(
      ([, a], [, b]) =>
        Number(a.Properties?.RedrivePolicy !== undefined) - Number(b.Properties?.RedrivePolicy !== undefined),
    );
    for (const [id, resource] of queueResources) {
      const name = resolver.physicalName(id, 80);
      const attributes = queueAttributes(
        resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>,
      );
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const queue: LocalQueue = {
        logicalId: id,
        name,
        url: String(created.QueueUrl),
        arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`,
      };
      resolver.set(id, queue.url, { Arn: queue.arn, QueueName: name, QueueUrl: queue.url });
      queues.set(id, queue);
      queueByArn.set(queue.arn, queue);
    }
    const sendToQueue = async (
      arn: string,
      body: string,
      attributes?: Record<string, MessageAttributeValue>,
    ): Promise<void> => {
      const queue = queueByArn.get(arn);
      if (queue === undefined) throw new Error(`No queue ${arn} in this stack`);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: body,
          ...(attributes ? { MessageAttributes: attributes } : {}),
        }),
      );
    };

    // --- Names of the rest, so environment variables resolve before anything runs ----------------
    for (const [id] of resourcesOfType(template, FUNCTION_TYPE)) resolver.ref(id);

    // --- Functions and asynchronous invocation ----------------------------------------------------
    const functions = new Map<string, LocalFunction>();
    const functionByArn = new Map<string, LocalFunction>();
    const asyncConfig = new Map<string, { retries: number; maxAgeSeconds: number; onFailure?: string }>();
    for (const [, resource] of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')) {
      const p = resolver.resolve(resource.Properties) as Props;
      asyncConfig.set(String(p.FunctionName), {
        retries: p.MaximumRetryAttempts ?? 2,
        maxAgeSeconds: p.MaximumEventAgeInSeconds ?? 21_600,
        ...(p.DestinationConfig?.OnFailure?.Destination
          ? { onFailure: String(p.DestinationConfig.OnFailure.Destination) }
          : {}),
      });
    }
    const pendingAsync = new Set<Promise<void>>();
    let closing = false;
    const invokeAsync = async (functionArn: string, event: unknown): Promise<void> => {
      const fn = functionByArn.get(unqualified(functionArn));
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
          if (attempts > 0) await sleep(retryDelayMs * attempts);
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
        await sendToQueue(config.onFailure, JSON.stringify(record)).catch((error: unknown) =>
          log(`local runtime: on-failure destination of ${fn.logicalId} failed: ${errorText(error)}`),
        );
      })();
      pendingAsync.add(run);
      void run.finally(() => pendingAsync.delete(run));
    };
    closers.push(async () => {
      closing = true;
      await Promise.allSettled([...pendingAsync]);
    });

    // --- EventBridge ------------------------------------------------------------------------------
    const listeners = new Set<(accepted: AcceptedEvent) => void>();
    // Set with the IAM checks below: the endpoint authorizes PutEvents per entry (bus-policy.ts).
    let authorizePutEvents: EventBridgeServerOptions['authorizePutEvents'];
    const events = await startEventBridgeServer({
      authorizePutEvents: (key, entries) => authorizePutEvents?.(key, entries) ?? { entries: [] },
      onAccepted: (accepted) => {
        for (const listener of listeners) listener(accepted);
      },
      port: options.ports?.eventBridge ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      log,
      deliver: (target, _event, body) => deliverToTarget(target, body),
    });
    closers.push(() => events.close());
    async function deliverToTarget(target: EventTarget, body: string): Promise<void> {
      if (target.arn.startsWith('arn:aws:sqs:')) return sendToQueue(target.arn, body);
      if (target.arn.startsWith('arn:aws:lambda:')) return invokeAsync(target.arn, JSON.parse(body));
      throw new Error(`The local runtime cannot deliver to ${target.arn}`);
    }
    const busNames: string[] = [];
    for (const [id] of resourcesOfType(template, 'AWS::Events::EventBus')) {
      const name = resolver.physicalName(id);
      events.addBus(name);
      busNames.push(name);
    }
    const scheduledRules: Array<{
      logicalId: string;
      arn: string;
      expression: string;
      targets: EventTarget[];
    }> = [];
    for (const [id, resource] of resourcesOfType(template, 'AWS::Events::Rule')) {
      const p = resolver.resolve(resource.Properties) as Props;
      if (p.State === 'DISABLED') continue;
      const bus = p.EventBusName === undefined ? 'default' : busNameOf(String(p.EventBusName));
      const name = resolver.ref(id);
      const targets: EventTarget[] = (p.Targets ?? []).map((t: Props) => ({
        id: String(t.Id),
        arn: String(t.Arn),
        ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
        ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
        ...(t.InputTransformer !== undefined ? { inputTransformer: t.InputTransformer } : {}),
      }));
      if (p.EventPattern !== undefined) {
        events.putRule({ bus, name, eventPattern: p.EventPattern, description: p.Description });
        events.putTargets(bus, name, targets);
      } else if (p.ScheduleExpression !== undefined) {
        events.putRule({ bus, name, scheduleExpression: p.ScheduleExpression, description: p.Description });
        scheduledRules.push({
          logicalId: id,
          arn: resolver.getAtt(id, 'Arn'),
          expression: p.ScheduleExpression,
          targets,
        });
      }
    }
    const fireRule = async (rule: (typeof scheduledRules)[number], at: Date): Promise<void> => {
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: LOCAL_ACCOUNT_ID,
        time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: LOCAL_REGION,
        resources: [rule.arn],
        detail: {},
      };
      for (const target of rule.targets) {
        const body = target.input ?? JSON.stringify(event);
        await deliverToTarget(target, body).catch((error: unknown) =>
          log(`local runtime: scheduled rule ${rule.logicalId} → ${target.arn} failed: ${errorText(error)}`),
        );
      }
    };
    const ruleTimers = scheduledRules.map((rule) => {
      const parsed = parseScheduleExpression(rule.expression, 'UTC', { now: () => new Date() });
      let next = parsed.nextAfter(new Date());
      const timer = setInterval(() => {
        const now = new Date();
        if (next === undefined || next > now) return;
        const at = next;
        next = parsed.nextAfter(now);
        void fireRule(rule, at);
      }, tickMs);
      timer.unref();
      return timer;
    });
    closers.push(async () => {
      for (const timer of ruleTimers) clearInterval(timer);
    });

    // --- Scheduler --------------------------------------------------------------------------------
    const scheduler = await startSchedulerServer({
      port: options.ports?.scheduler ?? 0,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      tickMs,
      log,
      // Scheduler hands Lambda targets over asynchronously; SQS targets get the input as the body.
      invoke: async (target) => {
        if (target.Arn.startsWith('arn:aws:sqs:')) return sendToQueue(target.Arn, target.Input ?? '{}');
        return invokeAsync(target.Arn, target.Input === undefined ? {} : JSON.parse(target.Input));
      },
      sendToDeadLetter: (arn, invocation, schedule) =>
        sendToQueue(arn, invocation.input ?? '', {
          ERROR_CODE: { DataType: 'String', StringValue: 'TargetInvocationFailed' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: (invocation.error ?? 'failed').slice(0, 1000) },
          RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(invocation.attempts - 1) },
          SCHEDULE_ARN: { DataType: 'String', StringValue: schedule.arn },
          TARGET_ARN: { DataType: 'String', StringValue: schedule.target.Arn },
        }),
    });
    closers.push(() => scheduler.close());
    const schedulerClient = new SchedulerClient({
      endpoint: scheduler.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const scheduleGroups: string[] = [];
    for (const [id] of resourcesOfType(template, 'AWS::Scheduler::ScheduleGroup')) {
      const name = resolver.physicalName(id);
      await schedulerClient.send(new CreateScheduleGroupCommand({ Name: name }));
      scheduleGroups.push(name);
    }
    // The template's own schedules (e.g. the periodic reports), with their time zones and targets.
    for (const [id, resource] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
      const p = resolver.resolve(resource.Properties) as Props;
      await schedulerClient.send(
        new CreateScheduleCommand({
          Name: p.Name ?? resolver.physicalName(id),
          ...(p.GroupName ? { GroupName: p.GroupName } : {}),
          ScheduleExpression: p.ScheduleExpression,
          ...(p.ScheduleExpressionTimezone
            ? { ScheduleExpressionTimezone: p.ScheduleExpressionTimezone }
            : {}),
          FlexibleTimeWindow: p.FlexibleTimeWindow,
          ...(p.Description ? { Description: p.Description } : {}),
          State: p.State ?? 'ENABLED',
          Target: p.Target,
        }),
      );
    }
    schedulerClient.destroy();

    // --- IAM: each function signs with its own key and calls through an authorizing proxy ----------
    let localEndpoints = {
      dynamodb: dynamodbEndpoint,
      sqs: sqsEndpoint,
      eventBridge: events.endpoint,
      scheduler: scheduler.endpoint,
      kms: kms.endpoint,
    };
    const principals = new Map<string, Principal>();
    const denials: Denial[] = [];
    const enforceIam = options.enforceIam ?? true;
    if (enforceIam) {
      const permissions = permissionsFromTemplate(template.Resources, (v) => resolver.resolve(v), {
        warn: log,
      });
      for (const [id, resource] of resourcesOfType(template, FUNCTION_TYPE)) {
        const roleId = (resource.Properties?.Role as { 'Fn::GetAtt'?: [string, string] })?.[
          'Fn::GetAtt'
        ]?.[0];
        if (roleId === undefined) continue;
        principals.set(accessKeyOf(id), {
          roleName: resolver.ref(roleId),
          sessionName: resolver.ref(id),
          accountId: LOCAL_ACCOUNT_ID,
          statements: permissions.get(roleId) ?? [],
          context: { 'aws:RequestedRegion': LOCAL_REGION },
        });
      }
      // Callers without a function's key (the scenario, the SDK and CLI of a person) are not checked,
      // except by the bus policy: PutEvents is left to the EventBridge endpoint, which decides it per
      // entry (the function's role and the bus policy) and answers refused entries as AWS does.
      const authorize = (key: string | undefined, checks: AccessCheck[]) => {
        const principal = key === undefined ? undefined : principals.get(key);
        const own = checks.filter((check) => !isDecidedByEndpoint(check));
        return principal === undefined ? undefined : denialOf(principal, own);
      };
      authorizePutEvents = createPutEventsAuthorizer({
        resources: template.Resources,
        resolve: (v) => resolver.resolve(v),
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        principals,
        warn: log,
        onRefused: (key, reason) => {
          const who = [...functions.values()].find((f) => accessKeyOf(f.logicalId) === key)?.logicalId;
          // Functions may swallow a failed entry: record it like any other denial.
          if (who !== undefined) denials.push({ function: who, message: `PutEvents: ${reason}` });
          log(`local runtime: PutEvents refused for ${who ?? key ?? 'an unsigned caller'}: ${reason}`);
        },
      });
      const proxy = async (service: AwsService, upstream: string) => {
        const started = await startAuthorizingProxy({
          upstream,
          service,
          region: LOCAL_REGION,
          accountId: LOCAL_ACCOUNT_ID,
          authorize,
          partitionKeyOf: (table, index) => partitionKeys.get(table)?.get(index ?? ''),
          onDenied: (denial) => {
            const who = [...functions.values()].find((f) => accessKeyOf(f.logicalId) === denial.accessKeyId);
            denials.push({ function: who?.logicalId ?? String(denial.accessKeyId), message: denial.message });
            log(`local runtime: AccessDenied for ${who?.logicalId ?? denial.accessKeyId}: ${denial.message}`);
          },
        });
        closers.push(() => started.close());
        return started.endpoint;
      };
      localEndpoints = {
        dynamodb: await proxy('dynamodb', dynamodbEndpoint),
        sqs: await proxy('sqs', sqsEndpoint),
        eventBridge: await proxy('events', events.endpoint),
        scheduler: await proxy('scheduler', scheduler.endpoint),
        kms: await proxy('kms', kms.endpoint),
      };
      // The SDK sends SQS calls to the host of the queue URL: functions get URLs on the proxy.
      for (const queue of queues.values()) {
        const viaProxy = queue.url.replace(sqsEndpoint, localEndpoints.sqs);
        resolver.set(queue.logicalId, viaProxy, {
          Arn: queue.arn,
          QueueName: queue.name,
          QueueUrl: viaProxy,
        });
      }
    }

    // --- Lambda functions -------------------------------------------------------------------------
    for (const [id, resource] of resourcesOfType(template, FUNCTION_TYPE)) {
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
        AWS_ACCESS_KEY_ID: enforceIam ? accessKeyOf(id) : LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: localEndpoints.dynamodb,
        AWS_ENDPOINT_URL_SQS: localEndpoints.sqs,
        AWS_ENDPOINT_URL_EVENTBRIDGE: localEndpoints.eventBridge,
        AWS_ENDPOINT_URL_SCHEDULER: localEndpoints.scheduler,
        AWS_ENDPOINT_URL_KMS: localEndpoints.kms,
        // No X-Ray daemon here.
        POWERTOOLS_TRACE_ENABLED: 'false',
        ...options.functionEnv,
      };
      const lambda = loadLambda({
        name,
        bundleDir,
        handler: String(p.Handler ?? 'index.handler'),
        env,
        timeoutSeconds: Number(p.Timeout ?? 3),
        memoryMb: Number(p.MemorySize ?? 128),
        // One invocation at a time: functions share process.env, and each must sign as itself.
        exclusive: true,
      });
      const fn: LocalFunction = { logicalId: id, name, arn: resolver.getAtt(id, 'Arn'), lambda };
      functions.set(id, fn);
      functionByArn.set(fn.arn, fn);
    }
    for (const fn of functions.values()) {
      const error = await fn.lambda.init();
      if (error !== undefined)
        log(`local runtime: ${fn.logicalId} does not start: ${error.errorType}: ${error.errorMessage}`);
    }

    // --- Event source mappings --------------------------------------------------------------------
    const mappings: SqsEventSource[] = [];
    for (const [id, resource] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
      const p = resolver.resolve(resource.Properties) as Props;
      if (p.Enabled === false) continue;
      const queue = queueByArn.get(String(p.EventSourceArn));
      const fn = functions.get(logicalIdOfFunction(functions, String(p.FunctionName)));
      if (queue === undefined || fn === undefined) {
        log(`local runtime: event source mapping ${id} skipped (only SQS → function is supported)`);
        continue;
      }
      mappings.push(
        startSqsEventSource({
          sqs,
          queueUrl: queue.url,
          batchSize: Number(p.BatchSize ?? 10),
          maxBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
          reportBatchItemFailures: (p.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
          lambda: fn.lambda,
          log,
        }),
      );
    }
    closers.push(async () => {
      await Promise.all(mappings.map((m) => m.stop()));
    });

    // --- HTTP API ---------------------------------------------------------------------------------
    const issuer = options.issuer ?? createLocalIssuer();
    const routes: HttpApiRoute[] = [];
    const integrations = new Map(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
    for (const [, authorizer] of resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')) {
      const jwt = authorizer.Properties?.JwtConfiguration;
      const issuerUrl = jwt?.Issuer === undefined ? undefined : resolver.resolve(jwt.Issuer);
      if (issuerUrl !== LOCAL_ISSUER_URL) {
        log(
          `local runtime: the template's JWT authorizer trusts ${String(issuerUrl)}; locally the routes trust the ` +
            `local issuer (${LOCAL_ISSUER_URL}, audience ${LOCAL_AUDIENCE}) — synthesize with ` +
            `-c jwtIssuer=${LOCAL_ISSUER_URL} -c jwtAudience=${LOCAL_AUDIENCE} -c roleClaim=${LOCAL_ROLE_CLAIM} to match`,
        );
      }
    }
    for (const [, route] of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      const p = route.Properties ?? {};
      const target = String(resolver.resolve(p.Target ?? ''));
      const integration = integrations.get(target.replace(/^integrations\//, ''));
      const uri = integration ? String(resolver.resolve(integration.Properties?.IntegrationUri)) : '';
      const fn = functionByArn.get(unqualified(uri));
      if (fn === undefined) {
        log(`local runtime: route ${p.RouteKey} skipped (its integration is not a local function)`);
        continue;
      }
      routes.push({
        routeKey: String(p.RouteKey),
        ...(p.AuthorizationType === 'JWT' ? { authorizer: 'jwt' as const } : {}),
        functionName: fn.name,
        handler: async (event) => {
          const result = await fn.lambda.invoke(event);
          if (result.error !== undefined) {
            throw Object.assign(new Error(result.error.errorMessage), { name: result.error.errorType });
          }
          return result.result as never;
        },
      });
    }
    let httpApi: HttpApi | undefined;
    if (routes.length > 0) {
      httpApi = await startHttpApi({
        port: options.ports?.httpApi ?? 0,
        routes,
        issuer,
        throttle: throttlesFromTemplate(template, resolver),
        onHandlerError: (routeKey, error) => log(`local runtime: ${routeKey} failed: ${errorText(error)}`),
      });
      const api = httpApi;
      closers.push(() => api.close());
    }

    const endpoints: LocalEndpoints = {
      httpApi: httpApi?.endpoint ?? '',
      eventBridge: events.endpoint,
      scheduler: scheduler.endpoint,
      sqs: sqsEndpoint,
      dynamodb: dynamodbEndpoint,
      kms: kms.endpoint,
      kmsKeys,
      region: LOCAL_REGION,
      eventBusName: busNames[0] ?? 'default',
      eventBusNames: busNames,
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
      functions,
      queues,
      sqs,
      childPids,
      denials: () => denials,
      functionEndpoints: localEndpoints,
      onEvent: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      functionNamed: (prefix) => byPrefix(functions, prefix, 'function'),
      queueNamed: (prefix) => byPrefix(queues, prefix, 'queue'),
      fireScheduledRule: async (prefix) => {
        const rule = scheduledRules.find((r) => r.logicalId.startsWith(prefix));
        if (rule === undefined) throw new Error(`No scheduled rule ${prefix}*`);
        await fireRule(rule, new Date());
      },
      invokeAsync,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The local access key a function signs its AWS calls with (its identity for the IAM checks). */
export function accessKeyOf(functionLogicalId: string): string {
  return `LOCALFN${functionLogicalId}`;
}

/** An AWS call the local runtime refused because the function's role does not allow it. */
export interface Denial {
  /** Logical id of the function that made the call. */
  function: string;
  /** AWS's AccessDenied message, naming the action and the resource. */
  message: string;
}

/** The local SQS attributes of an `AWS::SQS::Queue` (what local-aws-sqs understands). */
function queueAttributes(p: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const key of [
    'VisibilityTimeout',
    'MessageRetentionPeriod',
    'DelaySeconds',
    'ReceiveMessageWaitTimeSeconds',
    'MaximumMessageSize',
  ]) {
    if (p[key] !== undefined) attributes[key] = String(p[key]);
  }
  if (p.RedrivePolicy !== undefined) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
  if (p.FifoQueue === true) attributes.FifoQueue = 'true';
  return attributes;
}

function logicalIdOfFunction(functions: ReadonlyMap<string, LocalFunction>, nameOrArn: string): string {
  const name = unqualified(nameOrArn).split(':').at(-1);
  return [...functions.values()].find((f) => f.name === name)?.logicalId ?? '';
}

/** A function ARN without its version or alias qualifier. */
function unqualified(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

function busNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.indexOf('event-bus/') + 10) : nameOrArn;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export type { CfnResource };
