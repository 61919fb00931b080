/**
 * The template's SQS queues on local-aws-sqs: the server, the queues (dead-letter queues first, since a
 * redrive policy names its DLQ by ARN) and a `sendToQueue` by ARN for the rule, schedule and
 * on-failure targets.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';

export interface LocalQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
}

export type SendToQueue = (
  arn: string,
  body: string,
  attributes?: Record<string, MessageAttributeValue>,
) => Promise<void>;

export interface LocalQueues {
  /** The SQS server's endpoint (outside callers; functions may get a proxy in front of it). */
  endpoint: string;
  /** A client for the local SQS server. */
  sqs: SQSClient;
  /** Logical id → queue. */
  queues: Map<string, LocalQueue>;
  byArn: Map<string, LocalQueue>;
  sendToQueue: SendToQueue;
  close(): Promise<void>;
}

export async function startLocalQueues(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  port?: number;
}): Promise<LocalQueues> {
  const server: Server = await createSqsServer({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sqs = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const close = async () => {
    sqs.destroy();
    await closeServer(server);
  };
  try {
    const queues = new Map<string, LocalQueue>();
    const byArn = new Map<string, LocalQueue>();
    const queueResources = resourcesOfType(options.template, 'AWS::SQS::Queue').sort(
      ([, a], [, b]) =>
        Number(a.Properties?.RedrivePolicy !== undefined) - Number(b.Properties?.RedrivePolicy !== undefined),
    );
    for (const [id, resource] of queueResources) {
      const name = options.resolver.physicalName(id, 80);
      const attributes = queueAttributes(
        options.resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>,
      );
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const queue: LocalQueue = {
        logicalId: id,
        name,
        url: String(created.QueueUrl),
        arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`,
      };
      options.resolver.set(id, queue.url, { Arn: queue.arn, QueueName: name, QueueUrl: queue.url });
      queues.set(id, queue);
      byArn.set(queue.arn, queue);
    }
    const sendToQueue: SendToQueue = async (arn, body, attributes) => {
      const queue = byArn.get(arn);
      if (queue === undefined) throw new Error(`No queue ${arn} in this stack`);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: body,
          ...(attributes ? { MessageAttributes: attributes } : {}),
        }),
      );
    };
    return { endpoint, sqs, queues, byArn, sendToQueue, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The local SQS attributes of an `AWS::SQS::Queue` (what local-aws-sqs understands). */
function queueAttributes(p: Record<string, unknown>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const key of [
    'VisibilityTimeout',
    'MessageRetentionPeriod',
    'DelaySeconds',
    'ReceiveMessageWaitTimeSeconds',
    'MaximumMessageSize',
  ]) {
    if (p[key] !== undefined) attributes[key] = String(p[key]);
  }
  if (p.RedrivePolicy !== undefined) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
  if (p.FifoQueue === true) attributes.FifoQueue = 'true';
  return attributes;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
