import { createServer, type Server, type Socket } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientConfig } from '../../shared/clients/config';

/**
 * A dependency that accepts connections and never answers (a frozen DynamoDB Local, a stuck
 * proxy): the service's clients must give up on it within seconds and retry, not hold the
 * call until the Lambda's own timeout.
 */

let server: Server;
let endpoint: string;
const sockets: Socket[] = [];
let connections = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    sockets.push(socket); // read nothing, answer nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

// The SDK reads the environment lazily (region, credentials, endpoint at the first call).
afterEach(() => {
  vi.unstubAllEnvs();
});

/** The clients of `shared/clients/`, built with this environment (at import, or by their factory). */
async function clientsWith(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: '',
    ...env,
  })) {
    vi.stubEnv(name, value);
  }
  const [dynamodb, eventbridge, sqs, scheduler, kms] = await Promise.all([
    import('../../shared/clients/dynamodb'),
    import('../../shared/clients/eventbridge'),
    import('../../shared/clients/sqs'),
    import('../../shared/clients/scheduler'),
    import('../../shared/clients/kms'),
  ]);
  return {
    ...dynamodb,
    ...eventbridge,
    ...sqs,
    schedulerClient: scheduler.newSchedulerClient(),
    kmsClient: kms.newKmsClient(),
  };
}

/** Settles with the error and the time it took, or fails after `bound` ms. */
async function failure(call: Promise<unknown>, bound: number): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the call was still pending after ${bound} ms`)), bound);
  });
  try {
    await Promise.race([call, guard]);
  } catch (error) {
    if ((error as Error).message.startsWith('the call was still pending')) throw error;
    return { error: error as Error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
  throw new Error('the call succeeded against a server that never answers');
}

describe('AWS clients against a dependency that never answers', () => {
  it('time out each attempt, retry, and reject within seconds (DynamoDB)', async () => {
    const { dynamoDbClient } = await clientsWith({
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_SDK_REQUEST_TIMEOUT_MS: '500',
    });
    const before = connections;

    const { error, ms } = await failure(dynamoDbClient.send(new ListTablesCommand({})), 20_000);

    expect(error.name, error.stack).toBe('TimeoutError');
    expect(ms).toBeLessThan(20_000);
    // Three attempts (standard retry mode), each on a fresh connection after the timed-out one.
    expect(connections - before).toBe(3);
    expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(3);
    dynamoDbClient.destroy();
  }, 30_000);

  it('give up on it for every client shared/clients builds', async () => {
    const clients = await clientsWith({
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: endpoint,
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_KMS: endpoint,
      AWS_SDK_REQUEST_TIMEOUT_MS: '300',
      AWS_MAX_ATTEMPTS: '1',
    });
    const calls = {
      documentClient: clients.documentClient.send(new GetCommand({ TableName: 't', Key: { pk: 'x' } })),
      eventBridgeClient: clients.eventBridgeClient.send(
        new PutEventsCommand({ Entries: [{ Source: 'test', DetailType: 'Test', Detail: '{}' }] }),
      ),
      schedulerClient: clients.schedulerClient.send(new ListSchedulesCommand({})),
      sqsClient: clients.sqsClient.send(new ListQueuesCommand({})),
      kmsClient: clients.kmsClient.send(new ListKeysCommand({})),
    };

    const failures = await Promise.all(
      Object.entries(calls).map(async ([name, call]) => {
        const { error, ms } = await failure(call, 20_000);
        return { name, error: error.name, fast: ms < 10_000 };
      }),
    );

    expect(failures).toEqual(Object.keys(calls).map((name) => ({ name, error: 'TimeoutError', fast: true })));
    for (const client of [
      clients.dynamoDbClient,
      clients.eventBridgeClient,
      clients.schedulerClient,
      clients.sqsClient,
      clients.kmsClient,
    ]) {
      client.destroy();
    }
  }, 30_000);
});

describe('clientConfig', () => {
  it('uses a 1 s connection timeout, a 3 s request timeout that throws, and three attempts by default', () => {
    expect(clientConfig({})).toEqual({
      maxAttempts: 3,
      retryMode: 'standard',
      requestHandler: {
        connectionTimeout: 1_000,
        requestTimeout: 3_000,
        throwOnRequestTimeout: true,
        socketTimeout: 3_000,
      },
    });
  });

  it('reads the timeouts and attempts from the environment, and ignores values that are not positive integers', () => {
    const config = clientConfig({
      AWS_SDK_REQUEST_TIMEOUT_MS: '8000',
      AWS_SDK_CONNECTION_TIMEOUT_MS: '250',
      AWS_MAX_ATTEMPTS: '5',
    });
    expect(config.maxAttempts).toBe(5);
    expect(config.requestHandler).toMatchObject({
      connectionTimeout: 250,
      requestTimeout: 8_000,
      socketTimeout: 8_000,
    });
    for (const bad of ['0', '-1', 'abc', '1.5', '', '1e3']) {
      expect(clientConfig({ AWS_SDK_REQUEST_TIMEOUT_MS: bad }).requestHandler.requestTimeout).toBe(3_000);
    }
  });
});
