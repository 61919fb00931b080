import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  COMPLAINT_STATUSES,
  type ComplaintStatus,
  IllegalTransitionError,
  isOpen,
  LIFECYCLE_ACTIONS,
  type LifecycleAction,
  transition,
} from '../../shared/domain/lifecycle';

describe('complaint lifecycle', () => {
  it.each<[ComplaintStatus, LifecycleAction, ComplaintStatus]>([
    ['received', 'classify', 'classified'],
    ['received', 'reject', 'rejected'],
    ['rejected', 'contest', 'received'],
    ['classified', 'assign', 'assigned'],
    ['assigned', 'acknowledge', 'in_progress'],
    ['assigned', 'respond', 'in_progress'],
    ['in_progress', 'request_info', 'waiting_on_customer'],
    ['waiting_on_customer', 'customer_reply', 'in_progress'],
    ['in_progress', 'customer_reply', 'in_progress'],
    ['in_progress', 'request_approval', 'pending_approval'],
    ['pending_approval', 'approve', 'in_progress'],
    ['pending_approval', 'reject_solution', 'in_progress'],
    ['in_progress', 'resolve', 'resolved'],
    ['resolved', 'reopen', 'reopened'],
    ['closed', 'reopen', 'reopened'],
    ['reopened', 'assign', 'assigned'],
    ['reopened', 'acknowledge', 'in_progress'],
    ['resolved', 'close', 'closed'],
    ['rejected', 'close', 'closed'],
    ['pending_approval', 'reassign', 'pending_approval'],
    ['waiting_on_customer', 'reclassify', 'waiting_on_customer'],
  ])('%s --%s--> %s', (from, action, to) => {
    expect(transition(from, action)).toBe(to);
  });

  it.each<[ComplaintStatus, LifecycleAction]>([
    ['received', 'assign'],
    ['received', 'resolve'],
    ['classified', 'resolve'],
    ['pending_approval', 'resolve'],
    ['waiting_on_customer', 'resolve'],
    ['closed', 'respond'],
    ['closed', 'close'],
    ['rejected', 'assign'],
    ['resolved', 'approve'],
    ['in_progress', 'approve'],
    ['assigned', 'close'],
  ])('refuses %s --%s--> with the current status in the error', (from, action) => {
    expect(() => transition(from, action)).toThrow(IllegalTransitionError);
    try {
      transition(from, action);
    } catch (error) {
      expect((error as IllegalTransitionError).status).toBe(from);
      expect((error as Error).message).toContain(`"${from}"`);
    }
  });

  it('agrees with allowedActions for every status and action', () => {
    for (const status of COMPLAINT_STATUSES) {
      const allowed = new Set(allowedActions(status));
      for (const action of LIFECYCLE_ACTIONS) {
        if (allowed.has(action)) expect(() => transition(status, action)).not.toThrow();
        else expect(() => transition(status, action)).toThrow(IllegalTransitionError);
      }
    }
  });

  it('lets every status reach closed, and nothing leave closed except reopening', () => {
    const reachesClosed = (start: ComplaintStatus): boolean => {
      const seen = new Set<ComplaintStatus>([start]);
      const queue = [start];
      while (queue.length > 0) {
        const s = queue.shift() as ComplaintStatus;
        if (s === 'closed') return true;
        for (const a of allowedActions(s)) {
          const next = transition(s, a);
          if (!seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      return false;
    };
    for (const status of COMPLAINT_STATUSES) expect(reachesClosed(status), status).toBe(true);
    expect(allowedActions('closed')).toEqual(['reopen']);
  });

  it('treats only unfinished states as open', () => {
    expect(COMPLAINT_STATUSES.filter((s) => !isOpen(s))).toEqual(['rejected', 'resolved', 'closed']);
  });
});
