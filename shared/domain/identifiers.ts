import { createHash, createHmac, randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { ulid } from 'ulid';

/**
 * Identifiers. Complaint ids are ULIDs (sortable, collision-free). Complaint
 * numbers are what people read out on the phone: `C` + business-zone date + 6
 * Crockford base-32 characters (`C20261124-7KQ2MZ`). They are random, not a
 * counter, so no hot counter partition exists; uniqueness is enforced by a
 * conditional write of a number-claim item, and a collision (one in ~10⁹ per day)
 * is retried with a new number.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newComplaintId(now: Date = new Date()): string {
  return ulid(now.getTime());
}

export function newComplaintNumber(
  now: Date,
  timeZone: string,
  random: () => Buffer = () => randomBytes(6),
): string {
  const day = DateTime.fromJSDate(now, { zone: timeZone }).toFormat('yyyyLLdd');
  const bytes = random();
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += CROCKFORD[(bytes[i] ?? 0) % 32];
  return `C${day}-${suffix}`;
}

export const COMPLAINT_NUMBER_PATTERN = /^C\d{8}-[0-9A-HJKMNP-TV-Z]{6}$/;

/**
 * The customer tracking token of a complaint: base64url of the first 16 bytes (128 bits) of
 * HMAC-SHA-256(`key`, complaint id). It is derived, never stored: the store keeps only its hash
 * ({@link hashToken}), and an honest retry of the submission gets the same token back by deriving it
 * again. Unguessable without the service's tracking-token key (`shared/security/service-keys.ts`).
 */
export function trackingTokenFor(key: Buffer, complaintId: string): string {
  if (key.length < 32) throw new Error('a tracking-token key needs at least 32 bytes');
  return createHmac('sha256', key).update(complaintId, 'utf8').digest().subarray(0, 16).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Whose word a customer id is (#10, architecture "Trust boundaries"). `verified`: an authenticated
 * producer (an inbound event from the bus, a hotline agent's submission, the history import) named the
 * customer. `anonymous`: someone on the public `POST /complaints` typed it; it is a claim, so it is
 * kept apart and never merges with a known customer's history (repeat and duplicate detection).
 */
export const CUSTOMER_NAMESPACES = ['verified', 'anonymous'] as const;
export type CustomerNamespace = (typeof CUSTOMER_NAMESPACES)[number];

/**
 * Pseudonymous key for a customer in index keys: the raw customer id never
 * appears in a key (keys show up in metrics, logs and exports). Each namespace hashes with its own
 * prefix, so an anonymous claim of a verified customer's id lands in another partition. The verified
 * key is the one used before namespaces existed, so stored index entries stay valid.
 */
export function customerKey(customerId: string, namespace: CustomerNamespace = 'verified'): string {
  const domain = namespace === 'verified' ? 'customer' : 'anonymous-customer';
  return createHash('sha256').update(`${domain}:${customerId}`).digest('base64url').slice(0, 32);
}

/**
 * Every customer-index key a customer id may be stored under (erasure and look-ups must cover them
 * all): the verified key first, then the anonymous one.
 */
export function customerKeysFor(customerId: string): string[] {
  return CUSTOMER_NAMESPACES.map((namespace) => customerKey(customerId, namespace));
}

/** Shard of the open-deadline index for a complaint id (spreads writes over `shards` partitions). */
export function deadlineShard(complaintId: string, shards: number): number {
  const digest = createHash('sha256').update(complaintId).digest();
  return digest.readUInt32BE(0) % shards;
}
