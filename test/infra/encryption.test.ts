import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_ADMIN_ACTIONS } from '../../infra/constructs/data-key';
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

/**
 * Encryption at rest under both options: the stack's customer-managed key (default) on the table,
 * every queue, the functions' log groups and the bus, with a key policy that separates administration
 * from use and lets each service principal use it for this stack's resources only, and the grants of
 * each role on it; or the AWS-managed keys (`encryption: 'aws-managed'`), with no key at all.
 */

interface KeyStatement {
  Sid?: string;
  Effect: string;
  Principal: { AWS?: unknown; Service?: string };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const CRYPTO = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'];

let cmk: SynthesizedStack;
let managed: SynthesizedStack;
let keyId: string;
let keyPolicy: KeyStatement[];

const idOf = (s: SynthesizedStack, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.getLogicalId(construct.node.defaultChild as CfnElement);

beforeAll(() => {
  cmk = synthesizeStack({}, { bundle: false, id: 'EncryptionTest' });
  managed = synthesizeStack({ encryption: 'aws-managed' }, { bundle: false, id: 'ManagedTest' });
  keyId = idOf(cmk, cmk.stack.dataKey?.key as never);
  const key = resourcesOfType(cmk.template, 'AWS::KMS::Key').get(keyId) as CfnResource;
  keyPolicy = (key.Properties.KeyPolicy as { Statement: KeyStatement[] }).Statement;
}, 180_000);

const sid = (name: string) =>
  single(
    keyPolicy.filter((s) => s.Sid === name),
    `statement ${name}`,
  );
const rolesOf = (s: SynthesizedStack) => {
  const { stack } = s;
  return [
    stack.intake.apiFunction,
    stack.intake.inboundFunction,
    stack.classification.function,
    stack.assignment.function,
    stack.sla.timerFunction,
    stack.sla.sweepFunction,
    stack.survey.function,
    stack.agentApi.function,
    stack.customerApi.function,
    stack.reporting.aggregator,
    stack.reporting.generator,
    stack.reporting.apiFunction,
  ].map((fn) => idOf(s, fn.role));
};
/** kms statements of a role: action list → ViaService. */
const kmsGrants = (roleId: string) =>
  iamStatements(cmk.template)
    .filter(
      (s) =>
        s.roles.includes(roleId) &&
        asArray(s.statement.Action).some((a) => a.startsWith('kms:')) &&
        // The service key's kms:GenerateMac (test/infra/service-key.test.ts) is another key's grant.
        !asArray(s.statement.Action).every((a) => a === 'kms:GenerateMac'),
    )
    .map(
      (s) =>
        s.statement as unknown as {
          Action: string[];
          Resource: unknown;
          Condition: KeyStatement['Condition'];
        },
    );

describe('customer-managed key (default)', () => {
  it('is one symmetric key with yearly rotation, retained with the stack', () => {
    const key = resourcesOfType(cmk.template, 'AWS::KMS::Key').get(keyId) as CfnResource;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT').toBe('SYMMETRIC_DEFAULT');
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.UpdateReplacePolicy).toBe('Retain');
  });

  it('encrypts the table with it', () => {
    const table = single(resourcesOfType(cmk.template, 'AWS::DynamoDB::Table').values(), 'table');
    expect(table.Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('encrypts every queue and DLQ with it (none left SQS-managed)', () => {
    const queues = resourcesOfType(cmk.template, 'AWS::SQS::Queue');
    expect(queues.size).toBeGreaterThan(0);
    for (const [id, queue] of queues) {
      expect(getAttId(queue.Properties.KmsMasterKeyId), id).toBe(keyId);
      expect(queue.Properties.SqsManagedSseEnabled, id).toBeUndefined();
    }
  });

  it("encrypts every function's log group and the event bus with it", () => {
    const functions = resourcesOfType(cmk.template, 'AWS::Lambda::Function');
    const logGroups = resourcesOfType(cmk.template, 'AWS::Logs::LogGroup');
    for (const [id, fn] of functions) {
      const groupId = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup
        ?.Ref;
      if (groupId === undefined) continue;
      expect(getAttId(logGroups.get(groupId)?.Properties.KmsKeyId), id).toBe(keyId);
    }
    const bus = single(resourcesOfType(cmk.template, 'AWS::Events::EventBus').values(), 'bus');
    expect(getAttId(bus.Properties.KmsKeyIdentifier)).toBe(keyId);
  });

  it('lets the account administer the key, with no cryptographic action and no CreateGrant', () => {
    const admin = sid('Administration');
    expect(asArray(admin.Action).sort()).toEqual([...KEY_ADMIN_ACTIONS].sort());
    for (const action of [...CRYPTO, 'kms:CreateGrant', 'kms:*'])
      expect(asArray(admin.Action)).not.toContain(action);
    expect(admin.Condition).toBeUndefined();
  });

  it('lets IAM principals of the account use the key only through DynamoDB and SQS', () => {
    const use = sid('UseThroughDynamoDbAndSqsOnly');
    expect(use.Condition?.StringEquals?.['kms:ViaService']).toEqual([
      { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
    ]);
    expect(use.Condition?.StringEquals?.['kms:CallerAccount']).toEqual({ Ref: 'AWS::AccountId' });
    // Every other statement that allows a cryptographic action names a service principal with a condition.
    for (const statement of keyPolicy.filter((s) => s.Sid !== 'UseThroughDynamoDbAndSqsOnly')) {
      const crypto = asArray(statement.Action).some((a) => CRYPTO.includes(a) || a === 'kms:*');
      if (!crypto) continue;
      expect(statement.Principal.Service, statement.Sid).toBeDefined();
      expect(statement.Condition, statement.Sid).toBeDefined();
    }
  });

  it("lets CloudWatch Logs use it for this account's log groups only", () => {
    const logs = sid('CloudWatchLogsOfThisAccount');
    expect(JSON.stringify(logs.Principal.Service)).toContain('logs.');
    expect(Object.keys(logs.Condition?.ArnLike ?? {})).toEqual(['kms:EncryptionContext:aws:logs:arn']);
  });

  it('lets EventBridge use it for exactly the stack rules, and Scheduler for exactly its two schedule groups', () => {
    const events = sid('EventBridgeRulesDeliveringToQueues');
    expect(events.Principal.Service).toBe('events.amazonaws.com');
    expect(asArray(events.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    // Patterns (rule ARNs would be a cycle: rule → queue → key): the rules on the project bus, and
    // the ones CloudFormation names after the stack on the default bus.
    const bus = single(resourcesOfType(cmk.template, 'AWS::Events::EventBus').values(), 'bus');
    const patterns = JSON.stringify(events.Condition?.ArnLike?.['aws:SourceArn']);
    expect(patterns).toContain(`:rule/${bus.Properties.Name}/*`);
    expect(patterns).toContain(':rule/EncryptionTest-*');
    expect(asArray(events.Condition?.ArnLike?.['aws:SourceArn'] as unknown[])).toHaveLength(2);
    for (const [id, rule] of resourcesOfType(cmk.template, 'AWS::Events::Rule')) {
      expect(rule.Properties.Name, id).toBeUndefined(); // named by CloudFormation: <stack>-<id>-<suffix>
    }
    expect(events.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });

    const scheduler = sid('SchedulerSendingToTheTimerDlq');
    expect(scheduler.Principal.Service).toBe('scheduler.amazonaws.com');
    const groups = asArray(scheduler.Condition?.ArnEquals?.['aws:SourceArn'] as unknown[]).map((a) =>
      getAttId(a),
    );
    expect(groups.sort()).toEqual(
      [idOf(cmk, cmk.stack.timers.scheduleGroup), idOf(cmk, cmk.stack.timers.recurringScheduleGroup)].sort(),
    );
  });

  it('keeps the EventBridge rule condition on the work queue policies (no account-wide send)', () => {
    for (const policy of resourcesOfType(cmk.template, 'AWS::SQS::QueuePolicy').values()) {
      const statements = (policy.Properties.PolicyDocument as { Statement: KeyStatement[] }).Statement;
      for (const s of statements.filter(
        (st) => st.Effect === 'Allow' && st.Principal.Service === 'events.amazonaws.com',
      )) {
        expect(s.Condition?.ArnEquals?.['aws:SourceArn'], JSON.stringify(s)).toBeDefined();
      }
    }
  });
});

describe('grants on the key', () => {
  it('gives every function the table key through DynamoDB only', () => {
    for (const roleId of rolesOf(cmk)) {
      const table = kmsGrants(roleId).filter((g) =>
        JSON.stringify(g.Condition?.StringEquals?.['kms:ViaService']).includes('dynamodb.'),
      );
      expect(table, roleId).toHaveLength(1);
      expect(getAttId(table[0]?.Resource), roleId).toBe(keyId);
      expect(asArray(table[0]?.Action), roleId).toContain('kms:Decrypt');
    }
  });

  it('gives queue consumers kms:Decrypt and senders kms:GenerateDataKey, through SQS, on this key only', () => {
    const consumers = [
      cmk.stack.intake.inbound,
      cmk.stack.classification.consumer,
      cmk.stack.assignment.consumer,
      cmk.stack.reporting.consumer,
    ];
    for (const consumer of consumers) {
      const roleId = idOf(cmk, consumer.consumer.role);
      const sqs = kmsGrants(roleId).filter((g) =>
        JSON.stringify(g.Condition?.StringEquals?.['kms:ViaService']).includes('sqs.'),
      );
      const actions = sqs.flatMap((g) => asArray(g.Action));
      expect(actions, roleId).toContain('kms:Decrypt');
      expect(actions, roleId).toContain('kms:GenerateDataKey');
      for (const g of sqs) expect(getAttId(g.Resource), roleId).toBe(keyId);
    }
    // Timer targets send their failures to the timer DLQ; the Scheduler role sends there too.
    for (const fn of [
      cmk.stack.sla.timerFunction,
      cmk.stack.survey.function,
      cmk.stack.reporting.generator,
    ]) {
      const actions = kmsGrants(idOf(cmk, fn.role)).flatMap((g) => asArray(g.Action));
      expect(actions).toContain('kms:GenerateDataKey');
    }
    const schedulerRole = idOf(cmk, cmk.stack.timers.schedulerRole);
    expect(
      kmsGrants(schedulerRole)
        .flatMap((g) => asArray(g.Action))
        .sort(),
    ).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('gives no queue key to a function that neither consumes nor sends to a queue (the APIs, the sweep)', () => {
    for (const fn of [
      cmk.stack.intake.apiFunction,
      cmk.stack.agentApi.function,
      cmk.stack.customerApi.function,
    ]) {
      const viaSqs = kmsGrants(idOf(cmk, fn.role)).filter((g) =>
        JSON.stringify(g.Condition).includes('sqs.'),
      );
      expect(viaSqs).toEqual([]);
    }
  });

  it('never grants a KMS action on "*", nor a wildcard KMS action', () => {
    for (const { policyId, statement } of iamStatements(cmk.template)) {
      const kms = asArray(statement.Action).filter((a) => a.startsWith('kms:'));
      if (kms.length === 0) continue;
      expect(asArray(statement.Resource), policyId).not.toContain('*');
      for (const action of kms) expect(action, policyId).not.toMatch(/\*/);
    }
  });
});

describe("AWS-managed keys (encryption: 'aws-managed')", () => {
  it('creates no data key, encrypts the table with the AWS-managed key and the queues with SQS-managed keys', () => {
    expect(managed.stack.dataKey).toBeUndefined();
    const keys = [...resourcesOfType(managed.template, 'AWS::KMS::Key').keys()];
    expect(keys.filter((id) => id.startsWith('DataKey'))).toEqual([]);
    const table = single(resourcesOfType(managed.template, 'AWS::DynamoDB::Table').values(), 'table');
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    for (const [id, queue] of resourcesOfType(managed.template, 'AWS::SQS::Queue')) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      expect(queue.Properties.KmsMasterKeyId, id).toBeUndefined();
    }
    const bus = single(resourcesOfType(managed.template, 'AWS::Events::EventBus').values(), 'bus');
    expect(bus.Properties.KmsKeyIdentifier).toBeUndefined();
    for (const { statement } of iamStatements(managed.template)) {
      expect(
        asArray(statement.Action).filter((a) => a.startsWith('kms:') && a !== 'kms:GenerateMac'),
      ).toEqual([]);
    }
  });

  it('refuses an unknown encryption option', () => {
    expect(() => synthesizeStack({ encryption: 'none' as never }, { bundle: false, id: 'Bad' })).toThrow(
      /encryption must be one of customer-managed, aws-managed/,
    );
  });
});
