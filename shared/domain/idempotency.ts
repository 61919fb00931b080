/**
 * Idempotency of intake: who may claim which key, and what a claim is bound to.
 *
 * A claim is made in a *scope*: HTTP callers (the `Idempotency-Key` header), each event source (its
 * `metadata.messageId`) and each imported system (its external id) are apart, so an event whose
 * source is `api` cannot pre-claim an HTTP key and two producers' ids never collide. The stored key is
 * a keyed digest of the scope's parts, each length-prefixed (`keyedDigest`), so no character of an id
 * (`#` included) can make two scopes meet. A claim is bound to a fingerprint of the request: the same
 * key with another request is refused ({@link IdempotencyKeyReusedError}) and learns nothing of the
 * first one.
 *
 * Pure: the digests themselves are computed by `shared/services/idempotency.ts` with the service's key.
 */

export type IdempotencyScope =
  /** `POST /complaints` with an `Idempotency-Key` (or an automatic one when absent). */
  | { readonly kind: 'http'; readonly key: string }
  /** An inbound event: its source and the producer's message id. */
  | { readonly kind: 'event'; readonly source: string; readonly messageId: string }
  /** `POST /agent/complaints`: a hotline agent's own `Idempotency-Key` (each agent's keys apart). */
  | { readonly kind: 'agent'; readonly agentId: string; readonly key: string }
  /** The history import: the old system's name and its id of the complaint. */
  | { readonly kind: 'import'; readonly system: string; readonly externalId: string };

/** The parts whose keyed digest is the stored key; the first names the scope. */
export function scopeParts(scope: IdempotencyScope): string[] {
  switch (scope.kind) {
    case 'http':
      return ['http', scope.key];
    case 'event':
      return ['event', scope.source, scope.messageId];
    case 'agent':
      return ['agent', scope.agentId, scope.key];
    case 'import':
      return ['import', scope.system, scope.externalId];
  }
}

/** Whether claims of this scope expire (TTL); imports' never do, so a re-run never imports twice. */
export function claimExpires(scope: IdempotencyScope): boolean {
  return scope.kind !== 'import';
}

/**
 * Canonical JSON: object keys sorted (recursively), `undefined` members dropped, arrays in order.
 * Two requests that differ only in key order or in absent optional fields have the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The idempotency key was claimed by a different request. Carries nothing of the first request or
 * its complaint: the HTTP API answers 422 with the key's field and the reason, an inbound event goes
 * to the DLQ with it.
 */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
  constructor(readonly scope: IdempotencyScope['kind']) {
    super(
      scope === 'http'
        ? 'This Idempotency-Key was already used for a different request; use a new key for a new complaint'
        : scope === 'event'
          ? 'This message id of this source was already used for a different complaint'
          : 'This external id was already submitted with different content',
    );
  }
}
