import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  COMPLAINT_NUMBER_PATTERN,
  customerKey,
  customerKeysFor,
  deadlineShard,
  hashToken,
  newComplaintId,
  newComplaintNumber,
  trackingTokenFor,
} from '../../shared/domain/identifiers';

describe('identifiers', () => {
  it('numbers complaints by the business-zone date, readable and unambiguous', () => {
    // 2026-11-24T17:00Z is already the 25th in Shanghai.
    const number = newComplaintNumber(new Date('2026-11-24T17:00:00Z'), 'Asia/Shanghai', () =>
      Buffer.from([0, 1, 31, 32, 33, 255]),
    );
    expect(number).toBe('C20261125-01Z01Z');
    expect(number).toMatch(COMPLAINT_NUMBER_PATTERN);
    expect(newComplaintNumber(new Date('2026-11-24T17:00:00Z'), 'Europe/London')).toMatch(/^C20261124-/);
  });

  it('gives distinct numbers and sortable ids', () => {
    const numbers = new Set(
      Array.from({ length: 2000 }, () => newComplaintNumber(new Date(), 'Asia/Shanghai')),
    );
    expect(numbers.size).toBe(2000);
    const a = newComplaintId(new Date('2026-01-01T00:00:00Z'));
    const b = newComplaintId(new Date('2026-01-02T00:00:00Z'));
    expect(a < b).toBe(true);
  });

  it('derives tracking tokens from the complaint id with the key (128 bits), and stores only their hash', () => {
    const key = Buffer.alloc(32, 7);
    const id = newComplaintId(new Date('2026-01-01T00:00:00Z'));
    const token = trackingTokenFor(key, id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(16);
    // Deterministic: a retry re-derives the same token; another id or another key gives another.
    expect(trackingTokenFor(key, id)).toBe(token);
    expect(trackingTokenFor(key, newComplaintId())).not.toBe(token);
    expect(trackingTokenFor(Buffer.alloc(32, 8), id)).not.toBe(token);
    // HMAC-SHA-256(key, id) truncated: a known answer, so the derivation cannot drift unnoticed.
    expect(token).toBe(createHmac('sha256', key).update(id).digest().subarray(0, 16).toString('base64url'));
    expect(() => trackingTokenFor(Buffer.alloc(16), id)).toThrow(/32 bytes/);
    expect(hashToken(token)).not.toContain(token);
    expect(hashToken(token)).toBe(hashToken(token));
  });

  it('keeps anonymous claims of a customer id in a namespace of their own; customerKeysFor lists both', () => {
    expect(customerKey('cust-x', 'anonymous')).not.toBe(customerKey('cust-x', 'verified'));
    // The verified key is the key used before namespaces existed: stored index entries stay valid.
    expect(customerKey('cust-x', 'verified')).toBe(customerKey('cust-x'));
    expect(customerKeysFor('cust-x')).toEqual([
      customerKey('cust-x', 'verified'),
      customerKey('cust-x', 'anonymous'),
    ]);
    expect(customerKey('cust-x', 'anonymous')).not.toContain('cust-x');
  });

  it('keys customers pseudonymously and spreads deadlines over shards', () => {
    expect(customerKey('alice@example.com')).not.toContain('alice');
    expect(customerKey('a')).not.toBe(customerKey('b'));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[deadlineShard(newComplaintId(), 8)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
