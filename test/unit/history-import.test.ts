import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { classify } from '../../shared/domain/classification';
import {
  type HistoricalRow,
  historicalComplaint,
  historicalEvents,
  type ImportMapping,
  importScope,
  MappingValidationError,
  mapRow,
  parseMapping,
  parseTime,
  type RowResult,
  rowSubmission,
} from '../../shared/domain/history-import';
import { contributions } from '../../shared/domain/reporting/contributions';
import { emptyFacts, mergeEvent } from '../../shared/domain/reporting/facts';
import { UnconfiguredServiceKeys } from '../../shared/security/service-keys';
import {
  importHistory,
  type RejectedRow,
  readCsv,
  readJsonLines,
} from '../../shared/services/history-import';
import { nextDeadline } from '../../shared/storage/dynamodb-store';
import type { ComplaintStore } from '../../shared/storage/ports';
import { defaultPolicy as policy } from '../support/fixtures';

const calendar = new BusinessCalendar(policy.calendar);
const NOW = new Date('2025-06-01T00:00:00Z');
const fixtureMapping = () =>
  parseMapping(
    JSON.parse(readFileSync(new URL('../fixtures/import/mapping.json', import.meta.url), 'utf8')),
    policy,
    'mapping.json',
  );

/** A mapping with English column names, for rows written inline. */
function mapping(overrides: Record<string, unknown> = {}): ImportMapping {
  return parseMapping(
    {
      system: 'old',
      columns: {
        externalId: 'id',
        receivedAt: 'created',
        channel: 'channel',
        description: 'text',
        customerId: 'customer',
        category: 'category',
        severity: 'severity',
        status: 'status',
        acknowledgedAt: 'ack',
        firstResponseAt: 'first_reply',
        resolvedAt: 'resolved',
        closedAt: 'closed',
        department: 'team',
        satisfaction: 'score',
        tier: 'tier',
      },
      values: {
        channel: { phone: 'hotline', Weibo: 'social_media', APP: 'app' },
        status: { done: 'closed', fixed: 'resolved', invalid: 'rejected', working: 'in_progress' },
      },
      ...overrides,
    },
    policy,
  );
}

const row = (cells: Record<string, string>) => ({
  id: 'X-1',
  created: '2025-03-03 09:15:00',
  channel: 'phone',
  customer: 'cust-1',
  text: '会员自动续费多扣了我800元，要求退款',
  status: 'done',
  resolved: '2025-03-04 10:00:00',
  closed: '2025-03-05 10:00:00',
  ...cells,
});

function ok(result: RowResult): HistoricalRow {
  if (!result.ok) throw new Error(`rejected: ${result.problems.map((p) => p.message).join('; ')}`);
  return result.row;
}
function problems(result: RowResult): string[] {
  if (result.ok) throw new Error('expected the row to be refused');
  return result.problems.map((p) => `${p.field} ${p.code}: ${p.message}`);
}
const mapped = (cells: Record<string, string>, m = mapping()) => mapRow(policy, m, row(cells), NOW);

