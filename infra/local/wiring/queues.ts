/**
 * The template's SQS queues on local-aws-sqs: the server, the queues (dead-letter queues first, since a
 * redrive policy names its DLQ by ARN) and a `sendToQueue` by ARN for the rule, schedule and
 * on-failure targets.
 *
 * With a state directory the server's messages are journaled (`sqs-journal.ts`) and the pending ones
 * are put back at start, under their message ids. The listener can be closed and reopened on the
 * same port (an SQS outage on demand: messages stay in memory); if it fails on its own it is
 * reopened, and when that keeps failing the runtime is told to stop (`onFatal`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../dynamodb-local';
import { createSqsArrivals } from '../sqs-arrivals';
import { openSqsJournal, type SqsJournal } from '../sqs-journal';
import { type DependencyStatus, RestartBudget } from '../supervisor';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';

export interface LocalQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  /** The queue's DLQ (its redrive policy's target), when it has one. */
  deadLetterArn?: string;
}

export type SendToQueue = (
  arn: string,
  body: string,
  attributes?: Record<string, MessageAttributeValue>,
) => Promise<void>;

export interface QueueDepth {
  /** ApproximateNumberOfMessages. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible. */
  inFlight: number;
  /** Messages waiting in its DLQ (visible + in flight), when it has one. */
  dlq?: number;
}

