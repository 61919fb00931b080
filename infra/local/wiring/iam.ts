/**
 * IAM for the local functions: each function signs its AWS calls with its own local access key and
 * reaches every endpoint through an authorizing proxy that evaluates its role's policies from the
 * template (`iam-proxy.ts`). `PutEvents` is decided by the EventBridge endpoint per entry, for every
 * caller, against the function's role and the template's bus policy (`bus-policy.ts`).
 *
 * The same proxies inject dependency faults (`faults.ts`): they run whenever the runtime runs, and
 * with IAM checks off (`enforce: false`) they allow every request and only inject faults.
 */
import type { AwsService } from '../aws-request-actions';
import { createPutEventsAuthorizer, isDecidedByEndpoint } from '../bus-policy';
import { LOCAL_REGION } from '../dynamodb-local';
import type { EventBridgeServerOptions } from '../eventbridge-server';
import type { Faults } from '../faults';
import { type AccessCheck, denialOf, type Principal, permissionsFromTemplate } from '../iam-policy';
import { type AuthorizingProxyOptions, startAuthorizingProxy } from '../iam-proxy';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import type { LocalQueue } from './queues';

const FUNCTION_TYPE = 'AWS::Lambda::Function';
const ACCESS_KEY_PREFIX = 'LOCALFN';

/** The local access key a function signs its AWS calls with (its identity for the IAM checks). */
export function accessKeyOf(functionLogicalId: string): string {
  return `${ACCESS_KEY_PREFIX}${functionLogicalId}`;
}

/** The function (logical id) that signs with `key`, or undefined for any other caller. */
export function functionOfAccessKey(key: string | undefined): string | undefined {
  return key?.startsWith(ACCESS_KEY_PREFIX) ? key.slice(ACCESS_KEY_PREFIX.length) : undefined;
}

/** An AWS call the local runtime refused because the function's role does not allow it. */
export interface Denial {
  /** Logical id of the function that made the call. */
  function: string;
  /** AWS's AccessDenied message, naming the action and the resource. */
  message: string;
}

export interface ServiceEndpoints {
  dynamodb: string;
  sqs: string;
  eventBridge: string;
  scheduler: string;
  kms: string;
}

export interface LocalIam {
  /** What the functions call: the authorizing proxies in front of `upstream`. */
  endpoints: ServiceEndpoints;
  authorizePutEvents: EventBridgeServerOptions['authorizePutEvents'];
  close(): Promise<void>;
}

/**
 * Starts one authorizing proxy per service and points the queues' URLs (as functions see them) at the
 * SQS proxy. Records every refusal in `denials`.
 */
export async function startLocalIam(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  upstream: ServiceEndpoints;
  queues: Iterable<LocalQueue>;
  partitionKeys: ReadonlyMap<string, ReadonlyMap<string, string>>;
  denials: Denial[];
  log: (message: string) => void;
  /** Check each call against the function's role (default true); false: the proxies allow everything. */
  enforce?: boolean;
  /** Faults the proxies inject (dependency errors, outages). */
  faults?: Faults;
  /** Watches each forwarded request and its answer (the cost meter, `metering/usage-meter.ts`). */
  observerOf?: (service: AwsService) => AuthorizingProxyOptions['observer'];
}): Promise<LocalIam> {
  const { template, resolver, log, denials } = options;
  const permissions = permissionsFromTemplate(template.Resources, (v) => resolver.resolve(v), { warn: log });
  const principals = new Map<string, Principal>();
  for (const [id, resource] of resourcesOfType(template, FUNCTION_TYPE)) {
    const roleId = (resource.Properties?.Role as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
    if (roleId === undefined) continue;
    principals.set(accessKeyOf(id), {
      roleName: resolver.ref(roleId),
      sessionName: resolver.ref(id),
      accountId: LOCAL_ACCOUNT_ID,
      statements: permissions.get(roleId) ?? [],
      context: { 'aws:RequestedRegion': LOCAL_REGION },
    });
  }
  const functionOf = (key: string | undefined): string | undefined =>
    key !== undefined && principals.has(key) ? key.slice(ACCESS_KEY_PREFIX.length) : undefined;
  // Callers without a function's key (the scenario, the SDK and CLI of a person) are not checked,
  // except by the bus policy: PutEvents is left to the EventBridge endpoint, which decides it per
  // entry (the function's role and the bus policy) and answers refused entries as AWS does.
  const enforce = options.enforce ?? true;
  const authorize = (key: string | undefined, checks: AccessCheck[]) => {
    if (!enforce) return undefined;
    const principal = key === undefined ? undefined : principals.get(key);
    const own = checks.filter((check) => !isDecidedByEndpoint(check));
    return principal === undefined ? undefined : denialOf(principal, own);
  };
  const authorizePutEvents = createPutEventsAuthorizer({
    resources: template.Resources,
    resolve: (v) => resolver.resolve(v),
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    principals,
    warn: log,
    onRefused: (key, reason) => {
      const who = functionOf(key);
      // Functions may swallow a failed entry: record it like any other denial.
      if (who !== undefined) denials.push({ function: who, message: `PutEvents: ${reason}` });
      log(`local runtime: PutEvents refused for ${who ?? key ?? 'an unsigned caller'}: ${reason}`);
    },
  });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const proxy = async (service: AwsService, upstream: string) => {
      const started = await startAuthorizingProxy({
        upstream,
        service,
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        authorize,
        ...(options.faults !== undefined && { faults: options.faults }),
        ...(options.observerOf !== undefined && { observer: options.observerOf(service) }),
        partitionKeyOf: (table, index) => options.partitionKeys.get(table)?.get(index ?? ''),
        onDenied: (denial) => {
          const who = functionOf(denial.accessKeyId) ?? String(denial.accessKeyId);
          denials.push({ function: who, message: denial.message });
          log(`local runtime: AccessDenied for ${who}: ${denial.message}`);
        },
      });
      closers.push(() => started.close());
      return started.endpoint;
    };
    const { upstream } = options;
    const endpoints: ServiceEndpoints = {
      dynamodb: await proxy('dynamodb', upstream.dynamodb),
      sqs: await proxy('sqs', upstream.sqs),
      eventBridge: await proxy('events', upstream.eventBridge),
      scheduler: await proxy('scheduler', upstream.scheduler),
      kms: await proxy('kms', upstream.kms),
    };
    // The SDK sends SQS calls to the host of the queue URL: functions get URLs on the proxy.
    for (const queue of options.queues) {
      const viaProxy = queue.url.replace(upstream.sqs, endpoints.sqs);
      resolver.set(queue.logicalId, viaProxy, { Arn: queue.arn, QueueName: queue.name, QueueUrl: viaProxy });
    }
    return { endpoints, authorizePutEvents, close };
  } catch (error) {
    await close();
    throw error;
  }
}