describe('the mapping file', () => {
  it('accepts the fixture mapping and defaults the time zone to the policy calendar', () => {
    const m = fixtureMapping();
    expect(m.system).toBe('legacy-crm');
    expect(m.timeZone).toBe('Asia/Shanghai');
    expect(m.values.channel?.电话).toBe('hotline');
    expect(mapping().timeZone).toBe(policy.calendar.timeZone);
    expect(mapping({ timeZone: 'Europe/Berlin' }).timeZone).toBe('Europe/Berlin');
  });

  it('lists every problem, each with its path', () => {
    let error: unknown;
    try {
      parseMapping(
        {
          columns: { receivedAt: 'created', text: 'body', channel: 'c', customerId: 'u' },
          values: { channel: { fax: 'fax', Phone: 'hotline', phone: 'web' }, category: { x: 'billing' } },
          defaults: { resolvedAt: '2025-01-01', tier: 'gold' },
        },
        policy,
        'my-mapping.json',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingValidationError);
    const problemList = (error as MappingValidationError).problems;
    expect(problemList).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^columns\.text: unknown field/),
        'columns.externalId: required (the column of the export that holds it)',
        'columns.description: required (the column of the export that holds it)',
        expect.stringMatching(/^values\.channel\.fax: "fax" is not a channel \(app, web, hotline/),
        expect.stringMatching(/^values\.channel: "phone" is mapped twice/),
        expect.stringMatching(/^values\.category\.x: "billing" is not a category \(information_security, /),
        expect.stringMatching(/^defaults\.resolvedAt: only channel, .* can have a default/),
        'defaults.tier: "gold" is not a tier (standard, vip)',
      ]),
    );
    expect((error as Error).message).toMatch(/^Invalid import mapping my-mapping\.json:\n {2}- /);
  });

  it('refuses a bad time zone, encoding, time format or unknown key', () => {
    const attempt = (extra: Record<string, unknown>) => () => mapping(extra);
    for (const zone of ['Mars/Olympus', '+08:00', 'UTC+8', '']) {
      expect(attempt({ timeZone: zone })).toThrow(/timeZone: must be an IANA time zone/);
    }
    expect(attempt({ encoding: 'klingon' })).toThrow(/encoding: is not a text encoding/);
    expect(attempt({ timeFormat: 'qqq' })).toThrow(/timeFormat: "qqq" is not iso/);
    expect(attempt({ colums: {} })).toThrow(/Unrecognized key: "colums"/);
    expect(attempt({ system: 'has space' })).toThrow(/system: must be 1–40 letters/);
  });
});

describe('times', () => {
  it('reads times without an offset in the mapping zone, and keeps an explicit offset', () => {
    expect(parseTime('2025-03-03 09:15:00', 'Asia/Shanghai')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('2025-03-03T09:15', 'Asia/Shanghai')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('2025/3/3 9:15', 'Asia/Shanghai')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('2025年3月3日 9:15', 'Asia/Shanghai')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('2025-03-03T09:15:00+00:00', 'Asia/Shanghai')).toBe('2025-03-03T09:15:00.000Z');
    expect(parseTime('2025-03-03T09:15:00Z', 'Asia/Shanghai')).toBe('2025-03-03T09:15:00.000Z');
    expect(parseTime('2025-03-03', 'Asia/Shanghai')).toBe('2025-03-02T16:00:00.000Z');
  });

  it('follows daylight saving time in zones that have it', () => {
    expect(parseTime('2025-01-15 10:00', 'America/New_York')).toBe('2025-01-15T15:00:00.000Z');
    expect(parseTime('2025-07-01 10:00', 'America/New_York')).toBe('2025-07-01T14:00:00.000Z');
    // 02:30 does not exist on 9 March 2025 in New York: the clock jumps to 03:00 (read as 03:30 EDT).
    expect(parseTime('2025-03-09 02:30', 'America/New_York')).toBe('2025-03-09T07:30:00.000Z');
  });

  it('reads epoch times and custom formats, and refuses impossible dates', () => {
    expect(parseTime('1740964500', 'Asia/Shanghai', 'epoch-seconds')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('1740964500000', 'Asia/Shanghai', 'epoch-millis')).toBe('2025-03-03T01:15:00.000Z');
    expect(parseTime('03.03.2025 09:15', 'Europe/Berlin', 'dd.MM.yyyy HH:mm')).toBe(
      '2025-03-03T08:15:00.000Z',
    );
    expect(parseTime('2025-02-30 10:00:00', 'Asia/Shanghai')).toBeUndefined();
    expect(parseTime('yesterday', 'Asia/Shanghai')).toBeUndefined();
    expect(parseTime('12:00 2025-03-03', 'Asia/Shanghai', 'epoch-seconds')).toBeUndefined();
  });
});

