import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import type { Complaint } from '../../shared/domain/complaint';
import {
  historicalEvents,
  type ImportMapping,
  importScope,
  parseMapping,
} from '../../shared/domain/history-import';
import type { Contributions } from '../../shared/domain/reporting/contributions';
import type { ComplaintFacts } from '../../shared/domain/reporting/facts';
import type { ReportFigures } from '../../shared/domain/reporting/report';
import { DETAIL_TYPES } from '../../shared/events/names';
import { KmsServiceKeys, type ServiceKeys, StaticServiceKeys } from '../../shared/security/service-keys';
import {
  type HistoryImportContext,
  type ImportSummary,
  importHistory,
  type RejectedRow,
  readCsv,
  readJsonLines,
} from '../../shared/services/history-import';
import { idempotencyKeyOf } from '../../shared/services/idempotency';
import { generateReport, getReport, recordLifecycleEvent } from '../../shared/services/reporting';
import { complaintOfItem, DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import { DynamoDbReportingStore } from '../../shared/storage/reporting-store';
import { EXPORT_ZONE, type ExpectedRow, generateExport } from '../fixtures/import/generate-export';
import { defaultPolicy as policy, RecordingPublisher, RecordingScheduler } from '../support/fixtures';
import { createTestTable, localDynamoClient } from './support/dynamodb';

/**
 * The history import against DynamoDB Local: a generated export of 300 finished complaints over three
 * months with 20 bad rows mixed in, imported through the service; the stored records, the rejected
 * rows and the monthly reports are checked against what the generator says about each row — not
 * against the importer's own code. Then: a second run, a run that stops half-way, open rows through
 * intake, and the CLI itself as a child process.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(REPO_ROOT, 'test/fixtures/import');
const NOW = new Date('2025-06-01T00:00:00Z');
const MONTHS = ['2025-01', '2025-02', '2025-03', '2025-04'] as const;
const calendar = new BusinessCalendar(policy.calendar);
const KEYS = new StaticServiceKeys('history-import-test');
const db = () =>
  DynamoDBDocumentClient.from(localDynamoClient(), { marshallOptions: { removeUndefinedValues: true } });

let mapping: ImportMapping;

function context(
  table: string,
  reportingStore = new DynamoDbReportingStore(db(), table),
): HistoryImportContext {
  return {
    store: new DynamoDbComplaintStore(db(), { tableName: table, deadlineShards: 8 }),
    reporting: { store: reportingStore, timeZone: policy.calendar.timeZone, now: () => NOW },
    policy,
    calendar,
    now: () => NOW,
    keys: KEYS,
  };
}

async function run(
  ctx: HistoryImportContext,
  csv: string,
  extra: Partial<Parameters<typeof importHistory>[2]> = {},
): Promise<{ summary: ImportSummary; rejected: RejectedRow[] }> {
  const rejected: RejectedRow[] = [];
  const summary = await importHistory(
    ctx,
    readCsv(Readable.from([Buffer.from(csv)]), { onHeader: () => undefined }),
    {
      mapping,
      onRejected: (r) => void rejected.push(r),
      ...extra,
    },
  );
  return { summary, rejected };
}

/** Every item whose key starts with `prefix` (a test may scan). */
async function scan(table: string, prefix: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(pk, :p)',
        ExpressionAttributeValues: { ':p': prefix },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** The aggregates as `bucket → counters` (zero counters dropped), to compare two states exactly. */
async function aggregates(table: string): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const item of await scan(table, 'AGG#')) {
    const counters = Object.fromEntries(
      Object.entries(item)
        .filter(([k, v]) => k.startsWith('c:') && Number(v) !== 0)
        .map(([k, v]) => [k, Number(v)]),
    );
    if (Object.keys(counters).length > 0) out[String(item.pk)] = counters;
  }
  return out;
}

/** The import's claim key of an external id (a keyed digest of the import scope, as the import writes it). */
const claimKey = async (externalId: string, keys: ServiceKeys = KEYS) =>
  `IDEMP#${await idempotencyKeyOf(keys, importScope('legacy-crm', externalId))}`;

