import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ComplaintServiceStack } from './complaint-service-stack';

/**
 * CDK app entry (`cdk.json` runs `npx tsx infra/app.ts`).
 *
 * Context: `policyFile` (a replacement policy document), `alarmTopicArn` (SNS topic for alarms),
 * `stackName` (default `ComplaintService`), `encryption` (`customer-managed`, the default, or
 * `aws-managed`; read by the stack). No `env`: the stack is environment-agnostic, so synth
 * needs no credentials; the account and region come from the deploying profile.
 */
const app = new App();

const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new TypeError(`Context "${key}" must be a string`);
  return value;
};

const policyFile = context('policyFile');
const alarmTopicArn = context('alarmTopicArn');

new ComplaintServiceStack(app, context('stackName') ?? 'ComplaintService', {
  ...(policyFile ? { policyFile } : {}),
  ...(alarmTopicArn ? { alarmTopicArn } : {}),
});

// cdk-nag 3: a validation plugin; any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