describe('a row', () => {
  it('is mapped into this system’s vocabulary with its original times', () => {
    const r = ok(mapped({ ack: '2025-03-03 09:30', score: '4', team: 'billing', tier: 'vip' }));
    expect(r).toMatchObject({
      externalId: 'X-1',
      channel: 'hotline',
      status: 'closed',
      receivedAt: '2025-03-03T01:15:00.000Z',
      acknowledgedAt: '2025-03-03T01:30:00.000Z',
      resolvedAt: '2025-03-04T02:00:00.000Z',
      closedAt: '2025-03-05T02:00:00.000Z',
      department: 'billing',
      satisfaction: 4,
      tier: 'vip',
    });
  });

  it('matches value maps trimmed and ignoring case, and passes this system’s own values through', () => {
    expect(ok(mapped({ channel: '  PHONE ' })).channel).toBe('hotline');
    expect(ok(mapped({ channel: 'weibo' })).channel).toBe('social_media');
    expect(ok(mapped({ channel: 'app' })).channel).toBe('app');
    expect(ok(mapped({ channel: 'email' })).channel).toBe('email');
    expect(ok(mapped({ status: 'Fixed', closed: '' })).status).toBe('resolved');
  });

  it('uses defaults for empty cells, and the policy’s default tier', () => {
    const m = mapping({ defaults: { channel: 'web', severity: 'important' } });
    const r = ok(mapped({ channel: '', tier: '' }, m));
    expect(r.channel).toBe('web');
    expect(r.severity).toBe('important');
    expect(r.tier).toBe(policy.defaultTier);
  });

  it('gives every reason at once, per field', () => {
    const reasons = problems(
      mapped({
        created: '2025-02-30 10:00:00',
        channel: 'fax',
        score: '7',
        customer: '',
        category: 'billing',
      }),
    );
    expect(reasons).toEqual([
      'receivedAt bad_time: not a valid time: "2025-02-30 10:00:00" (expected ISO 8601 or yyyy-MM-dd HH:mm:ss)',
      expect.stringMatching(
        /^channel unknown_value: unknown channel "fax" \(map it in the mapping's values\.channel; allowed: app, web, hotline/,
      ),
      'customerId missing: missing (column "customer" is empty)',
      expect.stringMatching(/^category unknown_value: unknown category "billing"/),
      'satisfaction out_of_range: 7 is out of range (a whole number 1–5)',
    ]);
    expect(problems(mapped({ score: 'good' }))).toEqual([
      'satisfaction out_of_range: "good" is not a score (a whole number 1–5)',
    ]);
    expect(problems(mapped({ score: '4.5' }))).toEqual([
      'satisfaction out_of_range: 4.5 is out of range (a whole number 1–5)',
    ]);
  });

  it('must have its times in order and in the past', () => {
    expect(problems(mapped({ resolved: '2025-03-03 08:00', closed: '' }))).toEqual([
      'resolvedAt time_order: 2025-03-03 08:00:00 +08:00 is before receivedAt 2025-03-03 09:15:00 +08:00',
    ]);
    expect(problems(mapped({ closed: '2025-03-04 09:00' }))).toEqual([
      'closedAt time_order: 2025-03-04 09:00:00 +08:00 is before resolvedAt 2025-03-04 10:00:00 +08:00',
    ]);
    expect(problems(mapped({ resolved: '2025-07-01 10:00', closed: '2025-07-02 10:00' }))).toEqual([
      'resolvedAt future_time: 2025-07-01 10:00 is in the future',
      'closedAt future_time: 2025-07-02 10:00 is in the future',
    ]);
    expect(problems(mapped({ created: '1970-01-02 00:00' }))).toEqual([
      'receivedAt bad_time: 1970-01-02 00:00 is before 1990: not a plausible time',
    ]);
  });

  it('must be consistent with its status', () => {
    const closedOnly = ok(mapped({ resolved: '' }));
    expect(closedOnly.resolvedAt).toBe(closedOnly.closedAt);
    expect(closedOnly.notes).toEqual(['resolvedAt taken from closedAt']);
    expect(problems(mapped({ status: 'fixed' }))).toEqual([
      'closedAt inconsistent: given, but the status is resolved (map the status to closed?)',
    ]);
    expect(problems(mapped({ status: 'fixed', resolved: '', closed: '' }))).toEqual([
      'resolvedAt missing: a resolved complaint needs resolvedAt',
    ]);
    expect(problems(mapped({ status: 'invalid', closed: '', score: '2' }))).toEqual([
      'resolvedAt inconsistent: given, but the status is rejected',
      'satisfaction inconsistent: given, but the status is rejected',
    ]);
    expect(problems(mapped({ status: 'working' }))).toEqual([
      'status inconsistent: in_progress is open, but the row has a resolution or closing time',
    ]);
    expect(problems(mapped({ status: 'on hold' }))).toEqual([
      expect.stringMatching(/^status unknown_value: unknown status "on hold"/),
    ]);
  });

  it('without a status column takes it from the times', () => {
    const { status: _column, ...columns } = mapping().columns;
    const m = mapping({ columns });
    const noStatus = (cells: Record<string, string>) => {
      const { status: _status, ...rest } = row(cells);
      return mapRow(policy, m, rest, NOW);
    };
    expect(ok(noStatus({})).status).toBe('closed');
    expect(ok(noStatus({ closed: '' })).status).toBe('resolved');
    expect(ok(noStatus({ closed: '', resolved: '' })).status).toBe('received');
  });

  it('reads nested keys of JSON lines and refuses values that are not text', () => {
    const m = mapping({
      columns: { ...mapping().columns, customerId: 'customer.id', description: 'body.text' },
    });
    const r = mapRow(policy, m, { ...row({}), customer: { id: 'c-9' }, body: { text: 'app crashes' } }, NOW);
    expect(ok(r).customerId).toBe('c-9');
    expect(
      problems(mapRow(policy, m, { ...row({}), customer: { id: 'c-9' }, body: { text: ['a'] } }, NOW)),
    ).toEqual(['description not_text: column "body.text" holds a list, not a value']);
  });

  it('refuses texts longer than the intake limits', () => {
    expect(problems(mapped({ text: 'x'.repeat(10_001) }))).toEqual([
      'description too_long: longer than 10,000 characters (10,001)',
    ]);
  });
});

describe('the complaint of a finished row', () => {
  const input = {
    id: '01JNKZ0000000000000000TEST',
    number: 'C20250303-ABCDEF',
    trackingTokenHash: 'h',
    system: 'old',
    importedAt: NOW,
  };

  it('keeps the original times, status and department, with no timers and no running clock', () => {
    const r = ok(
      mapped({
        ack: '2025-03-03 09:30',
        first_reply: '2025-03-03 10:00',
        team: 'billing',
        category: 'billing_dispute',
        severity: 'general',
        score: '5',
      }),
    );
    const { complaint, timeline, classifiedByPolicy } = historicalComplaint(policy, calendar, r, input);
    expect(complaint).toMatchObject({
      status: 'closed',
      receivedAt: '2025-03-03T01:15:00.000Z',
      source: { system: 'import', messageId: 'old#X-1' },
      submission: { channel: 'hotline', occurredAt: '2025-03-03T01:15:00.000Z' },
      classification: {
        category: 'billing_dispute',
        severity: 'general',
        validity: 'valid',
        classifiedAt: '2025-03-03T01:15:00.000Z',
      },
      assignment: { leadDepartment: 'billing' },
      work: { acknowledgedAt: '2025-03-03T01:30:00.000Z', firstResponseAt: '2025-03-03T02:00:00.000Z' },
      resolution: { resolvedAt: '2025-03-04T02:00:00.000Z' },
      survey: { score: 5, answeredAt: '2025-03-05T02:00:00.000Z', outcome: 'satisfied' },
      timers: {},
      updatedAt: NOW.toISOString(),
    });
    expect(classifiedByPolicy).toBe(false);
    expect(nextDeadline(complaint)).toBeUndefined();
    expect(Object.values(complaint.deadlines).map((d) => d?.state)).toEqual(['met', 'met', 'met']);
    expect(timeline.map((e) => [e.type, e.at])).toEqual([
      ['imported', NOW.toISOString()],
      ['received', '2025-03-03T01:15:00.000Z'],
      ['classified', '2025-03-03T01:15:00.000Z'],
      ['assigned', '2025-03-03T01:15:00.000Z'],
      ['acknowledged', '2025-03-03T01:30:00.000Z'],
      ['responded', '2025-03-03T02:00:00.000Z'],
      ['resolved', '2025-03-04T02:00:00.000Z'],
      ['survey_answered', '2025-03-05T02:00:00.000Z'],
      ['closed', '2025-03-05T02:00:00.000Z'],
    ]);
    expect(importScope('old', 'X-1')).toEqual({ kind: 'import', system: 'old', externalId: 'X-1' });
  });

  it('is classified and routed by the policy when the export has no category, severity or department', () => {
    const r = ok(mapped({}));
    const { complaint, classifiedByPolicy } = historicalComplaint(policy, calendar, r, input);
    const live = classify(
      policy,
      { submission: rowSubmission(r), tier: r.tier, now: new Date(r.receivedAt) },
      { recent: [] },
    );
    expect(classifiedByPolicy).toBe(true);
    expect(complaint.classification).toMatchObject({
      category: live.category,
      severity: live.severity,
      matchedKeywords: live.matchedKeywords,
      severityRules: live.severityRules,
    });
    expect(live.category).toBe('billing_dispute');
    expect(complaint.assignment).toMatchObject({
      leadDepartment: 'billing',
      collaborators: ['customer_service'],
    });
    // A category from the export wins over the keywords.
    const given = historicalComplaint(policy, calendar, ok(mapped({ category: 'service_quality' })), input);
    expect(given.complaint.classification?.category).toBe('service_quality');
    expect(given.complaint.assignment?.leadDepartment).toBe('customer_service');
  });

  it('judges each clock after the fact against the SLA matrix (a late resolution is breached at its deadline)', () => {
    // Billing dispute: resolution within 5 working days; received Monday 3 March 09:15.
    const late = ok(
      mapped({
        category: 'billing_dispute',
        severity: 'general',
        resolved: '2025-03-12 10:00',
        closed: '2025-03-12 11:00',
      }),
    );
    const { complaint } = historicalComplaint(policy, calendar, late, input);
    const resolution = complaint.deadlines.resolution;
    expect(resolution).toMatchObject({
      state: 'met',
      dueAt: '2025-03-10T01:15:00.000Z',
      breachedAt: '2025-03-10T01:15:00.000Z',
    });
    expect(complaint.deadlines.acknowledge?.state).toBe('stopped');
    const events = historicalEvents(complaint, late.closedAt);
    expect(events.find((e) => e.detailType === 'Complaint SLA Breached')?.detail).toEqual({
      metadata: { eventId: 'import:old#X-1:breached:resolution', occurredAt: '2025-03-10T01:15:00.000Z' },
      data: {
        complaintId: input.id,
        number: input.number,
        clock: 'resolution',
        dueAt: '2025-03-10T01:15:00.000Z',
      },
    });
  });

  it('of a rejected row carries the verdict (from the export, the classifier, or out_of_scope)', () => {
    const m = mapping({
      columns: { ...mapping().columns, verdict: 'why' },
      values: { ...mapping().values, verdict: { junk: 'spam' } },
    });
    const fromExport = ok(
      mapRow(policy, m, { ...row({ status: 'invalid', resolved: '', closed: '' }), why: 'junk' }, NOW),
    );
    const rejected = historicalComplaint(policy, calendar, fromExport, input).complaint;
    expect(rejected).toMatchObject({
      status: 'rejected',
      classification: { validity: 'spam' },
      deadlines: {},
    });
    expect(rejected.assignment).toBeUndefined();
    expect(historicalEvents(rejected).map((e) => e.detailType)).toEqual([
      'Complaint Received',
      'Complaint Rejected',
    ]);
    const plain = ok(mapped({ status: 'invalid', resolved: '', closed: '' }));
    expect(historicalComplaint(policy, calendar, plain, input).complaint.classification?.validity).toBe(
      'out_of_scope',
    );
  });

  it('is a repeat when the same customer complained in the same category within the window', () => {
    const r = ok(mapped({ category: 'billing_dispute', severity: 'general' }));
    const recent = [
      {
        id: '01JN0000000000000000000001',
        number: 'C1',
        category: 'billing_dispute',
        phase: 'ended' as const,
        receivedAt: '2025-02-20T01:00:00.000Z',
        fingerprint: '0',
      },
      {
        id: '01JN0000000000000000000002',
        number: 'C2',
        category: 'billing_dispute',
        phase: 'ended' as const,
        receivedAt: '2025-03-20T01:00:00.000Z',
        fingerprint: '0',
      },
    ];
    const { complaint } = historicalComplaint(policy, calendar, r, { ...input, recent });
    expect(complaint.classification?.repeat).toEqual({
      isRepeat: true,
      previous: ['01JN0000000000000000000001'],
    });
  });

  it('counts an earlier row of the same instant as earlier, whatever the ids (file order breaks the tie)', () => {
    const r = ok(mapped({ category: 'billing_dispute', severity: 'general' }));
    const sameInstant = {
      id: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ', // sorts after any id of this row's millisecond
      number: 'C3',
      category: 'billing_dispute',
      phase: 'ended' as const,
      receivedAt: r.receivedAt,
      fingerprint: '0',
    };
    const { complaint } = historicalComplaint(policy, calendar, r, { ...input, recent: [sameInstant] });
    expect(complaint.classification?.repeat).toEqual({ isRepeat: true, previous: [sameInstant.id] });
  });

  it('feeds facts that count on the business days of the original times', () => {
    // Received 23:30 in Shanghai on 31 January = 15:30 UTC the same day; resolved on 1 February.
    const r = ok(
      mapped({
        created: '2025-01-31 23:30',
        resolved: '2025-02-01 08:30',
        closed: '2025-02-02 09:00',
        category: 'billing_dispute',
        severity: 'general',
      }),
    );
    const { complaint } = historicalComplaint(policy, calendar, r, input);
    const events = historicalEvents(complaint, r.closedAt);
    expect(events.map((e) => e.detail.metadata.eventId)).toEqual([
      'import:old#X-1:received',
      'import:old#X-1:classified',
      'import:old#X-1:assigned',
      'import:old#X-1:resolved',
      'import:old#X-1:closed',
    ]);
    const facts = events.reduce(mergeEvent, emptyFacts(complaint.id));
    expect(facts.received).toEqual({
      at: '2025-01-31T15:30:00.000Z',
      channel: 'hotline',
      tier: 'standard',
      sourceSystem: 'import',
    });
    const buckets = contributions(facts, { timeZone: 'Asia/Shanghai', shards: 1 });
    expect(buckets.get('DAY#2025-01-31#0')).toMatchObject({
      received: 1,
      'received|channel=hotline': 1,
      'received|hour=23': 1,
    });
    expect(buckets.get('DAY#2025-02-01#0')).toMatchObject({
      resolved: 1,
      'resolution.count': 1,
      'resolution.sum': 9 * 3600,
    });
    expect(buckets.get('DAY#2025-02-02#0')).toMatchObject({ closed: 1 });
    // Merging the same events again changes nothing.
    expect(events.reduce(mergeEvent, facts)).toEqual(facts);
  });

  it('counts a rejection on the day it was received, as live classification does, not on the closing day', () => {
    const r = ok(
      mapped({ created: '2025-01-31 22:00', status: 'invalid', resolved: '', closed: '2025-02-03 10:00' }),
    );
    const { complaint } = historicalComplaint(policy, calendar, r, input);
    const facts = historicalEvents(complaint, r.closedAt).reduce(mergeEvent, emptyFacts(complaint.id));
    const buckets = contributions(facts, { timeZone: 'Asia/Shanghai', shards: 1 });
    expect(buckets.get('DAY#2025-01-31#0')).toMatchObject({ received: 1, rejected: 1 });
    expect(buckets.get('DAY#2025-02-03#0')).toBeUndefined();
  });
});

describe('reading an export', () => {
  const collect = async <T>(it: AsyncIterable<T>) => {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  };

  it('gives CSV records with the line they start on, a multi-line cell and a short row included', async () => {
    const csv = '\uFEFFid,text,channel\r\n1,"first\r\nsecond",app\r\n\r\n2,short\r\n3,"a ""quote""",web';
    const rows = await collect(readCsv(Readable.from([Buffer.from(csv)])));
    expect(rows.map((r) => [r.line, r.record, r.problems?.map((p) => p.message)])).toEqual([
      [2, { id: '1', text: 'first\r\nsecond', channel: 'app' }, undefined],
      [5, { id: '2', text: 'short' }, ['has 2 fields, the header has 3']],
      [6, { id: '3', text: 'a "quote"', channel: 'web' }, undefined],
    ]);
  });

  it('refuses a record opening a quote that never closes in file order, with its line and raw text', async () => {
    const good = Array.from({ length: 8 }, (_, i) => `r${i + 1},x`);
    const csv = ['id,text', ...good, 'r9,"oops,b', 'r10,y', ''].join('\n');
    const rows = await collect(readCsv(Readable.from([Buffer.from(csv)])));
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.slice(0, 8).map((r) => r.record?.id)).toEqual(good.map((g) => g.split(',')[0]));
    const bad = rows[8];
    expect(bad?.problems?.map((p) => p.code)).toEqual(['malformed']);
    // The swallowed rows are in the refused record's raw text, so the rejected file shows them.
    expect(bad?.raw).toContain('r9,"oops,b');
    expect(bad?.raw).toContain('r10,y');
  });

  it('decodes GB18030 exports and checks the header against the mapping', async () => {
    const gb = Buffer.from([0xb9, 0xa4, 0xb5, 0xa5, 0xba, 0xc5, 0x0a, 0x31, 0x0a]); // "工单号\n1\n"
    const rows = await collect(readCsv(Readable.from([gb]), { encoding: 'gb18030' }));
    expect(rows[0]?.record).toEqual({ 工单号: '1' });
    const headerError = collect(
      readCsv(Readable.from(['id,text\n1,x\n']), {
        onHeader: (columns) => {
          throw new Error(`no channel in ${columns.join('|')}`);
        },
      }),
    );
    await expect(headerError).rejects.toThrow('no channel in id|text');
    await expect(collect(readCsv(Readable.from([''])))).rejects.toThrow(/empty/);
  });

  it('gives JSON lines, refusing lines that are not JSON objects', async () => {
    const text = '{"id":1}\n\nnot json\n[1,2]\n{"id":"2","nested":{"a":1}}';
    const rows = await collect(readJsonLines(Readable.from([text])));
    expect(rows.map((r) => [r.line, r.record ?? r.raw, r.problems?.[0]?.message.slice(0, 14)])).toEqual([
      [1, { id: 1 }, undefined],
      [3, 'not json', 'not valid JSON'],
      [4, '[1,2]', 'not a JSON obj'],
      [5, { id: '2', nested: { a: 1 } }, undefined],
    ]);
  });
});

