import { describe, expect, it } from 'vitest';
import {
  chooseAgent,
  eligibleAgents,
  findDepartment,
  type RoutingInput,
  routeToDepartments,
} from '../../shared/domain/routing';
import { parsePolicy } from '../../shared/policy/load';
import { defaultPolicy } from '../support/fixtures';

const input = (overrides: Partial<RoutingInput> = {}): RoutingInput => ({
  category: 'technical_fault',
  severity: 'general',
  tier: 'standard',
  language: 'zh',
  ...overrides,
});

describe('routing to departments', () => {
  it('gives a lead department and collaborators by category', () => {
    expect(routeToDepartments(defaultPolicy, input({ category: 'information_security' }))).toMatchObject({
      leadDepartment: 'security',
      collaborators: ['technical_support', 'customer_service'],
    });
    expect(routeToDepartments(defaultPolicy, input({ category: 'billing_dispute' })).leadDepartment).toBe(
      'billing',
    );
  });

  it('uses a severity-specific rule before the general one for the same category', () => {
    expect(routeToDepartments(defaultPolicy, input({ severity: 'major' })).collaborators).toEqual([
      'customer_service',
      'public_relations',
    ]);
    expect(routeToDepartments(defaultPolicy, input({ severity: 'urgent' })).collaborators).toEqual([
      'customer_service',
    ]);
  });

  it('sends a category without a rule to the fallback department instead of leaving it unowned', () => {
    const policy = parsePolicy({
      ...structuredClone(defaultPolicy),
      routing: {
        ...defaultPolicy.routing,
        rules: defaultPolicy.routing.rules.filter((r) => r.category !== 'other'),
      },
    });
    const route = routeToDepartments(policy, input({ category: 'other' }));
    expect(route.leadDepartment).toBe('customer_service');
    expect(route.reason).toContain('fallback');
  });
});

describe('choosing an agent', () => {
  const cs = findDepartment(defaultPolicy, 'customer_service');

  it('filters by language, tier and the severity an agent may own', () => {
    const ids = (i: RoutingInput) => eligibleAgents(cs, i).map((a) => a.id);
    expect(ids(input())).toEqual(['cs_li', 'cs_wang']);
    expect(ids(input({ language: 'en' }))).toEqual(['cs_wang']);
    expect(ids(input({ tier: 'vip' }))).toEqual(['cs_li', 'cs_wang', 'cs_chen']);
    expect(ids(input({ severity: 'urgent' }))).toEqual(['cs_wang']);
  });

  it('picks the least loaded agent relative to capacity, skipping full ones', () => {
    const vip = input({ tier: 'vip', language: 'en' });
    // cs_wang 15/30 = 0.5, cs_chen 8/20 = 0.4 → cs_chen
    expect(
      chooseAgent(
        cs,
        vip,
        new Map([
          ['cs_wang', 15],
          ['cs_chen', 8],
        ]),
      ).agent?.id,
    ).toBe('cs_chen');
    // cs_chen full → cs_wang
    expect(
      chooseAgent(
        cs,
        vip,
        new Map([
          ['cs_wang', 29],
          ['cs_chen', 20],
        ]),
      ).agent?.id,
    ).toBe('cs_wang');
    // ties keep the policy order
    expect(chooseAgent(cs, input(), new Map()).agent?.id).toBe('cs_li');
  });

  it('says why when nobody can take it, so the team lead is alerted', () => {
    const full = chooseAgent(cs, input({ language: 'en' }), new Map([['cs_wang', 30]]));
    expect(full.agent).toBeUndefined();
    expect(full.needsAttention).toContain('capacity');
    const product = findDepartment(defaultPolicy, 'product');
    const none = chooseAgent({ ...product, agents: [] }, input(), new Map());
    expect(none.needsAttention).toContain('no agent');
  });
});
