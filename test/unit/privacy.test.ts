import { describe, expect, it } from 'vitest';
import type { Principal } from '../../shared/auth/principal';
import { ComplaintSchema } from '../../shared/domain/complaint';
import {
  ERASED_FINGERPRINT,
  ERASED_TEXT,
  ErasureRequestSchema,
  erasedCustomerId,
  isDueForRetention,
  redactComplaint,
  redactTimelineEntry,
  retentionCutoff,
} from '../../shared/domain/privacy';
import { mayErase } from '../../shared/services/privacy';
import { complaintItem, RETENTION_PARTITION_PREFIX } from '../../shared/storage/dynamodb-store';
import { complaintRecord } from '../support/fixtures';

const personal = complaintRecord({
  status: 'closed',
  submission: {
    channel: 'app',
    customer: { id: 'cust-77', tier: 'vip', language: 'zh', contactRef: 'crm-contact-77' },
    title: '扣费问题',
    description: '我的手机号13800138000被重复扣费',
    demand: '退款',
    scenario: '续费页面',
    target: { type: 'order', ref: 'ORDER-9' },
    evidence: [{ kind: 'screenshot', ref: 'https://evidence.example.com/77.png' }],
    amount: 800,
    affectedUsers: 1,
  },
  classification: {
    category: 'billing_dispute',
    severity: 'important',
    priority: 2,
    validity: 'valid',
    duplicateOf: '01KDUPLICATE00000000000000',
    duplicateOfNumber: 'C20261120-ABCDEF',
    repeat: { isRepeat: true, previous: ['01KPREVIOUS000000000000000'] },
    severityRules: [],
    matchedKeywords: ['扣费'],
    language: 'zh',
    classifiedAt: '2026-11-24T02:01:00.000Z',
  },
  proposal: {
    solution: '退还给张三',
    proposedBy: 'cs_wang',
    proposedAt: '2026-11-24T03:00:00.000Z',
    needsApproval: true,
    approval: { decision: 'approved', by: 'sup', at: '2026-11-24T03:10:00.000Z', note: '张三是老客户' },
  },
  resolution: {
    rootCause: '张三的订单重复',
    solution: '退款',
    resolvedBy: 'cs_wang',
    resolvedAt: '2026-11-24T04:00:00.000Z',
  },
  survey: {
    sendAt: '2026-11-25T04:00:00.000Z',
    score: 4,
    comment: '张三很满意',
    answeredAt: '2026-11-25T05:00:00.000Z',
  },
  trackingTokenHash: 'hash-of-the-token',
  updatedAt: '2026-11-25T05:00:00.000Z',
});
const PERSONAL = [
  'cust-77',
  'crm-contact-77',
  '扣费问题',
  '13800138000',
  '退款',
  '续费页面',
  'ORDER-9',
  'evidence.example.com',
  '张三',
  'hash-of-the-token',
  '01KDUPLICATE',
  'C20261120-ABCDEF',
  '01KPREVIOUS',
];
const erasure = {
  erasureId: '01KERASURE0000000000000000',
  at: '2026-12-01T00:00:00.000Z',
  pseudonym: 'erased:abc',
};

