import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue: SQS-managed encryption, TLS only, and the longest retention SQS allows so
 * that an operator has two weeks to fix the cause and redrive.
 *
 * No DLQ of its own. cdk-nag (AwsSolutions-SQS3) recognises a queue as a DLQ only when another
 * queue's redrive policy names it; an EventBridge target DLQ must be acknowledged where it is made.
 */
export function createDeadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}
