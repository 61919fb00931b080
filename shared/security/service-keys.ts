import { createHmac, hkdfSync } from 'node:crypto';
import { GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ConfigurationError } from '../config';

/**
 * The service's own secrets, one 32-byte key per purpose, derived once per cold start.
 *
 * In a deployment the root secret is an HMAC key in AWS KMS (`SERVICE_KEY_ARN`, created by the
 * stack): each purpose's key is `GenerateMac(HMAC_SHA_256, "complaint-service/<purpose>/v1")`, so
 * the root never leaves KMS, only roles granted `kms:GenerateMac` on that one key can derive, and a
 * key is one KMS call per cold start (not per request). Tests and offline tools derive the same
 * shape of keys from a fixed secret ({@link StaticServiceKeys}).
 */
export const KEY_PURPOSES = [
  /** Customer tracking tokens are re-derived from the complaint id, never stored. */
  'tracking-token',
  /** Pagination cursors handed to callers are sealed (encrypted and authenticated). */
  'cursor',
  /** Idempotency fingerprints of requests are keyed, so a stored one reveals nothing of the body. */
  'idempotency',
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export interface ServiceKeys {
  /** The 32-byte key of one purpose (memoised). */
  key(purpose: KeyPurpose): Promise<Buffer>;
}

/** The message whose MAC is a purpose's key; versioned so a purpose can be re-keyed. */
export function derivationMessage(purpose: KeyPurpose): string {
  return `complaint-service/${purpose}/v1`;
}

/** Keys derived by AWS KMS from the stack's HMAC key (see the module comment). */
export class KmsServiceKeys implements ServiceKeys {
  private readonly cache = new Map<KeyPurpose, Promise<Buffer>>();

  constructor(
    private readonly kms: KMSClient,
    private readonly keyArn: string,
  ) {}

  key(purpose: KeyPurpose): Promise<Buffer> {
    let pending = this.cache.get(purpose);
    if (pending === undefined) {
      pending = this.derive(purpose);
      // A failed derivation (throttling, a network blip) is retried by the next call, not cached.
      pending.catch(() => this.cache.delete(purpose));
      this.cache.set(purpose, pending);
    }
    return pending;
  }

  private async derive(purpose: KeyPurpose): Promise<Buffer> {
    const result = await this.kms.send(
      new GenerateMacCommand({
        KeyId: this.keyArn,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: Buffer.from(derivationMessage(purpose), 'utf8'),
      }),
    );
    if (result.Mac === undefined || result.Mac.length < 32) {
      throw new Error(`KMS returned no usable MAC for the ${purpose} key`);
    }
    return Buffer.from(result.Mac);
  }
}

/**
 * Keys from a fixed secret (HKDF-SHA-256, one output per purpose): unit and integration tests, and
 * the benchmarks. Never used by a deployed function.
 */
export class StaticServiceKeys implements ServiceKeys {
  constructor(private readonly secret: string) {
    if (secret.length < 8) throw new Error('a static service secret needs at least 8 characters');
  }

  async key(purpose: KeyPurpose): Promise<Buffer> {
    return Buffer.from(hkdfSync('sha256', this.secret, 'complaint-service', derivationMessage(purpose), 32));
  }
}

/** Stands in when `SERVICE_KEY_ARN` is not set: any use is a configuration error, raised at first use. */
export class UnconfiguredServiceKeys implements ServiceKeys {
  async key(purpose: KeyPurpose): Promise<Buffer> {
    throw new ConfigurationError(`This function has no service key for "${purpose}": set SERVICE_KEY_ARN`);
  }
}

/** HMAC-SHA-256 of the parts (length-prefixed, so ("ab","c") and ("a","bc") differ), as base64url. */
export function keyedDigest(key: Buffer, ...parts: readonly string[]): string {
  const mac = createHmac('sha256', key);
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    mac.update(length).update(bytes);
  }
  return mac.digest('base64url');
}
