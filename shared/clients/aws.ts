import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * AWS clients, created once per execution environment and reused across
 * invocations. Endpoints come from the SDK's standard configuration
 * (`AWS_ENDPOINT_URL_<SERVICE>`), which is how the local runtime points them at
 * local services without the code knowing.
 */
export const dynamoDbClient = new DynamoDBClient({});

export const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
});

export const eventBridgeClient = new EventBridgeClient({});

/** EventBridge Scheduler: the per-complaint SLA and survey timers. */
export const schedulerClient = new SchedulerClient({});

/** `useQueueUrlAsEndpoint: false` keeps the configured endpoint even when queue URLs name another host. */
export const sqsClient = new SQSClient({ useQueueUrlAsEndpoint: false });

/** KMS: derives the service's own keys from the stack's HMAC key, once per cold start. */
export const kmsClient = new KMSClient({});
