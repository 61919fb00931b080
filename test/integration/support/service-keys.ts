import { createHmac } from 'node:crypto';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

/** The stack's KMS HMAC key as a handler under test knows it (`SERVICE_KEY_ARN`). */
export const TEST_SERVICE_KEY_ARN =
  'arn:aws:kms:us-east-1:123456789012:key/0f0f0f0f-1111-2222-3333-444444444444';

/**
 * Answers KMS `GenerateMac` in-process, as KMS would for an HMAC_SHA_256 key holding `secret`, so a
 * handler's `KmsServiceKeys` derives real keys. Stands in until the local runtime serves KMS; set
 * `SERVICE_KEY_ARN` to {@link TEST_SERVICE_KEY_ARN} in the handler environment. Any other key id
 * is refused, as KMS would refuse a key the role may not use.
 */
export function answerGenerateMac(secret = 'integration-test-service-key') {
  const kms = mockClient(KMSClient);
  kms
    .on(GenerateMacCommand)
    .callsFake((input: { KeyId?: string; Message?: Uint8Array; MacAlgorithm?: string }) => {
      if (input.KeyId !== TEST_SERVICE_KEY_ARN || input.MacAlgorithm !== 'HMAC_SHA_256' || !input.Message) {
        throw Object.assign(new Error('Access denied or invalid key usage'), {
          name: 'InvalidKeyUsageException',
        });
      }
      return {
        KeyId: input.KeyId,
        MacAlgorithm: input.MacAlgorithm,
        Mac: new Uint8Array(createHmac('sha256', secret).update(input.Message).digest()),
      };
    });
  return kms;
}
