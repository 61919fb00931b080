import { Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';

/** How data at rest is encrypted: with the stack's own key (default), or with AWS-managed keys. */
export type EncryptionMode = 'customer-managed' | 'aws-managed';

export const ENCRYPTION_MODES: readonly EncryptionMode[] = ['customer-managed', 'aws-managed'];

/**
 * What the key's administrators may do: manage the key (describe, enable/disable, rotate, tag,
 * policy, deletion) — no cryptographic operation and no `kms:CreateGrant`, so administering the key
 * never reads the data it protects.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** What the services that store the data need of the key on a caller's behalf. */
export const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:DescribeKey',
  'kms:CreateGrant',
];

/** What a service principal needs to send to an encrypted queue. */
const QUEUE_SENDER_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

const dataKeys = new WeakMap<Stack, DataKey>();

/**
 * The customer-managed key of the stack's data at rest: the table (and its indexes and backups),
 * every SQS queue and dead-letter queue, the functions' log groups and the event bus. Symmetric,
 * rotated yearly, **retained** when the stack is deleted (the table it protects is retained too:
 * deleting the key would make the data unreadable).
 *
 * Key policy (who administers vs who uses):
 * - **Administration** — the account, through IAM (`arn:aws:iam::<account>:root`, so only IAM
 *   principals the account grants it): {@link KEY_ADMIN_ACTIONS}, nothing cryptographic.
 * - **Use through the storing services only** — the account, through IAM, may use the key only via
 *   DynamoDB and SQS (`kms:ViaService`, `kms:CallerAccount`): no principal can call `kms:Decrypt`
 *   directly on the data, and only the roles whose IAM policies name the key (each function, for the
 *   table and the queues it uses; `ComplaintFunction.useTable`, `grantQueueKey`) use it at all.
 * - **Service principals**, each for its own resources only: CloudWatch Logs for this account's log
 *   groups (`kms:EncryptionContext:aws:logs:arn`), EventBridge for the rules that deliver to the
 *   encrypted queues ({@link allowEventRules}, `aws:SourceArn`) and for the bus (added by the bus
 *   construct, bound to the bus ARN), EventBridge Scheduler for this stack's schedule groups
 *   ({@link allowScheduleGroups}, sending to the timer DLQ).
 *
 * Functions find it with {@link DataKey.of}; it must be created before the resources it encrypts.
 */
export class DataKey extends Construct {
  readonly key: kms.Key;
  private readonly ruleArns: string[] = [];
  private readonly groupArns: string[] = [];

  /** The stack's data key, or undefined when the stack uses AWS-managed keys. */
  static of(scope: IConstruct): DataKey | undefined {
    return dataKeys.get(Stack.of(scope));
  }

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    if (dataKeys.has(stack)) throw new Error(`${stack.stackName} already has a data key`);
    dataKeys.set(stack, this);
    const account = new iam.AccountRootPrincipal();
    this.key = new kms.Key(this, 'Key', {
      description: `Data at rest of ${stack.stackName}: table, queues, log groups, event bus`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'Administration',
            principals: [account],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'UseThroughDynamoDbAndSqsOnly',
            principals: [account],
            actions: KEY_USE_ACTIONS,
            resources: ['*'],
            conditions: {
              StringEquals: {
                'kms:CallerAccount': stack.account,
                'kms:ViaService': [
                  `dynamodb.${stack.region}.amazonaws.com`,
                  `sqs.${stack.region}.amazonaws.com`,
                ],
              },
            },
          }),
          new iam.PolicyStatement({
            sid: 'CloudWatchLogsOfThisAccount',
            principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
            actions: [
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:ReEncryptFrom',
              'kms:ReEncryptTo',
              'kms:GenerateDataKey',
              'kms:GenerateDataKeyWithoutPlaintext',
              'kms:DescribeKey',
            ],
            resources: ['*'],
            conditions: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
              },
            },
          }),
        ],
      }),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeRulesDeliveringToQueues',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: QUEUE_SENDER_ACTIONS,
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': Lazy.list({ produce: () => this.ruleArns }) },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SchedulerSendingToTheTimerDlq',
        principals: [new iam.ServicePrincipal('scheduler.amazonaws.com')],
        actions: QUEUE_SENDER_ACTIONS,
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => this.groupArns }) },
        },
      }),
    );
  }

  /**
   * Lets EventBridge use the key for rules matching these ARN patterns only (their targets and target
   * DLQs are encrypted queues). Patterns, not the rules' ARNs: a rule references its queue, the queue
   * the key, so naming a rule here would be a dependency cycle.
   */
  allowEventRules(ruleArnPatterns: readonly string[]): void {
    for (const arn of ruleArnPatterns) if (!this.ruleArns.includes(arn)) this.ruleArns.push(arn);
  }

  /** Lets Scheduler use the key for schedules of these groups only (their DLQ is an encrypted queue). */
  allowScheduleGroups(groupArns: readonly string[]): void {
    for (const arn of groupArns) if (!this.groupArns.includes(arn)) this.groupArns.push(arn);
  }

  /**
   * Lets `grantee` use the key through SQS only: `receive` (kms:Decrypt) to consume an encrypted
   * queue, `send` (kms:GenerateDataKey and kms:Decrypt) to send to one.
   */
  grantQueueUse(grantee: iam.IGrantable, use: 'send' | 'receive'): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: use === 'send' ? QUEUE_SENDER_ACTIONS : ['kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
    });
  }
}
