import { timingSafeEqual } from 'node:crypto';
import { canonicalJson, type IdempotencyScope, scopeParts } from '../domain/idempotency';
import { hashToken, trackingTokenFor } from '../domain/identifiers';
import { keyedDigest, type ServiceKeys } from '../security/service-keys';

/** What an intake claim stores: a keyed digest as its key and a keyed fingerprint of the request. */
export interface IdempotencyClaim {
  /** Keyed digest of the scope's length-prefixed parts (the `IDEMP#` item's key). */
  key: string;
  /** Keyed digest of the canonical JSON of the request: reveals nothing of it, binds the key to it. */
  fingerprint: string;
}

/**
 * The claim of `request` in `scope`, with the service's idempotency key (see
 * `shared/domain/idempotency.ts`). The fingerprint is domain-separated from the key ("request" as
 * its first part), so neither can stand for the other.
 */
export async function idempotencyClaim(
  keys: ServiceKeys,
  scope: IdempotencyScope,
  request: unknown,
): Promise<IdempotencyClaim> {
  const key = await keys.key('idempotency');
  return {
    key: keyedDigest(key, ...scopeParts(scope)),
    fingerprint: keyedDigest(key, 'request', canonicalJson(request)),
  };
}

/** The stored key of a scope alone (a look-up before intake, e.g. by the history import). */
export async function idempotencyKeyOf(keys: ServiceKeys, scope: IdempotencyScope): Promise<string> {
  return keyedDigest(await keys.key('idempotency'), ...scopeParts(scope));
}

/** Whether a stored fingerprint is the one of this request (constant time; a missing one never is). */
export function sameRequest(stored: string | undefined, claim: IdempotencyClaim): boolean {
  if (stored === undefined) return false;
  const a = Buffer.from(stored);
  const b = Buffer.from(claim.fingerprint);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A complaint's tracking token and the hash the store keeps, derived with the service's key. */
export async function trackingTokenOf(
  keys: ServiceKeys,
  complaintId: string,
): Promise<{ token: string; hash: string }> {
  const token = trackingTokenFor(await keys.key('tracking-token'), complaintId);
  return { token, hash: hashToken(token) };
}
