import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createRequestHandler, createSqsServer } from 'local-aws-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type SqsEventSource, startSqsEventSource } from '../../infra/local/event-source-mapping';
import { type InvokeResult, type LocalLambda, loadLambda } from '../../infra/local/lambda-runner';
import { createSqsArrivals, type SqsArrivals } from '../../infra/local/sqs-arrivals';
import { type Gate, startGate } from './support/gate';

/**
 * The local event source mapping against a real SQS-protocol server (local-aws-sqs),
 * whose redrive policy does the dead-lettering, and the local Lambda runner on tiny
 * `.mjs` bundles written to a temp folder (its own tests: `lambda-runner.test.ts`).
 * Everything waits with deadlines; overlap is proven with the gate (`support/gate.ts`).
 */

let server: Server;
let sqs: SQSClient;
let workDir: string;
let gate: Gate;
const running: SqsEventSource[] = [];
const lambdas: LocalLambda[] = [];

/** A runner function closed after the test. */
function track(fn: LocalLambda): LocalLambda {
  lambdas.push(fn);
  return fn;
}
let queueCounter = 0;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  workDir = await mkdtemp(join(tmpdir(), 'event-source-mapping-'));
  gate = await startGate();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.stop()));
  await Promise.all(lambdas.splice(0).map((fn) => fn.close()));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await gate.close();
  await rm(workDir, { recursive: true, force: true });
});

/** Polls `probe` until it returns something other than `undefined`, or fails at the deadline. */
async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A queue with a DLQ: redrive after two receives, and a one-second visibility timeout
 * by default so retries are quick. (As on AWS, the visibility timeout must exceed the
 * batching window, or records time out while the batch is still being gathered.)
 */