export interface LocalQueues {
  /** The SQS server's endpoint (outside callers; functions may get a proxy in front of it). */
  endpoint: string;
  /** A client for the local SQS server. */
  sqs: SQSClient;
  /** Logical id → queue. */
  queues: Map<string, LocalQueue>;
  byArn: Map<string, LocalQueue>;
  sendToQueue: SendToQueue;
  /** Messages put back from the state directory at start. */
  restored: number;
  /** Depth of each queue (by logical id), read from the server directly (works during an outage). */
  depths(): Record<string, QueueDepth>;
  /** Subscribes to "messages may be waiting" on a queue (`sqs-arrivals.ts`); returns the unsubscribe. */
  onArrival(queueName: string, listener: () => void): () => void;
  /** Closes the listener (connections refused); messages stay. */
  suspend(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  status(): DependencyStatus;
  close(): Promise<void>;
}

export async function startLocalQueues(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  port?: number;
  /** Where the journal lives (`<stateDir>/sqs`); absent: in memory only. */
  stateDir?: string;
  log?: (message: string) => void;
  /** Called when the listener cannot be kept open. */
  onFatal?: (reason: string) => void;
}): Promise<LocalQueues> {
  const log = options.log ?? ((message: string) => console.warn(message));
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  const journal: SqsJournal | undefined =
    options.stateDir === undefined
      ? undefined
      : openSqsJournal({ file: join(options.stateDir, 'journal.jsonl'), log });
  const arrivals = createSqsArrivals();
  const handler = arrivals.wrap(journal ? journal.wrap(requestHandler) : requestHandler);
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      log(`local runtime: SQS request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await listen(server, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  // The library builds queue URLs from this port (it reads it from its own server otherwise).
  service.PORT = port;
  const endpoint = `http://127.0.0.1:${port}`;
  const sqs = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

  let state: DependencyStatus['state'] = 'up';
  let restarts = 0;
  let lastFailure: string | undefined;
  let suspended = false;
  let closing = false;
  const budget = new RestartBudget();
  server.on('error', (error) => {
    // Errors of a listen() it started itself (resume, reopen) are handled there.
    if (closing || suspended || state === 'restarting') return;
    lastFailure = `listener failed: ${error.message} at ${new Date().toISOString()}`;
    log(`local runtime: the SQS listener failed (${error.message}); reopening it on port ${port}`);
    if (!budget.spend()) {
      state = 'failed';
      options.onFatal?.(`SQS server: its listener failed too often (${budget.describe()}): ${error.message}`);
      return;
    }
    state = 'restarting';
    void closeListener(server)
      .then(() => listen(server, port))
      .then(() => {
        restarts += 1;
        state = 'up';
      })
      .catch((reopen: unknown) => {
        state = 'failed';
        options.onFatal?.(
          `SQS server: cannot listen on port ${port} again: ${reopen instanceof Error ? reopen.message : String(reopen)}`,
        );
      });
  });

  const close = async () => {
    closing = true;
    sqs.destroy();
    if (!suspended) await closeListener(server);
    journal?.close();
    for (const queue of service.Queues) queue.clearRecords();
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
      const properties = options.resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
      const attributes = queueAttributes(properties);
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const redrive = properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
      const queue: LocalQueue = {
        logicalId: id,
        name,
        url: String(created.QueueUrl),
        arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`,
        ...(typeof redrive?.deadLetterTargetArn === 'string'
          ? { deadLetterArn: redrive.deadLetterTargetArn }
          : {}),
      };
      options.resolver.set(id, queue.url, { Arn: queue.arn, QueueName: name, QueueUrl: queue.url });
      queues.set(id, queue);
      byArn.set(queue.arn, queue);
    }
    const restored = journal === undefined ? 0 : restore(journal, service.Queues, log);
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
    const libraryQueue = (name: string) => service.Queues.find((q) => q.QueueName === name);
    const count = (name: string | undefined, attribute: string): number => {
      if (name === undefined) return 0;
      const attributes = libraryQueue(name)?.getAttributes([attribute]) as
        | Record<string, unknown>
        | { Attributes?: Record<string, unknown> }
        | undefined;
      const value =
        (attributes as { Attributes?: Record<string, unknown> })?.Attributes?.[attribute] ??
        (attributes as Record<string, unknown> | undefined)?.[attribute];
      return Number(value ?? 0);
    };
    const depths = () => {
      const out: Record<string, QueueDepth> = {};
      for (const queue of queues.values()) {
        const dlqName = queue.deadLetterArn === undefined ? undefined : byArn.get(queue.deadLetterArn)?.name;
        out[queue.logicalId] = {
          visible: count(queue.name, 'ApproximateNumberOfMessages'),
          inFlight: count(queue.name, 'ApproximateNumberOfMessagesNotVisible'),
          ...(dlqName !== undefined
            ? {
                dlq:
                  count(dlqName, 'ApproximateNumberOfMessages') +
                  count(dlqName, 'ApproximateNumberOfMessagesNotVisible'),
              }
            : {}),
        };
      }
      return out;
    };
    return {
      endpoint,
      sqs,
      queues,
      byArn,
      sendToQueue,
      restored,
      depths,
      onArrival: arrivals.subscribe,
      async suspend() {
        if (suspended || closing) return;
        suspended = true;
        state = 'down';
        await closeListener(server);
      },
      async resume() {
        if (!suspended || closing) return;
        await listen(server, port);
        suspended = false;
        state = 'up';
      },
      status: () => ({ state, restarts, ...(lastFailure !== undefined ? { lastFailure } : {}) }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Puts the journal's pending messages back into the library's queues; returns how many. */
function restore(
  journal: SqsJournal,
  libraryQueues: ReadonlyArray<{
    QueueName: string;
    RedrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
    setRecord: (input: unknown, messageId?: string) => unknown;
  }>,
  log: (message: string) => void,
): number {
  let restored = 0;
  let dropped = 0;
  let redriven = 0;
  for (const message of journal.pending()) {
    let queue = libraryQueues.find((q) => q.QueueName === message.queue);
    if (queue === undefined) {
      dropped += 1;
      continue;
    }
    let receives = message.receives;
    const redrive = queue.RedrivePolicy;
    if (redrive && receives >= Number(redrive.maxReceiveCount)) {
      // Its next visibility timeout would have moved it: the DLQ is where it belongs now.
      const dlq = libraryQueues.find((q) => q.QueueName === redrive.deadLetterTargetArn.split(':').at(-1));
      if (dlq !== undefined) {
        queue = dlq;
        receives = 0;
        journal.move(message.id, dlq.QueueName);
        redriven += 1;
      }
    }
    const remainingDelay = Math.max(
      0,
      (message.sentAt + (message.delaySeconds ?? 0) * 1000 - Date.now()) / 1000,
    );
    const entry = queue.setRecord(
      {
        MessageBody: message.body,
        ...(message.attributes ? { MessageAttributes: message.attributes } : {}),
        ...(message.groupId !== undefined ? { MessageGroupId: message.groupId } : {}),
        ...(message.deduplicationId !== undefined ? { MessageDeduplicationId: message.deduplicationId } : {}),
        DelaySeconds: Math.ceil(remainingDelay),
      },
      message.id,
    ) as { record?: { attributes?: Record<string, string> } } | undefined;
    // Keep its receive count and sending time (the record the library returns is the one it keeps).
    const attributes = entry?.record?.attributes;
    if (attributes !== undefined) {
      attributes.ApproximateReceiveCount = String(receives);
      attributes.SentTimestamp = String(message.sentAt);
    }
    restored += 1;
  }
  journal.compact();
  if (dropped > 0)
    log(`local runtime: SQS journal: ${dropped} message(s) of queues no longer in the template dropped`);
  if (redriven > 0)
    log(`local runtime: SQS journal: ${redriven} message(s) past maxReceiveCount put in their DLQ`);
  return restored;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
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
