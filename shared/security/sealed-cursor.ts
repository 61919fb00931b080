import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Sealed pagination cursors: what a caller gets back to fetch the next page, opaque and
 * integrity-protected, so it reveals nothing of the store (no ids, statuses, due times, keys)
 * and cannot be forged, altered or used by another caller or for another query.
 *
 * A cursor is `base64url(version ‖ nonce ‖ ciphertext ‖ tag)`, sealed with AES-256-GCM under the
 * service's `cursor` key (`ServiceKeys`, derived from the stack's KMS key). The plaintext is the
 * payload with its expiry; the binding — who asked (the principal) and what they asked (the query)
 * — is not stored in the cursor but authenticated as associated data, so a cursor opens only for
 * the same principal with the same query, and any changed bit fails the tag check. The nonce is
 * random (96 bits); NIST SP 800-38D bounds one key to 2³² such seals, which at ten pages a second
 * lasts over thirteen years (re-key by bumping the derivation message's version before then).
 *
 * Pure given a key and a clock: no I/O, no AWS imports.
 */

/** Format version; a cursor of another version is refused (start again without it). */
export const CURSOR_VERSION = 1;
/** How long a cursor stays valid: a caller pages through a queue within a working day. */
export const CURSOR_TTL_SECONDS = 24 * 3600;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1;
/** Domain separation: these bytes start the associated data of every cursor. */
const AAD_LABEL = 'complaint-service/cursor';

/** Who a cursor is for and what it pages through; both must be the same to open it. */
export interface CursorBinding {
  /** The caller, e.g. `agent:cs_wang` with role and department; any stable string. */
  readonly principal: string;
  /** A canonical description of the query (filters, not the page size). */
  readonly query: string;
}

/** Why a cursor was refused; each maps to a 400 naming the `cursor` field. */
export type CursorRejection = 'malformed' | 'unsupported-version' | 'not-valid' | 'expired';

const REASONS: Record<CursorRejection, string> = {
  malformed: 'is not a cursor issued by this service; start again without it',
  'unsupported-version': 'was issued by another version of the service; start again without it',
  'not-valid': 'was altered, or was issued to another caller or for another query; start again without it',
  expired: `has expired (a cursor is valid for ${CURSOR_TTL_SECONDS / 3600} hours); start again without it`,
};

/** A cursor that cannot be opened. `reason` is safe to show the caller: it reveals nothing of the contents. */
export class SealedCursorError extends Error {
  override name = 'SealedCursorError';
  readonly reason: string;
  constructor(readonly rejection: CursorRejection) {
    super(`Cursor refused: ${rejection}`);
    this.reason = REASONS[rejection];
  }
}

/** Length-prefixed parts, so ("ab","c") and ("a","bc") differ. */
function associatedData(version: number, binding: CursorBinding): Buffer {
  const parts = [AAD_LABEL, String(version), binding.principal, binding.query].map((p) =>
    Buffer.from(p, 'utf8'),
  );
  return Buffer.concat(
    parts.flatMap((bytes) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError('a cursor key has 32 bytes (AES-256)');
}

/**
 * Seals `payload` (any JSON value) for `binding`, valid for `ttlSeconds` from `now`.
 * Two seals of the same payload differ (random nonce), so equal positions are not linkable.
 */
export function sealCursor(
  key: Buffer,
  binding: CursorBinding,
  payload: unknown,
  now: Date,
  ttlSeconds: number = CURSOR_TTL_SECONDS,
): string {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(CURSOR_VERSION, binding));
  const expiresAt = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const plaintext = Buffer.from(JSON.stringify({ x: expiresAt, p: payload }), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(CURSOR_VERSION), nonce, ciphertext, cipher.getAuthTag()]).toString(
    'base64url',
  );
}

/**
 * Opens a cursor sealed by {@link sealCursor} for the same binding and returns its payload
 * (unvalidated JSON: parse it with the caller's schema). Throws {@link SealedCursorError}:
 * `malformed` (not base64url, too short), `unsupported-version`, `not-valid` (altered, another
 * key, another principal or query: the tag cannot tell these apart, and need not), `expired`.
 */
export function openCursor(key: Buffer, binding: CursorBinding, cursor: string, now: Date): unknown {
  checkKey(key);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new SealedCursorError('malformed');
  const bytes = Buffer.from(cursor, 'base64url');
  // Non-canonical encodings (trailing bits set) would give two spellings of one cursor.
  if (bytes.toString('base64url') !== cursor) throw new SealedCursorError('malformed');
  if (bytes.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES + 1) throw new SealedCursorError('malformed');
  const version = bytes[0];
  if (version !== CURSOR_VERSION) throw new SealedCursorError('unsupported-version');
  const nonce = bytes.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const ciphertext = bytes.subarray(HEADER_BYTES + NONCE_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(version, binding));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealedCursorError('not-valid');
  }
  // Authentic from here on: only this service could have written it.
  let envelope: unknown;
  try {
    envelope = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new SealedCursorError('not-valid');
  }
  const { x, p } = (envelope ?? {}) as { x?: unknown; p?: unknown };
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new SealedCursorError('not-valid');
  if (Math.floor(now.getTime() / 1000) >= x) throw new SealedCursorError('expired');
  return p;
}
