import { type Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { DateTime } from 'luxon';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { RecentComplaint } from '../domain/classification';
import type { Complaint } from '../domain/complaint';
import {
  type HistoricalRow,
  historicalComplaint,
  historicalEvents,
  IMPORT_ACTOR,
  IMPORTED_ENTRY,
  type ImportMapping,
  importScope,
  importSource,
  isOpenRow,
  MappingValidationError,
  mapRow,
  problemText,
  type RowProblem,
  type RowProblemCode,
  readCell,
  rowSubmission,
} from '../domain/history-import';
import { IdempotencyKeyReusedError } from '../domain/idempotency';
import { newComplaintId, newComplaintNumber } from '../domain/identifiers';
import { phaseOf } from '../domain/lifecycle';
import {
  contributions,
  DEFAULT_AGGREGATE_SHARDS,
  dayOf,
  diffContributions,
} from '../domain/reporting/contributions';
import { emptyFacts, type LifecycleEvent, mergeEvent, sameFacts } from '../domain/reporting/facts';
import { PERIOD_KINDS, type Period, type PeriodKind, parsePeriod } from '../domain/reporting/report';
import type { Policy } from '../policy/schema';
import type { ServiceKeys } from '../security/service-keys';
import type { ComplaintStore, TimelineEntry } from '../storage/ports';
import type { ServiceContext } from './context';
import { idempotencyClaim, idempotencyKeyOf, trackingTokenOf } from './idempotency';
import { receiveComplaint } from './intake';
import { FACTS_CONFLICT_ATTEMPTS, generateReport, type ReportingContext } from './reporting';
import { retryOnConflict } from './retry';

/**
 * The history import (issue #5): reads an export row by row (streaming, bounded concurrency), checks
 * and maps each row (`shared/domain/history-import.ts`), writes finished rows as complaint records
 * with their original times — no timers, no events on the bus, nothing for the customer — and feeds
 * the report aggregates with the lifecycle events those complaints would have produced, through the
 * same idempotent `recordLifecycleEvent` the live aggregator uses.
 *
 * Idempotent: a complaint is created with the idempotency key `import#<system>#<externalId>` (a
 * permanent one: it does not expire), so a re-run skips it; its report events have deterministic
 * ids and are fed again from the stored record, which heals a run that stopped between the two
 * writes and changes no count otherwise.
 */

// ---------------------------------------------------------------------------------------------------
// Reading an export

/** One record of the export: its first line, and the record or why it could not be read. */
export interface SourceRow {
  line: number;
  /** Bytes of the (UTF-8) input read up to the end of this record: progress through the file. */
  bytes?: number;
  record?: Record<string, unknown>;
  /** The text of a record that could not be parsed. */
  raw?: string;
  problems?: RowProblem[];
}

/** Decodes bytes in any WHATWG encoding (a BOM is dropped) into UTF-8. */
function decoder(encoding: string): Transform {
  const textDecoder = new TextDecoder(encoding);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, textDecoder.decode(chunk, { stream: true }));
    },
    flush(callback) {
      callback(null, textDecoder.decode());
    },
  });
}

/**
 * Passes bytes through and remembers where the newlines are, so a record's line can be told from its
 * byte offsets (the CSV parser's own line count is off after a quoted CRLF). Keeps only the offsets
 * not yet asked about: memory stays bounded by what the streams buffer.
 */
class NewlineIndex extends Transform {
  private pending: number[] = [];
  private counted = 0;
  private lastCounted = -1;
  private seen = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.pending.push(this.seen + i);
    this.seen += chunk.length;
    this.push(chunk);
    callback();
  }

  /** Newlines before byte `offset`; offsets must not decrease from one call to the next. */
  before(offset: number): number {
    let k = 0;
    while (k < this.pending.length && (this.pending[k] as number) < offset) k++;
    if (k > 0) {
      this.lastCounted = this.pending[k - 1] as number;
      this.pending.splice(0, k);
      this.counted += k;
    }
    return this.counted;
  }

  /** The line of the last byte before `end` (1-based), where `end` is just after a record. */
  lineEndingAt(end: number): number {
    const newlines = this.before(end);
    return this.lastCounted === end - 1 ? newlines : newlines + 1;
  }
}