async function storedByExternalId(
  table: string,
  externalId: string,
  keys: ServiceKeys = KEYS,
): Promise<Complaint | undefined> {
  const pointer = await db().send(
    new GetCommand({ TableName: table, Key: { pk: await claimKey(externalId, keys), sk: 'IDEMP' } }),
  );
  const id = pointer.Item?.complaintId;
  if (typeof id !== 'string') return undefined;
  return new DynamoDbComplaintStore(db(), { tableName: table, deadlineShards: 8 }).get(id);
}

// ---------------------------------------------------------------------------------------------------
// What the report must say, from the generator's own record of each row

const monthOf = (ms: number) => DateTime.fromMillis(ms, { zone: EXPORT_ZONE }).toFormat('yyyy-MM');
const endOf = (month: string) =>
  DateTime.fromISO(`${month}-01`, { zone: EXPORT_ZONE }).plus({ months: 1 }).toMillis();

function expectedFigures(rows: readonly ExpectedRow[], month: string) {
  const imported = rows.filter((r) => r.outcome === 'import');
  const received = imported.filter((r) => monthOf(r.receivedAt as number) === month);
  const valid = imported.filter((r) => r.status !== 'rejected');
  const resolved = valid.filter((r) => monthOf(r.resolvedAt as number) === month);
  const acknowledged = valid.filter(
    (r) => r.acknowledgedAt !== undefined && monthOf(r.acknowledgedAt) === month,
  );
  const responded = valid.filter(
    (r) => r.firstResponseAt !== undefined && monthOf(r.firstResponseAt) === month,
  );
  const surveyed = valid.filter(
    (r) => r.satisfaction !== undefined && monthOf((r.closedAt ?? r.resolvedAt) as number) === month,
  );
  const byChannel: Record<string, number> = {};
  for (const r of received) byChannel[r.channel as string] = (byChannel[r.channel as string] ?? 0) + 1;
  const seconds = resolved.reduce(
    (sum, r) => sum + Math.round(((r.resolvedAt as number) - (r.receivedAt as number)) / 1000),
    0,
  );
  const scores = surveyed.reduce((sum, r) => sum + (r.satisfaction as number), 0);
  const end = endOf(month);
  return {
    received: received.length,
    rejected: received.filter((r) => r.status === 'rejected').length,
    byChannel,
    resolved: resolved.length,
    averageResolutionSeconds: resolved.length === 0 ? null : Math.round(seconds / resolved.length),
    acknowledged: acknowledged.length,
    responded: responded.length,
    surveyAnswers: surveyed.length,
    surveyAverage: surveyed.length === 0 ? null : Math.round((scores / surveyed.length) * 100) / 100,
    closed: valid.filter((r) => r.closedAt !== undefined && monthOf(r.closedAt) === month).length,
    backlog: valid.filter((r) => (r.receivedAt as number) < end && (r.resolvedAt as number) >= end).length,
  };
}

function actualFigures(f: ReportFigures) {
  return {
    received: f.volume.received,
    rejected: f.volume.rejected,
    byChannel: Object.fromEntries(f.byChannel.map((s) => [s.key, s.count])),
    resolved: f.reopen.resolved,
    averageResolutionSeconds: f.times.resolution.averageSeconds,
    acknowledged: f.times.acknowledge.count,
    responded: f.times.firstResponse.count,
    surveyAnswers: f.satisfaction.answers,
    surveyAverage: f.satisfaction.average,
    closed: f.closed,
    backlog: f.backlog.open,
  };
}

// ---------------------------------------------------------------------------------------------------

const generated = generateExport({ seed: 2025, count: 300 });
let table: string;
let first: { summary: ImportSummary; rejected: RejectedRow[] };

