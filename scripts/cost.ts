/**
 * `npm run cost [-- --complaints <n>]` — what a complaint costs on AWS, measured on the local runtime.
 *
 * 1. Synthesizes the app with the default policy (`policy/default-policy.json`), with one change so
 *    the loop closes within the run: the survey goes out 5 seconds after resolution instead of 1
 *    working day. Deadlines stay hours and days: nothing breaches, nothing escalates.
 * 2. Starts the local runtime with a usage meter on it (infra/local/metering/), drives the complaints
 *    (about a third HTTP with an idempotency key, a fifth without, the rest inbound events; every one
 *    acknowledged, some asked for information, resolved, surveyed, a fifth reopened by the survey).
 * 3. Prints, per service, the usage of one complaint and its cost per 1,000 complaints; the fixed
 *    monthly cost (alarms, dashboard, keys, custom metrics, idle polling, recurring jobs); and, as the
 *    last line, one JSON object with at least `usdPer1000` and `fixedUsdPerMonth`.
 *
 * Prices: infra/local/metering/prices.ts (us-east-1 list prices, December 2026, before the free tier).
 * Options: `--complaints <n>` (default 100), `--concurrency <n>` (default 4), `--seed <n>`,
 * `--assembly <dir>` (an app synthesized already). Logs: `.local/cost/logs/`.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { synthLocalAssembly } from '../infra/local/demo-assembly';
import { divertFunctionLogs } from '../infra/local/function-logs';
import { runCostEstimate } from '../infra/local/metering/cost-run';
import { formatCostEstimate } from '../infra/local/metering/cost-table';
import { createUsageMeter } from '../infra/local/metering/usage-meter';
import { startLocalRuntime } from '../infra/local/runtime';
import { functionOfAccessKey } from '../infra/local/wiring/iam';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workDir = join(root, '.local', 'cost');
const { values: args } = parseArgs({
  options: {
    complaints: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    assembly: { type: 'string' },
  },
});

const integer = (name: string, value: string | undefined, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
};

/** The default policy, with the survey sent 5 seconds after resolution so the loop closes within the run. */
function costPolicy(): string {
  const policy = JSON.parse(readFileSync(join(root, 'policy', 'default-policy.json'), 'utf8'));
  policy.survey.sendAfter = { value: 5, unit: 'seconds', time: 'calendar' };
  const file = join(workDir, 'cost-policy.json');
  writeFileSync(file, `${JSON.stringify(policy, null, 2)}\n`);
  return file;
}

async function main(): Promise<number> {
  const complaints = integer('complaints', args.complaints, 1, 100_000);
  const concurrency = integer('concurrency', args.concurrency, 1, 64);
  const seed = integer('seed', args.seed, 0, 2 ** 32);
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  let assemblyDir: string;
  if (args.assembly !== undefined) assemblyDir = resolve(args.assembly);
  else {
    console.log('Synthesizing the app (default policy, survey 5 s after resolution)…');
    const out = join(workDir, 'cdk.out');
    rmSync(out, { recursive: true, force: true });
    // The deployed defaults, except timers rounded to the second (the local scheduler's precision).
    assemblyDir = synthLocalAssembly(out, costPolicy(), {
      sweepIntervalMinutes: '5',
      timerPrecisionSeconds: '1',
    });
  }
  const runtimeLog = join(workDir, 'logs', 'runtime.log');
  const functionLog = join(workDir, 'logs', 'functions.log');
  writeFileSync(runtimeLog, '');
  divertFunctionLogs(functionLog);
  // Where the DynamoDB units go, one JSON line per request (for whoever wants to cut them).
  const capacityLog = join(workDir, 'logs', 'dynamodb-capacity.jsonl');
  writeFileSync(capacityLog, '');
  const meter = createUsageMeter({
    callerOf: functionOfAccessKey,
    traceDynamoDb: (caller, operation, status, consumed) =>
      appendFileSync(capacityLog, `${JSON.stringify({ caller, operation, status, consumed })}\n`),
  });
  console.log('Starting the local runtime with a usage meter…');
  const runtime = await startLocalRuntime({
    assemblyDir,
    meter,
    log: (message) => appendFileSync(runtimeLog, `${new Date().toISOString()} ${message}\n`),
  });
  try {
    const estimate = await runCostEstimate(runtime, meter, {
      complaints,
      concurrency,
      seed,
      functionLogFile: functionLog,
      log: (message) => console.log(message),
    });
    console.log(`Logs: ${runtimeLog.replace(`${root}/`, '')}, functions.log next to it`);
    console.log(formatCostEstimate(estimate));
    return estimate.settled ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
