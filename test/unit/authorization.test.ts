import { describe, expect, it } from 'vitest';
import {
  ACTION_ROLES,
  AGENT_ACTIONS,
  type AgentAction,
  authorizeComplaint,
  authorizeList,
  type ComplaintScope,
  permittedActions,
} from '../../shared/auth/authorization';
import { claimValues, type Principal, principalFromClaims } from '../../shared/auth/principal';
import { approvalProblem, requiresApproval } from '../../shared/services/actions';
import { mayErase } from '../../shared/services/privacy';
import { complaintRecord, defaultPolicy } from '../support/fixtures';

const agent: Principal = { id: 'cs_wang', role: 'agent', department: 'customer_service' };
const supervisor: Principal = { id: 'sup_cs', role: 'supervisor', department: 'customer_service' };
const admin: Principal = { id: 'admin_1', role: 'admin' };
const otherAgent: Principal = { id: 'bill_wu', role: 'agent', department: 'billing' };
const otherSupervisor: Principal = { id: 'sup_bill', role: 'supervisor', department: 'billing' };
const collaborator: Principal = { id: 'tech_sun', role: 'agent', department: 'technical_support' };

/** Led by customer service, technical support collaborating, proposed by the agent. */
const scope: ComplaintScope = {
  leadDepartment: 'customer_service',
  collaborators: ['technical_support'],
  proposedBy: 'cs_wang',
};

type Outcome = 'allow' | 403 | 404;
const decide = (p: Principal, op: 'view' | AgentAction, s: ComplaintScope = scope): Outcome => {
  const d = authorizeComplaint(p, op, s);
  return d.allow ? 'allow' : d.status;
};

/** Actions for supervisors and admins only: deciding on a proposal, and reclassifying (it moves the SLA targets). */
const SUPERVISOR_ONLY: readonly AgentAction[] = ['approve', 'reject', 'reclassify'];
const ordinary = AGENT_ACTIONS.filter((a) => !SUPERVISOR_ONLY.includes(a));

describe('authorization matrix (pure)', () => {
  const rows: Array<{
    who: string;
    principal: Principal;
    view: Outcome;
    act: Outcome;
    approve: Outcome;
    reclassify: Outcome;
  }> = [
    {
      who: 'agent of the lead department',
      principal: agent,
      view: 'allow',
      act: 'allow',
      approve: 403,
      reclassify: 403,
    },
    {
      who: 'supervisor of the lead department',
      principal: supervisor,
      view: 'allow',
      act: 'allow',
      approve: 'allow',
      reclassify: 'allow',
    },
    { who: 'admin', principal: admin, view: 'allow', act: 'allow', approve: 'allow', reclassify: 'allow' },
    {
      who: 'agent of a collaborating department',
      principal: collaborator,
      view: 'allow',
      act: 403,
      approve: 403,
      reclassify: 403,
    },
    {
      who: 'supervisor of a collaborating department',
      principal: { id: 'sup_tech', role: 'supervisor', department: 'technical_support' },
      view: 'allow',
      act: 403,
      approve: 403,
      reclassify: 403,
    },
    {
      who: 'agent of another department',
      principal: otherAgent,
      view: 404,
      act: 404,
      approve: 404,
      reclassify: 404,
    },
    {
      who: 'supervisor of another department',
      principal: otherSupervisor,
      view: 404,
      act: 404,
      approve: 404,
      reclassify: 404,
    },
  ];

  it.each(rows)(
    '$who: view $view, act $act, approve/reject $approve, reclassify $reclassify',
    ({ principal, view, act, approve, reclassify }) => {
      expect(decide(principal, 'view')).toBe(view);
      for (const action of ordinary) expect(decide(principal, action), action).toBe(act);
      for (const action of ['approve', 'reject'] as const)
        expect(decide(principal, action), action).toBe(approve);
      expect(decide(principal, 'reclassify'), 'reclassify').toBe(reclassify);
    },
  );

  it('answers 404, not 403, for a complaint the caller may not see, whatever the action', () => {
    for (const action of AGENT_ACTIONS) {
      const d = authorizeComplaint(otherAgent, action, scope);
      expect(d).toMatchObject({ allow: false, status: 404 });
    }
  });

  it('lets only admins see a complaint that has no department yet', () => {
    const unrouted: ComplaintScope = { collaborators: [] };
    expect(decide(agent, 'view', unrouted)).toBe(404);
    expect(decide(supervisor, 'view', unrouted)).toBe(404);
    expect(decide(admin, 'view', unrouted)).toBe('allow');
    expect(decide(admin, 'close', unrouted)).toBe('allow');
  });

  it('never lets the author of a proposal approve or reject it (four eyes), not even an admin', () => {
    const own = { ...scope, proposedBy: 'sup_cs' };
    expect(decide(supervisor, 'approve', own)).toBe(403);
    expect(decide(supervisor, 'reject', own)).toBe(403);
    expect(decide({ ...admin, id: 'sup_cs' }, 'approve', own)).toBe(403);
    expect(decide(supervisor, 'resolve', own)).toBe('allow');
  });

  it('keeps the role table: approve, reject and reclassify for supervisors and admins only', () => {
    for (const action of SUPERVISOR_ONLY)
      expect(ACTION_ROLES[action], action).toEqual(['supervisor', 'admin']);
    for (const action of ordinary) expect(ACTION_ROLES[action]).toEqual(['agent', 'supervisor', 'admin']);
    expect(permittedActions(agent, scope)).toEqual(ordinary);
    expect(permittedActions(collaborator, scope)).toEqual([]);
    expect(permittedActions(supervisor, scope)).toEqual([...AGENT_ACTIONS]);
  });

  it('lets a supervisor reclassify their own proposal’s complaint (four eyes is for approvals only)', () => {
    expect(decide(supervisor, 'reclassify', { ...scope, proposedBy: 'sup_cs' })).toBe('allow');
  });
});

