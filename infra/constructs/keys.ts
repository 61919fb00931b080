import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The service's own secret: one KMS HMAC key (HMAC_256, GENERATE_VERIFY_MAC) from which the functions
 * derive their keys — tracking tokens, sealed cursors, idempotency fingerprints — with `GenerateMac`
 * (`shared/security/service-keys.ts`). The key material never leaves KMS; a function may derive only
 * when granted `kms:GenerateMac` on this key (`ComplaintFunction.useServiceKey`).
 *
 * Not rotated: KMS does not rotate HMAC keys automatically (automatic rotation exists for symmetric
 * encryption keys only), and every derived key — hence every tracking token handed to a customer — is
 * a function of this key's material; a new key would invalidate them all. Re-keying is done by
 * version: `derivationMessage` carries `/v1`, so a purpose can move to a new key deliberately.
 *
 * `RETAIN`: deleting the stack must not destroy the key that every outstanding tracking token and
 * stored idempotency claim depends on (as the table is retained, so is its key).
 */
export class Keys extends Construct {
  readonly serviceKey: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.serviceKey = new kms.Key(this, 'ServiceKey', {
      description: 'Complaint service: root of the service keys (tracking tokens, cursors, idempotency)',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      enableKeyRotation: false,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
