import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryEngine, type DeliveryEngine } from '../../infra/local/delivery/engine';
import { memoryJournal } from '../../infra/local/delivery/journal';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { createFaults } from '../../infra/local/faults';
import type { InvokeResult } from '../../infra/local/lambda-runner';
import { LOCAL_ACCOUNT_ID } from '../../infra/local/template';
import {
  type AsyncConfig,
  type AsyncTarget,
  createAsyncInvoker,
  THROTTLE_ERROR_TYPE,
} from '../../infra/local/wiring/async-invoke';
import { createRuntimeDeliveries } from '../../infra/local/wiring/deliveries';
import { eventually } from '../support/eventually';

/**
 * Lambda's asynchronous invocation on the delivery engine, with functions whose behaviour the test
 * decides (a fake `LocalLambda`: the runner answers `TooManyRequestsException` when a function is at
 * its concurrency limit) and a real local-aws-sqs for the on-failure destinations: throttled events
 * wait and are delivered without using up retries, failures reach the destination after the retries
 * with Lambda's record, an event throttled past its maximum age goes there as `EventAgeExceeded`, and
 * an accepted invocation survives a restart of the engine.
 */

const FAST = { firstDelayMs: 50, maxDelayMs: 200, jitter: 0.25 };
const arnOf = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;

let sqsServer: Server;
let sqs: SQSClient;
const queueUrls = new Map<string, string>();
const engines: DeliveryEngine[] = [];

interface FakeFunction extends AsyncTarget {
  calls: Array<{ event: unknown; requestId: string | undefined }>;
}

/** A function whose answer to each call is `answer(call number)`. */
function fakeFunction(name: string, answer: (call: number) => InvokeResult): FakeFunction {
  const calls: FakeFunction['calls'] = [];
  const lambda: AsyncTarget['lambda'] = {
    name,
    functionArn: functionArn(name),
    init: async () => undefined,
    invoke: async (event, options) => {
      calls.push({ event, requestId: options?.requestId });
      return answer(calls.length);
    },
  };
  return { logicalId: `${name}Function`, name, arn: functionArn(name), lambda, calls };
}

const throttled: InvokeResult = {
  error: { errorType: THROTTLE_ERROR_TYPE, errorMessage: 'Rate Exceeded.' },
};
const failed: InvokeResult = { error: { errorType: 'Error', errorMessage: 'boom' } };

async function createQueue(name: string): Promise<string> {
  const url = String((await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl);
  queueUrls.set(arnOf(name), url);
  return url;
}

async function receive(queueUrl: string, count: number, deadlineMs = 15_000): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + deadlineMs;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...(Messages ?? []));
  }
  return messages;
}

function invokerFor(
  fns: FakeFunction[],
  configs: Record<string, AsyncConfig>,
  engine: DeliveryEngine = createDeliveryEngine({ backoff: FAST, log: () => undefined }),
  faults = createFaults(),
) {
  engines.push(engine);
  const invoker = createAsyncInvoker({
    configs: new Map(Object.entries(configs)),
    functionByArn: new Map(fns.map((fn) => [fn.arn, fn])),
    sendToQueue: async (arn, body) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls.get(arn), MessageBody: body }));
    },
    delivery: engine,
    faults,
    backoff: FAST,
    log: () => undefined,
  });
  return { invoker, engine };
}

beforeAll(async () => {
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});

afterAll(async () => {
  for (const engine of engines) await engine.close();
  sqs?.destroy();
  await new Promise<void>((resolve) => {
    sqsServer?.closeAllConnections();
    sqsServer?.close(() => resolve());
  });
});