describe('a dry run', () => {
  it('checks every row and writes nothing', async () => {
    const untouchable = new Proxy({} as ComplaintStore, {
      get: (_t, name) => () => {
        throw new Error(`the dry run called store.${String(name)}`);
      },
    });
    const rejected: RejectedRow[] = [];
    const m = fixtureMapping();
    const source = readCsv(
      Readable.from([readFileSync(new URL('../fixtures/import/small.csv', import.meta.url))]),
      {
        onHeader: () => undefined,
      },
    );
    const summary = await importHistory(
      {
        store: untouchable,
        reporting: { store: untouchable as never, timeZone: policy.calendar.timeZone, now: () => NOW },
        policy,
        calendar,
        now: () => NOW,
        // A dry run derives no key: any use would throw.
        keys: new UnconfiguredServiceKeys(),
      },
      source,
      { mapping: m, dryRun: true, onRejected: (r) => void rejected.push(r) },
    );
    expect(summary).toMatchObject({
      dryRun: true,
      read: 11,
      imported: 5,
      skipped: 0,
      rejected: 6,
      byStatus: { closed: 3, resolved: 1, rejected: 1 },
      classifiedByPolicy: 3,
      reportsRegenerated: [],
    });
    expect(rejected.map((r) => [r.line, r.externalId, r.codes])).toEqual([
      [6, 'S-005', ['bad_time']],
      [7, 'S-006', ['unknown_value']],
      [8, 'S-007', ['out_of_range']],
      [9, 'S-001', ['duplicate_id']],
      [10, 'S-008', ['time_order']],
      [11, 'S-009', ['still_open']],
    ]);
    expect(rejected[3]?.reasons).toEqual([
      'externalId: "S-001" already appeared on line 2 (only the first line with an id is considered: if that one was refused, fix it there)',
    ]);
    expect(rejected[5]?.row).toMatchObject({ 问题描述: '多行的\n问题描述：退款一直没到账', 状态: '处理中' });
  });
});
