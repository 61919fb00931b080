/**
 * "Messages may be waiting on queue X" signals from the local SQS server, for the event source
 * mappings' pollers: SQS long polling answers as soon as a message arrives, while short polls at an
 * interval would add half that interval to every hop (two hops from intake to assigned).
 *
 * The server's request handler is wrapped: after a successful `SendMessage`, `SendMessageBatch` or
 * visibility change (which can make a message visible at once), the queue's listeners are called.
 * A signal is a hint, never a promise: the poller still receives, and still polls at its interval for
 * messages that become visible on their own (a visibility timeout that ran out, a delay).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { queueNameOfUrl } from './aws-request-actions';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const SIGNALLING_ACTIONS = new Set([
  'SendMessage',
  'SendMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
]);

export interface SqsArrivals {
  /** Wraps the SQS server's request handler so that it signals arrivals. */
  wrap(handler: Handler): Handler;
  /** Calls `listener` on every arrival signal for the queue named `queueName`; returns the unsubscribe. */
  subscribe(queueName: string, listener: () => void): () => void;
}

export function createSqsArrivals(): SqsArrivals {
  const listeners = new Map<string, Set<() => void>>();
  const signal = (queueName: string) => {
    for (const listener of [...(listeners.get(queueName) ?? [])]) listener();
  };
  return {
    wrap: (handler) => async (req, res) => {
      const json = String(req.headers['content-type'] ?? '').includes('json');
      const target = String(req.headers['x-amz-target'] ?? '');
      // The JSON protocol names the action in a header: other requests (receives, deletes) pass untouched.
      if (json && !SIGNALLING_ACTIONS.has(target.split('.')[1] ?? '')) return handler(req, res);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('finish', () => {
        if (res.statusCode !== 200) return;
        const queue = signalledQueue(Buffer.concat(chunks).toString('utf8'), json);
        if (queue !== undefined) signal(queue);
      });
      await handler(req, res);
    },
    subscribe(queueName, listener) {
      let set = listeners.get(queueName);
      if (set === undefined) {
        set = new Set();
        listeners.set(queueName, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}

/** The queue a signalling request names, or undefined (another action, or a body it cannot read). */
function signalledQueue(body: string, json: boolean): string | undefined {
  let url: unknown;
  if (json) {
    try {
      url = (JSON.parse(body) as { QueueUrl?: unknown }).QueueUrl;
    } catch {
      return undefined;
    }
  } else {
    const params = new URLSearchParams(body);
    if (!SIGNALLING_ACTIONS.has(params.get('Action') ?? '')) return undefined;
    url = params.get('QueueUrl');
  }
  return typeof url === 'string' ? queueNameOfUrl(url) : undefined;
}
