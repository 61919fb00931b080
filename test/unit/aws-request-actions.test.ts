import { describe, expect, it } from 'vitest';
import {
  type AwsRequest,
  accessKeyIdOf,
  actionsOfRequest,
  type RequestActionsContext,
} from '../../infra/local/aws-request-actions';

/**
 * The IAM actions and resources each AWS request needs, for requests shaped as the AWS SDK v3 sends
 * them (and SQS's older Query protocol).
 */

const ctx: RequestActionsContext = { region: 'us-east-1', accountId: '123456789012' };
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/Store';

const json = (target: string, body: unknown): AwsRequest => ({
  method: 'POST',
  path: '/',
  headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify(body),
});

describe('DynamoDB', () => {
  const ddb = (operation: string, body: unknown) =>
    actionsOfRequest('dynamodb', json(`DynamoDB_20120810.${operation}`, body), ctx);

  it.each([
    'GetItem',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'DescribeTable',
    'CreateTable',
    'UpdateTimeToLive',
  ])('%s needs dynamodb:%s on the table', (operation) => {
    expect(ddb(operation, { TableName: 'Store', Key: {} })).toEqual([
      { action: `dynamodb:${operation}`, resource: TABLE },
    ]);
  });

  it('accepts a table ARN as TableName', () => {
    const arn = 'arn:aws:dynamodb:eu-west-1:999999999999:table/Other';
    expect(ddb('GetItem', { TableName: arn })).toEqual([{ action: 'dynamodb:GetItem', resource: arn }]);
    expect(ddb('Query', { TableName: arn, IndexName: 'gsi1' })).toEqual([
      { action: 'dynamodb:Query', resource: `${arn}/index/gsi1` },
    ]);
  });

  it('authorizes Query and Scan on the index they read', () => {
    expect(ddb('Query', { TableName: 'Store', IndexName: 'gsi4' })).toEqual([
      { action: 'dynamodb:Query', resource: `${TABLE}/index/gsi4` },
    ]);
    expect(ddb('Scan', { TableName: 'Store', IndexName: 'gsi1' })).toEqual([
      { action: 'dynamodb:Scan', resource: `${TABLE}/index/gsi1` },
    ]);
    expect(ddb('Query', { TableName: 'Store' })).toEqual([{ action: 'dynamodb:Query', resource: TABLE }]);
  });

  it('authorizes batches as the batch action on each table', () => {
    expect(ddb('BatchGetItem', { RequestItems: { Store: { Keys: [] }, Audit: { Keys: [] } } })).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: TABLE },
      { action: 'dynamodb:BatchGetItem', resource: TABLE.replace('Store', 'Audit') },
    ]);
    expect(
      ddb('BatchWriteItem', { RequestItems: { Store: [{ PutRequest: {} }, { DeleteRequest: {} }] } }),
    ).toEqual([{ action: 'dynamodb:BatchWriteItem', resource: TABLE }]);
  });

  it('authorizes each member of TransactWriteItems as its single-item action, in transaction context', () => {
    const context = { 'dynamodb:EnclosingOperation': 'TransactWriteItems' };
    expect(
      ddb('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'Store', Item: {} } },
          { Update: { TableName: 'Store', Key: {} } },
          { Put: { TableName: 'Store', Item: {} } },
          { ConditionCheck: { TableName: 'Audit', Key: {} } },
          { Delete: { TableName: TABLE, Key: {} } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE, context },
      { action: 'dynamodb:UpdateItem', resource: TABLE, context },
      { action: 'dynamodb:ConditionCheckItem', resource: TABLE.replace('Store', 'Audit'), context },
      { action: 'dynamodb:DeleteItem', resource: TABLE, context },
    ]);
  });

  it('authorizes TransactGetItems as GetItem on each table', () => {
    expect(ddb('TransactGetItems', { TransactItems: [{ Get: { TableName: 'Store', Key: {} } }] })).toEqual([
      {
        action: 'dynamodb:GetItem',
        resource: TABLE,
        context: { 'dynamodb:EnclosingOperation': 'TransactGetItems' },
      },
    ]);
  });

  it('authorizes account-level operations on * and tagging on the resource ARN', () => {
    expect(ddb('ListTables', {})).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(ddb('TagResource', { ResourceArn: TABLE, Tags: [] })).toEqual([
      { action: 'dynamodb:TagResource', resource: TABLE },
    ]);
  });

  it('marks what it cannot map, with the reason', () => {
    expect(ddb('ExecuteStatement', { Statement: 'SELECT * FROM Store' })).toEqual([
      {
        action: 'dynamodb:ExecuteStatement',
        resource: '*',
        unmapped: 'the local runtime does not map DynamoDB ExecuteStatement',
      },
    ]);
    expect(ddb('GetItem', { Key: {} })).toEqual([
      { action: 'dynamodb:GetItem', resource: '*', unmapped: 'no TableName' },
    ]);
    expect(ddb('TransactWriteItems', { TransactItems: [{ Put: { Item: {} } }] })[0]?.unmapped).toBe(
      'a Put without TableName',
    );
    expect(
      actionsOfRequest('dynamodb', { ...json('DynamoDB_20120810.GetItem', {}), body: '{not json' }, ctx),
    ).toEqual([
      { action: 'dynamodb:GetItem', resource: '*', unmapped: 'the request body is not a JSON object' },
    ]);
    expect(
      actionsOfRequest('dynamodb', json('DynamoDBStreams_20120810.GetRecords', {}), ctx)[0]?.unmapped,
    ).toBe('unknown X-Amz-Target DynamoDBStreams_20120810.GetRecords');
  });
});