describe('privacy routes (POST /privacy/erasures, GET /privacy/erasures/{id})', () => {
  it('admits admins only: erasing is irreversible and reads no department', () => {
    const everyone = [agent, supervisor, admin, otherAgent, otherSupervisor, collaborator];
    expect(everyone.filter(mayErase)).toEqual([admin]);
  });
});

describe('queue listing', () => {
  it.each([
    { who: 'agent, no filter', p: agent, department: undefined, expected: ['customer_service'] },
    {
      who: 'agent, own department',
      p: agent,
      department: 'customer_service',
      expected: ['customer_service'],
    },
    { who: 'supervisor, no filter', p: supervisor, department: undefined, expected: ['customer_service'] },
    { who: 'admin, no filter', p: admin, department: undefined, expected: 'all' },
    { who: 'admin, any department', p: admin, department: 'billing', expected: ['billing'] },
  ] as const)('$who → $expected', ({ p, department, expected }) => {
    expect(authorizeList(p, { department })).toEqual({ allow: true, departments: expected });
  });

  it('refuses another department to agents and supervisors (403, not an empty page)', () => {
    expect(authorizeList(agent, { department: 'billing' })).toMatchObject({ allow: false, status: 403 });
    expect(authorizeList(supervisor, { department: 'billing' })).toMatchObject({ allow: false, status: 403 });
  });
});

