/**
 * The capacity meter behind an authorizing proxy, on DynamoDB Local: what a function's calls would be
 * billed on AWS, read from the calls themselves (`infra/local/metering/dynamodb-capacity.ts`).
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type AuthorizingProxy, startAuthorizingProxy } from '../../infra/local/iam-proxy';
import {
  type CapacityMeter,
  createCapacityMeter,
  operationOfTarget,
  withCapacityRequested,
} from '../../infra/local/metering/dynamodb-capacity';
import { createTransactionShadow } from '../../infra/local/metering/transaction-shadow';
import { createUsageMeter } from '../../infra/local/metering/usage-meter';

const TABLE = `capacity-${Date.now()}`;
let proxy: AuthorizingProxy;
let meter: CapacityMeter;
let client: DynamoDBClient;
let direct: DynamoDBClient;

beforeAll(async () => {
  const endpoint = inject('dynamoDbEndpoint');
  direct = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await direct.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'gk', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byGk',
          KeySchema: [{ AttributeName: 'gk', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  meter = createCapacityMeter();
  const operation = (headers: Record<string, unknown>) =>
    operationOfTarget(String(headers['x-amz-target'] ?? ''));
  proxy = await startAuthorizingProxy({
    upstream: endpoint,
    service: 'dynamodb',
    region: LOCAL_REGION,
    accountId: '123456789012',
    authorize: () => undefined,
    observer: {
      requestBody: (request) => withCapacityRequested(operation(request.headers), request.body),
      answered: (request, status, body) =>
        meter.record(operation(request.headers), status, body.toString('utf8')),
    },
  });
  client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await direct?.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
  direct?.destroy();
});

const units = (operation: string) => meter.byOperation()[operation];

describe('DynamoDB capacity meter (through the proxy, on DynamoDB Local)', () => {
  it('counts writes by item size, an index entry as a write of its own, and transactions twice per item', async () => {
    const big = 'x'.repeat(2500);
    // 2.5 KB → 3 WRU on the table, 3 more for the item projected into the index.
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, gk: { S: 'g' }, b: { S: big } } }),
    );
    expect(units('PutItem')).toMatchObject({ writeUnits: 6, requests: 1 });
    // An update is billed by the larger of the item before and after it.
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'a' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '1' } },
      }),
    );
    expect(units('UpdateItem')?.writeUnits).toBeGreaterThanOrEqual(3);
    // Two small items in a transaction: 2 WRU each, with no index entry (no gk).
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: ['b', 'c'].map((pk) => ({ Put: { TableName: TABLE, Item: { pk: { S: pk } } } })),
      }),
    );
    expect(units('TransactWriteItems')).toMatchObject({ writeUnits: 4, requests: 1 });
  });

  it('counts reads by consistency, and a write refused by its condition as billed but not applied', async () => {
    await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } }));
    await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } }, ConsistentRead: true }),
    );
    expect(units('GetItem')).toMatchObject({ readUnits: 1.5, requests: 2 });
    const before = meter.totals();
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'a' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(meter.totals().refusedWrites).toBe(before.refusedWrites + 1);
    expect(meter.totals().writeUnits).toBe(before.writeUnits + 1);
  });

  it('leaves a caller that asked for capacity its own setting', () => {
    expect(
      withCapacityRequested('GetItem', JSON.stringify({ ReturnConsumedCapacity: 'TOTAL' })),
    ).toBeUndefined();
    expect(JSON.parse(withCapacityRequested('GetItem', '{"TableName":"t"}') ?? '{}')).toEqual({
      TableName: 't',
      ReturnConsumedCapacity: 'INDEXES',
    });
    expect(withCapacityRequested('ListTables', '{}')).toBeUndefined();
  });
});

describe('transactions billed by AWS rules (replayed on a shadow table)', () => {
  it('bills twice the plain writes, where DynamoDB Local reports about twice that again', async () => {
    const endpoint = inject('dynamoDbEndpoint');
    const usage = createUsageMeter({ callerOf: () => 'Fn' });
    usage.useTransactionShadow(createTransactionShadow(direct));
    const metered = await startAuthorizingProxy({
      upstream: endpoint,
      service: 'dynamodb',
      region: LOCAL_REGION,
      accountId: '123456789012',
      authorize: () => undefined,
      observer: usage.proxyObserver('dynamodb'),
    });
    const caller = new DynamoDBClient({
      endpoint: metered.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const writeUnits = async () => {
      await usage.settled();
      return usage.snapshot().dynamodb.Fn?.writeUnits ?? 0;
    };
    const big = 'y'.repeat(2500);
    try {
      // A new 2.5 KB item, no index entry: 2 × 3 (DynamoDB Local: 12).
      await caller.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: 'tx' }, b: { S: big } } } }],
        }),
      );
      expect(await writeUnits()).toBe(6);
      // Replaced, now with an index entry (all attributes projected): 2 × 3 + 2 × 3.
      usage.reset();
      await caller.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { pk: { S: 'tx' }, gk: { S: 'g2' }, b: { S: big } } } },
          ],
        }),
      );
      expect(await writeUnits()).toBe(12);
      // An update whose condition uses a value the update does not: replayed without the condition.
      usage.reset();
      await caller.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: { pk: { S: 'tx' } },
                UpdateExpression: 'SET m = :m',
                ConditionExpression: 'gk = :g',
                ExpressionAttributeValues: { ':m': { N: '1' }, ':g': { S: 'g2' } },
              },
            },
          ],
        }),
      );
      expect(await writeUnits()).toBe(12);
      expect(usage.replayFailures()).toBe(0);
    } finally {
      caller.destroy();
      await metered.close();
    }
  });
});
