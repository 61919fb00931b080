import { describe, expect, it } from 'vitest';
import type { Principal } from '../../shared/auth/principal';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import type { RecentComplaint } from '../../shared/domain/classification';
import type { Complaint } from '../../shared/domain/complaint';
import type { ComplaintStatus } from '../../shared/domain/lifecycle';
import { computeDeadlines } from '../../shared/domain/sla';
import {
  type ActionCommand,
  IllegalActionError,
  planAction,
  RequestValidationError,
} from '../../shared/services/actions';
import { complaintRecord, defaultPolicy as policy } from '../support/fixtures';

/**
 * The reclassify action as a pure plan (no store, no scheduler): classification and
 * priority, the timeline entry, the routing suggestion and the escalation event.
 * The clock rules themselves are tested with `reclassifyClocks` in clocks.test.ts.
 */

const calendar = new BusinessCalendar(policy.calendar);
const supervisor: Principal = { id: 'sup_cs', role: 'supervisor', department: 'customer_service' };
/** Tuesday 24 November 2026, 10:00 in Shanghai. */
const RECEIVED = '2026-11-24T02:00:00.000Z';
const later = (minutes: number) => new Date(Date.parse(RECEIVED) + minutes * 60_000);

function assigned(
  overrides: { category?: string; severity?: 'general' | 'important' | 'urgent' | 'major' } = {},
  extra: Partial<Complaint> = {},
): Complaint {
  const { category = 'other', severity = 'general' } = overrides;
  const tier = extra.tier ?? 'standard';
  return complaintRecord({
    id: '01KAVREC0000000000000000AA',
    status: 'assigned',
    receivedAt: RECEIVED,
    tier,
    classification: {
      category,
      severity,
      priority: 4,
      validity: 'valid',
      repeat: { isRepeat: false, previous: [] },
      severityRules: [],
      matchedKeywords: ['客服'],
      language: 'zh',
      classifiedAt: RECEIVED,
    },
    assignment: {
      leadDepartment: 'customer_service',
      collaborators: [],
      assignee: 'cs_wang',
      reason: 'routing rule',
      assignedAt: RECEIVED,
    },
    deadlines: computeDeadlines(policy, calendar, { category, severity, tier, from: new Date(RECEIVED) }),
    version: 3,
    ...extra,
  });
}

const reclassify = (body: Partial<Extract<ActionCommand, { action: 'reclassify' }>>): ActionCommand => ({
  action: 'reclassify',
  reason: 'Service outage affects many users',
  expectedVersion: 3,
  ...body,
});

const plan = (c: Complaint, command: ActionCommand, recent: RecentComplaint[] = [], minutes = 20) =>
  planAction(policy, calendar, supervisor, c, command, later(minutes), { recent });

