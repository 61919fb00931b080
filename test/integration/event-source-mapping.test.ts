import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
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
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type SqsEventSource, startSqsEventSource } from '../../infra/local/event-source-mapping';
import { type InvokeResult, loadLambda } from '../../infra/local/lambda-runner';

/**
 * The local event source mapping against a real SQS-protocol server (local-aws-sqs),
 * whose redrive policy does the dead-lettering, and the local Lambda runner on tiny
 * `.mjs` bundles written to a temp folder. Everything waits with deadlines.
 */

let server: Server;
let sqs: SQSClient;
let workDir: string;
const running: SqsEventSource[] = [];
let queueCounter = 0;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  workDir = await mkdtemp(join(tmpdir(), 'lambda-runner-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.stop()));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
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

const ENV_PROBE = `
const atColdStart = { greeting: process.env.GREETING, onlyA: process.env.ONLY_A };
export const handler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    atColdStart,
    now: { greeting: process.env.GREETING, onlyA: process.env.ONLY_A },
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  };
};
`;

describe('local Lambda runner', () => {
  it('gives each function its own environment at cold start and on every invocation', async () => {
    const a = loadLambda({
      name: 'fn-a',
      bundleDir: await bundle('env-a', ENV_PROBE),
      env: { GREETING: 'from-a', ONLY_A: 'yes' },
      timeoutSeconds: 5,
      memoryMb: 128,
    });
    const b = loadLambda({
      name: 'fn-b',
      bundleDir: await bundle('env-b', ENV_PROBE),
      env: { GREETING: 'from-b' },
      timeoutSeconds: 5,
      memoryMb: 128,
    });
    const seenA = { greeting: 'from-a', onlyA: 'yes' };
    const seenB = { greeting: 'from-b' };
    expect(await a.invoke({})).toEqual({ result: { atColdStart: seenA, now: seenA, functionName: 'fn-a' } });
    expect(await b.invoke({})).toEqual({ result: { atColdStart: seenB, now: seenB, functionName: 'fn-b' } });
    expect(await a.invoke({})).toEqual({ result: { atColdStart: seenA, now: seenA, functionName: 'fn-a' } });
  });

  it('passes a Lambda context with a remaining time counting down from the timeout', async () => {
    const fn = loadLambda({
      name: 'ctx',
      bundleDir: await bundle(
        'ctx',
        `export const handler = async (event, context) => {
          const before = context.getRemainingTimeInMillis();
          await new Promise((resolve) => setTimeout(resolve, 50));
          const { getRemainingTimeInMillis, done, fail, succeed, ...fields } = context;
          return { event, fields, before, after: context.getRemainingTimeInMillis() };
        };`,
      ),
      env: {},
      timeoutSeconds: 3,
      memoryMb: 256,
    });
    const { result, error } = await fn.invoke({ hello: 'world' }, { requestId: 'req-123' });
    expect(error).toBeUndefined();
    const r = result as { event: unknown; fields: Record<string, unknown>; before: number; after: number };
    expect(r.event).toEqual({ hello: 'world' });
    expect(r.fields).toEqual({
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'ctx',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ctx',
      memoryLimitInMB: '256',
      awsRequestId: 'req-123',
      logGroupName: '/aws/lambda/ctx',
      logStreamName: expect.any(String),
    });
    expect(r.before).toBeLessThanOrEqual(3_000);
    expect(r.before).toBeGreaterThan(2_500);
    expect(r.after).toBeLessThan(r.before);
  });

  it('reports a timeout as Sandbox.Timedout and cold-starts a fresh module afterwards', async () => {
    const fn = loadLambda({
      name: 'slow',
      bundleDir: await bundle(
        'slow',
        `let invocations = 0;
        export const handler = async (event) => {
          invocations++;
          if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs).unref());
          return { invocations };
        };`,
      ),
      env: {},
      timeoutSeconds: 0.2,
      memoryMb: 128,
    });
    expect(await fn.init()).toBeUndefined();
    expect(await fn.invoke({})).toEqual({ result: { invocations: 1 } });
    const began = Date.now();
    const timedOut = await fn.invoke({ sleepMs: 5_000 }, { requestId: 'slow-1' });
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(timedOut.error).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'slow-1 Task timed out after 0.20 seconds',
    });
    expect(await fn.invoke({})).toEqual({ result: { invocations: 1 } });
  });

  it('returns errors the way Lambda reports them, never throwing', async () => {
    const throwing = loadLambda({
      name: 'throws',
      bundleDir: await bundle(
        'throws',
        `export const handler = async () => { throw new TypeError('bad input'); };`,
      ),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    expect((await throwing.invoke({})).error).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'bad input',
    });

    const missingExport = loadLambda({
      name: 'no-export',
      bundleDir: await bundle('no-export', 'export const other = () => 1;'),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    expect((await missingExport.invoke({})).error?.errorType).toBe('Runtime.HandlerNotFound');

    const broken = loadLambda({
      name: 'broken',
      bundleDir: await bundle('broken', `throw new Error('cannot start');`),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    expect(await broken.init()).toMatchObject({ errorType: 'Runtime.ImportModuleError' });
    expect((await broken.invoke({})).error).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: expect.stringContaining('cannot start'),
    });

    const absent = loadLambda({
      name: 'absent',
      bundleDir: join(workDir, 'nope'),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    expect((await absent.invoke({})).error?.errorType).toBe('Runtime.ImportModuleError');
  });

  it('serializes invocations of one function', async () => {
    const fn = loadLambda({
      name: 'serial',
      bundleDir: await bundle(
        'serial',
        `let active = 0; let peak = 0;
        export const handler = async () => {
          active++; peak = Math.max(peak, active);
          await new Promise((resolve) => setTimeout(resolve, 20));
          active--;
          return { peak };
        };`,
      ),
      env: {},
      timeoutSeconds: 1,
      memoryMb: 128,
    });
    const results = await Promise.all([fn.invoke({}), fn.invoke({}), fn.invoke({})]);
    expect(results.map((r) => r.result)).toEqual([{ peak: 1 }, { peak: 1 }, { peak: 1 }]);
  });

  it('runs a bundle behind the event source mapping, partial failures and all', async () => {
    const { url, dlqUrl } = await queueWithDlq();
    const fn = loadLambda({
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
    });
    await sendBodies(url, ['good', 'bad']);
    const source = start({ queueUrl: url, lambda: fn });
    await waitFor(async () => ((await depth(dlqUrl)) === 1 ? true : undefined), 'the bad message in the DLQ');
    await waitFor(async () => ((await depth(url)) === 0 ? true : undefined), 'the source queue to be empty');
    expect(source.stats()).toMatchObject({ deleted: 1, failedInvocations: 0 });
  });
});
