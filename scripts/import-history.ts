/**
 * History import (issue #5): brings a team's complaints from its previous system into this service.
 *
 *   node --import tsx scripts/import-history.ts --file export.csv --mapping mapping.json --table <TableName>
 *   node --import tsx scripts/import-history.ts --file export.jsonl --mapping mapping.json --local
 *
 * Finished rows become complaints with their original times (no timers, no events, no customer
 * messages) and feed the report aggregates; open rows are refused unless `--open=intake`; a re-run
 * imports nothing twice. Format, mapping and behaviour: docs/import.md.
 *
 * Exit codes: 0 every row imported (or already imported); 1 finished, some rows rejected (see the
 * rejected file); 2 bad invocation, mapping or header (nothing written); 3 stopped on an error (a
 * re-run continues where it stopped).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../infra/local/dynamodb-local';
import { DEFAULT_DEADLINE_SHARDS } from '../shared/config';
import { BusinessCalendar } from '../shared/domain/business-calendar';
import { MappingValidationError, parseMapping } from '../shared/domain/history-import';
import { EventBridgePublisher } from '../shared/events/publisher';
import { loadPolicyFile, PolicyValidationError } from '../shared/policy/load';
import type { TimerScheduler } from '../shared/scheduling/timers';
import { KmsServiceKeys, UnconfiguredServiceKeys } from '../shared/security/service-keys';
import type { ServiceContext } from '../shared/services/context';
import {
  checkHeader,
  ExportHeaderError,
  type HistoryImportContext,
  type ImportProgress,
  type ImportSummary,
  importHistory,
  type RejectedRow,
  readCsv,
  readJsonLines,
} from '../shared/services/history-import';
import { DynamoDbComplaintStore } from '../shared/storage/dynamodb-store';
import { DynamoDbReportingStore } from '../shared/storage/reporting-store';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const USAGE = `Usage: node --import tsx scripts/import-history.ts --file <export.csv|.jsonl> --mapping <mapping.json>
         [--format csv|jsonl] [--rejected <file>] [--dry-run] [--open reject|intake]
         [--table <name> [--endpoint <url>] [--region <region>] --service-key <arn> [--kms-endpoint <url>]
          | --local [--state-dir <dir>]]
         [--policy <policy.json>] [--concurrency <n>] [--progress-every <rows>]
         [--event-bus <name> [--eventbridge-endpoint <url>]]   (for --open intake)

  --file            the export: CSV with a header line, or JSON lines (one object per line)
  --mapping         the column mapping (docs/import.md)
  --format          csv or jsonl (default: the mapping's "format", else the file extension)
  --rejected        where refused rows go, one JSON object per line (default: <file>.rejected.jsonl)
  --dry-run         check, map and classify every row; write nothing but the rejected file
  --open            rows still open in the old system: reject them (default) or submit them through
                    the live intake (new complaints with SLA clocks from now; needs the event bus)
  --table           the service's table (stack output TableName); AWS credentials and region from the
                    default chain unless --endpoint is given
  --service-key     the service's KMS HMAC key (stack output ServiceKeyArn): idempotency claims and
                    tracking tokens are derived with it, as live intake does (needs kms:GenerateMac)
  --local           the local runtime of \`npm start\`: endpoints, table and service key from
                    .local/endpoints.json, policy policy/demo-policy.json
  --policy          the deployment's policy (default policy/default-policy.json)
  --concurrency     rows written at once (default 8)`;

const EXIT = { ok: 0, rejected: 1, usage: 2, aborted: 3 } as const;

class UsageError extends Error {
  override name = 'UsageError';
}

interface LocalEndpoints {
  dynamodb: string;
  region?: string;
  tables: Record<string, string>;
  eventBridge?: string;
  eventBusName?: string;
  /** The local KMS endpoint and the ARNs of its keys (logical id → ARN). */
  kms?: string;
  kmsKeys?: Record<string, string>;
}

/** Timers are never scheduled by an import (intake schedules none either); any request is a bug. */
const noTimers: TimerScheduler = {
  async apply(changes) {
    if (changes.upsert.length > 0 || changes.remove.length > 0) {
      throw new Error('The history import does not schedule timers');
    }
  },
};

