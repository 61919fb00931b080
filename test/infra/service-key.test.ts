import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../shared/config';
import {
  asArray,
  type CfnResource,
  getAttId,
  iamStatements,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

let synthesized: SynthesizedStack;
let keyId: string;
let key: CfnResource;
let functions: Map<string, CfnResource>;

beforeAll(() => {
  // IAM, environment and key properties need no bundles.
  synthesized = synthesizeStack({}, { bundle: false });
  const keys = resourcesOfType(synthesized.template, 'AWS::KMS::Key');
  // The HMAC key (the stack also has the customer-managed data key, see encryption.test.ts).
  keyId = single(
    [...keys.entries()].filter(([, k]) => k.Properties.KeySpec === 'HMAC_256').map(([id]) => id),
    'HMAC KMS key',
  );
  key = keys.get(keyId) as CfnResource;
  functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
}, 90_000);

/** Logical id of the function whose role is `roleId`. */
function functionOfRole(roleId: string): string | undefined {
  return [...functions.entries()].find(([, fn]) => getAttId(fn.Properties.Role) === roleId)?.[0];
}

const envOf = (fn: CfnResource) =>
  ((fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;

/** The functions the stack gives the service key (by construct path, as logical ids are hashed). */
function keyHolders(): string[] {
  const { stack } = synthesized;
  // The SLA sweep derives tracking links when it repairs a lost hand-off (shared/domain/handoff.ts).
  return [
    stack.intake.apiFunction,
    stack.intake.inboundFunction,
    stack.agentApi.function,
    stack.sla.sweepFunction,
  ].map((f) => stack.getLogicalId(f.function.node.defaultChild as never));
}

describe('service key (KMS HMAC)', () => {
  it('is one retained HMAC_256 key for generating and verifying MACs, exported as ServiceKeyArn', () => {
    expect(key.Properties.KeySpec).toBe('HMAC_256');
    expect(key.Properties.KeyUsage).toBe('GENERATE_VERIFY_MAC');
    // KMS cannot rotate HMAC keys; asking for it would fail the deployment.
    expect(key.Properties.EnableKeyRotation).not.toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
    const outputs = synthesized.template.findOutputs('ServiceKeyArn');
    expect(Object.values(outputs).map((o) => o.Value)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
  });

  it('lets exactly intake (API and inbound), the agent API and the SLA sweep call kms:GenerateMac on it, and nothing else', () => {
    // Statements on this key (the data key's grants are encryption.test.ts's).
    const kmsStatements = iamStatements(synthesized.template).filter(
      (s) =>
        asArray(s.statement.Action).some((a) => a.startsWith('kms:')) &&
        JSON.stringify(s.statement.Resource).includes(keyId),
    );
    const holders = new Set<string>();
    for (const { policyId, roles, statement } of kmsStatements) {
      expect(statement.Effect, policyId).toBe('Allow');
      expect(asArray(statement.Action), policyId).toEqual(['kms:GenerateMac']);
      expect(statement.Resource, policyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      for (const role of roles) holders.add(functionOfRole(role) ?? role);
    }
    expect([...holders].sort()).toEqual(keyHolders().sort());
  });

  it('sets SERVICE_KEY_ARN on exactly the functions that may derive, to this key', () => {
    const holders = keyHolders();
    for (const [id, fn] of functions) {
      const value = envOf(fn)[ENV.serviceKeyArn];
      if (holders.includes(id)) expect(value, id).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      else expect(value, id).toBeUndefined();
    }
  });

  it('keeps the key policy to the account (no function role is named in it)', () => {
    const statements = (key.Properties.KeyPolicy as { Statement: { Principal?: unknown }[] }).Statement;
    const principals = JSON.stringify(statements.map((s) => s.Principal));
    for (const [id, fn] of functions) {
      const roleId = getAttId(fn.Properties.Role) as string;
      expect(principals, id).not.toContain(roleId);
    }
  });

  it('raises no cdk-nag finding on the key (KMS5 covers symmetric keys only; HMAC keys cannot rotate)', () => {
    const report = new AwsSolutionsChecks().validateScope(synthesized.stack.keys);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
