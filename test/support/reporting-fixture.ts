import type { LifecycleEvent } from '../../shared/domain/reporting/facts';

/** The business time zone of the fixture (the default policy's). */
export const TZ = 'Asia/Shanghai';

let seq = 0;
/** An event as the bus delivers it; `at` in Shanghai local time (+08:00). */
function ev(detailType: string, id: string, at: string, data: Record<string, unknown> = {}): LifecycleEvent {
  seq += 1;
  return {
    detailType,
    detail: {
      metadata: { eventId: `${id}:${detailType}:${seq}`, occurredAt: `${at}+08:00` },
      data: { complaintId: id, number: `N-${id}`, ...data },
    },
  };
}

/**
 * A hand-checked month: Sept 30 (the eve of National Day) to Oct 8 (the first working day after
 * the Golden Week, Oct 1–7, 2026, with Sept 27 and Oct 10 as make-up working days).
 */
export function fixture(): LifecycleEvent[] {
  return [
    // A: app, billing, received Sept 30 23:30 (still September in Shanghai, already Sept 30 15:30 UTC),
    // acknowledged after 20 min, info request = first response, resolved Oct 2 (holiday), closed Oct 3.
    ev('Complaint Received', 'A', '2026-09-30T23:30:00', {
      receivedAt: '2026-09-30T23:30:00+08:00',
      channel: 'app',
      tier: 'standard',
    }),
    ev('Complaint Classified', 'A', '2026-09-30T23:30:05', {
      category: 'billing_dispute',
      severity: 'general',
      isRepeat: false,
    }),
    ev('Complaint Assigned', 'A', '2026-09-30T23:30:06', { leadDepartment: 'billing', assignee: 'bill_wu' }),
    ev('Complaint Acknowledged', 'A', '2026-09-30T23:50:00'),
    ev('Complaint Info Requested', 'A', '2026-10-01T09:00:00'),
    ev('Complaint Resolved', 'A', '2026-10-02T10:00:00'),
    ev('Survey Answered', 'A', '2026-10-03T10:00:00', { score: 5 }),
    ev('Complaint Closed', 'A', '2026-10-03T10:00:01'),
    // B: web, technical fault, received Oct 1 10:00 (holiday), missed the acknowledgement (escalated
    // level 1), reassigned to customer service, resolved Oct 2, survey 1 reopens it (level 1 again),
    // resolved again Oct 8, still unsurveyed.
    ev('Complaint Received', 'B', '2026-10-01T10:00:00', {
      receivedAt: '2026-10-01T10:00:00+08:00',
      channel: 'web',
      tier: 'vip',
    }),
    ev('Complaint Classified', 'B', '2026-10-01T10:00:02', {
      category: 'technical_fault',
      severity: 'important',
      isRepeat: true,
    }),
    ev('Complaint Assigned', 'B', '2026-10-01T10:00:03', { leadDepartment: 'technical_support' }),
    ev('Complaint SLA Breached', 'B', '2026-10-01T10:30:00', { clock: 'acknowledge' }),
    ev('Complaint Escalated', 'B', '2026-10-01T10:30:00', { level: 1 }),
    ev('Complaint Acknowledged', 'B', '2026-10-01T11:00:00'),
    ev('Complaint Reassigned', 'B', '2026-10-01T11:05:00', { leadDepartment: 'customer_service' }),
    ev('Complaint Responded', 'B', '2026-10-01T12:00:00'),
    ev('Complaint Resolved', 'B', '2026-10-02T12:00:00'),
    ev('Survey Answered', 'B', '2026-10-03T12:00:00', { score: 1 }),
    ev('Complaint Reopened', 'B', '2026-10-03T12:00:01'),
    ev('Complaint Escalated', 'B', '2026-10-03T12:00:01', { level: 1 }),
    ev('Complaint Resolved', 'B', '2026-10-08T09:00:00'),
    // C: spam, rejected at once.
    ev('Complaint Received', 'C', '2026-10-01T11:00:00', {
      receivedAt: '2026-10-01T11:00:00+08:00',
      channel: 'web',
      tier: 'standard',
    }),
    ev('Complaint Rejected', 'C', '2026-10-01T11:00:01', { verdict: 'spam' }),
    // D: hotline, received Sept 29 and still open at the end of September and on Oct 8.
    ev('Complaint Received', 'D', '2026-09-29T09:00:00', {
      receivedAt: '2026-09-29T09:00:00+08:00',
      channel: 'hotline',
      tier: 'standard',
    }),
    ev('Complaint Classified', 'D', '2026-09-29T09:00:01', {
      category: 'billing_dispute',
      severity: 'general',
      isRepeat: true,
    }),
    ev('Complaint Assigned', 'D', '2026-09-29T09:00:02', { leadDepartment: 'billing' }),
    ev('Complaint Acknowledged', 'D', '2026-09-29T10:00:00'),
  ];
}
