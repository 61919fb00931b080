/**
 * Runs an in-memory DynamoDB Local until Ctrl-C.
 *
 *   npm run dynamodb-local                 # port 8000
 *   npm run dynamodb-local -- --port 0     # any free port
 *
 * The first run downloads the distribution into .cache/dynamodb-local.
 */
import { parseArgs } from 'node:util';
import { ensureDynamoDbLocal, startDynamoDbLocal } from '../infra/local/dynamodb-local';

const DEFAULT_PORT = 8000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      'cache-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: npm run dynamodb-local -- [--port <port, 0 = any free>] [--cache-dir <dir>]');
    return;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
  }
  const cacheDir = values['cache-dir'];

  const fetchStarted = performance.now();
  const dir = await ensureDynamoDbLocal(cacheDir);
  const fetchMs = performance.now() - fetchStarted;

  const startStarted = performance.now();
  const instance = await startDynamoDbLocal({ port, cacheDir });
  const startMs = performance.now() - startStarted;

  console.log(`DynamoDB Local (${dir})`);
  console.log(`  ready in ${Math.round(startMs)} ms (distribution check/fetch ${Math.round(fetchMs)} ms)`);
  console.log(`  endpoint: ${instance.endpoint}   (pid ${instance.pid})`);
  console.log('  any credentials and region work, e.g.');
  console.log(
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws dynamodb list-tables --region us-east-1 --endpoint-url ${instance.endpoint}`,
  );
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping DynamoDB Local…`);
    instance.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  await instance.exited;
  if (!stopping) {
    console.error('DynamoDB Local exited unexpectedly.');
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
