import type { TestProject } from 'vitest/node';
import { LOCAL_REGION, startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { startKmsServer } from '../../infra/local/kms-server';
import { LOCAL_ACCOUNT_ID } from '../../infra/local/template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB Local shared by all integration test files, e.g. `http://127.0.0.1:41353`. */
    dynamoDbEndpoint: string;
    /** The local KMS endpoint, holding one HMAC key: the service key handler tests derive from. */
    kmsEndpoint: string;
    /** ARN of that HMAC_256 key (what `SERVICE_KEY_ARN` is in a deployment). */
    serviceKeyArn: string;
  }
}

/**
 * One in-memory DynamoDB Local per run (each test file creates its own uniquely named table in it),
 * and one local KMS endpoint with the service's HMAC key, so handlers derive their keys the real way.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamoDb, kms] = await Promise.all([
    startDynamoDbLocal({ port: 0 }),
    startKmsServer({ region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID }),
  ]);
  const serviceKey = kms.addKey({
    keySpec: 'HMAC_256',
    keyUsage: 'GENERATE_VERIFY_MAC',
    description: 'integration tests: service key',
  });
  project.provide('dynamoDbEndpoint', dynamoDb.endpoint);
  project.provide('kmsEndpoint', kms.endpoint);
  project.provide('serviceKeyArn', serviceKey.arn);
  return async () => {
    await Promise.all([dynamoDb.stop(), kms.close()]);
  };
}
