/**
 * Which IAM actions on which resources an AWS API request needs — what the local runtime's
 * authorizing proxies (`iam-proxy.ts`) check against a function's role before forwarding a request
 * to DynamoDB Local, local-aws-sqs, or the project's EventBridge and Scheduler endpoints.
 *
 * Pure (no I/O). It reads the requests as the AWS SDK v3 sends them:
 * - DynamoDB, AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.<Op>`). Item and table operations need
 *   `dynamodb:<Op>` on the table (`TableName` may be a name or an ARN); Query/Scan with `IndexName`
 *   need it on `table/<T>/index/<I>`; BatchGetItem/BatchWriteItem need `dynamodb:BatchGetItem` /
 *   `dynamodb:BatchWriteItem` on each table; TransactWriteItems needs PutItem / UpdateItem /
 *   DeleteItem / ConditionCheckItem and TransactGetItems needs GetItem on each item's table, with
 *   `dynamodb:EnclosingOperation` in the context (AWS's documented behaviour). Given the tables' key
 *   schemas (`partitionKeyOf`), every item check also carries `dynamodb:LeadingKeys`: the partition
 *   key value of the item (Get/Put/Update/DeleteItem), of each key of a batch (all of them, on the one
 *   check per table), of each transaction member (on its own check), or the partition value a Query's
 *   key condition requires (for an index: the index's partition key).
 * - SQS, both the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`, SDK v3) and the Query
 *   protocol (form-encoded `Action=…`, the queue URL as a parameter or as the request path). The
 *   `*Batch` operations need their single-message action (`sqs:SendMessage`, …); the resource is
 *   `arn:aws:sqs:<region>:<account>:<queue name>`, the name being the last segment of the queue URL
 *   (or what `queueNameOfUrl` says); ListQueues needs `*`.
 * - EventBridge, AWS JSON 1.1 (`X-Amz-Target: AWSEvents.<Op>`): PutEvents needs `events:PutEvents` on
 *   each distinct bus of its entries (`default` when absent); rule operations need
 *   `rule/<bus>/<rule>` (`rule/<rule>` on the default bus); PutTargets also needs `iam:PassRole` on
 *   every target `RoleArn`; TestEventPattern, ListRules and ListEventBuses need `*`.
 * - EventBridge Scheduler, REST-JSON: `POST|PUT|GET|DELETE /schedules/{Name}` (group from the body's
 *   `GroupName` for writes, the `groupName` query parameter otherwise, `default` when absent) need
 *   `scheduler:<Op>` on `schedule/<group>/<name>`, and Create/UpdateSchedule also `iam:PassRole` on
 *   `Target.RoleArn` (with `iam:PassedToService` = `scheduler.amazonaws.com`); schedule groups are
 *   under `/schedule-groups/{Name}`; tags under `/tags/{ResourceArn}`; the List operations need `*`.
 * - KMS, AWS JSON 1.1 (`X-Amz-Target: TrentService.<Op>`): key operations need `kms:<Op>` on the key
 *   ARN (`KeyId` as a key ARN, or a key id in the local region and account); an alias as `KeyId` is
 *   not mapped (AWS authorizes the key it names, which only KMS knows); ListKeys, ListAliases and
 *   CreateKey need `*`.
 *
 * Requests it cannot map (an operation not listed here, a body that is not what the protocol
 * requires, a missing queue or table name) yield one check marked `unmapped` with the reason:
 * enforcement is deny-by-default, like AWS, and `denialOf` (`iam-policy.ts`) says so in its message
 * rather than letting an unchecked call through.
 *
 * Known limits: ListSchedules is authorized on `*` (our reading of the service authorization
 * reference: no resource type), while CDK's group grants name `schedule/<group>/*` — unverified
 * against AWS, and the service code does not list schedules. Not checked: DeleteScheduleGroup's
 * second action (`scheduler:DeleteSchedule`), the tagging actions of CreateQueue/CreateScheduleGroup
 * with tags, KMS key policies (only the role's policies are evaluated). Not mapped (hence denied to functions): DynamoDB PartiQL
 * (`ExecuteStatement`, …) and Streams, SQS `CancelMessageMoveTask`, EventBridge archives, replays,
 * connections and endpoints. SQS queue ARNs use the local region and account whatever account the
 * queue URL names. No service-specific condition keys beyond the three above (no `dynamodb:Attributes`,
 * `dynamodb:Select`, `dynamodb:ReturnValues`).
 */
import type { AccessCheck, RequestContext } from './iam-policy';