export class ExportHeaderError extends Error {
  override name = 'ExportHeaderError';
}

const countNewlines = (cells: readonly string[]) => {
  let n = 0;
  for (const cell of cells) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * The records of a CSV export, as header → cell objects, with the line each starts on. A record
 * with the wrong number of fields, or one the CSV parser cannot read (an unclosed quote), comes back
 * with its problem instead of stopping the import. `onHeader` sees the header first (and may throw).
 */
export async function* readCsv(
  input: Readable,
  options: { delimiter?: string; encoding?: string; onHeader?: (columns: string[]) => void } = {},
): AsyncGenerator<SourceRow> {
  // Records the parser could not read, each with the number of records it handed over before it. The
  // parser reports them as it meets them, possibly before the records before them have been read from
  // it (it buffers), so they are yielded in file order: after the record they follow.
  const skipped: { after: number; raw: string; message: string }[] = [];
  const index = new NewlineIndex();
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error, raw) => {
      skipped.push({
        after: (error as { records?: number } | undefined)?.records ?? 0,
        raw: raw ?? '',
        message: `not valid CSV: ${error?.message ?? 'unreadable'}`,
      });
      return undefined;
    },
  });
  /** The line the last record handed over (or refused) ended on. */
  let lastLine = 0;
  const skippedBefore = function* (ordinal: number): Generator<SourceRow> {
    while (skipped.length > 0 && (skipped[0] as { after: number }).after < ordinal) {
      const skip = skipped.shift() as { after: number; raw: string; message: string };
      yield {
        line: lastLine + 1,
        raw: skip.raw,
        problems: [{ field: '(row)', code: 'malformed', message: skip.message }],
      };
      lastLine += Math.max(1, countNewlines([skip.raw.replace(/\r?\n$/, '')]) + 1);
    }
  };
  const decode = decoder(options.encoding ?? 'utf-8');
  for (const stream of [input, decode, index]) stream.on('error', (error) => parser.destroy(error));
  input.pipe(decode).pipe(index).pipe(parser);
  let header: string[] | undefined;
  let ordinal = 0;
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) {
    const { record, info } = item;
    ordinal += 1;
    yield* skippedBefore(ordinal);
    lastLine = index.lineEndingAt(info.bytes);
    const line = lastLine - countNewlines(record);
    if (header === undefined) {
      header = record.map((c) => c.trim());
      const seen = new Set<string>();
      for (const column of header) {
        if (seen.has(column)) throw new ExportHeaderError(`The header names the column "${column}" twice`);
        seen.add(column);
      }
      options.onHeader?.(header);
      continue;
    }
    const cells: Record<string, unknown> = {};
    header.forEach((column, i) => {
      if (record[i] !== undefined) cells[column] = record[i];
    });
    yield record.length === header.length
      ? { line, bytes: info.bytes, record: cells }
      : {
          line,
          bytes: info.bytes,
          record: cells,
          problems: [
            {
              field: '(row)',
              code: 'malformed',
              message: `has ${record.length} fields, the header has ${header.length}`,
            },
          ],
        };
  }
  yield* skippedBefore(Number.POSITIVE_INFINITY);
  if (header === undefined) throw new ExportHeaderError('The file is empty: no header line');
}

/** Lines of a decoded stream (`\n` or `\r\n`); a read error ends the iteration with that error. */
async function* linesOf(input: Readable, encoding: string): AsyncGenerator<string> {
  const decode = decoder(encoding);
  input.on('error', (error) => decode.destroy(error));
  input.pipe(decode);
  let buffer = '';
  for await (const chunk of decode) {
    buffer += String(chunk);
    let end = buffer.indexOf('\n');
    while (end !== -1) {
      yield buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
    }
  }
  if (buffer.length > 0) yield buffer.replace(/\r$/, '');
}

