import { describe, expect, it } from 'vitest';
import {
  CURSOR_TTL_SECONDS,
  CURSOR_VERSION,
  openCursor,
  SealedCursorError,
  sealCursor,
} from '../../shared/security/sealed-cursor';
import { StaticServiceKeys } from '../../shared/security/service-keys';

const keys = new StaticServiceKeys('sealed-cursor-unit-test');
const otherKeys = new StaticServiceKeys('another-deployment-secret');
const NOW = new Date('2026-11-24T02:00:00.000Z');
const binding = {
  principal: '["cs_wang","agent","customer_service"]',
  query: '[null,null,["assigned"],false]',
};
const payload = { a: '2026-11-25T02:00:00.000Z#01KAVXJ4Q3M4Z4S1B8Y6ZP1Q2R' };

const rejection = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof SealedCursorError) return error.rejection;
    throw error;
  }
};

describe('sealed cursors', () => {
  it('opens for the same key, principal and query, and returns the payload', async () => {
    const key = await keys.key('cursor');
    const cursor = sealCursor(key, binding, payload, NOW);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(openCursor(key, binding, cursor, NOW)).toEqual(payload);
  });

  it('reveals nothing of the payload: no id, date or readable text in the bytes, and two seals differ', async () => {
    const key = await keys.key('cursor');
    const a = sealCursor(key, binding, payload, NOW);
    const b = sealCursor(key, binding, payload, NOW);
    expect(a).not.toBe(b);
    for (const cursor of [a, b]) {
      const bytes = Buffer.from(cursor, 'base64url');
      expect(bytes[0]).toBe(CURSOR_VERSION);
      for (const encoding of ['utf8', 'latin1', 'hex', 'base64'] as const) {
        const text = bytes.toString(encoding);
        for (const secret of ['01KAVXJ4Q3M4Z4S1B8Y6ZP1Q2R', '2026-11', 'cs_wang', 'assigned', '"a"']) {
          expect(text).not.toContain(secret);
        }
      }
    }
  });

  it('refuses every single flipped bit (version, nonce, ciphertext, tag)', async () => {
    const key = await keys.key('cursor');
    const bytes = Buffer.from(sealCursor(key, binding, payload, NOW), 'base64url');
    const outcomes = new Set<string | undefined>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const outcome = rejection(() => openCursor(key, binding, flipped.toString('base64url'), NOW));
      expect(outcome, `bit ${bit}`).toBeDefined();
      outcomes.add(outcome);
    }
    // The version byte says so; anything else fails the tag.
    expect(outcomes).toEqual(new Set(['unsupported-version', 'not-valid']));
  });

  it('refuses a cursor of another principal, another query, or another key', async () => {
    const key = await keys.key('cursor');
    const cursor = sealCursor(key, binding, payload, NOW);
    expect(
      rejection(() =>
        openCursor(key, { ...binding, principal: '["cs_li","agent","customer_service"]' }, cursor, NOW),
      ),
    ).toBe('not-valid');
    expect(
      rejection(() =>
        openCursor(key, { ...binding, query: '[null,null,["in_progress"],false]' }, cursor, NOW),
      ),
    ).toBe('not-valid');
    // Length-prefixed: moving a character from the principal to the query is another binding.
    expect(
      rejection(() =>
        openCursor(
          key,
          { principal: binding.principal.slice(0, -1), query: `]${binding.query}` },
          cursor,
          NOW,
        ),
      ),
    ).toBe('not-valid');
    const foreignKey = await otherKeys.key('cursor');
    expect(rejection(() => openCursor(foreignKey, binding, cursor, NOW))).toBe('not-valid');
    // Another purpose's key of the same deployment does not open it either.
    const idempotencyKey = await keys.key('idempotency');
    expect(rejection(() => openCursor(idempotencyKey, binding, cursor, NOW))).toBe('not-valid');
  });

  it('expires after its time to live, not before', async () => {
    const key = await keys.key('cursor');
    const cursor = sealCursor(key, binding, payload, NOW);
    const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    expect(openCursor(key, binding, cursor, later(CURSOR_TTL_SECONDS - 1))).toEqual(payload);
    expect(rejection(() => openCursor(key, binding, cursor, later(CURSOR_TTL_SECONDS)))).toBe('expired');
    const short = sealCursor(key, binding, payload, NOW, 60);
    expect(rejection(() => openCursor(key, binding, short, later(61)))).toBe('expired');
  });

  it('refuses garbage and hand-built cursors as malformed or unsupported, before any decryption', async () => {
    const key = await keys.key('cursor');
    const rawStoreKey = Buffer.from(
      JSON.stringify({ pk: 'C#01KAVXJ4Q3M4Z4S1B8Y6ZP1Q2R', sk: 'META', gsi1pk: 'DEPT#billing#assigned' }),
    ).toString('base64url');
    const cases: Array<[string, string]> = [
      ['', 'malformed'],
      ['garbage!', 'malformed'],
      ['abc', 'malformed'],
      ['a'.repeat(4000), 'unsupported-version'],
      [rawStoreKey, 'unsupported-version'],
      [Buffer.alloc(40, 0).toString('base64url'), 'unsupported-version'],
    ];
    for (const [cursor, expected] of cases) {
      expect(
        rejection(() => openCursor(key, binding, cursor, NOW)),
        cursor.slice(0, 20),
      ).toBe(expected);
    }
    // A version byte that fits, followed by anything: the tag check refuses it.
    const forged = Buffer.concat([Buffer.of(CURSOR_VERSION), Buffer.alloc(60, 7)]).toString('base64url');
    expect(rejection(() => openCursor(key, binding, forged, NOW))).toBe('not-valid');
    // A non-canonical spelling of a real cursor (padding) is not accepted as the same cursor.
    const cursor = sealCursor(key, binding, payload, NOW);
    expect(rejection(() => openCursor(key, binding, `${cursor}=`, NOW))).toBe('malformed');
  });

  it('gives reasons that are safe to show and name no contents', () => {
    for (const r of ['malformed', 'unsupported-version', 'not-valid', 'expired'] as const) {
      const error = new SealedCursorError(r);
      expect(error.reason).toMatch(/start again without it$/);
      expect(error.reason).not.toMatch(/01K|DEPT|#/);
    }
  });

  it('accepts only 32-byte keys', () => {
    expect(() => sealCursor(Buffer.alloc(16), binding, payload, NOW)).toThrow(RangeError);
    expect(() => openCursor(Buffer.alloc(31), binding, 'AQ', NOW)).toThrow(RangeError);
  });
});
