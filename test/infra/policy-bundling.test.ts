import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComplaintServiceStack, DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { PolicyValidationError } from '../../shared/policy/load';
import { testApp } from './template-helpers';

const workDir = mkdtempSync(join(tmpdir(), 'complaint-policy-'));

function writePolicy(name: string, document: unknown): string {
  const file = join(workDir, name);
  writeFileSync(file, JSON.stringify(document, null, 2));
  return file;
}

describe('policy validation at synth', () => {
  it('fails stack construction on an invalid policy, naming the problem', () => {
    const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    const broken = writePolicy('broken.json', { ...policy, categories: 'none', calendar: undefined });
    const build = () => new ComplaintServiceStack(testApp(), 'Broken', { policyFile: broken });
    expect(build).toThrow(PolicyValidationError);
    expect(build).toThrow(/categories/);
  });

  it('fails on a file that is not JSON', () => {
    const file = join(workDir, 'not-json.json');
    writeFileSync(file, '{ "policyVersion": 1,');
    expect(() => new ComplaintServiceStack(testApp(), 'NotJson', { policyFile: file })).toThrow(
      PolicyValidationError,
    );
  });

  it('fails on a missing file', () => {
    expect(
      () => new ComplaintServiceStack(testApp(), 'Missing', { policyFile: join(workDir, 'absent.json') }),
    ).toThrow(PolicyValidationError);
  });
});
