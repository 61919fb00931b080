import { describe, expect, it } from 'vitest';
import {
  ACTION_ROLES,
  AGENT_ACTIONS,
  type AgentAction,
  authorizeComplaint,
  authorizeCustomerDirectory,
  authorizeList,
  type ComplaintScope,
  permittedActions,
} from '../../shared/auth/authorization';
import { claimValues, type Principal, principalFromClaims, roleClaimOf } from '../../shared/auth/principal';
import { ConfigurationError } from '../../shared/config';
import { approvalProblem, requiresApproval } from '../../shared/services/actions';
import { mayErase } from '../../shared/services/privacy';
import { complaintRecord, defaultPolicy } from '../support/fixtures';

const COGNITO = 'cognito:groups';
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
  const roster = defaultPolicy.routing.departments;
  const list = (p: Principal, filter: { department?: string; assignee?: string }) => {
    const d = authorizeList(p, filter, roster);
    return d.allow ? d.departments : d.status;
  };

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
    expect(authorizeList(p, { department }, roster)).toEqual({ allow: true, departments: expected });
  });

  it('refuses another department to agents and supervisors (403, not an empty page)', () => {
    expect(list(agent, { department: 'billing' })).toBe(403);
    expect(list(supervisor, { department: 'billing' })).toBe(403);
  });

  // The roster (default policy): customer_service = cs_li, cs_wang, cs_chen; billing = bill_wu, bill_zheng.
  it.each([
    { who: 'agent', p: agent, assignee: 'cs_wang', expected: ['customer_service'], why: 'their own queue' },
    { who: 'agent', p: agent, assignee: 'cs_li', expected: 403, why: 'a colleague’s queue' },
    { who: 'agent', p: agent, assignee: 'bill_wu', expected: 403, why: 'another department’s agent' },
    { who: 'agent', p: agent, assignee: 'nobody', expected: 403, why: 'an unknown agent (same answer)' },
    {
      who: 'supervisor',
      p: supervisor,
      assignee: 'cs_li',
      expected: ['customer_service'],
      why: 'an agent of their roster',
    },
    {
      who: 'supervisor',
      p: supervisor,
      assignee: 'sup_cs',
      expected: ['customer_service'],
      why: 'their own queue',
    },
    {
      who: 'supervisor',
      p: supervisor,
      assignee: 'bill_wu',
      expected: 403,
      why: 'another department’s agent',
    },
    { who: 'supervisor', p: supervisor, assignee: 'nobody', expected: 403, why: 'an unknown agent' },
    {
      who: 'other supervisor',
      p: otherSupervisor,
      assignee: 'cs_wang',
      expected: 403,
      why: 'an agent of another roster',
    },
    { who: 'other agent', p: otherAgent, assignee: 'bill_wu', expected: ['billing'], why: 'their own queue' },
    { who: 'admin', p: admin, assignee: 'bill_wu', expected: 'all', why: 'anyone’s queue' },
    { who: 'admin', p: admin, assignee: 'nobody', expected: 'all', why: 'any queue' },
  ] as const)('$who listing $assignee ($why) → $expected', ({ p, assignee, expected }) => {
    expect(list(p, { assignee })).toEqual(expected);
  });

  it('still refuses another department when the assignee is allowed', () => {
    expect(list(supervisor, { assignee: 'cs_li', department: 'billing' })).toBe(403);
    expect(list(admin, { assignee: 'cs_li', department: 'billing' })).toEqual(['billing']);
  });
});

describe('customer directory (PUT /admin/customers/{customerId})', () => {
  it('lets admins only set a tier; agents and supervisors of any department get 403', () => {
    expect(authorizeCustomerDirectory(admin)).toEqual({ allow: true });
    for (const p of [agent, supervisor, otherAgent, otherSupervisor, collaborator]) {
      expect(authorizeCustomerDirectory(p), p.id).toMatchObject({ allow: false, status: 403 });
    }
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
    [{ 'cognito:groups': '[Agent]' }, 'agent'],
  ])('%j → %s (several roles in the one claim: the highest)', (claims, role) => {
    const result = principalFromClaims({ sub: 's-1', 'custom:department': 'billing', ...claims }, COGNITO);
    expect(result).toMatchObject({ ok: true, principal: { role } });
  });

  it.each([
    [{ 'cognito:groups': '[agent]', 'custom:role': 'admin' }, 'agent'],
    [{ 'cognito:groups': '[agent]', role: 'admin', roles: ['admin'] }, 'agent'],
    [{ 'cognito:groups': '[staff]', role: 'agent' }, 403],
    [{ 'custom:role': 'admin' }, 403],
  ])('%j → %s: no claim but the named one is ever read for a role', (claims, expected) => {
    const result = principalFromClaims({ sub: 's-1', 'custom:department': 'billing', ...claims }, COGNITO);
    if (expected === 403) expect(result).toMatchObject({ ok: false, status: 403 });
    else expect(result).toMatchObject({ ok: true, principal: { role: expected } });
  });

  it('reads the claim the deployer named for an external issuer, and only it', () => {
    const claims = { sub: 's-2', department: 'billing', role: 'agent', 'cognito:groups': '[admin]' };
    expect(principalFromClaims(claims, 'role')).toMatchObject({ ok: true, principal: { role: 'agent' } });
    expect(principalFromClaims({ ...claims, roles: 'supervisor' }, 'roles')).toMatchObject({
      ok: true,
      principal: { role: 'supervisor' },
    });
    expect(principalFromClaims(claims, 'https://example.com/roles')).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('fails the cold start of an API function the stack gave no role claim', () => {
    expect(() => roleClaimOf({})).toThrow(ConfigurationError);
    expect(roleClaimOf({ ROLE_CLAIM: 'role' })).toBe('role');
  });

  it('takes the department and agent id from the Cognito attributes, else the plain claims', () => {
    expect(
      principalFromClaims(
        {
          sub: 'uuid-1',
          'cognito:username': 'wang',
          'custom:agent_id': 'cs_wang',
          'cognito:groups': '[agent]',
          'custom:department': 'customer_service',
          department: 'ignored',
        },
        COGNITO,
      ),
    ).toEqual({ ok: true, principal: { id: 'cs_wang', role: 'agent', department: 'customer_service' } });
    expect(
      principalFromClaims({ sub: 'uuid-2', username: 'li', role: 'agent', department: 'billing' }, 'role'),
    ).toEqual({
      ok: true,
      principal: { id: 'li', role: 'agent', department: 'billing' },
    });
    expect(principalFromClaims({ sub: 'uuid-3', role: 'admin' }, 'role')).toEqual({
      ok: true,
      principal: { id: 'uuid-3', role: 'admin' },
    });
  });

  it('answers 401 without claims and 403 without a usable role or department', () => {
    expect(principalFromClaims(undefined, COGNITO)).toMatchObject({ ok: false, status: 401 });
    expect(principalFromClaims({}, COGNITO)).toMatchObject({ ok: false, status: 401 });
    expect(principalFromClaims({ sub: 'x', 'cognito:groups': '[customers]' }, COGNITO)).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(principalFromClaims({ sub: 'x', role: 'agent' }, 'role')).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(principalFromClaims({ role: 'admin' }, 'role')).toMatchObject({ ok: false, status: 403 });
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
