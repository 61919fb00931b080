import { describe, expect, it } from 'vitest';
import { CompensationInputSchema, CustomerReplySchema } from '../../shared/api/schemas';
import {
  COMPLAINT_ID_PATTERN,
  decimalPlaces,
  evidenceRefProblem,
  MoneyAmountSchema,
  minorUnitsOf,
  moneyDecimalsProblem,
  paramProblem,
  storableNumberProblem,
} from '../../shared/domain/bounds';
import type { Complaint } from '../../shared/domain/complaint';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { newComplaintId } from '../../shared/domain/identifiers';
import {
  admitCustomerReply,
  ComplaintCapError,
  characterCount,
  checkAgentAction,
  MessageTooLongError,
  ReplyRateLimitError,
} from '../../shared/domain/limits';
import { ComplaintReportedV1 } from '../../shared/events/schemas';
import { LimitsSchema } from '../../shared/policy/schema';

const limits = LimitsSchema.parse({});
const T0 = Date.parse('2026-11-24T02:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const record = (usage?: Complaint['usage']): Complaint => ({ id: 'c1', usage }) as Complaint;

describe('numbers the store can hold', () => {
  it('refuses what DynamoDB cannot store: non-finite, below 1e-130, 1e126 and above', () => {
    expect(storableNumberProblem(0)).toBeUndefined();
    expect(storableNumberProblem(1e-130)).toBeUndefined();
    expect(storableNumberProblem(9.99e125)).toBeUndefined();
    expect(storableNumberProblem(1e-200)).toMatch(/1e-130/);
    expect(storableNumberProblem(-1e-131)).toMatch(/1e-130/);
    expect(storableNumberProblem(1e126)).toMatch(/1e126/);
    expect(storableNumberProblem(Number.NaN)).toMatch(/finite/);
    expect(storableNumberProblem(Number.POSITIVE_INFINITY)).toMatch(/finite/);
  });

  it('counts decimals as JSON writes the number', () => {
    expect(decimalPlaces(12)).toBe(0);
    expect(decimalPlaces(12.5)).toBe(1);
    expect(decimalPlaces(0.1 + 0.2)).toBe(17);
    expect(decimalPlaces(1e-7)).toBe(7);
    expect(decimalPlaces(1.5e-7)).toBe(8);
    expect(decimalPlaces(1e21)).toBe(0);
  });

  it("limits money to its currency's minor unit", () => {
    expect(minorUnitsOf('CNY')).toBe(2);
    expect(minorUnitsOf('JPY')).toBe(0);
    expect(minorUnitsOf('KWD')).toBe(3);
    expect(moneyDecimalsProblem(12.34, 'CNY')).toBeUndefined();
    expect(moneyDecimalsProblem(12.345, 'CNY')).toBe('must have at most 2 decimal places for CNY');
    expect(moneyDecimalsProblem(100.5, 'JPY')).toBe('must have at most 0 decimal places for JPY');
  });

  it('refuses 1e-200, NaN-like values and 0.1+0.2 as an amount, in every schema that takes one from outside', () => {
    for (const amount of [1e-200, 0.1 + 0.2, 'NaN', Number.NaN, -1, 2e9]) {
      expect(MoneyAmountSchema.safeParse(amount).success, String(amount)).toBe(false);
    }
    const submission = { channel: 'web', customer: { id: 'c' }, description: 'x' };
    const refused = ComplaintSubmissionSchema.safeParse({ ...submission, amount: 1e-200 });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['amount', 'is too close to zero to be stored (below 1e-130)'],
    ]);
    expect(ComplaintSubmissionSchema.safeParse({ ...submission, amount: 12.5 }).success).toBe(true);
    const event = ComplaintReportedV1.safeParse({
      metadata: { version: 1, messageId: 'm-1' },
      data: { ...submission, amount: 1e-200 },
    });
    expect(event.success).toBe(false);
    const compensation = CompensationInputSchema.safeParse({ amount: 10.5, currency: 'JPY' });
    expect(compensation.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['amount', 'must have at most 0 decimal places for JPY'],
    ]);
    expect(CompensationInputSchema.safeParse({ amount: 1e-200 }).success).toBe(false);
  });
});

