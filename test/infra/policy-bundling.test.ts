import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComplaintServiceStack, DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { PolicyValidationError, parsePolicy } from '../../shared/policy/load';
import { resourcesOfType, type SynthesizedStack, synthesizeStack } from './template-helpers';

const workDir = mkdtempSync(join(tmpdir(), 'complaint-policy-'));

function writePolicy(name: string, document: unknown): string {
  const file = join(workDir, name);
  writeFileSync(file, JSON.stringify(document, null, 2));
  return file;
}

/** Function description → S3 key of its bundle. */
function bundleKeys(synthesized: SynthesizedStack): Map<string, string> {
  return new Map(
    [...resourcesOfType(synthesized.template, 'AWS::Lambda::Function').values()].map((fn) => [
      fn.Properties.Description as string,
      (fn.Properties.Code as { S3Key: string }).S3Key,
    ]),
  );
}

describe('policy validation at synth', () => {
  it('fails stack construction on an invalid policy, naming the problem', () => {
    const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    const broken = writePolicy('broken.json', { ...policy, categories: 'none', calendar: undefined });
    const build = () => new ComplaintServiceStack(new App(), 'Broken', { policyFile: broken });
    expect(build).toThrow(PolicyValidationError);
    expect(build).toThrow(/categories/);
  });

  it('fails on a file that is not JSON', () => {
    const file = join(workDir, 'not-json.json');
    writeFileSync(file, '{ "policyVersion": 1,');
    expect(() => new ComplaintServiceStack(new App(), 'NotJson', { policyFile: file })).toThrow(
      PolicyValidationError,
    );
  });

  it('fails on a missing file', () => {
    expect(
      () => new ComplaintServiceStack(new App(), 'Missing', { policyFile: join(workDir, 'absent.json') }),
    ).toThrow(PolicyValidationError);
  });
});

describe('policy in the bundles', () => {
  let defaults: SynthesizedStack;
  let custom: SynthesizedStack;
  let customPolicy: unknown;

  beforeAll(() => {
    const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    customPolicy = { ...policy, name: 'custom-deployer-policy' };
    defaults = synthesizeStack({}, { id: 'Defaults' });
    custom = synthesizeStack({ policyFile: writePolicy('custom.json', customPolicy) }, { id: 'Custom' });
  }, 240_000);

  it('changes every function asset when the policy changes', () => {
    const before = bundleKeys(defaults);
    const after = bundleKeys(custom);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [description, key] of after) expect(key, description).not.toBe(before.get(description));
  });

  it('bundles the deployer policy as policy.json', () => {
    for (const key of bundleKeys(custom).values()) {
      const dir = join(custom.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      // Validated and normalised at synth: the deployer's document with the schema's defaults filled in.
      expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8'))).toEqual(
        JSON.parse(JSON.stringify(parsePolicy(customPolicy))),
      );
    }
  });
});
