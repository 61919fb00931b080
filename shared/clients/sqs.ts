import { SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from './config';

/**
 * SQS, for the queue consumers (a poison message goes to the DLQ at once, with its reason) and the
 * privacy functions (the erasure worker's queue). `useQueueUrlAsEndpoint: false` keeps the
 * configured endpoint even when queue URLs name another host.
 */
export const sqsClient = new SQSClient({ ...clientConfig(), useQueueUrlAsEndpoint: false });