describe('evidence references', () => {
  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html;base64,PHNjcmlwdD4=',
    'file:///etc/passwd',
    'http://evidence.example.com/a.png',
    'vbscript:msgbox',
    '/etc/passwd',
    'evidence/../../secrets',
    's3://',
  ])('refuses %s', (ref) => {
    expect(evidenceRefProblem(ref)).toBeDefined();
    const parsed = ComplaintSubmissionSchema.safeParse({
      channel: 'web',
      customer: { id: 'c' },
      description: 'x',
      evidence: [{ kind: 'screenshot', ref }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['evidence', 0, 'ref']);
  });

  it.each([
    'https://evidence.example.com/c/123/shot.png',
    's3://complaint-evidence/c/123/shot.png',
    'c/123/shot.png',
  ])('accepts %s', (ref) => {
    expect(evidenceRefProblem(ref)).toBeUndefined();
  });

  it('names the scheme it refuses', () => {
    expect(evidenceRefProblem('javascript:alert(1)')).toBe(
      'the "javascript:" scheme is not allowed (use https: or s3://)',
    );
  });
});

describe('path parameters', () => {
  it('takes ULIDs as complaint ids and refuses a 3,000-character id with a short reason', () => {
    expect(COMPLAINT_ID_PATTERN.test(newComplaintId())).toBe(true);
    const problem = paramProblem('id', 'A'.repeat(3000), COMPLAINT_ID_PATTERN, 'must be a complaint id');
    expect(problem).toEqual({ field: 'id', reason: 'is too long (3000 characters); must be a complaint id' });
    expect(paramProblem('id', '01ARZ3NDEKTSV4RRFFQ69G5FA!', COMPLAINT_ID_PATTERN, 'bad')).toEqual({
      field: 'id',
      reason: 'bad',
    });
  });
});

describe('customer reply limits (pure)', () => {
  it('admits customerRepliesPerHour replies per rolling hour, then says when the next one is allowed', () => {
    let c = record();
    for (let i = 0; i < limits.customerRepliesPerHour; i++) {
      c = { ...c, usage: admitCustomerReply(limits, c, at(i * 60)) };
    }
    expect(c.usage?.customerReplies).toBe(limits.customerRepliesPerHour);
    const refused = (() => {
      try {
        admitCustomerReply(limits, c, at(limits.customerRepliesPerHour * 60));
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ReplyRateLimitError);
    // The first reply (at 0 s) leaves the window at 3,600 s.
    expect((refused as ReplyRateLimitError).retryAfterSeconds).toBe(
      3600 - limits.customerRepliesPerHour * 60,
    );
    // One second after the oldest left the window, one more is allowed.
    expect(admitCustomerReply(limits, c, at(3601)).customerReplies).toBe(limits.customerRepliesPerHour + 1);
  });

  it('refuses any reply past maxCustomerReplies with the cap named, whatever the hour', () => {
    const full = record({
      timelineEntries: 300,
      customerReplies: limits.maxCustomerReplies,
      recentReplies: [],
    });
    expect(() => admitCustomerReply(limits, full, at(0))).toThrow(ComplaintCapError);
    expect(() => admitCustomerReply(limits, full, at(0))).toThrow(/limits\.maxCustomerReplies/);
  });

  it('counts characters as code points and refuses agent texts over maxMessageChars or past maxTimelineEntries', () => {
    expect(characterCount('投诉😀')).toBe(3);
    expect(CustomerReplySchema.safeParse({ message: '😀'.repeat(10_000) }).success).toBe(true);
    const c = record({
      timelineEntries: limits.maxTimelineEntries - 1,
      customerReplies: 0,
      recentReplies: [],
    });
    expect(() => checkAgentAction(limits, c, { message: 'x'.repeat(limits.maxMessageChars) })).not.toThrow();
    expect(() => checkAgentAction(limits, c, { note: 'x'.repeat(limits.maxMessageChars + 1) })).toThrow(
      MessageTooLongError,
    );
    const full = record({
      timelineEntries: limits.maxTimelineEntries,
      customerReplies: 0,
      recentReplies: [],
    });
    expect(() => checkAgentAction(limits, full, { action: 'acknowledge' })).toThrow(/maxTimelineEntries/);
  });
});
