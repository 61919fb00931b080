import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { cdkJsonContext } from '../../infra/cdk-json-context';
import { ComplaintServiceStack, type ComplaintServiceStackProps } from '../../infra/complaint-service-stack';

/** A CloudFormation resource as the assertions library returns it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
}

export interface SynthesizedStack {
  readonly app: App;
  readonly stack: ComplaintServiceStack;
  readonly template: Template;
  /** Present when bundling ran: the cloud assembly, whose directory holds the Lambda bundles. */
  readonly assembly: CloudAssembly;
}

/**
 * An app as the CDK CLI builds it from this project: with `cdk.json`'s context (the feature flags;
 * `new App()` alone does not read `cdk.json`), then `context` on top. Every test app starts here, so
 * the tests synthesize what `cdk deploy` deploys.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext(), ...context } });
}

/** The context that skips esbuild (the CDK's own `aws:cdk:bundling-stacks`), for construct-tree tests. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/**
 * Builds and synthesizes one stack in a {@link testApp}. `bundle: false` skips esbuild
 * ({@link NO_BUNDLING}) for tests that look at the construct tree only.
 */
export function synthesizeStack(
  props: ComplaintServiceStackProps = {},
  options: { bundle?: boolean; id?: string } = {},
): SynthesizedStack {
  const app = testApp(options.bundle === false ? NO_BUNDLING : {});
  const stack = new ComplaintServiceStack(app, options.id ?? 'Test', props);
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  return { app, stack, template, assembly };
}

export function resourcesOfType(template: Template, type: string): Map<string, CfnResource> {
  return new Map(Object.entries(template.findResources(type) as Record<string, CfnResource>));
}

export function single<T>(values: Iterable<T>, what: string): T {
  const all = [...values];
  if (all.length !== 1) throw new Error(`expected exactly one ${what}, found ${all.length}`);
  return all[0] as T;
}

/** `{ 'Fn::GetAtt': [id, attr] }` → id when attr matches, else undefined. */
export function getAttId(value: unknown, attribute = 'Arn'): string | undefined {
  if (typeof value !== 'object' || value === null || !('Fn::GetAtt' in value)) return undefined;
  const getAtt = (value as { 'Fn::GetAtt': unknown })['Fn::GetAtt'];
  if (!Array.isArray(getAtt) || getAtt[1] !== attribute) return undefined;
  return typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** `{ Ref: id }` → id, else undefined. */
export function refId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('Ref' in value)) return undefined;
  const ref = (value as { Ref: unknown }).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

export function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value as T];
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every `AWS::IAM::Policy`, with the policy's logical id and its roles. */
export function iamStatements(
  template: Template,
): { policyId: string; roles: string[]; statement: PolicyStatement }[] {
  const result: { policyId: string; roles: string[]; statement: PolicyStatement }[] = [];
  for (const [policyId, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const document = policy.Properties.PolicyDocument as { Statement: PolicyStatement[] };
    const roles = asArray(policy.Properties.Roles as unknown[])
      .map(refId)
      .filter((id): id is string => id !== undefined);
    for (const statement of document.Statement) result.push({ policyId, roles, statement });
  }
  return result;
}

/**
 * Logical ids of the queues that serve as dead-letter queues: of a queue, of a rule target, or the
 * on-failure destination of a function's asynchronous invocations (the timer DLQ, which EventBridge
 * Scheduler also uses for the schedules the functions create at run time).
 */
export function deadLetterQueueIds(template: Template): Set<string> {
  const ids = new Set<string>();
  for (const queue of resourcesOfType(template, 'AWS::SQS::Queue').values()) {
    const redrive = queue.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
    const id = getAttId(redrive?.deadLetterTargetArn);
    if (id) ids.add(id);
  }
  for (const rule of resourcesOfType(template, 'AWS::Events::Rule').values()) {
    for (const target of asArray(rule.Properties.Targets as { DeadLetterConfig?: { Arn?: unknown } }[])) {
      const id = getAttId(target.DeadLetterConfig?.Arn);
      if (id) ids.add(id);
    }
  }
  for (const config of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').values()) {
    const destination = config.Properties.DestinationConfig as
      | { OnFailure?: { Destination?: unknown } }
      | undefined;
    const id = getAttId(destination?.OnFailure?.Destination);
    if (id) ids.add(id);
  }
  return ids;
}

/** The function consuming a queue, through its event source mapping (exactly one). */
export function consumerOfQueue(
  template: Template,
  queueId: string,
): { functionId: string; mapping: CfnResource } {
  const mapping = single(
    [...resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').values()].filter(
      (m) => getAttId(m.Properties.EventSourceArn) === queueId,
    ),
    `event source mapping of ${queueId}`,
  );
  const functionId = refId(mapping.Properties.FunctionName);
  if (!functionId) throw new Error(`mapping of ${queueId} has no function reference`);
  return { functionId, mapping };
}