beforeAll(async () => {
  mapping = parseMapping(JSON.parse(await readFile(join(FIXTURES, 'mapping.json'), 'utf8')), policy);
  table = await createTestTable('history-import');
  first = await run(context(table), generated.csv);
  const seconds = first.summary.elapsedMs / 1000;
  console.log(
    `history import: ${first.summary.read} rows in ${seconds.toFixed(1)} s = ${(first.summary.read / seconds).toFixed(0)} rows/s (concurrency 8, DynamoDB Local)`,
  );
});

describe('a generated export of 300 complaints with bad rows mixed in', () => {
  it('is counted: read, imported by status, refused by reason', () => {
    const expected = generated.rows;
    const imports = expected.filter((r) => r.outcome === 'import');
    const byStatus: Record<string, number> = {};
    for (const r of imports) byStatus[r.status as string] = (byStatus[r.status as string] ?? 0) + 1;
    const byCode: Record<string, number> = {};
    for (const r of expected) {
      if (r.outcome !== 'import') byCode[r.outcome.reject] = (byCode[r.outcome.reject] ?? 0) + 1;
    }
    expect(first.summary).toMatchObject({
      read: expected.length,
      imported: imports.length,
      skipped: 0,
      submitted: 0,
      rejected: expected.length - imports.length,
      byStatus,
      rejectedByCode: byCode,
      outOfOrder: 0,
      firstDay: '2025-01-01',
    });
    expect(first.summary.aborted).toBeUndefined();
    expect(first.summary.classifiedByPolicy).toBeGreaterThan(50);
    expect(imports.length).toBe(300);
    expect(expected.length - imports.length).toBe(20);
  });

  it('writes each refused row with its line, id, original cells and reasons', () => {
    const refused = generated.rows.filter((r) => r.outcome !== 'import');
    expect(first.rejected.map((r) => [r.line, r.externalId, r.codes])).toEqual(
      refused.map((r) => [r.line, r.externalId, [(r.outcome as { reject: string }).reject]]),
    );
    const reasons = Object.fromEntries(first.rejected.map((r) => [r.codes[0], r.reasons[0]]));
    expect(reasons).toMatchObject({
      bad_time:
        'receivedAt: not a valid time: "2025-02-30 10:00:00" (expected ISO 8601 or yyyy-MM-dd HH:mm:ss)',
      unknown_value: expect.stringMatching(/^channel: unknown channel "传真"/),
      out_of_range: 'satisfaction: 7 is out of range (a whole number 1–5)',
      duplicate_id: expect.stringMatching(/^externalId: "T\d{5}" already appeared on line \d+/),
      time_order: expect.stringMatching(/^resolvedAt: .* \+08:00 is before receivedAt .* \+08:00$/),
      missing: 'customerId: missing (column "客户ID" is empty)',
      still_open: expect.stringMatching(/^status: still open in legacy-crm \("in_progress"\)/),
    });
    const duplicate = first.rejected.find((r) => r.codes[0] === 'duplicate_id');
    expect(duplicate?.row).toMatchObject({ 问题描述: '重复导出' });
  });

  it('stores each complaint with its original times, channel and status, without timers or deadline index entry', async () => {
    const sample = generated.rows.filter((r) => r.outcome === 'import').filter((_, i) => i % 7 === 0);
    const imported = new Set<string>();
    for (const row of sample) {
      const c = await storedByExternalId(table, row.externalId);
      expect(c, row.externalId).toBeDefined();
      if (c === undefined) continue;
      imported.add(c.id);
      const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
      expect(c).toMatchObject({
        status: row.status,
        receivedAt: iso(row.receivedAt),
        submission: { channel: row.channel },
        source: { system: 'import', messageId: `legacy-crm#${row.externalId}` },
        timers: {},
        version: 1,
      });
      expect(c.resolution?.resolvedAt).toBe(iso(row.resolvedAt));
      expect(c.work.acknowledgedAt).toBe(iso(row.acknowledgedAt));
      expect(c.survey?.score).toBe(row.satisfaction);
      if (row.department !== undefined) expect(c.assignment?.leadDepartment).toBe(row.department);
      expect(Object.values(c.deadlines).every((d) => d?.state !== 'running')).toBe(true);
      const raw = await db().send(new GetCommand({ TableName: table, Key: { pk: `C#${c.id}`, sk: 'META' } }));
      // A closed or rejected one waits in the retention index.
      if (c.status === 'closed' || c.status === 'rejected')
        expect(String(raw.Item?.gsi4pk)).toMatch(/^ERASE#/);
    }
    // Nothing the sweep would look at, even at the end of time.
    const store = new DynamoDbComplaintStore(db(), { tableName: table, deadlineShards: 8 });
    const departments = policy.routing.departments.map((d) => d.id);
    const swept = await store.dueForSweep(departments, '9999-12-31T00:00:00.000Z', 1000);
    expect(swept.filter((d) => imported.has(d.complaintId))).toEqual([]);
    // The first of two lines with one id is the one imported; its key never expires.
    const duplicateOf = first.rejected.find((r) => r.codes[0] === 'duplicate_id')?.externalId as string;
    expect((await storedByExternalId(table, duplicateOf))?.submission.description).not.toBe('重复导出');
    const key = await db().send(
      new GetCommand({
        TableName: table,
        Key: { pk: await claimKey(duplicateOf), sk: 'IDEMP' },
      }),
    );
    expect(key.Item?.expiresAt).toBeUndefined();
  });

  it('gives monthly reports that match counts computed from the input rows', async () => {
    const reporting = context(table).reporting;
    let judged = 0;
    for (const month of MONTHS) {
      const report = await generateReport(reporting, 'monthly', month);
      expect(report.partial).toBeUndefined();
      expect(actualFigures(report.figures), month).toEqual(expectedFigures(generated.rows, month));
      // Breaches count on the deadline's day, in-time resolutions on their own: per month they differ.
      judged += report.figures.sla.resolution.met + report.figures.sla.resolution.breached;
    }
    expect(judged).toBe(
      generated.rows.filter((r) => r.outcome === 'import' && r.status !== 'rejected').length,
    );
    const march = await generateReport(reporting, 'monthly', '2025-03');
    expect(march.figures.volume.received).toBeGreaterThan(80);
    expect(march.figures.backlog.open).toBeGreaterThan(0);
  });

  it('is imported once: a second run skips every row and changes no aggregate', async () => {
    const before = await aggregates(table);
    const facts = (await scan(table, 'FACTS#')).length;
    const again = await run(context(table), generated.csv);
    expect(again.summary).toMatchObject({
      read: first.summary.read,
      imported: 0,
      skipped: 300,
      rejected: 20,
    });
    expect(await aggregates(table)).toEqual(before);
    expect((await scan(table, 'FACTS#')).length).toBe(facts);
    expect((await scan(table, 'C#')).filter((i) => i.sk === 'META')).toHaveLength(300);
  });
});

describe('the report events of imported complaints', () => {
  it('give the same aggregates as feeding them one by one through the live aggregator', async () => {
    const small = generateExport({ seed: 7, count: 60 });
    const imported = await createTestTable('history-import-batch');
    await run(context(imported), small.csv);
    const oneByOne = await createTestTable('history-import-events');
    const reporting = context(oneByOne).reporting;
    const store = new DynamoDbComplaintStore(db(), { tableName: imported, deadlineShards: 8 });
    const complaints = (await scan(imported, 'C#')).filter((i) => i.sk === 'META');
    expect(complaints).toHaveLength(60);
    for (const item of complaints) {
      const complaint = complaintOfItem(item) as Complaint;
      const closed = (await store.timeline(complaint.id)).find((e) => e.type === 'closed');
      for (const event of historicalEvents(complaint, closed?.at))
        await recordLifecycleEvent(reporting, event);
    }
    expect(await aggregates(oneByOne)).toEqual(await aggregates(imported));
  });
});

/** Fails on the n-th fact write, as a crash (or a lost connection) half-way through would. */
class CrashingReportingStore extends DynamoDbReportingStore {
  private writes = 0;
  constructor(
    table: string,
    private readonly crashAt: number,
  ) {
    super(db(), table);
  }
  override async saveFacts(
    facts: ComplaintFacts,
    expectedVersion: number,
    delta: Contributions,
  ): Promise<void> {
    this.writes += 1;
    if (this.writes === this.crashAt) throw new Error('simulated crash');
    return super.saveFacts(facts, expectedVersion, delta);
  }
}

describe('a run that stops half-way', () => {
  it('is completed by a re-run, with exact figures, and stale stored reports regenerated', async () => {
    const partial = generateExport({ seed: 11, count: 100 });
    const crashTable = await createTestTable('history-import-crash');
    // A report of an imported period generated before the import: stored, and empty.
    const stale = await generateReport(context(crashTable).reporting, 'monthly', '2025-02');
    expect(stale.figures.volume.received).toBe(0);

    const stopped = await run(context(crashTable, new CrashingReportingStore(crashTable, 40)), partial.csv);
    expect(stopped.summary.aborted).toBe('simulated crash');
    expect(stopped.summary.imported).toBeGreaterThanOrEqual(39);
    expect(stopped.summary.imported).toBeLessThan(100);
    // The complaint whose facts failed is stored, and the months after it are missing: counts are behind.
    const behind = await generateReport(context(crashTable).reporting, 'monthly', '2025-03');
    expect(behind.figures.volume.received).toBeLessThan(expectedFigures(partial.rows, '2025-03').received);

    const resumed = await run(context(crashTable), partial.csv);
    expect(resumed.summary.aborted).toBeUndefined();
    expect(resumed.summary.imported + resumed.summary.skipped).toBe(100);
    // Skipped: what the first run finished, and what it stored before stopping (at most one per slot).
    expect(resumed.summary.skipped).toBeGreaterThan(stopped.summary.imported);
    expect(resumed.summary.skipped).toBeLessThanOrEqual(stopped.summary.imported + 8);
    expect(resumed.summary.reportsRegenerated).toEqual(
      expect.arrayContaining(['monthly 2025-02', 'monthly 2025-03']),
    );

    const served = await getReport(context(crashTable).reporting, 'monthly', '2025-02');
    expect(served.generatedAt).toBe(NOW.toISOString());
    for (const month of MONTHS) {
      const report =
        month === '2025-02' ? served : await generateReport(context(crashTable).reporting, 'monthly', month);
      expect(actualFigures(report.figures), month).toEqual(expectedFigures(partial.rows, month));
    }
  });
});

describe('rows still open in the old system', () => {
  const jsonMapping = () =>
    parseMapping(
      {
        system: 'legacy-crm',
        columns: {
          externalId: 'id',
          receivedAt: 'created',
          channel: 'channel',
          description: 'text',
          customerId: 'customer.id',
          status: 'state',
          resolvedAt: 'resolved',
        },
        values: { status: { open: 'in_progress', done: 'resolved' } },
      },
      policy,
    );
  const lines = [
    {
      id: 'O-1',
      created: '2025-05-30 10:00',
      channel: 'web',
      text: 'App crashes on payment',
      customer: { id: 'o1' },
      state: 'open',
    },
    {
      id: 'O-2',
      created: '2025-05-31 11:00',
      channel: 'app',
      text: '登录不了，一直提示密码错误',
      customer: { id: 'o2' },
      state: 'open',
    },
    {
      id: 'O-3',
      created: '2025-05-20 09:00',
      channel: 'email',
      text: 'Refund never arrived',
      customer: { id: 'o3' },
      state: 'done',
      resolved: '2025-05-21 09:00',
    },
  ]
    .map((l) => JSON.stringify(l))
    .join('\n');

  it('are refused by default, and with open=intake enter the live intake (SLA clocks from now, the customer acknowledged)', async () => {
    const openTable = await createTestTable('history-import-open');
    const publisher = new RecordingPublisher();
    const base = context(openTable);
    const ctx: HistoryImportContext = {
      ...base,
      intake: {
        store: base.store,
        publisher,
        policy,
        calendar,
        scheduler: new RecordingScheduler(),
        keys: KEYS,
        now: () => NOW,
      },
    };
    const source = () => readJsonLines(Readable.from([lines]));
    const refused: RejectedRow[] = [];
    const byDefault = await importHistory(ctx, source(), {
      mapping: jsonMapping(),
      dryRun: true,
      onRejected: (r) => void refused.push(r),
    });
    expect(byDefault).toMatchObject({ imported: 1, rejected: 2, submitted: 0 });
    expect(refused.map((r) => r.codes)).toEqual([['still_open'], ['still_open']]);

    const summary = await importHistory(ctx, source(), { mapping: jsonMapping(), open: 'intake' });
    expect(summary).toMatchObject({ read: 3, imported: 1, submitted: 2, rejected: 0 });
    const received = publisher.ofType(DETAIL_TYPES.complaintReceived);
    // Different customers are submitted concurrently: compare in channel order.
    const byChannel = [...received].sort((x, y) =>
      String(x.detail.data.channel) < String(y.detail.data.channel) ? -1 : 1,
    );
    expect(byChannel.map((e) => e.detail.data)).toEqual([
      expect.objectContaining({ sourceSystem: 'import', channel: 'app', receivedAt: NOW.toISOString() }),
      expect.objectContaining({ sourceSystem: 'import', channel: 'web', receivedAt: NOW.toISOString() }),
    ]);
    expect(publisher.ofType(DETAIL_TYPES.customerNotificationRequested)).toHaveLength(2);
    const live = await new DynamoDbComplaintStore(db(), { tableName: openTable, deadlineShards: 8 }).get(
      String(byChannel[1]?.detail.data.complaintId),
    );
    expect(live).toMatchObject({
      status: 'received',
      submission: { occurredAt: '2025-05-30T02:00:00.000Z' },
      deadlines: { acknowledge: { state: 'running' } },
    });
    // The finished row is history: nothing published for it.
    const history = await storedByExternalId(openTable, 'O-3');
    expect(history?.status).toBe('resolved');
    expect(publisher.events.some((e) => e.detail.data.complaintId === history?.id)).toBe(false);

    const published = publisher.events.length;
    const again = await importHistory(ctx, source(), { mapping: jsonMapping(), open: 'intake' });
    expect(again).toMatchObject({ imported: 0, submitted: 0, skipped: 3 });
    // Intake replays its two (same event ids, consumers dedupe); the history row publishes nothing.
    expect(publisher.events.length - published).toBe(4);

    // Reopened in the old system after it was imported as finished: skipped, and nobody is told.
    const reopened = lines.replace('"state":"done","resolved":"2025-05-21 09:00"', '"state":"open"');
    expect(reopened).not.toBe(lines);
    const later = await importHistory(ctx, readJsonLines(Readable.from([reopened])), {
      mapping: jsonMapping(),
      open: 'intake',
    });
    expect(later).toMatchObject({ imported: 0, submitted: 0, skipped: 3 });
    expect(publisher.events.some((e) => e.detail.data.complaintId === history?.id)).toBe(false);
    expect((await storedByExternalId(openTable, 'O-3'))?.status).toBe('resolved');
  });
});

/** Runs the import command as a user does; its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/import-history.ts', ...args],
      {
        cwd: REPO_ROOT,
        timeout: 50_000,
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'history-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a file, prints the summary, writes the rejected file and exits 1 when rows were refused', async () => {
    const cliTable = await createTestTable('history-import-cli');
    const rejectedPath = join(dir, 'rejected.jsonl');
    const { code, stdout, stderr } = await runCli([
      '--file',
      join(FIXTURES, 'small.csv'),
      '--mapping',
      join(FIXTURES, 'mapping.json'),
      '--endpoint',
      inject('dynamoDbEndpoint'),
      '--table',
      cliTable,
      '--service-key',
      inject('serviceKeyArn'),
      '--kms-endpoint',
      inject('kmsEndpoint'),
      '--rejected',
      rejectedPath,
    ]);
    expect(code, stderr).toBe(1);
    expect(stdout).toMatch(/History import finished/);
    expect(stdout).toMatch(/rows read +11\n/);
    expect(stdout).toMatch(/imported +5 +by status: closed 3, rejected 1, resolved 1\n/);
    expect(stdout).toMatch(/rejected +6 +→ .*rejected\.jsonl: /);
    expect(stderr).toMatch(
      /Importing .*small\.csv \(csv, system legacy-crm, times without offset in Asia\/Shanghai, policy default\)/,
    );
    const rejected = (await readFile(rejectedPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RejectedRow);
    expect(rejected.map((r) => [r.line, r.externalId, r.codes])).toEqual([
      [6, 'S-005', ['bad_time']],
      [7, 'S-006', ['unknown_value']],
      [8, 'S-007', ['out_of_range']],
      [9, 'S-001', ['duplicate_id']],
      [10, 'S-008', ['time_order']],
      [11, 'S-009', ['still_open']],
    ]);
    // The CLI derived its claims with the service key through KMS: found under the same derivation.
    const kms = new KMSClient({
      endpoint: inject('kmsEndpoint'),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const s010 = await storedByExternalId(
      cliTable,
      'S-010',
      new KmsServiceKeys(kms, inject('serviceKeyArn')),
    );
    kms.destroy();
    // 10:00 UTC as written in the file (an explicit offset wins over the mapping's zone).
    expect(s010?.receivedAt).toBe('2025-03-07T10:00:00.000Z');
  });

  it('stops with exit 2 before writing without the service key, or with a key it may not derive from', async () => {
    const cliTable = await createTestTable('history-import-cli-key');
    const base = [
      '--file',
      join(FIXTURES, 'small.csv'),
      '--mapping',
      join(FIXTURES, 'mapping.json'),
      '--endpoint',
      inject('dynamoDbEndpoint'),
      '--table',
      cliTable,
      '--rejected',
      join(dir, 'rejected-key.jsonl'),
    ];
    const missing = await runCli(base);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/--service-key is required \(the stack output ServiceKeyArn\)/);
    const unknownKey = `${inject('serviceKeyArn').replace(/key\/.*$/, 'key/')}00000000-0000-4000-a000-000000000000`;
    const wrong = await runCli([
      ...base,
      '--service-key',
      unknownKey,
      '--kms-endpoint',
      inject('kmsEndpoint'),
    ]);
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/service key: NotFoundException/);
    expect(await storedByExternalId(cliTable, 'S-010')).toBeUndefined();
  });

  it('stops with exit 2 before reading when the rejected file cannot be created, or the header lacks a column', async () => {
    const base = [
      '--file',
      join(FIXTURES, 'small.csv'),
      '--mapping',
      join(FIXTURES, 'mapping.json'),
      '--dry-run',
    ];
    const unwritable = await runCli([...base, '--rejected', join(dir, 'no-such-dir', 'rejected.jsonl')]);
    expect(unwritable.code, unwritable.stderr).toBe(2);
    expect(unwritable.stderr).toMatch(/--rejected .*no-such-dir.*ENOENT/);

    // A header without a mapped column: nothing written, and the previous rejected file left as it was.
    const rejectedPath = join(dir, 'kept.jsonl');
    await writeFile(rejectedPath, '{"line":2}\n');
    const export_ = join(dir, 'no-customer.csv');
    const csv = await readFile(join(FIXTURES, 'small.csv'), 'utf8');
    await writeFile(export_, csv.replace('客户ID', '客户编号'));
    const badHeader = await runCli([
      '--file',
      export_,
      '--mapping',
      join(FIXTURES, 'mapping.json'),
      '--dry-run',
      '--rejected',
      rejectedPath,
    ]);
    expect(badHeader.code, badHeader.stderr).toBe(2);
    expect(badHeader.stderr).toMatch(/客户ID/);
    expect(await readFile(rejectedPath, 'utf8')).toBe('{"line":2}\n');
    expect(existsSync(`${rejectedPath}.partial`)).toBe(false);
  });
});
