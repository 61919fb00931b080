import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoDbLocalInstance,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/storage/table-schema';
import { createTestTable, localDynamoClient } from './support/dynamodb';

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

describe('table created from the schema', () => {
  const client = localDynamoClient();
  let tableName: string;

  beforeAll(async () => {
    tableName = await createTestTable('harness');
  });

  it('has the primary key, on-demand billing and the four GSIs with INCLUDE projections', async () => {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));

    expect(table?.TableStatus).toBe('ACTIVE');
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);

    const actual = (table?.GlobalSecondaryIndexes ?? [])
      .map((gsi) => ({
        name: gsi.IndexName,
        keySchema: gsi.KeySchema,
        projectionType: gsi.Projection?.ProjectionType,
        include: [...(gsi.Projection?.NonKeyAttributes ?? [])].sort(),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const expected = Object.values(INDEXES)
      .map((index) => ({
        name: index.name,
        keySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        projectionType: 'INCLUDE',
        include: [...index.include].sort(),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));

    expect(actual).toHaveLength(4);
    expect(actual).toEqual(expected);
    expect(actual.map((index) => index.name)).toEqual(['gsi1', 'gsi2', 'gsi3', 'gsi4']);
  });

  it('has TTL enabled on the declared attribute', async () => {
    const { TimeToLiveDescription: ttl } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(ttl).toEqual({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
  });

  it('answers a Query through gsi1 with only the projected attributes', async () => {
    const item = {
      pk: { S: 'COMPLAINT#01J0000000000000000000000A' },
      sk: { S: 'META' },
      gsi1pk: { S: 'DEPT#billing#OPEN' },
      gsi1sk: { S: '2026-01-05T09:00:00Z#01J0000000000000000000000A' },
      number: { S: 'C-2026-000001' },
      status: { S: 'OPEN' },
      description: { S: 'not projected into gsi1' },
    };
    await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...item, pk: { S: 'COMPLAINT#other' }, gsi1pk: { S: 'DEPT#billing#CLOSED' } },
      }),
    );

    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEXES.byDepartment.name,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :day)',
        ExpressionAttributeNames: { '#pk': 'gsi1pk', '#sk': 'gsi1sk' },
        ExpressionAttributeValues: { ':pk': { S: 'DEPT#billing#OPEN' }, ':day': { S: '2026-01-05' } },
      }),
    );

    expect(result.Items).toHaveLength(1);
    const { description: _notProjected, ...projected } = item;
    expect(result.Items?.[0]).toEqual(projected);
  });
});

describe('startDynamoDbLocal', () => {
  it('runs two independent instances on free ports and leaves no java process after stop()', async () => {
    const instances: DynamoDbLocalInstance[] = await Promise.all([
      startDynamoDbLocal({ port: 0 }),
      startDynamoDbLocal({ port: 0 }),
    ]);
    const [first, second] = instances;
    if (!first || !second) throw new Error('expected two instances');

    try {
      expect(first.port).not.toBe(second.port);
      expect(first.pid).not.toBe(second.pid);
      expect(first.endpoint).toBe(`http://127.0.0.1:${first.port}`);

      const clients = instances.map(
        (instance) =>
          new DynamoDBClient({
            endpoint: instance.endpoint,
            region: LOCAL_REGION,
            credentials: LOCAL_CREDENTIALS,
          }),
      );
      const [firstClient, secondClient] = clients;
      if (!firstClient || !secondClient) throw new Error('expected two clients');

      await firstClient.send(
        new CreateTableCommand({
          TableName: 'only-in-first',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      expect((await firstClient.send(new ListTablesCommand({}))).TableNames).toEqual(['only-in-first']);
      expect((await secondClient.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      for (const client of clients) client.destroy();

      expect(isProcessAlive(first.pid)).toBe(true);
      expect(isProcessAlive(second.pid)).toBe(true);
    } finally {
      await Promise.all(instances.map((instance) => instance.stop()));
    }

    expect(isProcessAlive(first.pid)).toBe(false);
    expect(isProcessAlive(second.pid)).toBe(false);
    // stop() is idempotent.
    await first.stop();
  });
});
