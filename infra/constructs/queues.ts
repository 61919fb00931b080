import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DataKey } from './data-key';

/**
 * A dead-letter queue: encrypted at rest ({@link encryptAtRest}), TLS only, and the longest retention
 * SQS allows so that an operator has two weeks to fix the cause and redrive.
 *
 * No DLQ of its own. cdk-nag (AwsSolutions-SQS3) recognises a queue as a DLQ only when another
 * queue's redrive policy names it; an EventBridge target DLQ must be acknowledged where it is made.
 */
export function createDeadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return encryptAtRest(
    new sqs.Queue(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    }),
  );
}

/**
 * Encrypts a queue with the stack's data key when it has one ({@link DataKey}); otherwise the queue
 * keeps SQS-managed encryption. Create the queue with `SQS_MANAGED`, then pass it here.
 *
 * The key is set on the CloudFormation resource rather than through `encryptionMasterKey` on purpose:
 * given a key, CDK's queue grants add `kms:ReEncrypt*` and `kms:GenerateDataKey*` for every sender,
 * and its EventBridge target drops the rule's `aws:SourceArn` condition from the queue policy (any
 * rule of the account could then send). Here the queue policy keeps the rule condition and each
 * principal gets exactly what it needs through {@link grantQueueKey} and `DataKey.allowEventRules`.
 */
export function encryptAtRest(queue: sqs.Queue): sqs.Queue {
  const dataKey = DataKey.of(queue);
  if (dataKey === undefined) return queue;
  const cfn = queue.node.defaultChild as sqs.CfnQueue;
  cfn.sqsManagedSseEnabled = undefined;
  cfn.kmsMasterKeyId = dataKey.key.keyArn;
  encryptedQueues.add(queue);
  return queue;
}

const encryptedQueues = new WeakSet<sqs.IQueue>();

/**
 * The key side of a queue grant: `send` (kms:GenerateDataKey, kms:Decrypt) or `receive` (kms:Decrypt)
 * through SQS only, when the queue is encrypted with the data key; nothing otherwise. Pair it with
 * the queue's own grant (`grantSendMessages`, an event source, a destination).
 */
export function grantQueueKey(queue: sqs.IQueue, grantee: iam.IGrantable, use: 'send' | 'receive'): void {
  if (!encryptedQueues.has(queue)) return;
  DataKey.of(queue)?.grantQueueUse(grantee, use);
}