describe('redactComplaint', () => {
  const redacted = redactComplaint(personal, erasure);

  it('removes every personal value and keeps a valid record', () => {
    const text = JSON.stringify(redacted);
    for (const value of PERSONAL) expect(text, value).not.toContain(value);
    expect(ComplaintSchema.parse(redacted)).toEqual(redacted);
    expect(redacted.submission).toMatchObject({ description: ERASED_TEXT, evidence: [] });
    expect(redacted.submission.customer.id).toBe('erased:abc');
    expect(redacted.fingerprint).toBe(ERASED_FINGERPRINT);
    expect(redacted.erasure).toEqual({ erasureId: erasure.erasureId, erasedAt: erasure.at });
  });

  it('keeps what the anonymous figures read: channel, tier, category, severity, times, score, amount', () => {
    expect(redacted).toMatchObject({
      id: personal.id,
      status: 'closed',
      tier: personal.tier,
      receivedAt: personal.receivedAt,
      survey: { score: 4 },
      submission: { channel: 'app', amount: 800, customer: { tier: 'vip', language: 'zh' } },
      classification: {
        category: 'billing_dispute',
        severity: 'important',
        repeat: { isRepeat: true, previous: [] },
      },
    });
  });

  it('is idempotent: an erased record is returned as it is', () => {
    expect(redactComplaint(redacted, { ...erasure, pseudonym: 'erased:other' })).toBe(redacted);
  });

  it('takes an erased complaint out of the customer index and the retention index', () => {
    const before = complaintItem(personal, 4);
    expect(before.gsi3pk).toMatch(/^CUST#/);
    expect(String(before.gsi4pk)).toMatch(new RegExp(`^${RETENTION_PARTITION_PREFIX}[0-3]$`));
    expect(before.gsi4sk).toBe(`${personal.updatedAt}#${personal.id}`);
    const after = complaintItem({ ...redacted, version: redacted.version + 1 }, 4);
    expect(after.gsi3pk).toBeUndefined();
    expect(after.gsi3sk).toBeUndefined();
    expect(after.gsi4pk).toBeUndefined();
  });

  it('puts only closed or rejected complaints in the retention index, never open ones', () => {
    expect(complaintItem({ ...personal, status: 'rejected' }, 4).gsi4pk).toMatch(/^ERASE#/);
    expect(complaintItem({ ...personal, status: 'in_progress' }, 4).gsi4pk ?? '').not.toMatch(/^ERASE#/);
    expect(complaintItem({ ...personal, status: 'resolved' }, 4).gsi4pk ?? '').not.toMatch(/^ERASE#/);
  });
});

describe('redactTimelineEntry', () => {
  it('drops the data and a quoted caller value, keeps type, time, actor and the line', () => {
    const entry = {
      at: '2026-11-24T02:00:00.000Z',
      type: 'received',
      actor: 'system:intake',
      summary: 'Received via app (unknown tier "张三的VIP", using "standard")',
      data: { channel: 'app', message: '我的电话13800138000' },
    };
    const redacted = redactTimelineEntry(entry);
    expect(redacted).toEqual({
      at: entry.at,
      type: 'received',
      actor: 'system:intake',
      summary: `Received via app (unknown tier "${ERASED_TEXT}", using "${ERASED_TEXT}")`,
    });
    expect(redactTimelineEntry(redacted as never)).toBeUndefined();
  });

  it('leaves an entry without data or quotes alone (nothing to rewrite)', () => {
    expect(
      redactTimelineEntry({ at: 'x', type: 'closed', actor: 'customer', summary: 'Closed' }),
    ).toBeUndefined();
  });
});

describe('retention', () => {
  it('is due only when closed or rejected at or before the cutoff, and not erased yet', () => {
    const cutoff = retentionCutoff(new Date('2027-11-26T00:00:00.000Z'), 365);
    expect(cutoff).toBe('2026-11-26T00:00:00.000Z');
    expect(isDueForRetention(personal, cutoff)).toBe(true);
    expect(isDueForRetention({ ...personal, updatedAt: '2026-11-26T00:00:00.001Z' }, cutoff)).toBe(false);
    expect(isDueForRetention({ ...personal, status: 'reopened' }, cutoff)).toBe(false);
    expect(isDueForRetention({ ...personal, status: 'rejected' }, cutoff)).toBe(true);
    expect(isDueForRetention(redactComplaint(personal, erasure), cutoff)).toBe(false);
  });
});

describe('erasure requests', () => {
  it('accepts a customer id and a reason category only', () => {
    expect(ErasureRequestSchema.safeParse({ customerId: 'c', reason: 'customer_request' }).success).toBe(
      true,
    );
    expect(ErasureRequestSchema.safeParse({ customerId: 'c', reason: 'free text' }).success).toBe(false);
    expect(ErasureRequestSchema.safeParse({ customerId: 'c', reason: 'retention' }).success).toBe(false);
    expect(ErasureRequestSchema.safeParse({ customerId: '', reason: 'other' }).success).toBe(false);
    expect(ErasureRequestSchema.safeParse({ customerId: 'c', reason: 'other', name: '张三' }).success).toBe(
      false,
    );
  });

  it('lets admins only erase', () => {
    const roles: Principal[] = [
      { id: 'a', role: 'agent', department: 'billing' },
      { id: 's', role: 'supervisor', department: 'billing' },
      { id: 'x', role: 'admin' },
    ];
    expect(roles.map(mayErase)).toEqual([false, false, true]);
  });

  it('gives every erased customer id a fresh pseudonym', () => {
    const a = erasedCustomerId();
    expect(a).toMatch(/^erased:[A-Za-z0-9_-]{22}$/);
    expect(erasedCustomerId()).not.toBe(a);
  });
});
