import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { scheduleGroupName } from '../../infra/constructs/timers';
import { synthesizeStack } from './template-helpers';

let stack: ComplaintServiceStack;

beforeAll(() => {
  // The rules read the construct tree and the CloudFormation properties, not the bundles.
  stack = synthesizeStack({}, { bundle: false }).stack;
}, 60_000);

/** Every acknowledgement recorded in the tree: rule id → reasons. */
function acknowledgements(root: IConstruct): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const ruleId = id.replace(/^annotation::/i, '');
        result.set(ruleId, [...(result.get(ruleId) ?? []), reason]);
      }
    }
  }
  return result;
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only the reviewed findings, each with a written reason', () => {
    const acks = acknowledgements(stack);
    expect([...acks.keys()].sort()).toEqual(
      [
        'AwsSolutions-APIG4',
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${scheduleGroupName(stack.stackName)}/*]`,
        'AwsSolutions-SQS3',
      ].sort(),
    );
    for (const [id, reasons] of acks) {
      for (const reason of reasons) expect(reason.length, id).toBeGreaterThan(40);
    }
  });
});