describe('principal from JWT claims', () => {
  it('reads HTTP API flattened groups, arrays, JSON arrays and comma lists', () => {
    expect(claimValues('[agent supervisor]')).toEqual(['agent', 'supervisor']);
    expect(claimValues(['agent', 'admin'])).toEqual(['agent', 'admin']);
    expect(claimValues('["agent","supervisor"]')).toEqual(['agent', 'supervisor']);
    expect(claimValues('agent, supervisor')).toEqual(['agent', 'supervisor']);
    expect(claimValues(undefined)).toEqual([]);
  });

  it.each([
    [{ 'cognito:groups': '[agent supervisor]' }, 'supervisor'],
    [{ 'cognito:groups': ['agent', 'admin'] }, 'admin'],
    [{ 'cognito:groups': '[staff]', role: 'agent' }, 'agent'],
    [{ 'custom:role': 'Supervisor' }, 'supervisor'],
    [{ 'cognito:groups': '[agent]', 'custom:role': 'admin' }, 'admin'],
  ])('%j → %s (the highest role wins)', (claims, role) => {
    const result = principalFromClaims({ sub: 's-1', 'custom:department': 'billing', ...claims });
    expect(result).toMatchObject({ ok: true, principal: { role } });
  });

  it('takes the department and agent id from the Cognito attributes, else the plain claims', () => {
    expect(
      principalFromClaims({
        sub: 'uuid-1',
        'cognito:username': 'wang',
        'custom:agent_id': 'cs_wang',
        'cognito:groups': '[agent]',
        'custom:department': 'customer_service',
        department: 'ignored',
      }),
    ).toEqual({ ok: true, principal: { id: 'cs_wang', role: 'agent', department: 'customer_service' } });
    expect(
      principalFromClaims({ sub: 'uuid-2', username: 'li', role: 'agent', department: 'billing' }),
    ).toEqual({
      ok: true,
      principal: { id: 'li', role: 'agent', department: 'billing' },
    });
    expect(principalFromClaims({ sub: 'uuid-3', role: 'admin' })).toEqual({
      ok: true,
      principal: { id: 'uuid-3', role: 'admin' },
    });
  });

  it('answers 401 without claims and 403 without a usable role or department', () => {
    expect(principalFromClaims(undefined)).toMatchObject({ ok: false, status: 401 });
    expect(principalFromClaims({})).toMatchObject({ ok: false, status: 401 });
    expect(principalFromClaims({ sub: 'x', 'cognito:groups': '[customers]' })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(principalFromClaims({ sub: 'x', role: 'agent' })).toMatchObject({ ok: false, status: 403 });
    expect(principalFromClaims({ role: 'admin' })).toMatchObject({ ok: false, status: 403 });
  });
});

describe('approval rules (policy: above 500, always for major)', () => {
  const cny = (amount: number) => ({ amount, currency: defaultPolicy.currency });

  it('needs approval above the threshold, for major complaints, and for a foreign currency', () => {
    expect(requiresApproval(defaultPolicy, 'general', cny(500))).toBe(false);
    expect(requiresApproval(defaultPolicy, 'general', cny(500.01))).toBe(true);
    expect(requiresApproval(defaultPolicy, 'major', undefined)).toBe(true);
    expect(requiresApproval(defaultPolicy, 'urgent', undefined)).toBe(false);
    expect(requiresApproval(defaultPolicy, 'general', { amount: 1, currency: 'XTS' })).toBe(true);
  });

  it('lets a resolution through only with an approved proposal that covers it', () => {
    const base = complaintRecord({ status: 'in_progress' });
    const proposal = {
      solution: 's',
      compensation: cny(800),
      proposedBy: 'cs_wang',
      proposedAt: base.receivedAt,
      needsApproval: true,
    };
    expect(approvalProblem(defaultPolicy, base, cny(100))).toBeUndefined();
    expect(approvalProblem(defaultPolicy, base, cny(800))).toMatch(/propose/);
    expect(approvalProblem(defaultPolicy, { ...base, proposal }, cny(800))).toMatch(/not been approved/);
    const approved = {
      ...proposal,
      approval: { decision: 'approved' as const, by: 'sup_cs', at: base.receivedAt },
    };
    expect(approvalProblem(defaultPolicy, { ...base, proposal: approved }, cny(800))).toBeUndefined();
    expect(approvalProblem(defaultPolicy, { ...base, proposal: approved }, cny(900))).toMatch(/exceeds/);
    const rejected = {
      ...proposal,
      approval: { decision: 'rejected' as const, by: 'sup_cs', at: base.receivedAt },
    };
    expect(approvalProblem(defaultPolicy, { ...base, proposal: rejected }, undefined)).toMatch(/rejected/);
  });
});
