import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AccessCheck, denialOf, type Principal } from '../../infra/local/iam-policy';
import { type AuthorizingProxy, startAuthorizingProxy } from '../../infra/local/iam-proxy';
import { INDEXES, TABLE_KEYS } from '../../shared/storage/table-schema';
import { createTestTable, localDynamoClient } from './support/dynamodb';

/**
 * `dynamodb:LeadingKeys` enforced by the authorizing proxy in front of DynamoDB Local, with the
 * production key schema and statements shaped as `ComplaintFunction.useTable` writes them: a role
 * allowed complaint items only (`C#*`) cannot write a report bucket (`AGG#…`), alone, in a batch or
 * hidden in a transaction, and nothing of a refused request reaches the table.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const COMPLAINTS = { accessKeyId: 'LOCALFNCOMPLAINTS', secretAccessKey: 'local' };

let table: string;
let tableArn: string;
let proxy: AuthorizingProxy;
let client: DynamoDBClient;

const leadingKeys = (patterns: string[]) => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns },
  Null: { 'dynamodb:LeadingKeys': 'false' },
});

const principal = (): Principal => ({
  roleName: 'ComplaintsRole',
  sessionName: 'complaints-fn',
  accountId: ACCOUNT,
  statements: [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
      Resource: tableArn,
      Condition: leadingKeys(['C#*']),
    },
    {
      Effect: 'Allow',
      Action: 'dynamodb:UpdateItem',
      Resource: tableArn,
      Condition: leadingKeys(['AGENT#*']),
    },
    { Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${tableArn}/index/${INDEXES.byDepartment.name}` },
  ],
});

const denial = (action: string) =>
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/ComplaintsRole/complaints-fn is not authorized to perform: ` +
  `${action} on resource: ${tableArn} because no identity-based policy allows the ${action} action`;

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to be denied, but it succeeded');
}

const key = (pk: string, sk = 'META') => ({ pk: { S: pk }, sk: { S: sk } });
const stored = async (pk: string, sk = 'META') =>
  (await localDynamoClient().send(new GetItemCommand({ TableName: table, Key: key(pk, sk) }))).Item;

beforeAll(async () => {
  table = await createTestTable('iam-leading-keys');
  tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
  const roles = new Map([[COMPLAINTS.accessKeyId, principal()]]);
  proxy = await startAuthorizingProxy({
    upstream: inject('dynamoDbEndpoint'),
    service: 'dynamodb',
    region: REGION,
    accountId: ACCOUNT,
    partitionKeyOf: (name, index) =>
      name !== table
        ? undefined
        : index === undefined
          ? TABLE_KEYS.partitionKey
          : Object.values(INDEXES).find((i) => i.name === index)?.partitionKey,
    authorize: (accessKeyId: string | undefined, checks: AccessCheck[]) => {
      const role = accessKeyId === undefined ? undefined : roles.get(accessKeyId);
      return role === undefined ? `unknown key ${accessKeyId}` : denialOf(role, checks);
    },
  });
  client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: REGION,
    credentials: COMPLAINTS,
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
});

describe('a role allowed complaint items only (C#*)', () => {
  it('writes and reads its own items', async () => {
    await client.send(new PutItemCommand({ TableName: table, Item: { ...key('C#1'), n: { N: '1' } } }));
    expect(await stored('C#1')).toEqual({ ...key('C#1'), n: { N: '1' } });
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: key('C#1') }));
    expect(Item?.n).toEqual({ N: '1' });
    const { Items } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: 'C#1' } },
      }),
    );
    expect(Items).toHaveLength(1);
  });

  it('is refused a PutItem on AGG#x, as AWS words it, and nothing is written', async () => {
    // The same call on its own prefix goes through: the refusal is the key's, not the action's.
    await client.send(new PutItemCommand({ TableName: table, Item: key('C#9') }));
    expect(await stored('C#9')).toEqual(key('C#9'));
    const error = await failure(
      client.send(
        new PutItemCommand({ TableName: table, Item: { ...key('AGG#x', 'AGG'), 'c:received': { N: '20' } } }),
      ),
    );
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(denial('dynamodb:PutItem'));
    expect(await stored('AGG#x', 'AGG')).toBeUndefined();
  });

  it('is refused a transaction that hides an AGG# update among its own puts, and none of it is applied', async () => {
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: key('C#2') } },
            { Put: { TableName: table, Item: key('C#2', 'TL#2026-11-24#1') } },
            {
              Update: {
                TableName: table,
                Key: key('AGG#DAY#2026-11-24#0', 'AGG'),
                UpdateExpression: 'ADD #c :n',
                ExpressionAttributeNames: { '#c': 'c:received' },
                ExpressionAttributeValues: { ':n': { N: '20' } },
              },
            },
          ],
        }),
      ),
    );
    expect(error.name).toBe('AccessDeniedException');
    // The role may update AGENT# items, not AGG#: the member is denied on its own key.
    expect(error.message).toBe(denial('dynamodb:UpdateItem'));
    expect(await stored('C#2')).toBeUndefined();
    expect(await stored('AGG#DAY#2026-11-24#0', 'AGG')).toBeUndefined();
  });

  it('is refused a PutItem in a transaction on a prefix it may only update (AGENT#)', async () => {
    await client.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: key('C#8') } }] }),
    );
    expect(await stored('C#8')).toEqual(key('C#8'));
    const error = await failure(
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: key('C#3') } },
            { Put: { TableName: table, Item: key('AGENT#a', 'LOAD') } },
          ],
        }),
      ),
    );
    expect(error.message).toBe(denial('dynamodb:PutItem'));
    expect(await stored('C#3')).toBeUndefined();
  });

  it('may update AGENT# items (its second grant), but no other prefix with UpdateItem', async () => {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key('AGENT#a', 'LOAD'),
        UpdateExpression: 'ADD openCount :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    expect((await stored('AGENT#a', 'LOAD'))?.openCount).toEqual({ N: '1' });
    const error = await failure(
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key('REPORTING'),
          UpdateExpression: 'SET firstDay = :d',
          ExpressionAttributeValues: { ':d': { S: '2000-01-01' } },
        }),
      ),
    );
    expect(error.message).toBe(denial('dynamodb:UpdateItem'));
    expect(await stored('REPORTING')).toBeUndefined();
  });

  it('is refused a BatchGetItem with one foreign key among its own', async () => {
    const error = await failure(
      client.send(
        new BatchGetItemCommand({
          RequestItems: { [table]: { Keys: [key('C#1'), key('FACTS#1', 'FACTS')] } },
        }),
      ),
    );
    expect(error.message).toBe(denial('dynamodb:BatchGetItem'));
    const { Responses } = await client.send(
      new BatchGetItemCommand({ RequestItems: { [table]: { Keys: [key('C#1')] } } }),
    );
    expect(Responses?.[table]).toHaveLength(1);
  });

  it('is refused a BatchWriteItem (not granted) and a Query on a foreign partition', async () => {
    const own = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'C#1' } },
      }),
    );
    expect(own.Items).toHaveLength(1);
    const batch = await failure(
      client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: [{ PutRequest: { Item: key('C#4') } }] } }),
      ),
    );
    expect(batch.message).toBe(denial('dynamodb:BatchWriteItem'));
    expect(await stored('C#4')).toBeUndefined();
    const query = await failure(
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'IDEMP#api#1' } },
        }),
      ),
    );
    expect(query.message).toBe(denial('dynamodb:Query'));
  });

  it('queries the index granted without a leading-key condition', async () => {
    await localDynamoClient().send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key('C#5'), gsi1pk: { S: 'DEPT#billing#open' }, gsi1sk: { S: '9999#C#5' } },
      }),
    );
    const { Items } = await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: INDEXES.byDepartment.name,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': { S: 'DEPT#billing#open' } },
      }),
    );
    expect(Items?.map((i) => i.pk?.S)).toEqual(['C#5']);
  });
});
