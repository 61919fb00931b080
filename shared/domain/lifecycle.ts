import * as z from 'zod';

/**
 * The complaint lifecycle as a table-driven state machine.
 *
 * Every state-changing operation in the service is an action here; a handler asks
 * `transition(status, action)` before it writes, so an illegal move (resolving a
 * complaint still waiting for approval, replying to a closed one…) is refused the
 * same way everywhere, with the current state in the error.
 */

export const COMPLAINT_STATUSES = [
  'received',
  'classified',
  'rejected',
  'assigned',
  'in_progress',
  'waiting_on_customer',
  'pending_approval',
  'resolved',
  'reopened',
  'closed',
] as const;
export const ComplaintStatusSchema = z.enum(COMPLAINT_STATUSES);
export type ComplaintStatus = z.infer<typeof ComplaintStatusSchema>;

export const LIFECYCLE_ACTIONS = [
  'classify',
  'reject',
  'contest',
  'assign',
  'reassign',
  'reclassify',
  'acknowledge',
  'respond',
  'request_info',
  'customer_reply',
  'propose_solution',
  'request_approval',
  'approve',
  'reject_solution',
  'resolve',
  'reopen',
  'close',
] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/** States where work is still owed to the customer; these carry SLA clocks. */
export const OPEN_STATUSES: readonly ComplaintStatus[] = [
  'received',
  'classified',
  'assigned',
  'in_progress',
  'waiting_on_customer',
  'pending_approval',
  'reopened',
];

/** States an agent works in after assignment; most agent actions are allowed only here. */
const WORKING: readonly ComplaintStatus[] = ['assigned', 'in_progress', 'reopened'];
const OWNED: readonly ComplaintStatus[] = [...WORKING, 'waiting_on_customer', 'pending_approval'];

type Rule = { from: readonly ComplaintStatus[]; to: ComplaintStatus | 'same' };

/**
 * Allowed moves. `same` keeps the current status (the action is recorded on the
 * timeline and may move clocks, but the status does not change).
 */
const RULES: Record<LifecycleAction, Rule> = {
  classify: { from: ['received'], to: 'classified' },
  reject: { from: ['received'], to: 'rejected' },
  /** The customer contests a rejection: the complaint is checked again by a person. */
  contest: { from: ['rejected'], to: 'received' },
  assign: { from: ['classified', 'reopened'], to: 'assigned' },
  reassign: { from: OWNED, to: 'same' },
  reclassify: { from: ['classified', ...OWNED], to: 'same' },
  acknowledge: { from: ['assigned', 'reopened'], to: 'in_progress' },
  /** A message to the customer; the first one also counts as the acknowledgement. */
  respond: { from: WORKING, to: 'in_progress' },
  request_info: { from: WORKING, to: 'waiting_on_customer' },
  customer_reply: {
    from: ['waiting_on_customer', 'in_progress', 'assigned', 'pending_approval'],
    to: 'same',
  },
  /** A proposal that does not need approval keeps the complaint in progress. */
  propose_solution: { from: ['in_progress'], to: 'in_progress' },
  request_approval: { from: ['in_progress'], to: 'pending_approval' },
  approve: { from: ['pending_approval'], to: 'in_progress' },
  reject_solution: { from: ['pending_approval'], to: 'in_progress' },
  resolve: { from: ['in_progress'], to: 'resolved' },
  reopen: { from: ['resolved', 'closed'], to: 'reopened' },
  close: { from: ['resolved', 'rejected'], to: 'closed' },
};

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  constructor(
    readonly status: ComplaintStatus,
    readonly action: LifecycleAction,
  ) {
    super(`Action "${action}" is not allowed while the complaint is "${status}"`);
  }
}

/** The status after `action`, or an `IllegalTransitionError` naming the current status. */
export function transition(status: ComplaintStatus, action: LifecycleAction): ComplaintStatus {
  const rule = RULES[action];
  if (!rule.from.includes(status)) throw new IllegalTransitionError(status, action);
  if (status === 'waiting_on_customer' && action === 'customer_reply') return 'in_progress';
  return rule.to === 'same' ? status : rule.to;
}

export function canTransition(status: ComplaintStatus, action: LifecycleAction): boolean {
  return RULES[action].from.includes(status);
}

/** Actions allowed in `status`, e.g. to show an agent which buttons apply. */
export function allowedActions(status: ComplaintStatus): LifecycleAction[] {
  return LIFECYCLE_ACTIONS.filter((a) => RULES[a].from.includes(status));
}

export function isOpen(status: ComplaintStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/**
 * What duplicate and repeat detection need of another complaint's status: still open, ended
 * (resolved or closed), or rejected. The customer index holds only this, so its entry changes a few
 * times in a complaint's life instead of with every status.
 */
export type ComplaintPhase = 'open' | 'ended' | 'rejected';

export function phaseOf(status: ComplaintStatus): ComplaintPhase {
  if (isOpen(status)) return 'open';
  return status === 'rejected' ? 'rejected' : 'ended';
}