async function queueWithDlq(
  visibilityTimeoutSeconds = 1,
): Promise<{ url: string; arn: string; dlqUrl: string }> {
  const name = `esm-${++queueCounter}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = String(dlq.QueueUrl);
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
      },
    }),
  );
  const url = String(queue.QueueUrl);
  const arn = String(
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn,
  );
  return { url, arn, dlqUrl };
}

async function sendBodies(url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })),
      }),
    );
  }
}

/** Visible plus in-flight messages (0 means empty; local-aws-sqs counts an in-flight message in both). */
async function depth(url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

/** An in-memory function that records every event and answers with `respond`. */
function recordingLambda(
  respond: (event: SQSEvent, call: number) => InvokeResult = () => ({ result: null }),
) {
  const events: SQSEvent[] = [];
  return {
    events,
    bodies: () => events.flatMap((e) => e.Records.map((r) => r.body)),
    invoke: async (event: unknown) => {
      events.push(event as SQSEvent);
      return respond(event as SQSEvent, events.length);
    },
  };
}

function start(options: Omit<Parameters<typeof startSqsEventSource>[0], 'sqs'>): SqsEventSource {
  const source = startSqsEventSource({ sqs, ...options });
  running.push(source);
  return source;
}

describe('SQS event source mapping', () => {
  it('honours the batch size and builds Lambda SQS records', async () => {
    const { url, arn } = await queueWithDlq();
    await sendBodies(
      url,
      Array.from({ length: 7 }, (_, i) => `m${i}`),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'with-attributes',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'test' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    const lambda = recordingLambda();
    const source = start({ queueUrl: url, batchSize: 3, lambda });

    await waitFor(() => (lambda.bodies().length >= 8 ? true : undefined), 'all eight records');
    expect(lambda.events.every((e) => e.Records.length <= 3)).toBe(true);
    expect(lambda.events.length).toBeGreaterThanOrEqual(3);
    expect(lambda.bodies().sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'with-attributes']);

    const record = lambda.events.flatMap((e) => e.Records).find((r) => r.body === 'with-attributes');
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: LOCAL_REGION,
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/) },
      messageAttributes: {
        kind: { stringValue: 'test', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: Buffer.from('hi').toString('base64'), dataType: 'Binary' },
      },
    });
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the queue to be empty');
    expect(source.stats()).toMatchObject({ received: 8, deleted: 8, failedInvocations: 0, failedRecords: 0 });
  });

  it('gathers messages arriving within the batching window into one invocation', async () => {
    const { url } = await queueWithDlq(10);
    const lambda = recordingLambda();
    const source = start({ queueUrl: url, batchSize: 10, maxBatchingWindowSeconds: 3, lambda });
    await sendBodies(url, ['first']);
    // The first message is in hand and the window is open; these arrive during it.
    await waitFor(() => (source.stats().received >= 1 ? true : undefined), 'the first receive');
    expect(lambda.events).toHaveLength(0);
    await sendBodies(url, ['second']);
    await sendBodies(url, ['third']);

    await waitFor(() => (lambda.events.length > 0 ? true : undefined), 'an invocation');
    expect(lambda.events).toHaveLength(1);
    expect(lambda.bodies()).toEqual(['first', 'second', 'third']);
  });

  it('deletes the successes of a partial batch; the failing record is retried, then dead-lettered', async () => {
    const { url, dlqUrl } = await queueWithDlq();
    const lambda = recordingLambda((event): InvokeResult => {
      const response: SQSBatchResponse = {
        batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
      return { result: response };
    });
    await sendBodies(url, ['ok-1', 'poison', 'ok-2']);
    const source = start({ queueUrl: url, batchSize: 10, lambda });

    const dead = await waitFor(async () => {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, AttributeNames: ['All'] }),
      );
      return Messages?.[0];
    }, 'the poison message in the DLQ');
    expect(dead.Body).toBe('poison');

    const poisonDeliveries = lambda.events.flatMap((e) => e.Records).filter((r) => r.body === 'poison');
    expect(poisonDeliveries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    // Each success was delivered once and deleted; nothing else went anywhere.
    expect(
      lambda
        .bodies()
        .filter((b) => b !== 'poison')
        .sort(),
    ).toEqual(['ok-1', 'ok-2']);
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the source queue to be empty');
    expect(dead.Attributes?.DeadLetterQueueSourceArn).toBeDefined();
    // Only the poison message was dead-lettered.
    const more = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    expect(more.Messages ?? []).toEqual([]);
    expect(source.stats()).toMatchObject({ deleted: 2, failedRecords: 2, failedInvocations: 0 });
  });

  it('retries the whole batch when the function fails', async () => {
    const { url, dlqUrl } = await queueWithDlq();
    const lambda = recordingLambda((_event, call) =>
      call === 1
        ? { error: { errorType: 'Error', errorMessage: 'boom' } }
        : { result: { batchItemFailures: [] } },
    );
    await sendBodies(url, ['a', 'b']);
    const source = start({ queueUrl: url, batchSize: 10, lambda });

    await waitFor(() => (lambda.bodies().length >= 4 ? true : undefined), 'the batch to be redelivered');
    const deliveries = lambda.events.flatMap((e) => e.Records);
    expect(deliveries.map((r) => `${r.body}:${r.attributes.ApproximateReceiveCount}`).sort()).toEqual([
      'a:1',
      'a:2',
      'b:1',
      'b:2',
    ]);
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the queue to be empty');
    expect(await depth(dlqUrl)).toBe(0);
    expect(source.stats()).toMatchObject({ failedInvocations: 1, deleted: 2 });
  });

  it('treats an unknown itemIdentifier as a failure of the whole batch', async () => {
    const { url } = await queueWithDlq();
    const lambda = recordingLambda((_event, call) =>
      call === 1 ? { result: { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] } } : { result: null },
    );
    await sendBodies(url, ['x']);
    start({ queueUrl: url, lambda });
    await waitFor(() => (lambda.events.length >= 2 ? true : undefined), 'a redelivery');
    expect(lambda.events[1]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('stops quickly while polling an empty queue', async () => {
    const { url } = await queueWithDlq();
    const source = start({ queueUrl: url, lambda: recordingLambda() });
    await waitFor(() => (source.stats().polls >= 1 ? true : undefined), 'a poll');
    const began = Date.now();
    await source.stop();
    expect(Date.now() - began).toBeLessThan(1_500);
  });
});

/** Writes `index.mjs` with `source` into a fresh bundle folder. */
async function bundle(name: string, source: string): Promise<string> {
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.mjs'), source);
  return dir;
}

describe('event source mapping on the local Lambda runner', () => {
  it('runs a bundle behind the event source mapping, partial failures and all', async () => {
    const { url, dlqUrl } = await queueWithDlq();
    const fn = track(
      loadLambda({
        name: 'consumer',
        bundleDir: await bundle(
          'consumer',
          `export const handler = async (event) => ({
          batchItemFailures: event.Records.filter((r) => r.body === process.env.POISON).map((r) => ({ itemIdentifier: r.messageId })),
        });`,
        ),
        env: { POISON: 'bad' },
        timeoutSeconds: 2,
        memoryMb: 128,
      }),
    );
    await sendBodies(url, ['good', 'bad']);
    const source = start({ queueUrl: url, lambda: fn });
    await waitFor(async () => ((await depth(dlqUrl)) === 1 ? true : undefined), 'the bad message in the DLQ');
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the source queue to be empty');
    expect(source.stats()).toMatchObject({ deleted: 1, failedInvocations: 0 });
  });

  it('adds pollers while the backlog lasts, up to the concurrency, and drops them when it is gone', async () => {
    const { url } = await queueWithDlq(30);
    const fn = track(
      loadLambda({
        name: 'backlog',
        bundleDir: await bundle(
          'backlog',
          `export const handler = async (event) => {
            await fetch(process.env.GATE + '/hold/backlog');
            return { batchItemFailures: [] };
          };`,
        ),
        env: { GATE: gate.url },
        timeoutSeconds: 20,
        memoryMb: 128,
        concurrency: 3,
      }),
    );
    await sendBodies(
      url,
      Array.from({ length: 40 }, (_, i) => `m${i}`),
    );
    const source = start({ queueUrl: url, batchSize: 2, lambda: fn });
    // Every invocation holds at the gate: batches pile up in flight only if pollers run side by side.
    await waitFor(() => (gate.arrivals('backlog') === 3 ? true : undefined), 'three invocations at the gate');
    expect(source.stats().inFlight).toBe(3);
    expect(source.stats().pollers).toBe(3);
    expect(fn.stats()).toMatchObject({ busy: 3, instances: 3 });
    gate.release('backlog');
    await waitFor(() => (source.stats().deleted === 40 ? true : undefined), 'the backlog to drain');
    await waitFor(() => (source.stats().pollers === 1 ? true : undefined), 'the pollers to shrink to one');
    expect(source.stats()).toMatchObject({ received: 40, failedInvocations: 0, inFlight: 0 });
    expect(await depth(url)).toBe(0);
    expect(fn.stats().throttles).toBe(0);
  });

  it('invokes a batch twice when a duplicate delivery is injected, and deletes it once', async () => {
    const { url, dlqUrl } = await queueWithDlq(30);
    const fn = track(
      loadLambda({
        name: 'duplicates',
        bundleDir: await bundle(
          'duplicates',
          `export const handler = async (event) => {
            for (const record of event.Records) await fetch(process.env.GATE + '/seen/dup-' + record.body);
            return { batchItemFailures: [] };
          };`,
        ),
        env: { GATE: gate.url },
        timeoutSeconds: 5,
        memoryMb: 128,
        concurrency: 2,
      }),
    );
    await sendBodies(url, ['once']);
    const source = start({ queueUrl: url, lambda: fn, duplicate: () => true });
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the queue to be empty');
    expect(gate.arrivals('dup-once')).toBe(2);
    expect(source.stats()).toMatchObject({ invocations: 2, duplicated: 1, deleted: 1, failedInvocations: 0 });
    expect(await depth(dlqUrl)).toBe(0);
  });
});

describe('event source mapping woken by the SQS server (long-poll behaviour)', () => {
  let signalling: Server;
  let signallingSqs: SQSClient;
  let arrivals: SqsArrivals;

  beforeAll(async () => {
    const { requestHandler, service } = createRequestHandler({
      port: 0,
      hostname: '127.0.0.1',
      emulateQueueCreationLifecycle: false,
    });
    arrivals = createSqsArrivals();
    const handler = arrivals.wrap(requestHandler);
    signalling = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => signalling.listen(0, '127.0.0.1', resolve));
    service.PORT = (signalling.address() as AddressInfo).port;
    signallingSqs = new SQSClient({
      endpoint: `http://127.0.0.1:${service.PORT}`,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
  });

  afterAll(async () => {
    signallingSqs?.destroy();
    await new Promise((resolve) => signalling?.close(resolve));
  });

  it('receives a message as soon as it is sent, although the poll interval is a minute', async () => {
    const queue = async (name: string) =>
      String((await signallingSqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl);
    const url = await queue(`woken-${Date.now()}`);
    const other = await queue(`other-${Date.now()}`);
    const lambda = recordingLambda();
    const source = startSqsEventSource({
      sqs: signallingSqs,
      queueUrl: url,
      lambda,
      pollIntervalMs: 60_000,
      arrivals: (listener) => arrivals.subscribe(url.split('/').at(-1) as string, listener),
    });
    running.push(source);
    // The first receive found nothing: the poller now waits out its interval.
    await waitFor(() => (source.stats().polls >= 1 ? true : undefined), 'the first, empty receive');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.stats().polls).toBe(1);

    // A message on another queue wakes nobody here.
    await signallingSqs.send(new SendMessageCommand({ QueueUrl: other, MessageBody: 'not mine' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(source.stats().polls).toBe(1);

    // Its own queue: received and invoked well inside the minute (waitFor gives up after 15 s).
    await signallingSqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello' }));
    await waitFor(() => (lambda.bodies().length > 0 ? true : undefined), 'the invocation', 15_000);
    expect(lambda.bodies()).toEqual(['hello']);
    await signallingSqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'batch-a' },
          { Id: 'b', MessageBody: 'batch-b' },
        ],
      }),
    );
    await waitFor(() => (lambda.bodies().length >= 3 ? true : undefined), 'the batch', 15_000);
    expect(lambda.bodies().sort()).toEqual(['batch-a', 'batch-b', 'hello']);
  });
});
