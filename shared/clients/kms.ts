import { KMSClient } from '@aws-sdk/client-kms';
import type { RuntimeConfig } from '../config';
import { KmsServiceKeys, type ServiceKeys } from '../security/service-keys';
import { clientConfig } from './config';

/**
 * The service's own keys derived from the stack's KMS HMAC key (once per cold start), for the
 * functions the stack lets derive them (`ComplaintFunction.useServiceKey`): their handlers pass this
 * to `createRuntime`, the others never load the KMS client. Needs `SERVICE_KEY_ARN`.
 */
export function newKmsClient(): KMSClient {
  return new KMSClient(clientConfig());
}

export function kmsServiceKeys(config: RuntimeConfig): ServiceKeys | undefined {
  if (config.SERVICE_KEY_ARN === undefined) return undefined;
  return new KmsServiceKeys(newKmsClient(), config.SERVICE_KEY_ARN);
}
