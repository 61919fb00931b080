import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createTableFromSchema, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/dynamodb-local';

let sharedClient: DynamoDBClient | undefined;

/** A DynamoDB client for the DynamoDB Local started by the integration global setup. */
export function localDynamoClient(): DynamoDBClient {
  sharedClient ??= new DynamoDBClient({
    endpoint: inject('dynamoDbEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  return sharedClient;
}

/**
 * Creates a fresh table with the production schema under a unique name and
 * returns that name, so test files can run in parallel against one DynamoDB Local.
 */
export async function createTestTable(prefix = 'test'): Promise<string> {
  const tableName = `${prefix}-${randomUUID()}`;
  await createTableFromSchema(localDynamoClient(), tableName);
  return tableName;
}
