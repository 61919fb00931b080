import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../shared/domain/reporting/facts';
import { implausibility, vocabularyOf } from '../../shared/domain/reporting/plausibility';
import { defaultPolicy } from '../support/fixtures';

const vocabulary = vocabularyOf(defaultPolicy);
const complaint = { receivedAt: '2026-11-24T02:00:00.000Z' };
const now = new Date('2026-11-26T02:00:00.000Z');

const event = (detailType: string, data: Record<string, unknown>, occurredAt = '2026-11-24T03:00:00Z') =>
  ({
    detailType,
    detail: { metadata: { eventId: `e-${detailType}`, occurredAt }, data: { complaintId: 'c1', ...data } },
  }) as LifecycleEvent;
const check = (e: LifecycleEvent) => implausibility(e, complaint, vocabulary, now);

describe('report plausibility: survey scores', () => {
  it.each([1, 3, 5])('counts a score of %s', (score) => {
    expect(check(event('Survey Answered', { score }))).toBeUndefined();
  });

  it.each([0, 6, 1_000_000, -1, 2.5, '5', null, undefined])('refuses a score of %s, naming it', (score) => {
    expect(check(event('Survey Answered', { score }))).toMatch(
      /survey score .* is not an integer from 1 to 5/,
    );
  });
});

describe('report plausibility: values the policy knows', () => {
  it('counts the policy channel, category, severity and department', () => {
    expect(
      check(
        event(
          'Complaint Received',
          { receivedAt: complaint.receivedAt, channel: 'app' },
          complaint.receivedAt,
        ),
      ),
    ).toBeUndefined();
    expect(
      check(event('Complaint Classified', { category: 'billing_dispute', severity: 'urgent' })),
    ).toBeUndefined();
    expect(check(event('Complaint Assigned', { leadDepartment: 'billing' }))).toBeUndefined();
    expect(check(event('Complaint Reclassified', { severity: 'major' }))).toBeUndefined();
  });

  it('refuses an unknown channel, category, severity or department', () => {
    expect(
      check(event('Complaint Received', { receivedAt: complaint.receivedAt, channel: 'carrier-pigeon' })),
    ).toMatch(/channel "carrier-pigeon" is not known to the policy/);
    expect(check(event('Complaint Classified', { category: 'made_up', severity: 'urgent' }))).toMatch(
      /category "made_up"/,
    );
    expect(
      check(event('Complaint Classified', { category: 'billing_dispute', severity: 'apocalyptic' })),
    ).toMatch(/severity "apocalyptic"/);
    expect(check(event('Complaint Classified', { severity: 'urgent' }))).toMatch(/category undefined/);
    expect(check(event('Complaint Assigned', { leadDepartment: 'nowhere' }))).toMatch(
      /leadDepartment "nowhere"/,
    );
    expect(check(event('Complaint Reassigned', { leadDepartment: 'nowhere' }))).toMatch(/leadDepartment/);
  });

  it('refuses an unknown SLA clock and an escalation level out of range', () => {
    expect(check(event('Complaint SLA Breached', { clock: 'resolution' }))).toBeUndefined();
    expect(check(event('Complaint SLA Breached', { clock: 'lunch' }))).toMatch(/clock "lunch"/);
    expect(check(event('Complaint Escalated', { level: 2 }))).toBeUndefined();
    expect(check(event('Complaint Escalated', { level: 0 }))).toMatch(/escalation level 0/);
    expect(check(event('Complaint Escalated', { level: 999 }))).toMatch(/escalation level 999/);
  });
});

describe('report plausibility: times', () => {
  it('refuses an event from before the complaint was received, beyond the clock skew', () => {
    expect(check(event('Complaint Resolved', {}, '2026-11-24T01:58:00Z'))).toBeUndefined();
    expect(check(event('Complaint Resolved', {}, '2026-11-23T02:00:00Z'))).toMatch(
      /occurredAt 2026-11-23T02:00:00Z is before the complaint was received/,
    );
  });

  it('refuses an event from the future, beyond the clock skew', () => {
    expect(check(event('Complaint Closed', {}, '2026-11-26T02:04:00Z'))).toBeUndefined();
    expect(check(event('Complaint Closed', {}, '2026-12-26T02:00:00Z'))).toMatch(/is in the future/);
  });

  it('refuses a Complaint Received whose receipt time is not the stored one (it would move the day counts)', () => {
    expect(
      check(
        event(
          'Complaint Received',
          { receivedAt: '2026-11-25T09:00:00Z', channel: 'app' },
          '2026-11-25T09:00:00Z',
        ),
      ),
    ).toMatch(/receivedAt 2026-11-25T09:00:00Z is not the stored receipt time/);
  });

  it('refuses a time that is not a timestamp', () => {
    expect(check(event('Complaint Closed', {}, 'yesterday'))).toMatch(/occurredAt is not a timestamp/);
  });

  it('lets other detail-types through once their time is plausible', () => {
    expect(check(event('Complaint Acknowledged', {}))).toBeUndefined();
  });
});
