import { DateTime } from 'luxon';
import * as z from 'zod';
import type { Policy } from '../policy/schema';
import {
  CHANNELS,
  type Channel,
  LANGUAGES,
  type Language,
  SEVERITIES,
  type Severity,
} from '../policy/vocabulary';
import type { BusinessCalendar } from './business-calendar';
import {
  classify,
  complaintFingerprint,
  complaintText,
  detectLanguage,
  priorityOf,
  type RecentComplaint,
  type RejectionVerdict,
  repeatsOf,
} from './classification';
import {
  type Classification,
  type ClockLogEntry,
  type ClockName,
  type Complaint,
  ComplaintSchema,
  type ComplaintSubmission,
  ComplaintSubmissionSchema,
  type Deadline,
  ValidityVerdictSchema,
} from './complaint';
import type { IdempotencyScope } from './idempotency';
import { COMPLAINT_STATUSES, type ComplaintStatus, isOpen } from './lifecycle';
import type { LifecycleEvent } from './reporting/facts';
import { routeToDepartments } from './routing';
import { computeDeadlines } from './sla';
import { isIanaTimeZone } from './time-zone';

/**
 * History import, the pure part: the column mapping (validated against the policy), one exported row
 * mapped and checked into a {@link HistoricalRow} (or the list of reasons it is refused), the
 * complaint record a finished row becomes, and the lifecycle events that feed the report aggregates.
 *
 * A finished row (resolved, closed or rejected in the old system) becomes a complaint with its original
 * times, status, classification and department, decided by the same domain rules as live intake
 * (classification when the export has no category or severity, routing when it has no department,
 * the SLA matrix to judge each clock after the fact) — but with no timers, no running clock and
 * nothing for the customer. A row still open in the old system is not history: the service either
 * refuses it or submits it through intake (see `shared/services/history-import.ts`).
 */

// ---------------------------------------------------------------------------------------------------
// The mapping file