export type AwsService = 'dynamodb' | 'sqs' | 'events' | 'scheduler' | 'kms';

/** An HTTP request as the proxy received it. */
export interface AwsRequest {
  method: string;
  /** Path with the query string, e.g. `/schedules/t1?groupName=timers`. */
  path: string;
  /** Lower-case header names (Node's `IncomingHttpHeaders`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: string;
}

export interface RequestActionsContext {
  region: string;
  accountId: string;
  /** The queue name of a queue URL; default: the URL's last path segment. */
  queueNameOfUrl?: (url: string) => string | undefined;
  /**
   * The partition key attribute of a table (by name), or of one of its indexes: with it, DynamoDB
   * checks carry `dynamodb:LeadingKeys`. Without it (or for an unknown table) they carry none, and a
   * policy that requires the key (`Null` false) denies them.
   */
  partitionKeyOf?: (table: string, index?: string) => string | undefined;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const header = (headers: AwsRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** One check marked unmapped: denied by `denialOf`, with `reason` in its message. */
const unmapped = (action: string, reason: string): AccessCheck[] => [
  { action, resource: '*', unmapped: reason },
];

/** Drops repeated action/resource pairs (a batch on one table needs one check). */
function distinct(checks: AccessCheck[]): AccessCheck[] {
  const seen = new Set<string>();
  return checks.filter((c) => {
    const key = `${c.action}\u0000${c.resource}\u0000${JSON.stringify(c.context ?? {})}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The JSON object body of an AWS JSON request, or undefined when it is not one. */
function jsonBody(body: string): Json | undefined {
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The operation of an AWS JSON request (`X-Amz-Target: <prefix>.<Op>`), or undefined. */
function targetOperation(request: AwsRequest, prefix: string): string | undefined {
  const target = header(request.headers, 'x-amz-target') ?? '';
  return target.startsWith(`${prefix}.`) ? target.slice(prefix.length + 1) : undefined;
}

/**
 * The IAM checks a request needs. Never throws: what it cannot map comes back as one check marked
 * `unmapped` (see the file header).
 */
export function actionsOfRequest(
  service: AwsService,
  request: AwsRequest,
  ctx: RequestActionsContext,
): AccessCheck[] {
  switch (service) {
    case 'dynamodb':
      return dynamodbChecks(request, ctx);
    case 'sqs':
      return sqsChecks(request, ctx);
    case 'events':
      return eventsChecks(request, ctx);
    case 'scheduler':
      return schedulerChecks(request, ctx);
    case 'kms':
      return kmsChecks(request, ctx);
  }
}

// ----------------------------------------------------------------------------- DynamoDB

/** Operations authorized as `dynamodb:<Op>` on the `TableName` table. */
const DYNAMODB_TABLE_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'DescribeTable',
  'CreateTable',
  'DeleteTable',
  'UpdateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'DescribeContinuousBackups',
  'UpdateContinuousBackups',
  'CreateBackup',
]);
/** Operations authorized on `*`. */
const DYNAMODB_GLOBAL_OPERATIONS = new Set(['ListTables', 'DescribeLimits', 'DescribeEndpoints']);
/** Operations authorized on their `ResourceArn`. */
const DYNAMODB_ARN_OPERATIONS = new Set(['TagResource', 'UntagResource', 'ListTagsOfResource']);
/** TransactWriteItems member → the action it is authorized as. */
const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

function dynamodbChecks(request: AwsRequest, ctx: RequestActionsContext): AccessCheck[] {
  const operation = targetOperation(request, 'DynamoDB_20120810');
  if (operation === undefined) {
    const target = header(request.headers, 'x-amz-target') ?? '(none)';
    return unmapped('dynamodb:*', `unknown X-Amz-Target ${target}`);
  }
  const action = `dynamodb:${operation}`;
  const body = jsonBody(request.body);
  if (body === undefined) return unmapped(action, 'the request body is not a JSON object');
  const tableArn = (nameOrArn: string) =>
    nameOrArn.startsWith('arn:')
      ? nameOrArn
      : `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${nameOrArn}`;
  const table = text(body.TableName);
  const keys = new LeadingKeys(ctx);

  if (DYNAMODB_GLOBAL_OPERATIONS.has(operation)) return [{ action, resource: '*' }];
  if (DYNAMODB_ARN_OPERATIONS.has(operation)) {
    const arn = text(body.ResourceArn);
    return arn === undefined ? unmapped(action, 'no ResourceArn') : [{ action, resource: arn }];
  }
  if (DYNAMODB_TABLE_OPERATIONS.has(operation) || operation === 'Query' || operation === 'Scan') {
    if (table === undefined) return unmapped(action, 'no TableName');
    const index = operation === 'Query' || operation === 'Scan' ? text(body.IndexName) : undefined;
    const resource = index === undefined ? tableArn(table) : `${tableArn(table)}/index/${index}`;
    const leading = DYNAMODB_ITEM_OPERATIONS.has(operation)
      ? keys.ofItem(table, operation === 'PutItem' ? body.Item : body.Key)
      : operation === 'Query'
        ? keys.ofQuery(table, index, body)
        : [];
    return [{ action, resource, ...keys.context(leading) }];
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const requestItems = isObject(body.RequestItems) ? body.RequestItems : {};
    return Object.entries(requestItems).map(([t, requests]) => {
      const items =
        operation === 'BatchGetItem'
          ? isObject(requests) && Array.isArray(requests.Keys)
            ? requests.Keys
            : []
          : (Array.isArray(requests) ? requests : []).map((r) =>
              isObject(r) && isObject(r.PutRequest)
                ? r.PutRequest.Item
                : isObject(r) && isObject(r.DeleteRequest)
                  ? r.DeleteRequest.Key
                  : undefined,
            );
      const leading = items.flatMap((item) => keys.ofItem(t, item));
      return { action, resource: tableArn(t), ...keys.context(leading, items.length) };
    });
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const context = { 'dynamodb:EnclosingOperation': operation };
    const checks: AccessCheck[] = [];
    for (const item of Array.isArray(body.TransactItems) ? body.TransactItems : []) {
      for (const [member, detail] of Object.entries(isObject(item) ? item : {})) {
        const memberAction =
          operation === 'TransactGetItems' ? 'dynamodb:GetItem' : TRANSACT_WRITE_ACTIONS[member];
        const name = isObject(detail) ? text(detail.TableName) : undefined;
        if (memberAction === undefined || (operation === 'TransactGetItems' && member !== 'Get')) {
          return unmapped(action, `unknown transaction member ${member}`);
        }
        if (name === undefined || !isObject(detail)) return unmapped(action, `a ${member} without TableName`);
        const leading = keys.ofItem(name, member === 'Put' ? detail.Item : detail.Key);
        const withKeys = keys.context(leading).context;
        checks.push({
          action: memberAction,
          resource: tableArn(name),
          context: withKeys === undefined ? context : { ...context, ...withKeys },
        });
      }
    }
    return distinct(checks);
  }
  return unmapped(action, `the local runtime does not map DynamoDB ${operation}`);
}

/** Item operations whose `Key` (or `Item`, for PutItem) names the item. */
const DYNAMODB_ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);

/** An attribute value (`{S}`, `{N}` or `{B}`) as the string IAM compares. */
function scalarOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  for (const type of ['S', 'N', 'B'] as const) {
    if (typeof value[type] === 'string') return value[type] as string;
  }
  return undefined;
}

/**
 * `dynamodb:LeadingKeys`: the partition key values a request touches. For items (Get/Put/Update/
 * Delete, each key of a batch, each member of a transaction) the table's partition key of the item;
 * for a Query the value its key condition requires of the queried partition key — on an index,
 * the index's partition key, which is all the request carries (AWS documents the key as the
 * table's partition key; what it compares on an index is not documented, which is why the stack
 * grants index queries without this condition).
 */
class LeadingKeys {
  constructor(private readonly ctx: RequestActionsContext) {}

  private partitionKey(table: string, index?: string): string | undefined {
    const name = table.startsWith('arn:') ? table.slice(table.indexOf(':table/') + ':table/'.length) : table;
    return this.ctx.partitionKeyOf?.(name, index);
  }

  ofItem(table: string, item: unknown): string[] {
    const key = this.partitionKey(table);
    const value = key === undefined || !isObject(item) ? undefined : scalarOf(item[key]);
    return value === undefined ? [] : [value];
  }

  ofQuery(table: string, index: string | undefined, body: Json): string[] {
    const key = this.partitionKey(table, index);
    if (key === undefined) return [];
    const legacy = isObject(body.KeyConditions) ? body.KeyConditions[key] : undefined;
    if (isObject(legacy) && legacy.ComparisonOperator === 'EQ' && Array.isArray(legacy.AttributeValueList)) {
      const value = scalarOf(legacy.AttributeValueList[0]);
      return value === undefined ? [] : [value];
    }
    const expression = text(body.KeyConditionExpression);
    if (expression === undefined) return [];
    const names = isObject(body.ExpressionAttributeNames) ? body.ExpressionAttributeNames : {};
    const values = isObject(body.ExpressionAttributeValues) ? body.ExpressionAttributeValues : {};
    const nameOf = (token: string) => (token.startsWith('#') ? text(names[token]) : token);
    for (const clause of expression.split(/\s+and\s+/i)) {
      const match = /^\(?\s*([#\w.-]+|:[\w-]+)\s*=\s*([#\w.-]+|:[\w-]+)\s*\)?$/.exec(clause.trim());
      if (match === null) continue;
      const [left, right] = [match[1] ?? '', match[2] ?? ''];
      const [attribute, placeholder] = left.startsWith(':') ? [right, left] : [left, right];
      if (nameOf(attribute) !== key || !placeholder.startsWith(':')) continue;
      const value = scalarOf(values[placeholder]);
      return value === undefined ? [] : [value];
    }
    return [];
  }

  /**
   * The check's context: `dynamodb:LeadingKeys` when every item named a value (`expected` items), none
   * otherwise (then a policy requiring the key denies the request, as the runtime cannot tell).
   */
  context(values: string[], expected = 1): { context?: RequestContext } {
    if (this.ctx.partitionKeyOf === undefined || values.length === 0 || values.length < expected) return {};
    return { context: { 'dynamodb:LeadingKeys': [...new Set(values)] } };
  }
}

// ----------------------------------------------------------------------------- SQS

/** SQS operation → IAM action name, for the operations that take a `QueueUrl`. */
const SQS_QUEUE_OPERATIONS: Record<string, string> = {
  SendMessage: 'SendMessage',
  SendMessageBatch: 'SendMessage',
  ReceiveMessage: 'ReceiveMessage',
  DeleteMessage: 'DeleteMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibility: 'ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
  GetQueueAttributes: 'GetQueueAttributes',
  SetQueueAttributes: 'SetQueueAttributes',
  PurgeQueue: 'PurgeQueue',
  DeleteQueue: 'DeleteQueue',
  ListQueueTags: 'ListQueueTags',
  TagQueue: 'TagQueue',
  UntagQueue: 'UntagQueue',
  ListDeadLetterSourceQueues: 'ListDeadLetterSourceQueues',
  AddPermission: 'AddPermission',
  RemovePermission: 'RemovePermission',
};

/** The queue name of an SQS queue URL (its last path segment; query and fragment ignored). */
export const queueNameOfUrl = (url: string): string | undefined => {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').split(/[?#]/)[0] ?? '';
  return path
    .split('/')
    .filter((s) => s !== '')
    .at(-1);
};

/** Whether the request uses SQS's AWS JSON protocol (SDK v3) rather than the Query protocol. */
export const isSqsJsonRequest = (request: AwsRequest): boolean =>
  targetOperation(request, 'AmazonSQS') !== undefined ||
  (header(request.headers, 'content-type') ?? '').startsWith('application/x-amz-json');

function sqsChecks(request: AwsRequest, ctx: RequestActionsContext): AccessCheck[] {
  let operation: string | undefined;
  let params: Json;
  const [pathname = '/', query = ''] = request.path.split('?', 2);
  if (isSqsJsonRequest(request)) {
    operation = targetOperation(request, 'AmazonSQS');
    const body = jsonBody(request.body);
    if (operation === undefined || body === undefined) {
      return unmapped(`sqs:${operation ?? '*'}`, 'not an AmazonSQS JSON request');
    }
    params = body;
  } else {
    // Query protocol: parameters in the form body and/or the query string; the queue URL may be the path.
    const form = new URLSearchParams(query);
    for (const [k, v] of new URLSearchParams(request.body)) form.set(k, v);
    params = Object.fromEntries(form);
    operation = text(params.Action);
    if (operation === undefined) return unmapped('sqs:*', 'no Action parameter');
    if (params.QueueUrl === undefined && pathname.split('/').some((s) => s !== '')) {
      params.QueueUrl = `http://${header(request.headers, 'host') ?? 'localhost'}${pathname}`;
    }
  }
  const queueArn = (name: string) => `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${name}`;
  const iamAction = SQS_QUEUE_OPERATIONS[operation];
  if (iamAction !== undefined) {
    const url = text(params.QueueUrl);
    const name = url === undefined ? undefined : (ctx.queueNameOfUrl?.(url) ?? queueNameOfUrl(url));
    if (name === undefined) return unmapped(`sqs:${iamAction}`, 'no QueueUrl');
    return [{ action: `sqs:${iamAction}`, resource: queueArn(name) }];
  }
  if (operation === 'GetQueueUrl' || operation === 'CreateQueue') {
    const name = text(params.QueueName);
    return name === undefined
      ? unmapped(`sqs:${operation}`, 'no QueueName')
      : [{ action: `sqs:${operation}`, resource: queueArn(name) }];
  }
  if (operation === 'ListQueues') return [{ action: 'sqs:ListQueues', resource: '*' }];
  if (operation === 'StartMessageMoveTask' || operation === 'ListMessageMoveTasks') {
    const arn = text(params.SourceArn);
    return arn === undefined
      ? unmapped(`sqs:${operation}`, 'no SourceArn')
      : [{ action: `sqs:${operation}`, resource: arn }];
  }
  return unmapped(`sqs:${operation}`, `the local runtime does not map SQS ${operation}`);
}

// ----------------------------------------------------------------------------- EventBridge

/** A bus name from a name or an event bus ARN; `default` when absent. */
const busName = (nameOrArn: unknown): string => {
  const value = text(nameOrArn);
  if (value === undefined) return 'default';
  return /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(value)?.[1] ?? value;
};

const RULE_OPERATIONS: Record<string, 'Name' | 'Rule'> = {
  PutRule: 'Name',
  DescribeRule: 'Name',
  DeleteRule: 'Name',
  EnableRule: 'Name',
  DisableRule: 'Name',
  PutTargets: 'Rule',
  RemoveTargets: 'Rule',
  ListTargetsByRule: 'Rule',
};
const BUS_OPERATIONS = new Set(['CreateEventBus', 'DescribeEventBus', 'DeleteEventBus', 'UpdateEventBus']);
const EVENTS_GLOBAL_OPERATIONS = new Set(['TestEventPattern', 'ListRules', 'ListEventBuses']);

function eventsChecks(request: AwsRequest, ctx: RequestActionsContext): AccessCheck[] {
  const operation = targetOperation(request, 'AWSEvents');
  if (operation === undefined) {
    return unmapped(
      'events:*',
      `unknown X-Amz-Target ${header(request.headers, 'x-amz-target') ?? '(none)'}`,
    );
  }
  const action = `events:${operation}`;
  const body = jsonBody(request.body);
  if (body === undefined) return unmapped(action, 'the request body is not a JSON object');
  const arn = (resource: string) => `arn:aws:events:${ctx.region}:${ctx.accountId}:${resource}`;

  if (operation === 'PutEvents') {
    const entries = Array.isArray(body.Entries) ? body.Entries : [];
    const buses =
      entries.length === 0
        ? ['default']
        : entries.map((e) => busName(isObject(e) ? e.EventBusName : undefined));
    return distinct(buses.map((bus) => ({ action, resource: arn(`event-bus/${bus}`) })));
  }
  if (EVENTS_GLOBAL_OPERATIONS.has(operation)) return [{ action, resource: '*' }];
  if (BUS_OPERATIONS.has(operation)) return [{ action, resource: arn(`event-bus/${busName(body.Name)}`) }];
  const nameField = RULE_OPERATIONS[operation];
  if (nameField !== undefined) {
    const rule = text(body[nameField]);
    if (rule === undefined) return unmapped(action, `no ${nameField}`);
    const bus = busName(body.EventBusName);
    const checks: AccessCheck[] = [
      { action, resource: arn(`rule/${bus === 'default' ? '' : `${bus}/`}${rule}`) },
    ];
    if (operation === 'PutTargets') {
      for (const target of Array.isArray(body.Targets) ? body.Targets : []) {
        const role = isObject(target) ? text(target.RoleArn) : undefined;
        if (role !== undefined) {
          checks.push({
            action: 'iam:PassRole',
            resource: role,
            context: { 'iam:PassedToService': 'events.amazonaws.com' },
          });
        }
      }
    }
    return distinct(checks);
  }
  return unmapped(action, `the local runtime does not map EventBridge ${operation}`);
}

// ----------------------------------------------------------------------------- Scheduler

/** HTTP method → operation, per REST collection. */
const SCHEDULE_OPERATIONS: Record<string, string> = {
  POST: 'CreateSchedule',
  PUT: 'UpdateSchedule',
  GET: 'GetSchedule',
  DELETE: 'DeleteSchedule',
};
const GROUP_OPERATIONS: Record<string, string> = {
  POST: 'CreateScheduleGroup',
  GET: 'GetScheduleGroup',
  DELETE: 'DeleteScheduleGroup',
};
const TAG_OPERATIONS: Record<string, string> = {
  GET: 'ListTagsForResource',
  POST: 'TagResource',
  DELETE: 'UntagResource',
};

function schedulerChecks(request: AwsRequest, ctx: RequestActionsContext): AccessCheck[] {
  const url = new URL(request.path, 'http://localhost');
  const [collection, name, ...rest] = url.pathname
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const method = request.method.toUpperCase();
  const arn = (resource: string) => `arn:aws:scheduler:${ctx.region}:${ctx.accountId}:${resource}`;
  const describe = `${method} ${url.pathname}`;
  const body = jsonBody(request.body);
  if (body === undefined) return unmapped('scheduler:*', `the body of ${describe} is not a JSON object`);
  if (rest.length > 0) return unmapped('scheduler:*', `unknown operation ${describe}`);

  if (collection === 'schedules' && name === undefined && method === 'GET') {
    return [{ action: 'scheduler:ListSchedules', resource: '*' }];
  }
  if (collection === 'schedule-groups' && name === undefined && method === 'GET') {
    return [{ action: 'scheduler:ListScheduleGroups', resource: '*' }];
  }
  if (collection === 'schedules' && name !== undefined) {
    const operation = SCHEDULE_OPERATIONS[method];
    if (operation === undefined) return unmapped('scheduler:*', `unknown operation ${describe}`);
    const writes = method === 'POST' || method === 'PUT';
    const group = (writes ? text(body.GroupName) : text(url.searchParams.get('groupName'))) ?? 'default';
    const checks: AccessCheck[] = [
      { action: `scheduler:${operation}`, resource: arn(`schedule/${group}/${name}`) },
    ];
    const role = writes && isObject(body.Target) ? text(body.Target.RoleArn) : undefined;
    if (role !== undefined) {
      checks.push({
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      });
    }
    return checks;
  }
  if (collection === 'schedule-groups' && name !== undefined) {
    const operation = GROUP_OPERATIONS[method];
    if (operation === undefined) return unmapped('scheduler:*', `unknown operation ${describe}`);
    return [{ action: `scheduler:${operation}`, resource: arn(`schedule-group/${name}`) }];
  }
  if (collection === 'tags' && name !== undefined) {
    const operation = TAG_OPERATIONS[method];
    if (operation === undefined) return unmapped('scheduler:*', `unknown operation ${describe}`);
    return [{ action: `scheduler:${operation}`, resource: name }];
  }
  return unmapped('scheduler:*', `unknown operation ${describe}`);
}

// ----------------------------------------------------------------------------- KMS

const KMS_GLOBAL_OPERATIONS = new Set(['ListKeys', 'ListAliases', 'CreateKey']);

function kmsChecks(request: AwsRequest, ctx: RequestActionsContext): AccessCheck[] {
  const operation = targetOperation(request, 'TrentService');
  if (operation === undefined) {
    return unmapped('kms:*', `unknown X-Amz-Target ${header(request.headers, 'x-amz-target') ?? '(none)'}`);
  }
  const action = `kms:${operation}`;
  const body = jsonBody(request.body);
  if (body === undefined) return unmapped(action, 'the request body is not a JSON object');
  if (KMS_GLOBAL_OPERATIONS.has(operation)) return [{ action, resource: '*' }];
  const keyId = text(body.KeyId);
  if (keyId === undefined) return unmapped(action, 'no KeyId');
  if (keyId.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(keyId)) {
    return unmapped(
      action,
      `KeyId ${keyId} is an alias (the local runtime authorizes key ids and ARNs only)`,
    );
  }
  const resource = keyId.startsWith('arn:')
    ? keyId
    : `arn:aws:kms:${ctx.region}:${ctx.accountId}:key/${keyId}`;
  return [{ action, resource }];
}

// ----------------------------------------------------------------------------- credentials

/**
 * The access key id a request was signed with: from a SigV4 `Authorization` header
 * (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, …`) or a presigned
 * URL's `X-Amz-Credential` query parameter (pass the path); undefined when unsigned.
 */
export function accessKeyIdOf(headers: AwsRequest['headers'], path?: string): string | undefined {
  const authorization = header(headers, 'authorization');
  const fromHeader =
    authorization === undefined ? undefined : /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (fromHeader !== undefined) return fromHeader;
  if (path === undefined || !path.includes('?')) return undefined;
  const credential = new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('X-Amz-Credential');
  return text(credential?.split('/')[0]);
}