describe('DynamoDB: dynamodb:LeadingKeys', () => {
  /** Store: pk; its index gsi1: gsi1pk. Audit: id. */
  const keyed: RequestActionsContext = {
    ...ctx,
    partitionKeyOf: (table, index) =>
      table === 'Store'
        ? index === undefined
          ? 'pk'
          : index === 'gsi1'
            ? 'gsi1pk'
            : undefined
        : table === 'Audit' && index === undefined
          ? 'id'
          : undefined,
  };
  const ddb = (operation: string, body: unknown) =>
    actionsOfRequest('dynamodb', json(`DynamoDB_20120810.${operation}`, body), keyed);
  const leading = (...values: string[]) => ({ 'dynamodb:LeadingKeys': values });
  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'META' } });

  it.each([
    ['GetItem', { Key: key('C#1') }],
    ['UpdateItem', { Key: key('C#1') }],
    ['DeleteItem', { Key: key('C#1') }],
    ['PutItem', { Item: { ...key('C#1'), other: { S: 'AGG#x' } } }],
  ])('%s: the partition key of its item', (operation, body) => {
    expect(ddb(operation, { TableName: 'Store', ...body })).toEqual([
      { action: `dynamodb:${operation}`, resource: TABLE, context: leading('C#1') },
    ]);
  });

  it('reads the partition value a Query requires, through attribute names, either side of =', () => {
    const query = (expression: string, names?: Record<string, string>) =>
      ddb('Query', {
        TableName: 'Store',
        KeyConditionExpression: expression,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: { ':p': { S: 'C#7' }, ':tl': { S: 'TL#' } },
      });
    const expected = [{ action: 'dynamodb:Query', resource: TABLE, context: leading('C#7') }];
    expect(query('pk = :p AND begins_with(sk, :tl)')).toEqual(expected);
    expect(query('#k = :p', { '#k': 'pk' })).toEqual(expected);
    expect(query('begins_with(sk, :tl) and :p = pk')).toEqual(expected);
    expect(
      ddb('Query', {
        TableName: 'Store',
        KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'C#7' }] } },
      }),
    ).toEqual(expected);
  });

  it('on an index, takes the index partition key the Query names', () => {
    expect(
      ddb('Query', {
        TableName: 'Store',
        IndexName: 'gsi1',
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'gsi1pk' },
        ExpressionAttributeValues: { ':pk': { S: 'DEPT#billing#open' } },
      }),
    ).toEqual([
      { action: 'dynamodb:Query', resource: `${TABLE}/index/gsi1`, context: leading('DEPT#billing#open') },
    ]);
  });

  it('carries every key of a batch on the check of its table', () => {
    expect(
      ddb('BatchGetItem', {
        RequestItems: {
          Store: { Keys: [key('AGENT#a'), key('AGENT#b'), key('AGENT#a')] },
          Audit: { Keys: [{ id: { S: 'x' } }] },
        },
      }),
    ).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: TABLE, context: leading('AGENT#a', 'AGENT#b') },
      { action: 'dynamodb:BatchGetItem', resource: TABLE.replace('Store', 'Audit'), context: leading('x') },
    ]);
    expect(
      ddb('BatchWriteItem', {
        RequestItems: {
          Store: [{ PutRequest: { Item: key('C#1') } }, { DeleteRequest: { Key: key('AGG#DAY#1') } }],
        },
      }),
    ).toEqual([{ action: 'dynamodb:BatchWriteItem', resource: TABLE, context: leading('C#1', 'AGG#DAY#1') }]);
  });

  it('authorizes each transaction member on its own key', () => {
    const enclosing = { 'dynamodb:EnclosingOperation': 'TransactWriteItems' };
    expect(
      ddb('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'Store', Item: key('FACTS#1') } },
          { Update: { TableName: 'Store', Key: key('AGG#DAY#2026-11-24#0') } },
          { ConditionCheck: { TableName: 'Store', Key: key('C#1') } },
          { Delete: { TableName: 'Store', Key: key('C#2') } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE, context: { ...enclosing, ...leading('FACTS#1') } },
      {
        action: 'dynamodb:UpdateItem',
        resource: TABLE,
        context: { ...enclosing, ...leading('AGG#DAY#2026-11-24#0') },
      },
      {
        action: 'dynamodb:ConditionCheckItem',
        resource: TABLE,
        context: { ...enclosing, ...leading('C#1') },
      },
      { action: 'dynamodb:DeleteItem', resource: TABLE, context: { ...enclosing, ...leading('C#2') } },
    ]);
    expect(
      ddb('TransactGetItems', { TransactItems: [{ Get: { TableName: 'Store', Key: key('C#3') } }] }),
    ).toEqual([
      {
        action: 'dynamodb:GetItem',
        resource: TABLE,
        context: { 'dynamodb:EnclosingOperation': 'TransactGetItems', ...leading('C#3') },
      },
    ]);
  });

  it('carries no leading key it cannot tell: unknown table, missing key, unreadable condition, a key-less batch entry', () => {
    expect(ddb('GetItem', { TableName: 'Other', Key: key('C#1') })[0]?.context).toBeUndefined();
    expect(ddb('GetItem', { TableName: 'Store', Key: { sk: { S: 'META' } } })[0]?.context).toBeUndefined();
    expect(
      ddb('Query', {
        TableName: 'Store',
        KeyConditionExpression: 'pk > :p',
        ExpressionAttributeValues: { ':p': { S: 'C#' } },
      })[0]?.context,
    ).toBeUndefined();
    expect(
      ddb('Query', { TableName: 'Store', IndexName: 'gsi9', KeyConditionExpression: 'x = :p' })[0]?.context,
    ).toBeUndefined();
    expect(
      ddb('BatchWriteItem', {
        RequestItems: { Store: [{ PutRequest: { Item: key('C#1') } }, { DeleteRequest: {} }] },
      })[0]?.context,
    ).toBeUndefined();
    expect(ddb('Scan', { TableName: 'Store' })).toEqual([{ action: 'dynamodb:Scan', resource: TABLE }]);
  });
});

