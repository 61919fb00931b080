/**
 * `npm start` — runs the synthesized app on this machine (see `runtime.ts`).
 *
 * 1. Synthesizes the CDK app into `.local/cdk.out` with the demo policy (deadlines in seconds, same
 *    schema), the local scheduler's one-second precision and the local JWT issuer; policy validation
 *    and cdk-nag run as in any synth.
 * 2. Starts the local runtime on that assembly, prints the endpoints and writes them to
 *    `.local/endpoints.json`.
 * 3. Plays the built-in scenario with a progress display and a summary (`--no-demo` skips it).
 * 4. Serves until Ctrl-C (SIGINT) or SIGTERM, then stops every child process and server. If a
 *    dependency fails for good (DynamoDB Local keeps dying), it stops and exits 1 with the reason.
 *
 * State: the runtime keeps its state in the state directory (DynamoDB Local's files, the SQS and
 * Scheduler journals, the local KMS key material) and resumes from it at the next start; the banner
 * says which. `--fresh` deletes that state first.
 *
 * Options: `--no-demo`, `--policy <file>` (default `policy/demo-policy.json`), `--assembly <dir>`
 * (run an existing cloud assembly, no synth), `--state-dir <dir>` (default `.local`), `--fresh`,
 * `--status` (a status table every 5 s; also at `GET <httpApi>/_local/status`), `--port-base <n>`
 * (fixed ports n…n+5 for HTTP API, EventBridge, Scheduler, SQS, DynamoDB, KMS), `--verbose` (function
 * logs on the console instead of `<state-dir>/logs/functions.log`), `--no-iam` (no IAM checks),
 * `--faults <profile>` (inject faults: `none`, `light`, `default` or a JSON file; see docs/faults.md).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import type { Report } from '../../shared/domain/reporting/report';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';
import { loadFaultProfile } from './fault-profiles';
import { createFaults } from './faults';
import { divertFunctionLogs } from './function-logs';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_URL, LOCAL_ROLE_CLAIM } from './jwt';
import { type LocalRuntime, startLocalRuntime } from './runtime';
import { runScenario, SCENARIO_STEP_COUNT, type ScenarioStep } from './scenario';
import { formatStatus } from './status';
import { resourcesOfType } from './template';

// Every bundle carries its own AWS SDK, and each would print the SDK's notice that Node 22 will be
// needed from 2027 (NOTES.md tracks the move); once is enough, in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);
const tty = process.stdout.isTTY;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);

/** Steps the scenario reports (for the progress count). */
const SCENARIO_STEPS = SCENARIO_STEP_COUNT;

const { values: args } = parseArgs({
  options: {
    'no-demo': { type: 'boolean' },
    policy: { type: 'string' },
    assembly: { type: 'string' },
    'state-dir': { type: 'string' },
    'port-base': { type: 'string' },
    verbose: { type: 'boolean' },
    'no-iam': { type: 'boolean' },
    faults: { type: 'string' },
    fresh: { type: 'boolean' },
    status: { type: 'boolean' },
  },
});
/** What the runtime keeps in the state directory (`--fresh` deletes these, nothing else). */
const RUNTIME_STATE = ['dynamodb', 'sqs', 'scheduler', 'kms-keys.json', 'deliveries.json'];
const stateDir = resolve(root, args['state-dir'] ?? '.local');

