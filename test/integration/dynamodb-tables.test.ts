import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createTableFromTemplate,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  TableMismatchError,
  type TemplateTableProperties,
} from '../../infra/local/dynamodb-local';

/**
 * Tables from a template on a DynamoDB Local that may already hold them (the runtime's persisted
 * state): a matching table is kept, a different one is refused with a message naming it.
 */

const client = new DynamoDBClient({
  endpoint: inject('dynamoDbEndpoint'),
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
});
afterAll(() => client.destroy());

const declared = (sortKey: string, index = 'byStatus'): TemplateTableProperties => ({
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: sortKey, AttributeType: 'S' },
    { AttributeName: 'status', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: sortKey, KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: index,
      KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
});

describe('createTableFromTemplate on existing tables', () => {
  it('creates a table once, then keeps it when it matches', async () => {
    const name = `kept-${Date.now()}`;
    expect(await createTableFromTemplate(client, name, declared('sk'))).toBe(true);
    expect(await createTableFromTemplate(client, name, declared('sk'))).toBe(false);
  });

  it('refuses a table whose keys or indexes differ, naming it and --fresh', async () => {
    const name = `changed-${Date.now()}`;
    await createTableFromTemplate(client, name, declared('sk'));
    const keys = createTableFromTemplate(client, name, declared('sortKey'));
    await expect(keys).rejects.toBeInstanceOf(TableMismatchError);
    await expect(keys).rejects.toThrow(
      `Table ${name} in the persisted state does not match the template (key schema is [pk HASH, sk RANGE], expected [pk HASH, sortKey RANGE]); start with fresh state (npm start -- --fresh) to discard it`,
    );
    await expect(createTableFromTemplate(client, name, declared('sk', 'byState'))).rejects.toThrow(
      /index byState is missing/,
    );
  });
});