/** Fields of a row the mapping can name a column for. */
export const IMPORT_FIELDS = [
  'externalId',
  'receivedAt',
  'channel',
  'description',
  'customerId',
  'title',
  'category',
  'severity',
  'status',
  'verdict',
  'acknowledgedAt',
  'firstResponseAt',
  'resolvedAt',
  'closedAt',
  'surveyAt',
  'department',
  'assignee',
  'satisfaction',
  'language',
  'tier',
  'rootCause',
  'solution',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** Fields every row needs (from its column, or for `channel` from `defaults`). */
export const REQUIRED_FIELDS: readonly ImportField[] = [
  'externalId',
  'receivedAt',
  'channel',
  'description',
  'customerId',
];

const TIME_FIELDS = [
  'receivedAt',
  'acknowledgedAt',
  'firstResponseAt',
  'resolvedAt',
  'closedAt',
  'surveyAt',
] as const satisfies readonly ImportField[];
type TimeField = (typeof TIME_FIELDS)[number];

/** Fields whose values come from a closed list (and may be translated with `values` or set by `defaults`). */
const ENUMERATED_FIELDS = [
  'channel',
  'status',
  'category',
  'severity',
  'verdict',
  'department',
  'tier',
  'language',
  'satisfaction',
] as const satisfies readonly ImportField[];
type EnumeratedField = (typeof ENUMERATED_FIELDS)[number];

/** The verdicts of a rejected complaint: every validity verdict but `valid`. */
export const REJECTION_VERDICTS: readonly RejectionVerdict[] = ValidityVerdictSchema.exclude([
  'valid',
]).options;

/** Statuses a finished row may have; any other status of this system is an open one. */
export const FINISHED_STATUSES = [
  'resolved',
  'closed',
  'rejected',
] as const satisfies readonly ComplaintStatus[];

export const TIME_FORMATS = ['iso', 'epoch-seconds', 'epoch-millis'] as const;

/** Values a policy allows for each enumerated field. */
function allowedValues(policy: Policy): Record<EnumeratedField, readonly string[]> {
  return {
    channel: CHANNELS,
    status: COMPLAINT_STATUSES,
    category: policy.categories.map((c) => c.id),
    severity: SEVERITIES,
    verdict: REJECTION_VERDICTS,
    department: policy.routing.departments.map((d) => d.id),
    tier: policy.tiers.map((t) => t.id),
    language: LANGUAGES,
    satisfaction: ['1', '2', '3', '4', '5'],
  };
}

const isImportField = (f: string): f is ImportField => (IMPORT_FIELDS as readonly string[]).includes(f);
const isEnumerated = (f: string): f is EnumeratedField =>
  (ENUMERATED_FIELDS as readonly string[]).includes(f);

function isEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

const MappingDocumentSchema = z
  .object({
    /** Name of the old system: part of every idempotency key, so it must stay the same across re-runs. */
    system: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'must be 1–40 letters, digits, dots, dashes or underscores')
      .default('legacy'),
    /** `csv` or `jsonl`; by default from the file name (`.csv`/`.tsv`, `.jsonl`/`.ndjson`). */
    format: z.enum(['csv', 'jsonl']).optional(),
    /** Text encoding of the export (any WHATWG label: utf-8, gb18030, gbk, utf-16le…). */
    encoding: z.string().refine(isEncoding, 'is not a text encoding this Node.js knows').default('utf-8'),
    csv: z
      .object({ delimiter: z.string().min(1).max(4).default(',') })
      .strict()
      .default({ delimiter: ',' }),
    /** IANA zone of times written without an offset; default: the policy calendar's. */
    timeZone: z.string().refine(isIanaTimeZone, 'must be an IANA time zone such as Asia/Shanghai').optional(),
    /** `iso` (default: ISO 8601, `yyyy-MM-dd HH:mm[:ss]`, `yyyy/M/d H:mm[:ss]`, `yyyy年M月d日 H:mm`), `epoch-seconds`, `epoch-millis`, or a Luxon format such as `dd.MM.yyyy HH:mm`. */
    timeFormat: z.string().min(1).default('iso'),
    /** Field → column name (CSV header) or key (JSON lines; `a.b` reads a nested key). */
    columns: z.record(z.string(), z.string().min(1)),
    /** Field → { exported value → value of this system }; matched trimmed and case-insensitively. */
    values: z.record(z.string(), z.record(z.string(), z.string())).default({}),
    /** Field → value of this system used when the row has none (enumerated fields only). */
    defaults: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type ImportMapping = z.output<typeof MappingDocumentSchema> & {
  /** The zone for times without an offset (the mapping's, else the policy calendar's). */
  timeZone: string;
  columns: Partial<Record<ImportField, string>>;
  /** Normalised keys (see {@link valueKey}). */
  values: Partial<Record<ImportField, Record<string, string>>>;
  defaults: Partial<Record<ImportField, string>>;
};

export class MappingValidationError extends Error {
  override name = 'MappingValidationError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid import mapping ${source}:\n  - ${problems.join('\n  - ')}`);
  }
}

/** How exported values are compared with the keys of a value map: NFKC, trimmed, lower case. */
export const valueKey = (s: string): string => s.normalize('NFKC').trim().toLowerCase();

/**
 * Validates a mapping document against the policy and returns it normalised. Every problem is listed
 * with its path (unknown fields, a required field without a column, a value map or default naming a
 * channel, status, category, department… this system does not have, a bad time zone).
 */
export function parseMapping(document: unknown, policy: Policy, source = '(inline)'): ImportMapping {
  const parsed = MappingDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new MappingValidationError(
      source,
      parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  const doc = parsed.data;
  const problems: string[] = [];
  const allowed = allowedValues(policy);
  const fieldList = IMPORT_FIELDS.join(', ');
  for (const section of ['columns', 'values', 'defaults'] as const) {
    for (const field of Object.keys(doc[section])) {
      if (!isImportField(field)) problems.push(`${section}.${field}: unknown field (fields: ${fieldList})`);
    }
  }
  for (const field of REQUIRED_FIELDS) {
    if (doc.columns[field] === undefined && doc.defaults[field] === undefined) {
      problems.push(`columns.${field}: required (the column of the export that holds it)`);
    }
  }
  const values: Partial<Record<ImportField, Record<string, string>>> = {};
  for (const [field, map] of Object.entries(doc.values)) {
    if (!isImportField(field)) continue;
    const normalised: Record<string, string> = {};
    for (const [from, to] of Object.entries(map)) {
      const key = valueKey(from);
      if (normalised[key] !== undefined && normalised[key] !== to) {
        problems.push(
          `values.${field}: "${from}" is mapped twice (keys are compared trimmed, ignoring case)`,
        );
      }
      if (isEnumerated(field) && !allowed[field].includes(to)) {
        problems.push(`values.${field}.${from}: "${to}" is not a ${field} (${allowed[field].join(', ')})`);
      }
      normalised[key] = to;
    }
    values[field] = normalised;
  }
  for (const [field, value] of Object.entries(doc.defaults)) {
    if (!isImportField(field)) continue;
    if (!isEnumerated(field)) {
      problems.push(`defaults.${field}: only ${ENUMERATED_FIELDS.join(', ')} can have a default`);
    } else if (!allowed[field].includes(value)) {
      problems.push(`defaults.${field}: "${value}" is not a ${field} (${allowed[field].join(', ')})`);
    }
  }
  if (
    !(TIME_FORMATS as readonly string[]).includes(doc.timeFormat) &&
    !DateTime.fromFormat(DateTime.utc(2026, 1, 2, 3, 4, 5).toFormat(doc.timeFormat), doc.timeFormat).isValid
  ) {
    problems.push(
      `timeFormat: "${doc.timeFormat}" is not iso, epoch-seconds, epoch-millis or a Luxon format`,
    );
  }
  if (problems.length > 0) throw new MappingValidationError(source, problems);
  return {
    ...doc,
    timeZone: doc.timeZone ?? policy.calendar.timeZone,
    columns: doc.columns as Partial<Record<ImportField, string>>,
    values,
    defaults: doc.defaults as Partial<Record<ImportField, string>>,
  };
}

// ---------------------------------------------------------------------------------------------------
// Times

const EXTRA_FORMATS = [
  'yyyy/M/d H:mm:ss',
  'yyyy/M/d H:mm',
  'yyyy/M/d',
  'yyyy-M-d H:mm:ss',
  'yyyy-M-d H:mm',
  "yyyy'年'M'月'd'日' H:mm:ss",
  "yyyy'年'M'月'd'日' H:mm",
  "yyyy'年'M'月'd'日'",
];

/**
 * An exported time as an instant (ISO 8601 in UTC, with milliseconds), or undefined when it cannot be
 * read. A time with an offset (`…+08:00`, `…Z`) keeps it; one without is read in `zone`.
 */
export function parseTime(raw: string, zone: string, format = 'iso'): string | undefined {
  const value = raw.trim();
  let dt: DateTime | undefined;
  if (format === 'epoch-seconds' || format === 'epoch-millis') {
    if (!/^\d+(\.\d+)?$/.test(value)) return undefined;
    const n = Number(value);
    dt = format === 'epoch-seconds' ? DateTime.fromSeconds(n, { zone: 'utc' }) : DateTime.fromMillis(n);
  } else if (format !== 'iso') {
    dt = DateTime.fromFormat(value, format, { zone, setZone: true });
  } else {
    const options = { zone, setZone: true };
    dt = DateTime.fromISO(value, options);
    if (!dt.isValid) dt = DateTime.fromSQL(value, options);
    for (const f of EXTRA_FORMATS) {
      if (dt.isValid) break;
      dt = DateTime.fromFormat(value, f, options);
    }
  }
  return dt.isValid ? (dt.toUTC().toISO() as string) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Rows

/** Why a row is refused: the field, a stable code (summary counts) and a message for people. */
export interface RowProblem {
  field: string;
  code: RowProblemCode;
  message: string;
}

export type RowProblemCode =
  | 'missing'
  | 'bad_time'
  | 'future_time'
  | 'time_order'
  | 'unknown_value'
  | 'out_of_range'
  | 'not_text'
  | 'too_long'
  | 'inconsistent'
  | 'still_open'
  | 'duplicate_id'
  | 'malformed';

export const problemText = (p: RowProblem): string => `${p.field}: ${p.message}`;

/** A row that passed every check, in this system's vocabulary. Times are ISO instants in UTC. */
export interface HistoricalRow {
  externalId: string;
  receivedAt: string;
  channel: Channel;
  description: string;
  title?: string;
  customerId: string;
  tier: string;
  language?: Language;
  category?: string;
  severity?: Severity;
  status: ComplaintStatus;
  verdict?: RejectionVerdict;
  acknowledgedAt?: string;
  firstResponseAt?: string;
  resolvedAt?: string;
  closedAt?: string;
  surveyAt?: string;
  department?: string;
  assignee?: string;
  satisfaction?: number;
  rootCause?: string;
  solution?: string;
  /** What the mapping filled in (e.g. the resolution time of a closed row without one). */
  notes: string[];
}

export type RowResult = { ok: true; row: HistoricalRow } | { ok: false; problems: RowProblem[] };

const LIMITS: Partial<Record<ImportField, number>> = {
  externalId: 200,
  description: 10_000,
  title: 200,
  customerId: 128,
  assignee: 128,
  rootCause: 2_000,
  solution: 2_000,
};

/** A cell of a record: its key, else a dotted path into nested objects (JSON lines). */
export function readCell(record: Record<string, unknown>, column: string): unknown {
  if (Object.hasOwn(record, column)) return record[column];
  if (!column.includes('.')) return undefined;
  let current: unknown = record;
  for (const part of column.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const MAX_SKEW_MS = 5 * 60_000;
const EARLIEST = '1990-01-01T00:00:00.000Z';

/**
 * Maps one exported record (CSV row as header → cell, or a JSON object) and checks it. Every problem of
 * the row is reported, not just the first, so one pass over the rejected file fixes them all.
 */
export function mapRow(
  policy: Policy,
  mapping: ImportMapping,
  record: Record<string, unknown>,
  now: Date,
): RowResult {
  const problems: RowProblem[] = [];
  const notes: string[] = [];
  const allowed = allowedValues(policy);
  const problem = (field: string, code: RowProblemCode, message: string) =>
    problems.push({ field, code, message });

  /** The cell's text (trimmed; empty is absent), translated by the value map, else the default. */
  const text = (field: ImportField): string | undefined => {
    const column = mapping.columns[field];
    let value: string | undefined;
    if (column !== undefined) {
      const cell = readCell(record, column);
      if (typeof cell === 'string') value = cell.trim();
      else if (typeof cell === 'number' || typeof cell === 'boolean') value = String(cell);
      else if (cell !== null && cell !== undefined) {
        problem(
          field,
          'not_text',
          `column "${column}" holds ${Array.isArray(cell) ? 'a list' : 'an object'}, not a value`,
        );
        return undefined;
      }
    }
    if (value !== undefined && value.length > 0) {
      const translated = mapping.values[field]?.[valueKey(value)];
      value = translated ?? value;
    } else {
      value = undefined;
    }
    value ??= mapping.defaults[field];
    const limit = LIMITS[field];
    if (value !== undefined && limit !== undefined && value.length > limit) {
      problem(
        field,
        'too_long',
        `longer than ${limit.toLocaleString('en-US')} characters (${value.length.toLocaleString('en-US')})`,
      );
      return undefined;
    }
    return value;
  };
  const required = (field: ImportField): string | undefined => {
    const value = text(field);
    if (value === undefined && !problems.some((p) => p.field === field)) {
      problem(field, 'missing', `missing (column "${mapping.columns[field] ?? '—'}" is empty)`);
    }
    return value;
  };
  const enumerated = <T extends string>(field: EnumeratedField, value: string | undefined): T | undefined => {
    if (value === undefined) return undefined;
    if (allowed[field].includes(value)) return value as T;
    problem(
      field,
      'unknown_value',
      `unknown ${field} "${value}" (map it in the mapping's values.${field}; allowed: ${allowed[field].join(', ')})`,
    );
    return undefined;
  };
  const nowIso = new Date(now.getTime() + MAX_SKEW_MS).toISOString();
  const time = (field: TimeField): string | undefined => {
    const raw = text(field);
    if (raw === undefined) return undefined;
    const iso = parseTime(raw, mapping.timeZone, mapping.timeFormat);
    if (iso === undefined) {
      const expected =
        mapping.timeFormat === 'iso' ? 'ISO 8601 or yyyy-MM-dd HH:mm:ss' : `the format ${mapping.timeFormat}`;
      problem(field, 'bad_time', `not a valid time: "${raw}" (expected ${expected})`);
      return undefined;
    }
    if (iso > nowIso) {
      problem(field, 'future_time', `${raw} is in the future`);
      return undefined;
    }
    if (iso < EARLIEST) {
      problem(field, 'bad_time', `${raw} is before 1990: not a plausible time`);
      return undefined;
    }
    return iso;
  };

  const externalId = required('externalId');
  const receivedAt = (() => {
    const value = time('receivedAt');
    if (value === undefined && !problems.some((p) => p.field === 'receivedAt')) {
      problem('receivedAt', 'missing', `missing (column "${mapping.columns.receivedAt ?? '—'}" is empty)`);
    }
    return value;
  })();
  const channel = enumerated<Channel>('channel', required('channel'));
  const description = required('description');
  const customerId = required('customerId');
  const title = text('title');
  const category = enumerated<string>('category', text('category'));
  const severity = enumerated<Severity>('severity', text('severity'));
  const department = enumerated<string>('department', text('department'));
  const tier = enumerated<string>('tier', text('tier')) ?? policy.defaultTier;
  const language = enumerated<Language>('language', text('language'));
  const verdict = enumerated<RejectionVerdict>('verdict', text('verdict'));
  const assignee = text('assignee');
  const rootCause = text('rootCause');
  const solution = text('solution');
  const times: Partial<Record<TimeField, string>> = {};
  for (const field of TIME_FIELDS) {
    if (field === 'receivedAt') continue;
    const value = time(field);
    if (value !== undefined) times[field] = value;
  }
  let satisfaction: number | undefined;
  const score = text('satisfaction');
  if (score !== undefined) {
    const n = Number(score);
    if (!/^-?\d+(\.\d+)?$/.test(score) || !Number.isFinite(n)) {
      problem('satisfaction', 'out_of_range', `"${score}" is not a score (a whole number 1–5)`);
    } else if (!Number.isInteger(n) || n < 1 || n > 5) {
      problem('satisfaction', 'out_of_range', `${score} is out of range (a whole number 1–5)`);
    } else {
      satisfaction = n;
    }
  }

  // Times in order: nothing before the receipt, closing not before resolving.
  const shown = (iso: string) =>
    DateTime.fromISO(iso, { zone: 'utc' }).setZone(mapping.timeZone).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
  if (receivedAt !== undefined) {
    for (const field of [
      'acknowledgedAt',
      'firstResponseAt',
      'resolvedAt',
      'closedAt',
      'surveyAt',
    ] as const) {
      const value = times[field];
      if (value !== undefined && value < receivedAt) {
        problem(field, 'time_order', `${shown(value)} is before receivedAt ${shown(receivedAt)}`);
        delete times[field];
      }
    }
  }
  if (times.resolvedAt !== undefined && times.closedAt !== undefined && times.closedAt < times.resolvedAt) {
    problem(
      'closedAt',
      'time_order',
      `${shown(times.closedAt)} is before resolvedAt ${shown(times.resolvedAt)}`,
    );
  }

  // Status: the mapped column, else what the times say.
  const statusText = text('status');
  let status = enumerated<ComplaintStatus>('status', statusText);
  if (statusText === undefined) {
    status =
      times.closedAt !== undefined ? 'closed' : times.resolvedAt !== undefined ? 'resolved' : 'received';
  }
  if (status !== undefined) {
    if (status === 'closed') {
      if (times.closedAt === undefined && times.resolvedAt !== undefined) {
        times.closedAt = times.resolvedAt;
        notes.push('closedAt taken from resolvedAt');
      } else if (times.resolvedAt === undefined && times.closedAt !== undefined) {
        times.resolvedAt = times.closedAt;
        notes.push('resolvedAt taken from closedAt');
      } else if (
        times.closedAt === undefined &&
        !problems.some((p) => p.field === 'closedAt' || p.field === 'resolvedAt')
      ) {
        problem('closedAt', 'missing', 'a closed complaint needs closedAt or resolvedAt');
      }
    } else if (status === 'resolved') {
      if (times.resolvedAt === undefined && !problems.some((p) => p.field === 'resolvedAt')) {
        problem('resolvedAt', 'missing', 'a resolved complaint needs resolvedAt');
      }
      if (times.closedAt !== undefined) {
        problem('closedAt', 'inconsistent', 'given, but the status is resolved (map the status to closed?)');
      }
    } else if (status === 'rejected') {
      if (times.resolvedAt !== undefined)
        problem('resolvedAt', 'inconsistent', 'given, but the status is rejected');
      if (satisfaction !== undefined)
        problem('satisfaction', 'inconsistent', 'given, but the status is rejected');
    } else if (isOpen(status)) {
      if (times.resolvedAt !== undefined || times.closedAt !== undefined) {
        problem('status', 'inconsistent', `${status} is open, but the row has a resolution or closing time`);
      }
    }
  }
  if (
    satisfaction !== undefined &&
    times.resolvedAt === undefined &&
    status !== 'rejected' &&
    !isOpen(status ?? 'received')
  ) {
    problem('satisfaction', 'inconsistent', 'a survey answer needs a resolution');
  }
  if (times.surveyAt !== undefined && satisfaction === undefined) {
    problem('surveyAt', 'inconsistent', 'given without a satisfaction score');
  }
  if (times.surveyAt !== undefined && times.resolvedAt !== undefined && times.surveyAt < times.resolvedAt) {
    problem(
      'surveyAt',
      'time_order',
      `${shown(times.surveyAt)} is before resolvedAt ${shown(times.resolvedAt)}`,
    );
  }

  if (problems.length > 0 || status === undefined) return { ok: false, problems };
  const row: HistoricalRow = {
    externalId: externalId as string,
    receivedAt: receivedAt as string,
    channel: channel as Channel,
    description: description as string,
    customerId: customerId as string,
    tier,
    status,
    notes,
    ...(title !== undefined ? { title } : {}),
    ...(language !== undefined ? { language } : {}),
    ...(category !== undefined ? { category } : {}),
    ...(severity !== undefined ? { severity } : {}),
    ...(verdict !== undefined && status === 'rejected' ? { verdict } : {}),
    ...times,
    ...(department !== undefined ? { department } : {}),
    ...(assignee !== undefined ? { assignee } : {}),
    ...(satisfaction !== undefined ? { satisfaction } : {}),
    ...(rootCause !== undefined ? { rootCause } : {}),
    ...(solution !== undefined ? { solution } : {}),
  };
  return { ok: true, row };
}

/** Whether a checked row is still open in the old system (not history yet). */
export const isOpenRow = (row: HistoricalRow): boolean => isOpen(row.status);

// ---------------------------------------------------------------------------------------------------
// The complaint record of a finished row

/** What the submission looks like: the same shape as a live channel's (HTTP body or inbound event). */
export function rowSubmission(row: HistoricalRow): ComplaintSubmission {
  return ComplaintSubmissionSchema.parse({
    channel: row.channel,
    customer: { id: row.customerId, tier: row.tier, ...(row.language ? { language: row.language } : {}) },
    ...(row.title !== undefined ? { title: row.title } : {}),
    description: row.description,
    // The complaint happened when the old system received it (an open row submitted through intake keeps it here).
    occurredAt: row.receivedAt,
  });
}

export interface HistoricalComplaintInput {
  id: string;
  number: string;
  trackingTokenHash: string;
  /** The mapping's `system`. */
  system: string;
  /** When the import writes it (the record's `updatedAt` and the `imported` timeline entry). */
  importedAt: Date;
  /** Line of the export, for the timeline. */
  line?: number;
  /** The customer's complaints already stored (repeat detection, as classification reads them). */
  recent?: readonly RecentComplaint[];
}

export interface HistoricalComplaint {
  complaint: Complaint;
  timeline: Array<{
    at: string;
    type: string;
    actor: string;
    summary: string;
    data?: Record<string, unknown>;
  }>;
  /** The category or severity came from the policy's classifier (the export had none). */
  classifiedByPolicy: boolean;
}

export const IMPORT_ACTOR = 'system:import';
/** Timeline type of the entry that marks a record written by the history import. */
export const IMPORTED_ENTRY = 'imported';

/** Source of an imported complaint: system `import`, message id `<system>#<externalId>`. */
export function importSource(system: string, externalId: string): { system: string; messageId: string } {
  return { system: 'import', messageId: `${system}#${externalId}` };
}

/**
 * The idempotency scope of an imported complaint: the import's own (apart from HTTP callers and event
 * sources), one claim per (system, external id), whether the row is imported as finished or submitted
 * through intake; its claims never expire.
 */
export const importScope = (system: string, externalId: string): IdempotencyScope => ({
  kind: 'import',
  system,
  externalId,
});

/**
 * The complaint record of a finished row: original times, status, classification and department, the
 * clocks judged after the fact against the policy's SLA matrix (met, met late after a breach at the
 * deadline, or stopped when the export does not say when the step happened), no timers and no running
 * clock — so it is in no deadline index and nothing is ever scheduled or sent for it.
 */
export function historicalComplaint(
  policy: Policy,
  calendar: BusinessCalendar,
  row: HistoricalRow,
  input: HistoricalComplaintInput,
): HistoricalComplaint {
  if (isOpen(row.status)) throw new Error(`Row ${row.externalId} is still open: it is not history`);
  const submission = rowSubmission(row);
  const received = new Date(row.receivedAt);
  const rejected = row.status === 'rejected';
  const needsClassifier =
    row.category === undefined || row.severity === undefined || (rejected && row.verdict === undefined);
  const classified = needsClassifier
    ? classify(policy, { submission, tier: row.tier, now: received, receivedAt: received }, { recent: [] })
    : undefined;
  const language =
    row.language ?? classified?.language ?? detectLanguage(complaintText(submission), policy.defaultLanguage);
  const category = row.category ?? (classified?.category as string);
  const severity = row.severity ?? (classified?.severity as Severity);
  const classifierVerdict =
    classified !== undefined && classified.validity !== 'valid' && classified.validity !== 'duplicate'
      ? classified.validity
      : undefined;
  const verdict: RejectionVerdict | undefined = rejected
    ? (row.verdict ?? classifierVerdict ?? 'out_of_scope')
    : undefined;
  const rejectedAt = row.closedAt ?? row.receivedAt;
  const previous = rejected
    ? []
    : // `recent` holds only what was imported before this row (the customer's rows run in file
      // order), so a complaint received at the same instant counts as earlier: file order breaks
      // the tie, not the random tail of two ULIDs of the same millisecond.
      repeatsOf(policy, { now: received, receivedAt: received }, input.recent ?? [], category, input.id);
  const classification: Classification = {
    category,
    severity,
    priority: priorityOf(policy, { severity, tier: row.tier, isRepeat: previous.length > 0 }),
    validity: verdict ?? 'valid',
    repeat: { isRepeat: previous.length > 0, previous },
    severityRules: row.severity === undefined ? (classified?.severityRules ?? []) : [],
    matchedKeywords: row.category === undefined ? (classified?.matchedKeywords ?? []) : [],
    language,
    classifiedAt: rejected ? rejectedAt : row.receivedAt,
  };

  // What the customer would have been promised at receipt (the record needs it; nothing is sent).
  const promise = computeDeadlines(policy, calendar, {
    category: '*',
    severity: policy.severity.default,
    tier: row.tier,
    from: received,
    clocks: ['firstResponse'],
  });
  const promisedResponseBy = promise.firstResponse?.dueAt ?? row.receivedAt;

  // A first response counts as the acknowledgement (as the agent API's respond does).
  const acknowledgedAt = [row.acknowledgedAt, row.firstResponseAt]
    .filter((t): t is string => t !== undefined)
    .sort()[0];
  const finishedAt = row.closedAt ?? row.resolvedAt ?? rejectedAt;
  const deadlines: Complaint['deadlines'] = {};
  const clockLog: ClockLogEntry[] = [];
  if (!rejected) {
    const targets = computeDeadlines(policy, calendar, {
      category,
      severity,
      tier: row.tier,
      from: received,
    });
    const first = targets.firstResponse;
    if (first !== undefined && first.dueAt > promisedResponseBy) {
      targets.firstResponse = {
        ...first,
        dueAt: promisedResponseBy,
        warnAt: [first.warnAt, promisedResponseBy].sort()[0] as string,
      };
    }
    const completed: Record<ClockName, string | undefined> = {
      acknowledge: acknowledgedAt,
      firstResponse: row.firstResponseAt,
      resolution: row.resolvedAt,
    };
    for (const clock of ['acknowledge', 'firstResponse', 'resolution'] as const) {
      const target = targets[clock];
      if (target === undefined) continue;
      const done = completed[clock];
      clockLog.push({
        at: row.receivedAt,
        clock,
        event: 'started',
        detail: { dueAt: target.dueAt, basis: target.basis },
      });
      let settled: Deadline;
      if (done === undefined) {
        settled = { ...target, state: 'stopped' };
        clockLog.push({
          at: finishedAt,
          clock,
          event: 'stopped',
          detail: { reason: 'imported: the export does not say when' },
        });
      } else if (done <= target.dueAt) {
        settled = { ...target, state: 'met', metAt: done };
        clockLog.push({ at: done, clock, event: 'met', detail: { late: false, dueAt: target.dueAt } });
      } else {
        // As the live clocks record it: breached at the deadline, then met late.
        settled = { ...target, state: 'met', breachedAt: target.dueAt, metAt: done };
        clockLog.push({ at: target.dueAt, clock, event: 'breached' });
        clockLog.push({ at: done, clock, event: 'met', detail: { late: true, dueAt: target.dueAt } });
      }
      deadlines[clock] = settled;
    }
    clockLog.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  const route = rejected
    ? undefined
    : row.department !== undefined
      ? { leadDepartment: row.department, collaborators: [], reason: `from the export of ${input.system}` }
      : (() => {
          const r = routeToDepartments(policy, { category, severity, tier: row.tier, language });
          return { ...r, reason: `imported without a department; ${r.reason}` };
        })();
  const surveyAt = row.surveyAt ?? row.closedAt ?? row.resolvedAt;
  const survey =
    row.satisfaction === undefined || surveyAt === undefined
      ? undefined
      : {
          sendAt: surveyAt,
          answeredAt: surveyAt,
          score: row.satisfaction,
          ...(row.satisfaction > policy.survey.reopenAtOrBelow ? { outcome: 'satisfied' as const } : {}),
        };
  const complaint: Complaint = ComplaintSchema.parse({
    id: input.id,
    number: input.number,
    version: 1,
    status: row.status,
    source: importSource(input.system, row.externalId),
    submission,
    tier: row.tier,
    language,
    receivedAt: row.receivedAt,
    promisedResponseBy,
    fingerprint: complaintFingerprint(submission),
    classification,
    ...(route !== undefined
      ? {
          assignment: {
            leadDepartment: route.leadDepartment,
            collaborators: route.collaborators,
            ...(row.assignee !== undefined ? { assignee: row.assignee } : {}),
            reason: route.reason,
            assignedAt: row.receivedAt,
          },
        }
      : {}),
    deadlines,
    clockLog,
    timers: {},
    work: {
      ...(acknowledgedAt !== undefined ? { acknowledgedAt } : {}),
      ...(row.firstResponseAt !== undefined ? { firstResponseAt: row.firstResponseAt } : {}),
    },
    ...(row.resolvedAt !== undefined
      ? {
          resolution: {
            rootCause: row.rootCause ?? '',
            solution: row.solution ?? '',
            resolvedBy: row.assignee ?? `${IMPORT_ACTOR}:${input.system}`,
            resolvedAt: row.resolvedAt,
          },
        }
      : {}),
    ...(survey !== undefined ? { survey } : {}),
    reopenCount: 0,
    trackingTokenHash: input.trackingTokenHash,
    updatedAt: input.importedAt.toISOString(),
  });

  const entry = (at: string, type: string, summary: string, data?: Record<string, unknown>) => ({
    at,
    type,
    actor: IMPORT_ACTOR,
    summary,
    ...(data !== undefined ? { data } : {}),
  });
  const timeline: HistoricalComplaint['timeline'] = [
    entry(
      input.importedAt.toISOString(),
      IMPORTED_ENTRY,
      `Imported from ${input.system} (id ${row.externalId}) with its original times; no SLA timers, no customer messages`,
      {
        system: input.system,
        externalId: row.externalId,
        ...(input.line !== undefined ? { line: input.line } : {}),
        classifiedByPolicy: needsClassifier,
        ...(row.notes.length > 0 ? { notes: row.notes } : {}),
      },
    ),
    entry(row.receivedAt, 'received', `Received via ${row.channel} (in ${input.system})`, {
      channel: row.channel,
      tier: row.tier,
    }),
    rejected
      ? entry(rejectedAt, 'rejected', `Rejected as ${verdict} (in ${input.system})`, { verdict })
      : entry(
          row.receivedAt,
          'classified',
          `Classified as ${category} / ${severity}${needsClassifier ? ' by the policy at import' : ''}`,
          { category, severity, priority: classification.priority, repeatOf: previous },
        ),
  ];
  if (route !== undefined) {
    timeline.push(
      entry(
        row.receivedAt,
        'assigned',
        `Assigned to ${route.leadDepartment}${row.assignee ? ` (${row.assignee})` : ''}`,
        {
          leadDepartment: route.leadDepartment,
          ...(row.assignee !== undefined ? { assignee: row.assignee } : {}),
        },
      ),
    );
  }
  if (acknowledgedAt !== undefined && !rejected)
    timeline.push(entry(acknowledgedAt, 'acknowledged', 'Acknowledged'));
  if (row.firstResponseAt !== undefined && !rejected)
    timeline.push(entry(row.firstResponseAt, 'responded', 'First response to the customer'));
  if (row.resolvedAt !== undefined) timeline.push(entry(row.resolvedAt, 'resolved', 'Resolved'));
  if (survey !== undefined)
    timeline.push(
      entry(survey.answeredAt, 'survey_answered', `Survey answered: ${survey.score}`, {
        score: survey.score,
      }),
    );
  if (row.closedAt !== undefined) timeline.push(entry(row.closedAt, 'closed', 'Closed'));
  return { complaint, timeline, classifiedByPolicy: needsClassifier };
}

// ---------------------------------------------------------------------------------------------------
// Report events

/**
 * The lifecycle events an imported complaint would have produced, with deterministic ids
 * (`import:<system>#<externalId>:<kind>`), for the report aggregates. Derived from the stored record
 * (and the closing time, which only the timeline holds), so a re-run that finds the complaint already
 * imported feeds exactly the same events, and the aggregator's idempotent merge adds nothing twice.
 * No escalation or reopening is invented: the export does not say.
 */
export function historicalEvents(complaint: Complaint, closedAt?: string): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  const add = (detailType: string, kind: string, occurredAt: string, data: Record<string, unknown> = {}) =>
    events.push({
      detailType,
      detail: {
        metadata: { eventId: `import:${complaint.source.messageId}:${kind}`, occurredAt },
        data: { complaintId: complaint.id, number: complaint.number, ...data },
      },
    });
  add('Complaint Received', 'received', complaint.receivedAt, {
    receivedAt: complaint.receivedAt,
    channel: complaint.submission.channel,
    tier: complaint.tier,
    sourceSystem: complaint.source.system,
  });
  const c = complaint.classification;
  if (c !== undefined && c.validity !== 'valid') {
    // Live intake rejects at classification, seconds after receipt: the report counts a rejection on
    // the day it was received (so received − rejected = valid per day), not on the old system's
    // closing day, which the record's timeline keeps.
    add('Complaint Rejected', 'rejected', complaint.receivedAt, { verdict: c.validity });
    return events;
  }
  if (c !== undefined) {
    add('Complaint Classified', 'classified', c.classifiedAt, {
      category: c.category,
      severity: c.severity,
      isRepeat: c.repeat.isRepeat,
    });
  }
  const a = complaint.assignment;
  if (a !== undefined) {
    add('Complaint Assigned', 'assigned', a.assignedAt, {
      leadDepartment: a.leadDepartment,
      ...(a.assignee !== undefined ? { assignee: a.assignee } : {}),
    });
  }
  if (complaint.work.acknowledgedAt !== undefined)
    add('Complaint Acknowledged', 'acknowledged', complaint.work.acknowledgedAt);
  if (complaint.work.firstResponseAt !== undefined)
    add('Complaint Responded', 'responded', complaint.work.firstResponseAt);
  for (const [clock, deadline] of Object.entries(complaint.deadlines)) {
    if (deadline?.breachedAt !== undefined)
      add('Complaint SLA Breached', `breached:${clock}`, deadline.breachedAt, {
        clock,
        dueAt: deadline.dueAt,
      });
  }
  if (complaint.resolution !== undefined)
    add('Complaint Resolved', 'resolved', complaint.resolution.resolvedAt);
  const survey = complaint.survey;
  if (survey?.score !== undefined && survey.answeredAt !== undefined)
    add('Survey Answered', 'survey', survey.answeredAt, { score: survey.score });
  if (closedAt !== undefined) add('Complaint Closed', 'closed', closedAt);
  return events;
}