describe('asynchronous invocation', () => {
  it('keeps a throttled event waiting and delivers it, without counting throttles as failed attempts', async () => {
    const destination = await createQueue('throttled-failures');
    // At its concurrency limit for the first 5 calls; no retries allowed for a failure.
    const fn = fakeFunction('Busy', (call) => (call <= 5 ? throttled : { result: null }));
    const { invoker, engine } = invokerFor([fn], {
      Busy: { retries: 0, maxAgeSeconds: 60, onFailure: arnOf('throttled-failures') },
    });
    await engine.start();
    await invoker.invokeAsync(fn.arn, { n: 1 });
    await engine.idle();
    expect(fn.calls).toHaveLength(6);
    expect(new Set(fn.calls.map((c) => c.requestId)).size).toBe(1);
    expect(engine.stats('async')[fn.logicalId]).toMatchObject({
      delivered: 1,
      throttled: 5,
      retried: 0,
      deadLettered: 0,
      pending: 0,
    });
    expect(await receive(destination, 1, 1500)).toEqual([]);
  });

  it("sends a function that keeps failing to its on-failure destination after its retries, with Lambda's record", async () => {
    const destination = await createQueue('failing-failures');
    const fn = fakeFunction('Failing', (call) => (call % 2 === 1 ? throttled : failed));
    const { invoker, engine } = invokerFor([fn], {
      Failing: { retries: 2, maxAgeSeconds: 3600, onFailure: arnOf('failing-failures') },
    });
    await engine.start();
    await invoker.invokeAsync(`${fn.arn}:$LATEST`, { kind: 'bogus' });
    const [message] = await receive(destination, 1);
    const record = JSON.parse(String(message?.Body));
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: `${fn.arn}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { kind: 'bogus' },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    });
    // Three failed attempts, each after a throttle that did not count.
    expect(fn.calls).toHaveLength(6);
    expect(engine.stats('async')[fn.logicalId]).toMatchObject({ throttled: 3, retried: 2, deadLettered: 1 });
  });

  it('sends an event throttled past its maximum event age to the destination as EventAgeExceeded', async () => {
    const destination = await createQueue('aged-failures');
    const fn = fakeFunction('Saturated', () => throttled);
    const { invoker, engine } = invokerFor([fn], {
      Saturated: { retries: 2, maxAgeSeconds: 1, onFailure: arnOf('aged-failures') },
    });
    await engine.start();
    await invoker.invokeAsync(fn.arn, { n: 2 });
    const [message] = await receive(destination, 1);
    const record = JSON.parse(String(message?.Body));
    expect(record.requestContext).toMatchObject({ condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
    expect(record.requestPayload).toEqual({ n: 2 });
    expect(record.responsePayload).toBeUndefined();
    expect(fn.calls.length).toBeGreaterThan(1);
  });

  it('drops (and counts) a failure without an on-failure destination, as Lambda does', async () => {
    const fn = fakeFunction('Alone', () => failed);
    const { invoker, engine } = invokerFor([fn], { Alone: { retries: 1, maxAgeSeconds: 60 } });
    await engine.start();
    await invoker.invokeAsync(fn.arn, {});
    await engine.idle();
    expect(fn.calls).toHaveLength(2);
    expect(engine.stats('async')[fn.logicalId]).toMatchObject({ dropped: 1, deadLettered: 0 });
  });

  it('refuses an unknown function at once, and invokes twice when the fault profile duplicates', async () => {
    const fn = fakeFunction('Twice', () => ({ result: null }));
    const faults = createFaults({ duplicateRate: 1 });
    const { invoker, engine } = invokerFor([fn], {}, undefined, faults);
    await engine.start();
    await expect(invoker.invokeAsync(functionArn('Missing'), {})).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await invoker.invokeAsync(fn.arn, { once: true });
    await engine.idle();
    expect(fn.calls.map((c) => c.event)).toEqual([{ once: true }, { once: true }]);
    expect(faults.counts()['duplicate:async']).toBe(1);
    faults.close();
  });

  it('resumes an accepted invocation after a restart of the delivery engine', async () => {
    const journal = memoryJournal();
    let busy = true;
    const fn = fakeFunction('Later', () => (busy ? throttled : { result: null }));
    const first = invokerFor(
      [fn],
      { Later: { retries: 2, maxAgeSeconds: 3600 } },
      createDeliveryEngine({ journal, backoff: FAST, log: () => undefined }),
    );
    await first.engine.start();
    await first.invoker.invokeAsync(fn.arn, { resumed: true });
    await eventually(
      async () => fn.calls.length,
      (n) => n >= 2,
    );
    await first.engine.close();
    expect((await journal.load()).map((p) => p.payload)).toMatchObject([{ event: { resumed: true } }]);

    busy = false;
    const callsBefore = fn.calls.length;
    const second = invokerFor(
      [fn],
      { Later: { retries: 2, maxAgeSeconds: 3600 } },
      createDeliveryEngine({ journal, backoff: FAST, log: () => undefined }),
    );
    await second.engine.start();
    await second.engine.idle();
    expect(fn.calls.slice(callsBefore).map((c) => c.event)).toEqual([{ resumed: true }]);
    expect(await journal.load()).toEqual([]);
  });

  it("reports per function what the runtime's status shows (queued, retrying, throttled, dead-lettered)", async () => {
    let busy = true;
    const fn = fakeFunction('Status', () => (busy ? throttled : failed));
    const deliveries = createRuntimeDeliveries({ backoff: FAST, log: () => undefined });
    const { invoker, engine } = invokerFor(
      [fn],
      { Status: { retries: 1, maxAgeSeconds: 3600 } },
      deliveries.engine,
    );
    await engine.start();
    await invoker.invokeAsync(fn.arn, {});
    await eventually(
      async () => deliveries.stats().async[fn.logicalId],
      (s) => s !== undefined && s.throttled >= 2 && s.queued === 1,
    );
    busy = false;
    await engine.idle();
    expect(deliveries.stats().async[fn.logicalId]).toMatchObject({
      queued: 0,
      retrying: 0,
      deadLettered: 0,
      dropped: 1,
    });
    expect(deliveries.stats().pending).toBe(0);
  });
});
