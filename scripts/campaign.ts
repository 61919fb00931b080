/**
 * `npm run campaign -- --complaints <n> --faults <profile>` — a fault campaign anyone can run.
 *
 * 1. Synthesizes the app with the demo policy (deadlines in seconds, so breaches happen during the
 *    run), the local scheduler's one-second precision and the local JWT issuer, into
 *    `.local/campaign/cdk.out` (or runs `--assembly <dir>`).
 * 2. Starts the local runtime on it (DynamoDB Local, SQS, EventBridge, Scheduler, KMS, Lambda, HTTP
 *    API), everything in memory.
 * 3. Applies the fault profile (`none`, `light`, `default`, or a JSON file; docs/faults.md), drives
 *    the mix, lets the system settle, audits (infra/local/campaign/).
 * 4. Prints a table, then one JSON line with every figure; exits 1 when anything was lost, duplicated
 *    or escalated twice (2 when the campaign itself could not run).
 *
 * Options: `--complaints <n>` (default 500), `--faults <profile>` (default `default`), `--assembly <dir>`,
 * `--concurrency <n>` (submissions in flight, default 4), `--agent-share <0–1>` (default 0.3),
 * `--poison-rate <0–1>` (default 0.01), `--seed <n>`, `--settle-cap <seconds>` (default 180),
 * `--policy <file>` (default policy/demo-policy.json). Function and runtime logs go to
 * `.local/campaign/logs/`.
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCampaign } from '../infra/local/campaign/campaign';
import { formatCampaign } from '../infra/local/campaign/table';
import { DEMO_POLICY_FILE, synthLocalAssembly } from '../infra/local/demo-assembly';
import { loadFaultProfile } from '../infra/local/fault-profiles';
import { createFaults } from '../infra/local/faults';
import { divertFunctionLogs } from '../infra/local/function-logs';
import { startLocalRuntime } from '../infra/local/runtime';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    complaints: { type: 'string', default: '500' },
    faults: { type: 'string', default: 'default' },
    assembly: { type: 'string' },
    concurrency: { type: 'string' },
    'agent-share': { type: 'string' },
    'poison-rate': { type: 'string' },
    seed: { type: 'string' },
    'settle-cap': { type: 'string' },
    policy: { type: 'string' },
  },
});
const workDir = join(root, '.local', 'campaign');

const number = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number from ${min} to ${max}`);
  return n;
};

/** Synthesizes the app as the end-to-end tests do (in process, demo policy unless --policy). */
function synth(): string {
  const out = join(workDir, 'cdk.out');
  rmSync(out, { recursive: true, force: true });
  const policyFile = resolve(args.policy ?? DEMO_POLICY_FILE);
  console.log(`Synthesizing the app (policy ${policyFile.replace(`${root}/`, '')})…`);
  return synthLocalAssembly(out, policyFile);
}

async function main(): Promise<number> {
  const complaints = number('complaints', args.complaints, 1, 1_000_000) as number;
  const profile = loadFaultProfile(args.faults as string);
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  const assemblyDir = args.assembly ? resolve(args.assembly) : synth();
  const runtimeLog = join(workDir, 'logs', 'runtime.log');
  writeFileSync(runtimeLog, '');
  divertFunctionLogs(join(workDir, 'logs', 'functions.log'));
  console.log('Starting the local runtime…');
  const runtime = await startLocalRuntime({
    assemblyDir,
    faults: createFaults(),
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    log: (message) => appendFileSync(runtimeLog, `${new Date().toISOString()} ${message}\n`),
  });
  try {
    const concurrency = number('concurrency', args.concurrency, 1, 256);
    const agentShare = number('agent-share', args['agent-share'], 0, 1);
    const poisonRate = number('poison-rate', args['poison-rate'], 0, 1);
    const seed = number('seed', args.seed, 0, 2 ** 32);
    const settleCap = number('settle-cap', args['settle-cap'], 1, 3600);
    const result = await runCampaign(runtime, {
      complaints,
      profile,
      profileName: args.faults as string,
      ...(concurrency !== undefined && { concurrency }),
      ...(agentShare !== undefined && { agentShare }),
      ...(poisonRate !== undefined && { poisonRate }),
      ...(seed !== undefined && { seed }),
      ...(settleCap !== undefined && { settleCapMs: settleCap * 1000 }),
      log: (message) => console.log(message),
    });
    console.log(`Logs: ${runtimeLog.replace(`${root}/`, '')}, functions.log next to it`);
    console.log(formatCampaign(result, process.stdout.isTTY));
    return result.ok ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