/** The records of a JSON-lines export (one object per line; blank lines are skipped). */
export async function* readJsonLines(
  input: Readable,
  options: { encoding?: string } = {},
): AsyncGenerator<SourceRow> {
  let line = 0;
  let bytes = 0;
  for await (const text of linesOf(input, options.encoding ?? 'utf-8')) {
    line += 1;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield {
        line,
        bytes,
        raw: text,
        problems: [
          { field: '(row)', code: 'malformed', message: `not valid JSON: ${(error as Error).message}` },
        ],
      };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield {
        line,
        bytes,
        raw: text,
        problems: [{ field: '(row)', code: 'malformed', message: 'not a JSON object' }],
      };
      continue;
    }
    yield { line, bytes, record: value as Record<string, unknown> };
  }
}

/** The columns a mapping reads that a CSV header lacks; an error naming them (fail before any row). */
export function checkHeader(mapping: ImportMapping, columns: readonly string[]): void {
  const missing = Object.entries(mapping.columns).filter(([, column]) => !columns.includes(column as string));
  if (missing.length > 0) {
    throw new MappingValidationError('(against the file header)', [
      ...missing.map(([field, column]) => `columns.${field}: the file has no column "${column}"`),
      `the file's columns: ${columns.join(', ')}`,
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Importing

export interface HistoryImportContext {
  store: ComplaintStore;
  /** The aggregates, in the policy calendar's time zone (`timeZone`), as the live aggregator keeps them. */
  reporting: ReportingContext;
  policy: Policy;
  calendar: BusinessCalendar;
  now: () => Date;
  /**
   * The service's keys (the stack's KMS key): idempotency claims and tracking tokens are derived with
   * the same keys as live intake's. Not used by a dry run.
   */
  keys: ServiceKeys;
  /** The live intake's context, for `open: 'intake'` (its publisher starts the live pipeline). */
  intake?: ServiceContext;
}

/** A refused row, as written to the rejected file (one JSON object per line). */
export interface RejectedRow {
  line: number;
  externalId?: string;
  reasons: string[];
  codes: RowProblemCode[];
  /** The record as read (header → cell, or the JSON object), or the raw text when unreadable. */
  row: Record<string, unknown> | string;
}

export interface ImportProgress {
  read: number;
  /** Input bytes consumed so far (see {@link SourceRow.bytes}). */
  bytes: number;
  done: number;
  imported: number;
  skipped: number;
  submitted: number;
  rejected: number;
}

export interface ImportSummary extends ImportProgress {
  dryRun: boolean;
  /** Imported complaints by status. */
  byStatus: Record<string, number>;
  /** Rejected rows by reason code (a row with several reasons counts under each). */
  rejectedByCode: Partial<Record<RowProblemCode, number>>;
  /** Imported complaints whose category or severity the policy's classifier decided (none in the export). */
  classifiedByPolicy: number;
  /**
   * Rows that came after a later complaint of the same customer: the repeat rule only looks back, so
   * such a row cannot make the later one a repeat (sort the export by received time for exact repeats).
   */
  outOfOrder: number;
  /** First and last business day the imported complaints' events fall on (report periods touched). */
  firstDay?: string;
  lastDay?: string;
  /** Stored reports of touched periods that were regenerated (`monthly 2026-10`…). */
  reportsRegenerated: string[];
  elapsedMs: number;
  /** Set when the import stopped on an error (a re-run continues where it stopped). */
  aborted?: string;
}

export interface HistoryImportOptions {
  mapping: ImportMapping;
  /** Rows still open in the old system: refused (default) or submitted through the live intake. */
  open?: 'reject' | 'intake';
  /** Check and classify every row, write nothing. */
  dryRun?: boolean;
  /** Rows in flight at once (default 8). */
  concurrency?: number;
  onRejected?: (rejected: RejectedRow) => void | Promise<void>;
  onProgress?: (progress: ImportProgress) => void;
  /** Regenerate the stored reports of the periods the import touched (default: yes, unless a dry run). */
  regenerateReports?: boolean;
}

const DAY_MS = 86_400_000;
const MAX_NUMBER_ATTEMPTS = 5;

interface CustomerState {
  /** Latest receipt processed for this customer. */
  latest: string;
  /** This run's complaints of the customer (the index may not show them yet), within the repeat window. */
  recent: RecentComplaint[];
}

export async function importHistory(
  ctx: HistoryImportContext,
  rows: AsyncIterable<SourceRow>,
  options: HistoryImportOptions,
): Promise<ImportSummary> {
  const started = Date.now();
  const { mapping } = options;
  const { policy } = ctx;
  const open = options.open ?? 'reject';
  const dryRun = options.dryRun ?? false;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  if (open === 'intake' && ctx.intake === undefined && !dryRun) {
    throw new Error('Submitting open rows through intake needs the intake context (an event bus)');
  }
  const summary: ImportSummary = {
    dryRun,
    read: 0,
    bytes: 0,
    done: 0,
    imported: 0,
    skipped: 0,
    submitted: 0,
    rejected: 0,
    byStatus: {},
    rejectedByCode: {},
    classifiedByPolicy: 0,
    outOfOrder: 0,
    reportsRegenerated: [],
    elapsedMs: 0,
  };
  const firstLine = new Map<string, number>();
  const customers = new Map<string, CustomerState>();
  const tails = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  let fatal: Error | undefined;
  const progress = () => options.onProgress?.({ ...pick(summary) });

  const reject = async (row: SourceRow, problems: RowProblem[], externalId?: string) => {
    summary.rejected += 1;
    summary.done += 1;
    for (const code of new Set(problems.map((p) => p.code)))
      summary.rejectedByCode[code] = (summary.rejectedByCode[code] ?? 0) + 1;
    await options.onRejected?.({
      line: row.line,
      ...(externalId !== undefined ? { externalId } : {}),
      reasons: problems.map(problemText),
      codes: problems.map((p) => p.code),
      row: row.record ?? row.raw ?? '',
    });
    progress();
  };
  // The first day with data, lowered before any fact of an earlier day is written (so a run that stops
  // in between leaves it right); once per new minimum, not once per row.
  let notedFirstDay: string | undefined;
  const noteFirstDay = async (day: string) => {
    if (notedFirstDay !== undefined && notedFirstDay <= day) return;
    await ctx.reporting.store.noteFirstDay(day);
    if (notedFirstDay === undefined || day < notedFirstDay) notedFirstDay = day;
  };
  const touch = (events: readonly LifecycleEvent[]) => {
    for (const e of events) {
      const day = dayOf(new Date(e.detail.metadata.occurredAt).toISOString(), ctx.reporting.timeZone);
      if (summary.firstDay === undefined || day < summary.firstDay) summary.firstDay = day;
      if (summary.lastDay === undefined || day > summary.lastDay) summary.lastDay = day;
    }
  };

  const importFinished = async (row: HistoricalRow, line: number) => {
    const customer = customers.get(row.customerId);
    const windowStart = new Date(
      Date.parse(row.receivedAt) - policy.repeat.windowDays * DAY_MS,
    ).toISOString();
    const stored = dryRun ? [] : await ctx.store.recentByCustomer(row.customerId, windowStart, 'verified');
    const recent = mergeRecent(stored, customer?.recent ?? []);
    let complaint: Complaint | undefined;
    let events: LifecycleEvent[] = [];
    let outcome: 'imported' | 'skipped' = 'imported';
    let classifiedByPolicy = false;
    for (let attempt = 1; complaint === undefined; attempt++) {
      if (attempt > MAX_NUMBER_ATTEMPTS)
        throw new Error(`Could not claim a unique complaint number for ${row.externalId}`);
      const received = new Date(row.receivedAt);
      const id = newComplaintId(received);
      // The token is derived from the id, never stored: only its hash is (a dry run derives none).
      const trackingTokenHash = dryRun ? '' : (await trackingTokenOf(ctx.keys, id)).hash;
      const built = historicalComplaint(policy, ctx.calendar, row, {
        id,
        number: newComplaintNumber(received, policy.calendar.timeZone),
        trackingTokenHash,
        system: mapping.system,
        importedAt: ctx.now(),
        line,
        recent,
      });
      if (dryRun) {
        complaint = built.complaint;
        classifiedByPolicy = built.classifiedByPolicy;
        break;
      }
      const claim = await idempotencyClaim(
        ctx.keys,
        importScope(mapping.system, row.externalId),
        rowSubmission(row),
      );
      const result = await ctx.store.create({
        complaint: built.complaint,
        idempotencyKey: claim.key,
        requestFingerprint: claim.fingerprint,
        trackingTokenHash,
        timeline: built.timeline,
        idempotencyExpires: false,
      });
      if (result.outcome === 'created') {
        complaint = built.complaint;
        classifiedByPolicy = built.classifiedByPolicy;
        events = historicalEvents(complaint, row.closedAt);
      } else if (result.outcome === 'duplicate') {
        outcome = 'skipped';
        complaint = await ctx.store.get(result.complaintId);
        if (complaint === undefined)
          throw new Error(`Idempotency record points at missing complaint ${result.complaintId}`);
        // Feed its events again (a run may have stopped between the complaint and its facts): the
        // merge is idempotent. A complaint that entered through intake is reported by the live pipeline.
        const timeline = await ctx.store.timeline(complaint.id);
        if (timeline.some(isImportedEntry)) {
          const closed = timeline.find((e) => e.type === 'closed' && e.actor === IMPORT_ACTOR);
          events = historicalEvents(complaint, closed?.at);
        }
      }
    }
    await recordComplaintEvents(ctx.reporting, events, noteFirstDay);
    touch(events);
    // Remember it for the repeat rule of this customer's next rows (pruned to the window).
    const kept = complaint;
    const state = customers.get(row.customerId) ?? { latest: row.receivedAt, recent: [] };
    state.recent = [
      ...state.recent.filter((r) => r.receivedAt >= windowStart && r.id !== kept.id),
      {
        id: kept.id,
        number: kept.number,
        category: kept.classification?.category,
        phase: phaseOf(kept.status),
        receivedAt: kept.receivedAt,
        fingerprint: kept.fingerprint,
      },
    ];
    customers.set(row.customerId, state);
    if (outcome === 'imported') {
      summary.imported += 1;
      summary.byStatus[complaint.status] = (summary.byStatus[complaint.status] ?? 0) + 1;
      if (classifiedByPolicy) summary.classifiedByPolicy += 1;
    } else {
      summary.skipped += 1;
    }
  };

  const submitOpen = async (row: HistoricalRow) => {
    if (dryRun || ctx.intake === undefined) {
      summary.submitted += 1;
      return;
    }
    // Imported as finished by an earlier run (and open again in the old system): never submit it, or
    // intake's replay would acknowledge the customer of a closed complaint.
    const scope = importScope(mapping.system, row.externalId);
    const existing = await ctx.store.idempotencyTarget(await idempotencyKeyOf(ctx.keys, scope));
    if (existing !== undefined && (await isImportedHistory(ctx.store, existing))) {
      summary.skipped += 1;
      return;
    }
    const source = importSource(mapping.system, row.externalId);
    const result = await receiveComplaint(ctx.intake, {
      submission: rowSubmission(row),
      sourceSystem: source.system,
      messageId: source.messageId,
      submitter: { kind: 'import', system: mapping.system },
      idempotency: scope,
    }).catch((error: unknown) => {
      // Submitted by an earlier run and edited in the old system since: the live complaint stands
      // (as a finished row imported before is never rewritten).
      if (error instanceof IdempotencyKeyReusedError) return undefined;
      throw error;
    });
    if (result === undefined || result.replayed) summary.skipped += 1;
    else summary.submitted += 1;
  };

  /** Runs `task` after the same customer's earlier rows (file order), within the concurrency bound. */
  const schedule = (customerId: string, task: () => Promise<void>) => {
    const previous = tails.get(customerId) ?? Promise.resolve();
    const run = previous.then(() => (fatal === undefined ? task() : undefined));
    const tail = run.catch(() => undefined);
    tails.set(customerId, tail);
    const tracked: Promise<void> = run
      .catch((error: unknown) => {
        fatal ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        running.delete(tracked);
        if (tails.get(customerId) === tail) tails.delete(customerId);
        summary.done += 1;
        progress();
      });
    running.add(tracked);
  };

  try {
    for await (const source of rows) {
      if (fatal !== undefined) break;
      summary.read += 1;
      if (source.bytes !== undefined) summary.bytes = source.bytes;
      const record = source.record;
      const rawId =
        record !== undefined && mapping.columns.externalId !== undefined
          ? readCell(record, mapping.columns.externalId)
          : undefined;
      const externalId =
        typeof rawId === 'string' && rawId.trim().length > 0
          ? rawId.trim()
          : typeof rawId === 'number'
            ? String(rawId)
            : undefined;
      const problems: RowProblem[] = [...(source.problems ?? [])];
      if (externalId !== undefined) {
        const first = firstLine.get(externalId);
        if (first !== undefined) {
          problems.unshift({
            field: 'externalId',
            code: 'duplicate_id',
            message: `"${externalId}" already appeared on line ${first} (only the first line with an id is considered: if that one was refused, fix it there)`,
          });
        } else {
          firstLine.set(externalId, source.line);
        }
      }
      if (record === undefined || problems.length > 0) {
        const mapped = record === undefined ? undefined : mapRow(policy, mapping, record, ctx.now());
        await reject(source, [...problems, ...(mapped?.ok === false ? mapped.problems : [])], externalId);
        continue;
      }
      const mapped = mapRow(policy, mapping, record, ctx.now());
      if (!mapped.ok) {
        await reject(source, mapped.problems, externalId);
        continue;
      }
      const row = mapped.row;
      if (isOpenRow(row)) {
        if (open === 'reject') {
          await reject(
            source,
            [
              {
                field: 'status',
                code: 'still_open',
                message: `still open in ${mapping.system} ("${row.status}"): submit it through intake (--open=intake) or import it once it is finished there`,
              },
            ],
            externalId,
          );
          continue;
        }
        schedule(row.customerId, () => submitOpen(row));
      } else {
        const state = customers.get(row.customerId);
        if (state !== undefined && row.receivedAt < state.latest) summary.outOfOrder += 1;
        else if (state !== undefined) state.latest = row.receivedAt;
        else customers.set(row.customerId, { latest: row.receivedAt, recent: [] });
        schedule(row.customerId, () => importFinished(row, source.line));
      }
      while (running.size >= concurrency) await Promise.race(running);
    }
  } catch (error) {
    fatal ??= error instanceof Error ? error : new Error(String(error));
    if (error instanceof MappingValidationError || error instanceof ExportHeaderError) {
      await Promise.allSettled(running);
      throw error;
    }
  }
  while (running.size > 0) await Promise.allSettled([...running]);
  if (fatal !== undefined) {
    summary.aborted = fatal.message;
  } else if (!dryRun && (options.regenerateReports ?? true) && summary.firstDay && summary.lastDay) {
    summary.reportsRegenerated = await regenerateStoredReports(
      ctx.reporting,
      summary.firstDay,
      summary.lastDay,
    );
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/**
 * Folds all of one complaint's events into its report facts and writes them with the contribution
 * delta in one conditional transaction: what {@link recordLifecycleEvent} does event by event, in one
 * read and one write instead of one each per event. The result is the same — the merge is idempotent
 * and order-free, and the aggregates are a pure function of the facts — which the integration test
 * checks against `recordLifecycleEvent` itself.
 */
export async function recordComplaintEvents(
  ctx: ReportingContext,
  events: readonly LifecycleEvent[],
  noteFirstDay: (day: string) => Promise<void> = (day) => ctx.store.noteFirstDay(day),
): Promise<'changed' | 'unchanged'> {
  const first = events[0];
  if (first === undefined) return 'unchanged';
  const id = first.detail.data.complaintId;
  if (events.some((e) => e.detail.data.complaintId !== id)) throw new Error('Events of several complaints');
  const options = { timeZone: ctx.timeZone, shards: ctx.shards ?? DEFAULT_AGGREGATE_SHARDS };
  return retryOnConflict(async () => {
    const stored = await ctx.store.getFacts(id);
    const before = stored?.facts ?? emptyFacts(id);
    const after = events.reduce(mergeEvent, before);
    if (sameFacts(before, after)) return 'unchanged' as const;
    if (after.received !== undefined) await noteFirstDay(dayOf(after.received.at, ctx.timeZone));
    await ctx.store.saveFacts(
      after,
      stored?.version ?? 0,
      diffContributions(contributions(before, options), contributions(after, options)),
    );
    return 'changed' as const;
  }, FACTS_CONFLICT_ATTEMPTS);
}

function pick(s: ImportSummary): ImportProgress {
  return {
    read: s.read,
    bytes: s.bytes,
    done: s.done,
    imported: s.imported,
    skipped: s.skipped,
    submitted: s.submitted,
    rejected: s.rejected,
  };
}

const isImportedEntry = (e: TimelineEntry) => e.type === IMPORTED_ENTRY && e.actor === IMPORT_ACTOR;

/** Whether a complaint was written by the history import (not submitted through intake). */
async function isImportedHistory(store: ComplaintStore, complaintId: string): Promise<boolean> {
  return (await store.timeline(complaintId)).some(isImportedEntry);
}

function mergeRecent(a: readonly RecentComplaint[], b: readonly RecentComplaint[]): RecentComplaint[] {
  const byId = new Map<string, RecentComplaint>();
  for (const r of [...a, ...b]) byId.set(r.id, r);
  return [...byId.values()];
}

// ---------------------------------------------------------------------------------------------------
// Reports of the imported periods

function periodOf(kind: PeriodKind, day: string, timeZone: string): Period {
  const d = DateTime.fromISO(day, { zone: timeZone });
  const id =
    kind === 'daily'
      ? day
      : kind === 'weekly'
        ? `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`
        : day.slice(0, 7);
  return parsePeriod(kind, id, timeZone);
}

const nextDay = (day: string) =>
  DateTime.fromISO(day, { zone: 'utc' }).plus({ days: 1 }).toISODate() as string;

/**
 * Regenerates the stored reports of every period from `firstDay` to `lastDay` and of the period after
 * each (its report compares with the one before): a report generated before the import would
 * otherwise be served as stored. Periods without a stored report are generated on first request
 * (`getReport`), from the aggregates that now include the import. Returns `<kind> <id>` of each.
 */
export async function regenerateStoredReports(
  ctx: ReportingContext,
  firstDay: string,
  lastDay: string,
  concurrency = 8,
): Promise<string[]> {
  const now = ctx.now().getTime();
  const candidates: Period[] = [];
  for (const kind of PERIOD_KINDS) {
    const last = periodOf(kind, lastDay, ctx.timeZone);
    const stop = periodOf(kind, nextDay(last.lastDay), ctx.timeZone);
    for (
      let p = periodOf(kind, firstDay, ctx.timeZone);
      p.firstDay <= stop.firstDay;
      p = periodOf(kind, nextDay(p.lastDay), ctx.timeZone)
    ) {
      if (Date.parse(p.end) <= now) candidates.push(p);
    }
  }
  const regenerated: string[] = [];
  for (let i = 0; i < candidates.length; i += concurrency) {
    await Promise.all(
      candidates.slice(i, i + concurrency).map(async (p) => {
        if ((await ctx.store.getReport(p.kind, p.id)) === undefined) return;
        await generateReport(ctx, p.kind, p.id);
        regenerated.push(`${p.kind} ${p.id}`);
      }),
    );
  }
  return regenerated;
}
