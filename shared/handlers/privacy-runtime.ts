import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { documentClient } from '../clients/dynamodb';
import { sqsClient } from '../clients/sqs';
import { ConfigurationError, type RuntimeConfig } from '../config';
import type { ServiceContext } from '../services/context';
import type { ErasureMessage, ErasureQueue, PrivacyContext } from '../services/privacy';
import { DynamoDbPrivacyStore } from '../storage/privacy-store';

/** The erasure worker's queue on SQS: a message is `{ erasureId }`, never whose data. */
export class SqsErasureQueue implements ErasureQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: ErasureMessage): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }),
    );
  }
}

/** The privacy functions' context: the service context plus the erasure store and queue. */
export function createPrivacyContext(runtime: {
  ctx: ServiceContext;
  config: RuntimeConfig;
}): PrivacyContext {
  const { ctx, config } = runtime;
  const queueUrl = config.ERASURE_QUEUE_URL;
  if (queueUrl === undefined) {
    throw new ConfigurationError('The privacy functions need ERASURE_QUEUE_URL (the erasure worker queue)');
  }
  return {
    ...ctx,
    privacy: new DynamoDbPrivacyStore(documentClient, config.TABLE_NAME, config.DEADLINE_SHARDS),
    erasureQueue: new SqsErasureQueue(sqsClient, queueUrl),
    chunkItems: config.ERASURE_CHUNK_ITEMS,
    shards: config.DEADLINE_SHARDS,
  };
}