function option(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a whole number ≥ 1 (got "${text}")`);
  return n;
}

/**
 * The service's keys from the stack's KMS HMAC key: `--service-key` (with `--kms-endpoint`), else the
 * single key of the local runtime (`--local`). Every key is derived once, so a run makes three KMS calls.
 */
function serviceKeys(
  values: Record<string, unknown>,
  local: LocalEndpoints | undefined,
  clientConfig: (url: string | undefined) => object,
): KmsServiceKeys {
  const localKeys = Object.values(local?.kmsKeys ?? {});
  const keyArn = option(values, 'service-key') ?? (localKeys.length === 1 ? localKeys[0] : undefined);
  if (keyArn === undefined) {
    throw new UsageError(
      local === undefined
        ? '--service-key is required (the stack output ServiceKeyArn): tracking tokens and idempotency keys derive from it'
        : `--local: ${localKeys.length === 0 ? 'no service key in endpoints.json (restart npm start)' : `several KMS keys (${localKeys.join(', ')}); choose one with --service-key`}`,
    );
  }
  if (!keyArn.startsWith('arn:')) throw new UsageError(`--service-key must be a key ARN (got "${keyArn}")`);
  const endpoint = option(values, 'kms-endpoint') ?? local?.kms;
  return new KmsServiceKeys(new KMSClient(clientConfig(endpoint)), keyArn);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f' },
      mapping: { type: 'string', short: 'm' },
      format: { type: 'string' },
      rejected: { type: 'string' },
      'dry-run': { type: 'boolean' },
      open: { type: 'string' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      local: { type: 'boolean' },
      'state-dir': { type: 'string' },
      policy: { type: 'string' },
      concurrency: { type: 'string' },
      'progress-every': { type: 'string' },
      'event-bus': { type: 'string' },
      'eventbridge-endpoint': { type: 'string' },
      'service-key': { type: 'string' },
      'kms-endpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const file = option(values, 'file');
  const mappingPath = option(values, 'mapping');
  if (file === undefined || mappingPath === undefined)
    throw new UsageError('--file and --mapping are required');
  if (!existsSync(file)) throw new UsageError(`--file ${file}: no such file`);
  const dryRun = values['dry-run'] === true;
  const open = option(values, 'open') ?? 'reject';
  if (open !== 'reject' && open !== 'intake')
    throw new UsageError(`--open must be reject or intake (got "${open}")`);
  const concurrency = positiveInt(option(values, 'concurrency'), 'concurrency', 8);
  const progressEvery = positiveInt(option(values, 'progress-every'), 'progress-every', 500);

  // Where to write: the local runtime, an explicit endpoint, or AWS.
  let local: LocalEndpoints | undefined;
  if (values.local) {
    const path = resolve(option(values, 'state-dir') ?? resolve(REPO_ROOT, '.local'), 'endpoints.json');
    if (!existsSync(path)) throw new UsageError(`--local: ${path} not found (is \`npm start\` running?)`);
    local = JSON.parse(readFileSync(path, 'utf8')) as LocalEndpoints;
  }
  const tables = Object.values(local?.tables ?? {});
  const table = option(values, 'table') ?? (tables.length === 1 ? tables[0] : undefined);
  if (table === undefined && !dryRun) {
    throw new UsageError(
      local === undefined
        ? '--table is required (the stack output TableName), or --local'
        : `--local: several tables (${tables.join(', ')}); choose one with --table`,
    );
  }
  const endpoint = option(values, 'endpoint') ?? local?.dynamodb;
  const region =
    option(values, 'region') ?? local?.region ?? (endpoint !== undefined ? LOCAL_REGION : undefined);
  const localCredentials =
    endpoint !== undefined &&
    process.env.AWS_ACCESS_KEY_ID === undefined &&
    process.env.AWS_PROFILE === undefined;
  const clientConfig = (url: string | undefined) => ({
    ...(url !== undefined ? { endpoint: url } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(localCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  });

  const policyPath =
    option(values, 'policy') ??
    resolve(REPO_ROOT, 'policy', local !== undefined ? 'demo-policy.json' : 'default-policy.json');
  const policy = loadPolicyFile(policyPath);
  let mappingDocument: unknown;
  try {
    mappingDocument = JSON.parse(readFileSync(mappingPath, 'utf8'));
  } catch (error) {
    throw new MappingValidationError(mappingPath, [`cannot read it as JSON: ${(error as Error).message}`]);
  }
  const mapping = parseMapping(mappingDocument, policy, mappingPath);
  const format =
    option(values, 'format') ??
    mapping.format ??
    (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : /\.(csv|tsv|txt)$/i.test(file) ? 'csv' : undefined);
  if (format !== 'csv' && format !== 'jsonl') {
    throw new UsageError(`--format: csv or jsonl (the file name ${basename(file)} does not say which)`);
  }
  const rejectedPath = option(values, 'rejected') ?? `${file}.rejected.jsonl`;

  const calendar = new BusinessCalendar(policy.calendar);
  const dynamo = new DynamoDBClient(clientConfig(endpoint));
  const db = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = table ?? '(dry run)';
  if (!dryRun) {
    try {
      await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      throw new UsageError(
        `table ${tableName}${endpoint ? ` at ${endpoint}` : ''}: ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
  }
  const store = new DynamoDbComplaintStore(db, { tableName, deadlineShards: DEFAULT_DEADLINE_SHARDS });
  const now = () => new Date();
  const keys = dryRun ? new UnconfiguredServiceKeys() : serviceKeys(values, local, clientConfig);
  if (!dryRun) {
    // Fail before the first row when the key is wrong or not ours to use (kms:GenerateMac).
    try {
      await keys.key('idempotency');
      await keys.key('tracking-token');
    } catch (error) {
      throw new UsageError(`service key: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  let intake: ServiceContext | undefined;
  if (open === 'intake' && !dryRun) {
    const bus = option(values, 'event-bus') ?? local?.eventBusName;
    if (bus === undefined)
      throw new UsageError('--open intake needs --event-bus (the stack output EventBusName)');
    const eventBridgeEndpoint = option(values, 'eventbridge-endpoint') ?? local?.eventBridge;
    const client = new EventBridgeClient(clientConfig(eventBridgeEndpoint));
    intake = {
      store,
      publisher: new EventBridgePublisher(client, bus),
      policy,
      calendar,
      scheduler: noTimers,
      keys,
      now,
    };
  }
  const ctx: HistoryImportContext = {
    store,
    reporting: { store: new DynamoDbReportingStore(db, tableName), timeZone: policy.calendar.timeZone, now },
    policy,
    calendar,
    now,
    keys,
    ...(intake !== undefined ? { intake } : {}),
  };

  const input = createReadStream(file);
  const size = statSync(file).size;
  const rows =
    format === 'csv'
      ? readCsv(input, {
          delimiter: mapping.csv.delimiter,
          encoding: mapping.encoding,
          onHeader: (columns) => checkHeader(mapping, columns),
        })
      : readJsonLines(input, { encoding: mapping.encoding });
  const rejectedFile = await RejectedFile.open(rejectedPath);
  const progress = new ProgressDisplay(process.stderr, size, progressEvery);
  console.error(
    `Importing ${file} (${format}, system ${mapping.system}, times without offset in ${mapping.timeZone}, policy ${policy.name}) ` +
      (dryRun ? '— dry run, nothing is written' : `into ${tableName}${endpoint ? ` at ${endpoint}` : ''}`),
  );
  let summary: ImportSummary;
  try {
    summary = await importHistory(ctx, rows, {
      mapping,
      open,
      dryRun,
      concurrency,
      onRejected: (rejected) => rejectedFile.write(rejected),
      onProgress: (p) => progress.update(p),
    });
  } catch (error) {
    // A bad header or mapping: nothing was imported, and the previous rejected file stays as it was.
    await rejectedFile.discard();
    throw error;
  } finally {
    progress.finish();
    input.destroy();
  }
  const fileError = await rejectedFile.close();
  if (fileError !== undefined) summary.aborted ??= fileError;
  console.log(formatSummary(summary, { rejectedPath, open }));
  if (summary.aborted !== undefined) return EXIT.aborted;
  return summary.rejected > 0 ? EXIT.rejected : EXIT.ok;
}

/**
 * The rejected-rows file (JSON lines), written beside its final name and renamed when the run ends, so a
 * run stopped by a bad header or mapping leaves the previous one in place. Owner-only: it holds the rows
 * as exported, customer data included. A write failure (disk full) stops the run like a table failure.
 */
class RejectedFile {
  private error: Error | undefined;
  private constructor(
    private readonly path: string,
    private readonly partial: string,
    private readonly stream: ReturnType<typeof createWriteStream>,
  ) {
    stream.on('error', (error) => {
      this.error ??= error;
    });
  }

  static async open(path: string): Promise<RejectedFile> {
    const partial = `${path}.partial`;
    const stream = createWriteStream(partial, { mode: 0o600 });
    try {
      await once(stream, 'open');
    } catch (error) {
      throw new UsageError(`--rejected ${path}: ${(error as Error).message}`);
    }
    return new RejectedFile(path, partial, stream);
  }

  async write(row: RejectedRow): Promise<void> {
    this.check();
    if (!this.stream.write(`${JSON.stringify(row)}\n`)) {
      await new Promise<void>((resolve) => {
        this.stream.once('drain', resolve);
        this.stream.once('error', () => resolve());
      });
    }
    this.check();
  }

  /** Finishes the file under its name; the write error, if any. */
  async close(): Promise<string | undefined> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    if (this.error === undefined) {
      try {
        await rename(this.partial, this.path);
      } catch (error) {
        this.error = error as Error;
      }
    }
    return this.error === undefined ? undefined : this.describe();
  }

  async discard(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    await unlink(this.partial).catch(() => undefined);
  }

  private check(): void {
    if (this.error !== undefined) throw new Error(this.describe());
  }

  private describe(): string {
    return `the rejected file ${this.path} could not be written: ${this.error?.message}`;
  }
}

/** A progress bar with rate and ETA on a terminal; a plain line every `every` rows otherwise. */
class ProgressDisplay {
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastLine = 0;
  private latest: ImportProgress | undefined;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly size: number,
    private readonly every: number,
  ) {}

  update(p: ImportProgress): void {
    this.latest = p;
    if (this.out.isTTY) {
      const t = Date.now();
      if (t - this.lastDraw < 100) return;
      this.lastDraw = t;
      this.out.write(`\r${this.line(p, true)}\u001b[K`);
    } else if (p.done - this.lastLine >= this.every) {
      this.lastLine = p.done;
      this.out.write(`${this.line(p, false)}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY && this.latest !== undefined)
      this.out.write(`\r${this.line(this.latest, true)}\u001b[K\n`);
  }

  private line(p: ImportProgress, bar: boolean): string {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = p.done / seconds;
    const fraction = this.size === 0 ? 1 : Math.min(1, p.bytes / this.size);
    const eta = fraction > 0 && fraction < 1 ? (seconds / fraction) * (1 - fraction) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const head = bar ? `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` : '';
    return (
      `${head}${(fraction * 100).toFixed(0).padStart(3)}%  ${p.done.toLocaleString('en-US')} row${p.done === 1 ? '' : 's'}` +
      `  ${rate.toFixed(0)} rows/s  ETA ${formatDuration(eta)}` +
      `  (${p.imported} imported, ${p.skipped} skipped, ${p.rejected} rejected${p.submitted > 0 ? `, ${p.submitted} to intake` : ''})`
    );
  }
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(s % 60).padStart(2, '0')}`;
}

export function formatSummary(s: ImportSummary, info: { rejectedPath: string; open: string }): string {
  const n = (v: number) => v.toLocaleString('en-US').padStart(8);
  const list = (record: Record<string, number | undefined>) =>
    Object.entries(record)
      .filter(([, v]) => (v ?? 0) > 0)
      .sort(([ak, a], [bk, b]) => (b ?? 0) - (a ?? 0) || (ak < bk ? -1 : 1))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const seconds = s.elapsedMs / 1000;
  const lines = [
    s.aborted !== undefined
      ? `History import STOPPED: ${s.aborted}\n  (a re-run skips what was imported and continues)`
      : `History import ${s.dryRun ? 'dry run ' : ''}finished`,
    `  rows read          ${n(s.read)}`,
    `  ${s.dryRun ? 'would import ' : 'imported     '}      ${n(s.imported)}${s.imported > 0 ? `   by status: ${list(s.byStatus)}` : ''}`,
    `  skipped            ${n(s.skipped)}   already imported`,
    ...(info.open === 'intake'
      ? [`  sent to intake     ${n(s.submitted)}   open rows, now live complaints`]
      : []),
    `  rejected           ${n(s.rejected)}${s.rejected > 0 ? `   → ${info.rejectedPath}: ${list(s.rejectedByCode)}` : ''}`,
    `  classified         ${n(s.classifiedByPolicy)}   category or severity from the policy (none in the export)`,
  ];
  if (s.outOfOrder > 0) {
    lines.push(
      `  out of order       ${n(s.outOfOrder)}   rows older than a row before them of the same customer: repeat flags may be missed (sort the export by received time)`,
    );
  }
  if (s.firstDay !== undefined) {
    lines.push(
      `  report periods     ${s.firstDay} … ${s.lastDay}` +
        (s.reportsRegenerated.length > 0
          ? ` (${s.reportsRegenerated.length} stored reports regenerated)`
          : ''),
    );
  }
  lines.push(
    `  elapsed            ${seconds.toFixed(1).padStart(8)} s   ${(s.done / Math.max(seconds, 0.001)).toFixed(0)} rows/s`,
  );
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (
        error instanceof UsageError ||
        error instanceof MappingValidationError ||
        error instanceof PolicyValidationError ||
        error instanceof ExportHeaderError
      ) {
        console.error(`${error.message}${error instanceof UsageError ? `\n\n${USAGE}` : ''}`);
        process.exitCode = EXIT.usage;
      } else if (String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) {
        console.error(`${(error as Error).message}\n\n${USAGE}`);
        process.exitCode = EXIT.usage;
      } else {
        console.error(error);
        process.exitCode = EXIT.aborted;
      }
    },
  );
}
