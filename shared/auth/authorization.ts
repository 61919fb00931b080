import type { Principal, Role } from './principal';

/**
 * Who may do what on the agent API: pure, table-driven decisions, so the whole matrix
 * is testable without I/O and the handler only maps a decision to a status code.
 *
 * Decisions:
 * - **Visibility** — an admin sees every complaint; an agent or supervisor sees the
 *   complaints whose lead department is theirs, and (read-only) those their department
 *   collaborates on. A complaint not yet routed (received, classified, rejected) has no
 *   department: only admins see it.
 * - **Acting** — only on complaints whose *lead* department is the caller's (admins:
 *   all). A collaborating department contributes through the lead's owner.
 * - **Roles** — approving or rejecting a proposed solution needs a supervisor or an
 *   admin, and never the person who proposed it (four eyes). Reclassifying (category,
 *   severity) also needs a supervisor or an admin: it moves the SLA targets, the
 *   priority and possibly the approval duty and the executive alert, which an agent
 *   should not be able to do to their own queue; an agent who disagrees with the
 *   classification asks their supervisor. Every other action is open to all three
 *   roles.
 * - **Not found over forbidden** — a complaint the caller may not see answers 404, the
 *   same as one that does not exist, so ids of other departments' complaints cannot be
 *   probed. 403 is only for a complaint the caller can see but may not change.
 * - **Listing** — agents and supervisors list their own department only (asking for
 *   another one is 403, not an empty page, so a misconfigured client notices); admins
 *   list any department or all of them. An assignee's queue is authorized *before* it
 *   is read: an agent lists only their own, a supervisor their own and those of the
 *   agents their department's roster (the policy's `routing.departments[].agents`)
 *   names, an admin anyone's; anything else is 403 whether or not the agent exists.
 *   Even an authorized queue shows an agent or supervisor only the complaints their
 *   department leads (an agent's queue can hold another department's complaints, e.g.
 *   after a move): the store filters on the lead department, and the listing checks
 *   again after reading.
 */

/** The actions of `POST /complaints/{id}/actions`, by their API name. */
export const AGENT_ACTIONS = [
  'acknowledge',
  'respond',
  'request-info',
  'propose-solution',
  'approve',
  'reject',
  'resolve',
  'reassign',
  'add-collaborator',
  'close',
  'reclassify',
] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

const EVERYONE: readonly Role[] = ['agent', 'supervisor', 'admin'];
const SUPERVISORS: readonly Role[] = ['supervisor', 'admin'];

/** The roles allowed to perform each action (on a complaint they may act on). */
export const ACTION_ROLES: Readonly<Record<AgentAction, readonly Role[]>> = {
  acknowledge: EVERYONE,
  respond: EVERYONE,
  'request-info': EVERYONE,
  'propose-solution': EVERYONE,
  approve: SUPERVISORS,
  reject: SUPERVISORS,
  resolve: EVERYONE,
  reassign: EVERYONE,
  'add-collaborator': EVERYONE,
  close: EVERYONE,
  reclassify: SUPERVISORS,
};

/** Actions that decide on someone else's proposal. */
const APPROVALS: readonly AgentAction[] = ['approve', 'reject'];

/** What authorization needs to know about a complaint: its departments and the pending proposal's author. */
export interface ComplaintScope {
  leadDepartment?: string;
  collaborators?: readonly string[];
  proposedBy?: string;
}

export type AccessDecision =
  | { allow: true }
  /** 404: the caller may not know the complaint exists. 403: visible, but not theirs to change. */
  | { allow: false; status: 403 | 404; reason: string };

const ALLOW: AccessDecision = { allow: true };

export function canView(principal: Principal, scope: ComplaintScope): boolean {
  if (principal.role === 'admin') return true;
  const department = principal.department;
  if (department === undefined || scope.leadDepartment === undefined) return false;
  return scope.leadDepartment === department || (scope.collaborators ?? []).includes(department);
}

function canActOn(principal: Principal, scope: ComplaintScope): boolean {
  if (principal.role === 'admin') return true;
  return principal.department !== undefined && scope.leadDepartment === principal.department;
}

/** May `principal` view the complaint (`'view'`) or perform `operation` on it? */
export function authorizeComplaint(
  principal: Principal,
  operation: 'view' | AgentAction,
  scope: ComplaintScope,
): AccessDecision {
  if (!canView(principal, scope)) return { allow: false, status: 404, reason: 'not visible to the caller' };
  if (operation === 'view') return ALLOW;
  if (!ACTION_ROLES[operation].includes(principal.role)) {
    return {
      allow: false,
      status: 403,
      reason: `"${operation}" needs one of the roles ${ACTION_ROLES[operation].join(', ')}`,
    };
  }
  if (!canActOn(principal, scope)) {
    return {
      allow: false,
      status: 403,
      reason: 'only the lead department acts on a complaint; collaborating departments have read access',
    };
  }
  if (APPROVALS.includes(operation) && scope.proposedBy !== undefined && scope.proposedBy === principal.id) {
    return {
      allow: false,
      status: 403,
      reason: 'a proposal is approved or rejected by someone other than its author',
    };
  }
  return ALLOW;
}

/** The actions the caller's role and department permit on this complaint (the status is checked separately). */
export function permittedActions(principal: Principal, scope: ComplaintScope): AgentAction[] {
  return AGENT_ACTIONS.filter((action) => authorizeComplaint(principal, action, scope).allow);
}

export type ListDecision =
  | { allow: true; departments: readonly string[] | 'all' }
  | { allow: false; status: 403; reason: string };

/** The roster as authorization needs it: each department's agent ids (the policy's routing). */
export type Roster = readonly { readonly id: string; readonly agents: readonly { readonly id: string }[] }[];

/**
 * Which departments' queues the caller may list with the given filter, and whether they
 * may read the `assignee`'s queue at all. `'all'` (admin without a department filter)
 * means every department of the policy. Decided from the token and the roster only, so
 * a refused listing reads nothing.
 */
export function authorizeList(
  principal: Principal,
  filter: { department?: string; assignee?: string },
  roster: Roster,
): ListDecision {
  if (principal.role === 'admin') {
    return { allow: true, departments: filter.department === undefined ? 'all' : [filter.department] };
  }
  const own = principal.department;
  if (own === undefined) return { allow: false, status: 403, reason: 'the token carries no department' };
  if (filter.department !== undefined && filter.department !== own) {
    return { allow: false, status: 403, reason: `a ${principal.role} lists only the "${own}" department` };
  }
  if (filter.assignee !== undefined && filter.assignee !== principal.id) {
    if (principal.role === 'agent') {
      return { allow: false, status: 403, reason: 'an agent lists only their own queue' };
    }
    const team = roster.find((d) => d.id === own)?.agents ?? [];
    if (!team.some((a) => a.id === filter.assignee)) {
      return {
        allow: false,
        status: 403,
        reason: `a supervisor lists the queues of the "${own}" department's agents only`,
      };
    }
  }
  return { allow: true, departments: [own] };
}

/**
 * The customer directory (`PUT /admin/customers/{customerId}`): admins only. A tier moves SLA targets
 * and priorities of every future complaint of the customer, so no agent or supervisor grades customers
 * (their department could profit from it).
 */
export function authorizeCustomerDirectory(principal: Principal): AccessDecision {
  return principal.role === 'admin'
    ? ALLOW
    : { allow: false, status: 403, reason: 'only an admin may set a customer tier' };
}
