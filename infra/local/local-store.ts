import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_DEADLINE_SHARDS } from '../../shared/config';
import { DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import { createTableFromSchema, LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

/**
 * Creates the single table on a running DynamoDB Local and returns the store
 * adapter on it, configured as the deployed functions configure theirs. Used by
 * `npm start`'s demo and `npm run bench`.
 */
export async function createLocalStore(endpoint: string, tableName: string): Promise<DynamoDbComplaintStore> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await createTableFromSchema(client, tableName);
  return new DynamoDbComplaintStore(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    { tableName, deadlineShards: DEFAULT_DEADLINE_SHARDS },
  );
}