describe('reclassify (planAction)', () => {
  it('changes category and severity, recomputes the priority and keeps the status', () => {
    const c = assigned();
    const p = plan(c, reclassify({ severity: 'major' }));
    expect(p.next.status).toBe('assigned');
    expect(p.next.classification).toMatchObject({ category: 'other', severity: 'major', priority: 1 });
    // The automatic classification's audit trail stays.
    expect(p.next.classification?.matchedKeywords).toEqual(['客服']);
    expect(p.next.deadlines.firstResponse?.dueAt).toBe(later(60).toISOString());
    expect(p.entry).toMatchObject({
      type: 'reclassified',
      data: {
        reason: 'Service outage affects many users',
        previous: { category: 'other', severity: 'general', priority: 4 },
        classification: { category: 'other', severity: 'major', priority: 1 },
        clocks: {
          firstResponse: {
            previousDueAt: c.deadlines.firstResponse?.dueAt,
            dueAt: later(60).toISOString(),
          },
        },
      },
    });
    expect(p.extras).toMatchObject({
      category: 'other',
      severity: 'major',
      priority: 1,
      previousClassification: { category: 'other', severity: 'general', priority: 4 },
    });
  });

  it.each([
    { tier: 'standard', severity: 'important', repeat: false, priority: 3 },
    { tier: 'vip', severity: 'important', repeat: false, priority: 2 },
    { tier: 'vip', severity: 'important', repeat: true, priority: 1 },
    { tier: 'vip', severity: 'urgent', repeat: true, priority: 1 },
  ] as const)('priority: base[$severity] − tier $tier − repeat $repeat → P$priority', (row) => {
    const c = assigned(
      {},
      {
        tier: row.tier,
        classification: {
          ...(assigned().classification as NonNullable<Complaint['classification']>),
          repeat: { isRepeat: row.repeat, previous: row.repeat ? ['earlier'] : [] },
        },
      },
    );
    expect(plan(c, reclassify({ severity: row.severity })).next.classification?.priority).toBe(row.priority);
  });

  it('decides the repeat status again for a new category, from the customer’s earlier complaints', () => {
    const c = assigned();
    const earlier: RecentComplaint = {
      id: '01KAV00000000000000000000B',
      number: 'C20261120-000001',
      category: 'billing_dispute',
      phase: 'ended',
      receivedAt: '2026-11-20T02:00:00.000Z',
      fingerprint: 'ffffffffffffffff',
    };
    const p = plan(c, reclassify({ category: 'billing_dispute', severity: 'important' }), [earlier]);
    expect(p.next.classification?.repeat).toEqual({ isRepeat: true, previous: [earlier.id] });
    expect(p.next.classification?.priority).toBe(2); // 3 − repeat boost 1
    expect(p.entry.data).toMatchObject({ repeatOf: [earlier.id] });
  });

  it('suggests the lead department the routing rules name, without moving the complaint', () => {
    const c = assigned();
    const p = plan(c, reclassify({ category: 'billing_dispute' }));
    expect(p.next.assignment).toEqual(c.assignment);
    expect(p.extras?.routingSuggestion).toMatchObject({
      leadDepartment: 'billing',
      collaborators: ['customer_service'],
    });
    expect(p.entry.data).toMatchObject({ routingSuggestion: { leadDepartment: 'billing' } });
    expect(p.entry.summary).toContain('billing');
    // Same department under the new category: no suggestion.
    expect(plan(c, reclassify({ category: 'service_quality' })).extras?.routingSuggestion).toBeUndefined();
  });

  it('alerts the top escalation level when the severity rises to major, once assigned', () => {
    const c = assigned();
    const p = plan(c, reclassify({ severity: 'major' }));
    const after = { ...p.next, version: 4, updatedAt: later(20).toISOString() };
    const events = p.events?.(after) ?? [];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'complaints.agent',
      detailType: 'Complaint Escalated',
      detail: {
        metadata: { eventId: `${c.id}:escalated:reclassified:4` },
        data: {
          level: 3,
          role: 'executive_on_duty',
          contact: 'exec.on_duty',
          reason: 'reclassified_major',
          leadDepartment: 'customer_service',
          assignee: 'cs_wang',
          detectedBy: 'action',
        },
      },
    });
    expect(p.entry.data).toMatchObject({ escalation: { role: 'executive_on_duty' } });
    // Not for a lesser rise, nor before assignment (the assignment alerts a major complaint itself).
    expect(plan(c, reclassify({ severity: 'urgent' })).events).toBeUndefined();
    const unassigned = assigned({}, { status: 'classified', assignment: undefined });
    const admin: Principal = { id: 'admin_1', role: 'admin' };
    const before = planAction(
      policy,
      calendar,
      admin,
      unassigned,
      reclassify({ severity: 'major' }),
      later(5),
    );
    expect(before.events).toBeUndefined();
    expect(before.extras?.routingSuggestion).toBeUndefined();
  });

  it('refuses an unknown category, a request that changes nothing, and a closed complaint', () => {
    const c = assigned();
    const unknown = () => plan(c, reclassify({ category: 'weather' }));
    expect(unknown).toThrow(RequestValidationError);
    try {
      unknown();
    } catch (error) {
      expect((error as RequestValidationError).errors).toEqual([
        { field: 'category', reason: expect.stringContaining('unknown category "weather"') },
      ]);
    }
    expect(() => plan(c, reclassify({ category: 'other', severity: 'general' }))).toThrow(
      RequestValidationError,
    );
    for (const status of ['resolved', 'closed', 'rejected', 'received'] as ComplaintStatus[]) {
      expect(() => plan({ ...c, status }, reclassify({ severity: 'major' })), status).toThrow(
        IllegalActionError,
      );
    }
  });
});