describe('SQS, JSON protocol (SDK v3)', () => {
  const URL = 'http://127.0.0.1:9324/123456789012/intake-queue';
  const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:intake-queue';
  const sqs = (operation: string, body: unknown, context = ctx) =>
    actionsOfRequest('sqs', json(`AmazonSQS.${operation}`, body), context);

  it.each([
    ['SendMessage', 'sqs:SendMessage'],
    ['SendMessageBatch', 'sqs:SendMessage'],
    ['ReceiveMessage', 'sqs:ReceiveMessage'],
    ['DeleteMessage', 'sqs:DeleteMessage'],
    ['DeleteMessageBatch', 'sqs:DeleteMessage'],
    ['ChangeMessageVisibility', 'sqs:ChangeMessageVisibility'],
    ['ChangeMessageVisibilityBatch', 'sqs:ChangeMessageVisibility'],
    ['GetQueueAttributes', 'sqs:GetQueueAttributes'],
    ['PurgeQueue', 'sqs:PurgeQueue'],
    ['DeleteQueue', 'sqs:DeleteQueue'],
  ])('%s needs %s on the queue of its QueueUrl', (operation, action) => {
    expect(sqs(operation, { QueueUrl: URL })).toEqual([{ action, resource: QUEUE }]);
  });

  it('names queues by QueueName for GetQueueUrl and CreateQueue, and ListQueues needs *', () => {
    expect(sqs('GetQueueUrl', { QueueName: 'intake-queue' })).toEqual([
      { action: 'sqs:GetQueueUrl', resource: QUEUE },
    ]);
    expect(sqs('CreateQueue', { QueueName: 'intake-queue' })).toEqual([
      { action: 'sqs:CreateQueue', resource: QUEUE },
    ]);
    expect(sqs('ListQueues', {})).toEqual([{ action: 'sqs:ListQueues', resource: '*' }]);
  });

  it('lets the runtime say which queue a URL names', () => {
    const custom = {
      ...ctx,
      queueNameOfUrl: (url: string) => (url.endsWith('/q-1') ? 'Stack-IntakeQueue' : undefined),
    };
    expect(sqs('SendMessage', { QueueUrl: 'http://x/000/q-1' }, custom)).toEqual([
      { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:123456789012:Stack-IntakeQueue' },
    ]);
    // Undefined falls back to the last segment.
    expect(sqs('SendMessage', { QueueUrl: 'http://x/000/q-2?x=1' }, custom)[0]?.resource).toBe(
      'arn:aws:sqs:us-east-1:123456789012:q-2',
    );
  });

  it('marks what it cannot map', () => {
    expect(sqs('SendMessage', { MessageBody: 'x' })).toEqual([
      { action: 'sqs:SendMessage', resource: '*', unmapped: 'no QueueUrl' },
    ]);
    expect(sqs('CancelMessageMoveTask', { TaskHandle: 'h' })[0]?.unmapped).toBe(
      'the local runtime does not map SQS CancelMessageMoveTask',
    );
  });
});

describe('SQS, Query protocol', () => {
  const form = (body: string, path = '/'): AwsRequest => ({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', host: '127.0.0.1:9324' },
    body,
  });

  it('reads Action and QueueUrl from the form body', () => {
    const url = encodeURIComponent('http://127.0.0.1:9324/123456789012/dlq');
    expect(
      actionsOfRequest('sqs', form(`Action=SendMessageBatch&QueueUrl=${url}&Version=2012-11-05`), ctx),
    ).toEqual([{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:123456789012:dlq' }]);
  });

  it('takes the queue URL from the path when the parameters have none', () => {
    expect(
      actionsOfRequest('sqs', form('Action=ReceiveMessage&MaxNumberOfMessages=1', '/123456789012/dlq'), ctx),
    ).toEqual([{ action: 'sqs:ReceiveMessage', resource: 'arn:aws:sqs:us-east-1:123456789012:dlq' }]);
  });

  it('reads parameters from the query string of a GET', () => {
    const request: AwsRequest = {
      method: 'GET',
      path: '/?Action=GetQueueUrl&QueueName=dlq',
      headers: {},
      body: '',
    };
    expect(actionsOfRequest('sqs', request, ctx)).toEqual([
      { action: 'sqs:GetQueueUrl', resource: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
    ]);
  });

  it('marks a request without Action', () => {
    expect(actionsOfRequest('sqs', form('QueueUrl=x'), ctx)).toEqual([
      { action: 'sqs:*', resource: '*', unmapped: 'no Action parameter' },
    ]);
  });
});

describe('EventBridge', () => {
  const events = (operation: string, body: unknown) =>
    actionsOfRequest('events', json(`AWSEvents.${operation}`, body), ctx);
  const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus';

  it('authorizes PutEvents on each distinct bus of its entries (default when absent, names or ARNs)', () => {
    expect(
      events('PutEvents', {
        Entries: [
          { EventBusName: 'messaging', Source: 's' },
          { Source: 's' },
          { EventBusName: `${BUS}/messaging`, Source: 's' },
          { EventBusName: 'default', Source: 's' },
        ],
      }),
    ).toEqual([
      { action: 'events:PutEvents', resource: `${BUS}/messaging` },
      { action: 'events:PutEvents', resource: `${BUS}/default` },
    ]);
  });

  it('authorizes rule operations on the rule ARN, the bus in its path unless default', () => {
    expect(events('PutRule', { Name: 'r1', EventBusName: 'messaging' })).toEqual([
      { action: 'events:PutRule', resource: 'arn:aws:events:us-east-1:123456789012:rule/messaging/r1' },
    ]);
    expect(events('DescribeRule', { Name: 'r1' })).toEqual([
      { action: 'events:DescribeRule', resource: 'arn:aws:events:us-east-1:123456789012:rule/r1' },
    ]);
    expect(events('ListTargetsByRule', { Rule: 'r1', EventBusName: `${BUS}/messaging` })).toEqual([
      {
        action: 'events:ListTargetsByRule',
        resource: 'arn:aws:events:us-east-1:123456789012:rule/messaging/r1',
      },
    ]);
  });

  it('also needs iam:PassRole for targets with a role', () => {
    const role = 'arn:aws:iam::123456789012:role/events-to-sqs';
    expect(
      events('PutTargets', {
        Rule: 'r1',
        Targets: [
          { Id: '1', Arn: 'arn:aws:sqs:x', RoleArn: role },
          { Id: '2', Arn: 'y' },
        ],
      }),
    ).toEqual([
      { action: 'events:PutTargets', resource: 'arn:aws:events:us-east-1:123456789012:rule/r1' },
      { action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'events.amazonaws.com' } },
    ]);
  });

  it('authorizes account-level operations on * and buses on their ARN', () => {
    expect(events('TestEventPattern', { EventPattern: '{}', Event: '{}' })).toEqual([
      { action: 'events:TestEventPattern', resource: '*' },
    ]);
    expect(events('ListRules', {})).toEqual([{ action: 'events:ListRules', resource: '*' }]);
    expect(events('CreateEventBus', { Name: 'messaging' })).toEqual([
      { action: 'events:CreateEventBus', resource: `${BUS}/messaging` },
    ]);
  });

  it('marks what it cannot map', () => {
    expect(events('StartReplay', {})[0]).toEqual({
      action: 'events:StartReplay',
      resource: '*',
      unmapped: 'the local runtime does not map EventBridge StartReplay',
    });
    expect(events('PutRule', { EventBusName: 'x' })[0]?.unmapped).toBe('no Name');
  });
});

describe('Scheduler (REST-JSON)', () => {
  const rest = (method: string, path: string, body?: unknown): AwsRequest => ({
    method,
    path,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  const scheduler = (method: string, path: string, body?: unknown) =>
    actionsOfRequest('scheduler', rest(method, path, body), ctx);
  const ARN = 'arn:aws:scheduler:us-east-1:123456789012';
  const ROLE = 'arn:aws:iam::123456789012:role/SchedulerRole';
  const passRole = {
    action: 'iam:PassRole',
    resource: ROLE,
    context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
  };

  it('authorizes CreateSchedule and UpdateSchedule on the schedule of the body group, and PassRole on the target role', () => {
    const body = {
      GroupName: 'timers',
      ScheduleExpression: 'at(2026-01-01T00:00:00)',
      Target: { Arn: 'fn', RoleArn: ROLE },
    };
    expect(scheduler('POST', '/schedules/sla-1', body)).toEqual([
      { action: 'scheduler:CreateSchedule', resource: `${ARN}:schedule/timers/sla-1` },
      passRole,
    ]);
    expect(scheduler('PUT', '/schedules/sla-1', { ...body, GroupName: undefined })).toEqual([
      { action: 'scheduler:UpdateSchedule', resource: `${ARN}:schedule/default/sla-1` },
      passRole,
    ]);
  });

  it('reads the group of GetSchedule and DeleteSchedule from the query, default when absent', () => {
    expect(scheduler('GET', '/schedules/sla-1?groupName=timers')).toEqual([
      { action: 'scheduler:GetSchedule', resource: `${ARN}:schedule/timers/sla-1` },
    ]);
    expect(scheduler('DELETE', '/schedules/sla-1?clientToken=abc')).toEqual([
      { action: 'scheduler:DeleteSchedule', resource: `${ARN}:schedule/default/sla-1` },
    ]);
    expect(scheduler('DELETE', '/schedules/a%2Eb?groupName=my%2Dgroup')).toEqual([
      { action: 'scheduler:DeleteSchedule', resource: `${ARN}:schedule/my-group/a.b` },
    ]);
  });

  it('authorizes the List operations on * and schedule groups on their ARN', () => {
    expect(scheduler('GET', '/schedules?ScheduleGroup=timers&MaxResults=10')).toEqual([
      { action: 'scheduler:ListSchedules', resource: '*' },
    ]);
    expect(scheduler('GET', '/schedule-groups')).toEqual([
      { action: 'scheduler:ListScheduleGroups', resource: '*' },
    ]);
    expect(scheduler('POST', '/schedule-groups/timers', {})).toEqual([
      { action: 'scheduler:CreateScheduleGroup', resource: `${ARN}:schedule-group/timers` },
    ]);
    expect(scheduler('DELETE', '/schedule-groups/timers')).toEqual([
      { action: 'scheduler:DeleteScheduleGroup', resource: `${ARN}:schedule-group/timers` },
    ]);
  });

  it('authorizes tagging on the URL-encoded resource ARN', () => {
    const group = `${ARN}:schedule-group/timers`;
    expect(scheduler('GET', `/tags/${encodeURIComponent(group)}`)).toEqual([
      { action: 'scheduler:ListTagsForResource', resource: group },
    ]);
  });

  it('marks unknown routes and bodies', () => {
    expect(scheduler('PATCH', '/schedules/x')[0]?.unmapped).toBe('unknown operation PATCH /schedules/x');
    expect(scheduler('GET', '/schedules/x/y')[0]?.unmapped).toBe('unknown operation GET /schedules/x/y');
    expect(
      actionsOfRequest('scheduler', { ...rest('POST', '/schedules/x'), body: '[1]' }, ctx)[0]?.unmapped,
    ).toBe('the body of POST /schedules/x is not a JSON object');
  });
});

describe('accessKeyIdOf', () => {
  it('reads the key of a SigV4 Authorization header', () => {
    const authorization =
      'AWS4-HMAC-SHA256 Credential=LOCALFNINTAKE/20261124/us-east-1/dynamodb/aws4_request, ' +
      'SignedHeaders=host;x-amz-date;x-amz-target, Signature=abc123';
    expect(accessKeyIdOf({ authorization })).toBe('LOCALFNINTAKE');
    expect(accessKeyIdOf({ authorization: [authorization] })).toBe('LOCALFNINTAKE');
  });

  it('reads the key of a presigned URL', () => {
    const path = `/?Action=ListQueues&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(
      'LOCALFNSQS/20261124/us-east-1/sqs/aws4_request',
    )}&X-Amz-Signature=abc`;
    expect(accessKeyIdOf({}, path)).toBe('LOCALFNSQS');
  });

  it('is undefined for an unsigned request', () => {
    expect(accessKeyIdOf({})).toBeUndefined();
    expect(accessKeyIdOf({ authorization: 'Bearer token' }, '/?Action=ListQueues')).toBeUndefined();
  });
});