async function synth(): Promise<string> {
  const out = join(stateDir, 'cdk.out');
  const policy = resolve(args.policy ?? join(root, 'policy', 'demo-policy.json'));
  console.log(bold('Synthesizing the CDK app'), dim(`(policy ${policy.replace(`${root}/`, '')}, cdk-nag)…`));
  const started = Date.now();
  const context = {
    policyFile: policy,
    timerPrecisionSeconds: '1',
    jwtIssuer: LOCAL_ISSUER_URL,
    jwtAudience: LOCAL_AUDIENCE,
    roleClaim: LOCAL_ROLE_CLAIM,
  };
  await run(
    'npx',
    [
      'cdk',
      'synth',
      '--quiet',
      '--no-notices',
      '--output',
      out,
      ...Object.entries(context).flatMap(([k, v]) => ['--context', `${k}=${v}`]),
    ],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  console.log(
    dim(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${out.replace(`${root}/`, '')}`),
  );
  return out;
}

/** The business time zone of the policy the assembly was synthesized with (copied into every bundle). */
function policyTimeZone(assemblyDir: string): string {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stack = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
  const template = JSON.parse(
    readFileSync(join(assemblyDir, String(stack?.properties?.templateFile)), 'utf8'),
  );
  const fn = Object.values(
    template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  ).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']);
  const policy = JSON.parse(
    readFileSync(join(assemblyDir, String(fn?.Metadata?.['aws:asset:path']), 'policy.json'), 'utf8'),
  );
  return String(policy.calendar.timeZone);
}

function printEndpoints(runtime: LocalRuntime, file: string): void {
  const e = runtime.endpoints;
  console.log(bold('\nLocal endpoints'), dim(`(also in ${file.replace(`${root}/`, '')})`));
  console.log(`  HTTP API      ${e.httpApi}`);
  console.log(`  EventBridge   ${e.eventBridge}   bus ${e.eventBusName}`);
  console.log(`  Scheduler     ${e.scheduler}   group ${e.scheduleGroups.join(', ')}`);
  console.log(`  SQS           ${e.sqs}`);
  console.log(`  DynamoDB      ${e.dynamodb}   table ${Object.values(e.tables).join(', ')}`);
  console.log(`  KMS           ${e.kms}   ${Object.keys(e.kmsKeys).length} key(s)`);
  const t = runtime.stack.template;
  console.log(
    dim(
      `  ${runtime.functions.size} functions, ${runtime.queues.size} queues, ${resourcesOfType(t, 'AWS::Events::Rule').length} rules, ` +
        `${resourcesOfType(t, 'AWS::ApiGatewayV2::Route').length} routes, ${resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').length} event source mappings`,
    ),
  );
}

async function playScenario(runtime: LocalRuntime): Promise<void> {
  console.log(
    bold('\nScenario'),
    dim('(two complaints, real HTTP and EventBridge clients; deadlines in seconds)'),
  );
  let count = 0;
  const onStep = (s: ScenarioStep) => {
    count += 1;
    const progress = `${String(count).padStart(2)}/${SCENARIO_STEPS}`;
    console.log(
      `  ${dim(`[${s.elapsed.toFixed(1).padStart(5)} s ${progress}]`)} ${bold(s.complaint)} ${green(s.step.padEnd(17))} ${s.detail}`,
    );
  };
  const summary = await runScenario(runtime, { onStep });
  const n = (type: string) => summary.eventCounts[type] ?? 0;
  const dlq = await deadLetterDepths(runtime);
  console.log(bold(`\nSummary`), dim(`(${summary.seconds.toFixed(1)} s)`));
  const rows: [string, number][] = [
    ['received', n('Complaint Received')],
    ['classified', n('Complaint Classified')],
    ['assigned', n('Complaint Assigned')],
    ['warned', n('Complaint SLA Warning')],
    ['breached', n('Complaint SLA Breached')],
    ['escalated', n('Complaint Escalated')],
    ['resolved', n('Complaint Resolved')],
    ['surveyed', n('Survey Requested')],
    ['reopened', n('Complaint Reopened')],
    ['closed', n('Complaint Closed')],
    ['customer notifications', n('Customer Notification Requested')],
    ['messages in dead-letter queues', dlq],
  ];
  for (const [label, value] of rows) console.log(`  ${label.padEnd(31)} ${value}`);
  console.log(
    dim(`  complaints ${summary.complaints.A.number} (API) and ${summary.complaints.B.number} (event)`),
  );
}

async function deadLetterDepths(runtime: LocalRuntime): Promise<number> {
  let total = 0;
  for (const queue of runtime.queues.values()) {
    if (!/DeadLetter/i.test(queue.logicalId)) continue;
    const { Attributes } = await runtime.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    total += Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return total;
}

/**
 * The report of the scenario's day (business time zone), as a supervisor reads it: the figures so far
 * as JSON, and the HTML page saved under the state directory.
 */
async function showReport(runtime: LocalRuntime, timeZone: string): Promise<void> {
  const day = DateTime.now().setZone(timeZone).toISODate() as string;
  const path = `/reports/daily/${day}`;
  const token = runtime.issuer.tokenFor({
    role: 'supervisor',
    department: 'billing',
    agentId: 'lead.billing',
  });
  const get = (accept: string) =>
    fetch(`${runtime.endpoints.httpApi}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });
  // The aggregator consumes the events asynchronously: wait until the closed complaint is counted.
  const deadline = Date.now() + 20_000;
  let report: Report | undefined;
  while (Date.now() < deadline) {
    const response = await get('application/json');
    if (response.ok) {
      report = (await response.json()) as Report;
      if (report.figures.closed >= 1) break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (report === undefined) throw new Error(`GET ${path} did not answer`);
  const f = report.figures;
  const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)} %`);
  console.log(bold(`\nReport ${path}`), dim(`(${report.partial ? 'the day so far' : 'final'}, ${timeZone})`));
  console.log(
    `  received ${f.volume.received} (valid ${f.volume.valid}), resolved ${f.reopen.resolved}, reopened ${f.reopen.reopened}, closed ${f.closed}, open ${f.backlog.open}`,
  );
  console.log(
    `  SLA compliance: acknowledge ${pct(f.sla.acknowledge.compliance)}, first response ${pct(f.sla.firstResponse.compliance)}, resolution ${pct(f.sla.resolution.compliance)}; ` +
      `satisfaction ${f.satisfaction.average ?? '—'} (${f.satisfaction.answers} answers); escalations ${f.escalations.total}`,
  );
  const html = await get('text/html');
  const file = join(stateDir, 'reports', `daily-${day}.html`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await html.text());
  console.log(dim(`  HTML (self-contained, SVG charts): ${file.replace(`${root}/`, '')}`));
}

function printTryIt(runtime: LocalRuntime): void {
  const e = runtime.endpoints;
  console.log(bold('\nServing until Ctrl-C. Try:'));
  console.log(
    `  curl -s -X POST ${e.httpApi}/complaints -H 'content-type: application/json' \\\n` +
      `    -d '{"channel":"web","customer":{"id":"me","language":"en"},"description":"The app crashes when I pay"}'`,
  );
  console.log(
    `  curl -s ${e.httpApi}/complaints -H "authorization: Bearer $(npm run -s token -- --role supervisor --department billing)"`,
  );
  console.log(
    `  curl -s -H 'accept: text/html' ${e.httpApi}/reports/weekly/$(date +%G-W%V) -H "authorization: Bearer $(npm run -s token -- --role admin)" > report.html`,
  );
  console.log(
    `  aws events put-events --endpoint-url ${e.eventBridge} --region ${e.region} --entries \\\n` +
      `    '[{"EventBusName":"${e.eventBusName}","Source":"shop.orders","DetailType":"Complaint Reported",` +
      `"Detail":"{\\"metadata\\":{\\"version\\":1,\\"messageId\\":\\"m-1\\"},\\"data\\":{\\"channel\\":\\"web\\",` +
      `\\"customer\\":{\\"id\\":\\"c-1\\",\\"language\\":\\"zh\\"},\\"description\\":\\"订单一直没有发货\\"}}"}]'`,
  );
  console.log(dim('  (AWS CLI: any credentials, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)'));
  const stateOption = args['state-dir'] === undefined ? '' : ` --state-dir ${stateDir}`;
  console.log(
    `  npm run -s import -- --file test/fixtures/import/small.csv --mapping test/fixtures/import/mapping.json --local${stateOption}\n` +
      `  curl -s ${e.httpApi}/reports/monthly/2025-03 -H "authorization: Bearer $(npm run -s token -- --role admin)"`,
  );
  console.log(dim('  (a history import into this runtime, then the report of the imported month)'));
}

/** Complaints stored (one `NUM#<n>` pointer item each), for the banner. */
async function countComplaints(runtime: LocalRuntime): Promise<number> {
  const client = new DynamoDBClient({
    endpoint: runtime.endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  let count = 0;
  try {
    for (const table of Object.values(runtime.endpoints.tables)) {
      for await (const page of paginateScan(
        { client },
        {
          TableName: table,
          Select: 'COUNT',
          FilterExpression: 'sk = :num',
          ExpressionAttributeValues: { ':num': { S: 'NUM' } },
        },
      )) {
        count += page.Count ?? 0;
      }
    }
  } finally {
    client.destroy();
  }
  return count;
}

async function main(): Promise<void> {
  console.log(bold('Complaint service — local runtime\n'));
  const assemblyDir = args.assembly ? resolve(args.assembly) : await synth();
  const logFile = join(stateDir, 'logs', 'functions.log');
  if (!args.verbose) divertFunctionLogs(logFile);
  const base = args['port-base'] === undefined ? undefined : Number(args['port-base']);
  if (base !== undefined && !(Number.isInteger(base) && base > 0 && base < 65_530)) {
    throw new Error('--port-base must be a port number');
  }
  if (args.fresh) {
    for (const entry of RUNTIME_STATE) rmSync(join(stateDir, entry), { recursive: true, force: true });
  }
  console.log(
    bold('Starting the local runtime'),
    dim('(DynamoDB Local, SQS, EventBridge, Scheduler, Lambda, HTTP API)…'),
  );
  const started = Date.now();
  const runtime = await startLocalRuntime({
    assemblyDir,
    stateDir,
    enforceIam: !args['no-iam'],
    faults: createFaults(args.faults === undefined ? {} : loadFaultProfile(args.faults)),
    ...(base !== undefined
      ? {
          ports: {
            httpApi: base,
            eventBridge: base + 1,
            scheduler: base + 2,
            sqs: base + 3,
            dynamodb: base + 4,
            kms: base + 5,
          },
        }
      : {}),
    functionEnv: { POWERTOOLS_LOG_LEVEL: args.verbose ? 'INFO' : 'WARN' },
    log: (message) => console.warn(dim(message)),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(dim(`\n${signal}: stopping…`));
    await runtime.close();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  runtime.onFatal((reason) => {
    stopping = true;
    console.error(`\nThe local runtime stopped: ${reason}`);
    process.exit(1);
  });
  console.log(
    dim(
      `  ready in ${((Date.now() - started) / 1000).toFixed(1)} s; function logs → ${args.verbose ? 'console' : logFile.replace(`${root}/`, '')}`,
    ),
  );
  const shownDir = `${stateDir.replace(`${root}/`, '')}/`;
  if (runtime.status().state.resumed) {
    const complaints = await countComplaints(runtime);
    const timers = runtime.status().schedules.pending;
    console.log(
      `  ${bold(`resuming from ${shownDir}`)} (${complaints} complaints, ${timers} pending timers, ` +
        `${runtime.resumed.messages} queued messages)${dim(' — npm start -- --fresh starts empty')}`,
    );
  } else {
    console.log(`  ${bold('fresh state')} ${dim(`(kept in ${shownDir} for the next start)`)}`);
  }
  if (args.status) {
    setInterval(() => console.log(dim(formatStatus(runtime.status()))), 5000).unref();
  }

  const endpointsFile = join(stateDir, 'endpoints.json');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    endpointsFile,
    `${JSON.stringify({ ...runtime.endpoints, pid: process.pid, childPids: runtime.childPids, assembly: assemblyDir }, null, 2)}\n`,
  );
  printEndpoints(runtime, endpointsFile);
  if (!args['no-demo']) {
    try {
      await playScenario(runtime);
      await showReport(runtime, policyTimeZone(assemblyDir));
    } catch (error) {
      console.error(`\nThe scenario failed: ${error instanceof Error ? error.message : error}`);
      console.error(dim(`Function logs: ${logFile}`));
      process.exitCode = 1;
    }
  }
  printTryIt(runtime);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
