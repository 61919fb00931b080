import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { meetClock } from '../../shared/domain/clocks';
import { type Complaint, ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { DETAIL_TYPES } from '../../shared/events/names';
import { StaticServiceKeys } from '../../shared/security/service-keys';
import { assignComplaint } from '../../shared/services/assignment';
import { classifyComplaint } from '../../shared/services/classification';
import type { ServiceContext } from '../../shared/services/context';
import { receiveComplaint } from '../../shared/services/intake';
import { handleSlaTimer, sweepDueDeadlines } from '../../shared/services/sla';
import { handleSurveyTimer } from '../../shared/services/survey';
import { withTimers } from '../../shared/services/timers';
import { DynamoDbComplaintStore, UNROUTED } from '../../shared/storage/dynamodb-store';
import { defaultPolicy, RecordingPublisher, RecordingScheduler, submission } from '../support/fixtures';
import { createTestTable, localDynamoClient } from './support/dynamodb';

let ctx: ServiceContext;
let publisher: RecordingPublisher;
let scheduler: RecordingScheduler;
let now = new Date('2026-11-24T02:00:00.000Z'); // Tuesday 10:00 in Shanghai

const events = (type: string, complaintId: string) =>
  publisher.events.filter((e) => e.detailType === type && e.detail.data.complaintId === complaintId);

beforeAll(async () => {
  const tableName = await createTestTable('sla');
  const db = DynamoDBDocumentClient.from(localDynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  publisher = new RecordingPublisher();
  scheduler = new RecordingScheduler();
  ctx = {
    policy: defaultPolicy,
    calendar: new BusinessCalendar(defaultPolicy.calendar),
    store: new DynamoDbComplaintStore(db, { tableName, deadlineShards: 2 }),
    publisher,
    scheduler,
    keys: new StaticServiceKeys('sla-test'),
    now: () => now,
  };
});

let seq = 0;
async function assignedComplaint(description: string): Promise<Complaint> {
  now = new Date('2026-11-24T02:00:00.000Z');
  const { complaintId } = await receiveComplaint(ctx, {
    submission: ComplaintSubmissionSchema.parse(
      submission({ customer: { id: `sla-${++seq}` }, description }),
    ),
    sourceSystem: 'test',
    messageId: `sla-${seq}`,
    submitter: { kind: 'producer', source: 'test' },
    idempotency: { kind: 'event', source: 'test', messageId: `sla-${seq}` },
  });
  await classifyComplaint(ctx, complaintId);
  await assignComplaint(ctx, complaintId);
  const stored = await ctx.store.get(complaintId);
  if (stored === undefined) throw new Error('not stored');
  return stored;
}

describe('SLA timers against DynamoDB Local', () => {
  it('schedules warning and deadline timers for every clock at classification', async () => {
    const c = await assignedComplaint('客服态度很差，电话里直接挂断了');
    for (const clock of ['ack', 'fr', 'res']) {
      expect(scheduler.scheduled.get(`${c.id}-${clock}-warn`)?.at).toBeDefined();
      expect(scheduler.scheduled.get(`${c.id}-${clock}-due`)?.at).toBe(
        c.deadlines[{ ack: 'acknowledge', fr: 'firstResponse', res: 'resolution' }[clock] as 'acknowledge']
          ?.dueAt,
      );
    }
    expect(Object.keys(c.timers).sort()).toEqual(
      [...scheduler.scheduled.keys()].filter((k) => k.startsWith(c.id)).sort(),
    );
    expect(
      c.clockLog
        .filter((e) => e.event === 'started')
        .map((e) => e.clock)
        .sort(),
    ).toEqual(['acknowledge', 'firstResponse', 'resolution']);
  });

  it('warns, breaches and escalates level by level at the exact times, then stops', async () => {
    const c = await assignedComplaint('客服态度很差，回复慢，等了很久');
    const fr = c.deadlines.firstResponse;
    if (fr === undefined) throw new Error('no first-response clock');

    now = new Date(fr.warnAt);
    await handleSlaTimer(ctx, scheduler.payload(`${c.id}-fr-warn`));
    expect(events(DETAIL_TYPES.slaWarning, c.id).map((e) => e.detail.data.clock)).toEqual(['firstResponse']);

    now = new Date(fr.dueAt);
    await handleSlaTimer(ctx, scheduler.payload(`${c.id}-fr-due`));
    expect(events(DETAIL_TYPES.slaBreached, c.id)).toHaveLength(1);
    // Level 1 (team lead) is due at the deadline itself (after 0 h).
    const level1 = events(DETAIL_TYPES.escalated, c.id);
    expect(level1.map((e) => [e.detail.data.level, e.detail.data.role, e.detail.data.contact])).toEqual([
      [1, 'team_lead', 'lead.cs'],
    ]);
    // The next level is rescheduled 4 hours later.
    const esc = scheduler.scheduled.get(`${c.id}-fr-esc`);
    expect(esc?.at).toBe(new Date(Date.parse(fr.dueAt) + 4 * 3600_000).toISOString());
    expect(esc?.payload.level).toBe(2);

    now = new Date(esc?.at ?? '');
    await handleSlaTimer(ctx, scheduler.payload(`${c.id}-fr-esc`));
    const level3At = scheduler.scheduled.get(`${c.id}-fr-esc`)?.at;
    expect(level3At).toBe(new Date(Date.parse(fr.dueAt) + 12 * 3600_000).toISOString());
    now = new Date(level3At ?? '');
    await handleSlaTimer(ctx, scheduler.payload(`${c.id}-fr-esc`));
    expect(
      events(DETAIL_TYPES.escalated, c.id).map((e) => [e.detail.data.level, e.detail.data.contact]),
    ).toEqual([
      [1, 'lead.cs'],
      [2, 'head.cs'],
      [3, 'exec.on_duty'],
    ]);
    expect(scheduler.scheduled.has(`${c.id}-fr-esc`)).toBe(false);

    const stored = await ctx.store.get(c.id);
    expect(stored?.deadlines.firstResponse).toMatchObject({
      state: 'breached',
      escalationLevel: 3,
      breachedAt: fr.dueAt,
    });
    expect(stored?.clockLog.filter((e) => e.clock === 'firstResponse').map((e) => e.event)).toEqual([
      'started',
      'warned',
      'breached',
      'escalated',
      'escalated',
      'escalated',
    ]);
  });

  it('does nothing for a deadline that was met', async () => {
    const c = await assignedComplaint('客服态度很差，挂电话');
    const met = withTimers({ ...c, ...meetClock(c, 'acknowledge', now), version: c.version + 1 }, ctx.policy);
    await ctx.store.update({ next: met, expectedVersion: c.version, timeline: [] });
    const ack = c.deadlines.acknowledge;
    now = new Date(ack?.dueAt ?? '');
    const before = publisher.events.length;
    const outcome = await handleSlaTimer(ctx, {
      version: 1,
      complaintId: c.id,
      kind: 'clock_due',
      clock: 'acknowledge',
      at: ack?.dueAt ?? '',
    });
    expect(outcome.applied).toEqual([]);
    expect(publisher.events.length).toBe(before);
  });

  it('acts once when the timer is delivered twice and the sweep races it', async () => {
    const c = await assignedComplaint('客服不理人，没人回复');
    const ack = c.deadlines.acknowledge;
    const payload = scheduler.payload(`${c.id}-ack-due`);
    now = new Date(Date.parse(ack?.dueAt ?? '') + 5 * 60_000);
    await Promise.all([
      handleSlaTimer(ctx, payload),
      handleSlaTimer(ctx, payload),
      sweepDueDeadlines(ctx, { graceSeconds: 60 }),
    ]);
    expect(
      events(DETAIL_TYPES.slaBreached, c.id).filter((e) => e.detail.data.clock === 'acknowledge'),
    ).toHaveLength(1);
    expect(
      events(DETAIL_TYPES.escalated, c.id).filter((e) => e.detail.data.clock === 'acknowledge'),
    ).toHaveLength(1);
    const log = (await ctx.store.get(c.id))?.clockLog
      .filter((e) => e.clock === 'acknowledge')
      .map((e) => e.event);
    expect(log?.filter((e) => e === 'breached')).toHaveLength(1);
  });

  it('recovers a lost timer through the sweep, and the sweep finds nothing more afterwards', async () => {
    const c = await assignedComplaint('客服态度差，推诿');
    scheduler.scheduled.delete(`${c.id}-ack-warn`); // the timer is lost
    const ack = c.deadlines.acknowledge;
    now = new Date(Date.parse(ack?.warnAt ?? '') + 2 * 60_000);
    const first = await sweepDueDeadlines(ctx, { graceSeconds: 60 });
    expect(first.applied).toBeGreaterThanOrEqual(1);
    const warning = events(DETAIL_TYPES.slaWarning, c.id);
    expect(warning.map((e) => e.detail.data.detectedBy)).toEqual(['sweep']);
    await sweepDueDeadlines(ctx, { graceSeconds: 60 });
    expect(events(DETAIL_TYPES.slaWarning, c.id)).toHaveLength(1);
  });

  it('sends the survey when it is due and closes the complaint when nobody answers', async () => {
    const c = await assignedComplaint('客服态度很差');
    const sendAt = '2026-11-26T02:00:00.000Z';
    const resolved = withTimers(
      {
        ...c,
        version: c.version + 1,
        status: 'resolved',
        deadlines: {},
        survey: { sendAt },
      },
      ctx.policy,
    );
    await ctx.store.update({ next: resolved, expectedVersion: c.version, timeline: [] });
    expect(resolved.timers[`${c.id}-survey-send`]).toBe(sendAt);
    now = new Date(sendAt);
    await handleSurveyTimer(ctx, { version: 1, complaintId: c.id, kind: 'survey_send', at: sendAt });
    expect(events(DETAIL_TYPES.surveyRequested, c.id)).toHaveLength(1);
    const afterSend = await ctx.store.get(c.id);
    const closesAt = afterSend?.survey?.closesAt ?? '';
    expect(closesAt).toBe('2026-12-03T02:00:00.000Z'); // 7 calendar days
    expect(afterSend?.timers).toEqual({ [`${c.id}-survey-close`]: closesAt });

    now = new Date(closesAt);
    await handleSurveyTimer(ctx, { version: 1, complaintId: c.id, kind: 'survey_close', at: closesAt });
    const closed = await ctx.store.get(c.id);
    expect(closed?.status).toBe('closed');
    expect(closed?.survey?.outcome).toBe('unanswered');
    expect(closed?.timers).toEqual({});
    expect(events(DETAIL_TYPES.closed, c.id)).toHaveLength(1);
  });

  it('alerts the executive on duty at once for a major complaint', async () => {
    const c = await assignedComplaint('我的个人信息被泄露了，身份证号和银行卡都被人知道了');
    const escalations = events(DETAIL_TYPES.escalated, c.id);
    expect(escalations.map((e) => [e.detail.data.reason, e.detail.data.role, e.detail.data.contact])).toEqual(
      [['major_at_intake', 'executive_on_duty', 'exec.on_duty']],
    );
  });
});

describe('the hand-off from intake to classification (shared/domain/handoff.ts)', () => {
  const received = (id: string) =>
    publisher.events.filter(
      (e) => e.detailType === DETAIL_TYPES.complaintReceived && e.detail.data.complaintId === id,
    );
  const sweepAt = (base: string, seconds: number) => {
    now = new Date(Date.parse(base) + seconds * 1000);
    return sweepDueDeadlines(ctx, { graceSeconds: 60 });
  };

  it('publishes again the intake events of a complaint whose publish failed, backing off, once under racing sweeps, and no more once it is classified', async () => {
    const t0 = '2026-11-24T02:00:00.000Z';
    now = new Date(t0);
    const before = new Set(
      (await ctx.store.listByDepartment(UNROUTED, 'received', { limit: 100 })).items.map((i) => i.id),
    );
    publisher.failNext = 1; // the write commits, the publish fails: the caller is told 5xx and has no key to retry with
    const customer = `handoff-${++seq}`;
    await expect(
      receiveComplaint(ctx, {
        submission: ComplaintSubmissionSchema.parse(
          submission({ customer: { id: customer }, description: '快递丢了，没人管' }),
        ),
        sourceSystem: 'test',
        messageId: customer,
        submitter: { kind: 'producer', source: 'test' },
        idempotency: { kind: 'event', source: 'test', messageId: customer },
      }),
    ).rejects.toThrow(/outage/);
    const waiting = (await ctx.store.listByDepartment(UNROUTED, 'received', { limit: 100 })).items.filter(
      (i) => !before.has(i.id),
    );
    expect(waiting).toHaveLength(1);
    const id = waiting[0]?.id as string;
    expect(received(id)).toHaveLength(0);

    // Within the grace: classification may still be on its way.
    expect((await sweepAt(t0, 30)).handoffsRepaired).toBe(0);
    // Past it: two sweeps racing repair once, with intake's own event ids and the tracking link.
    const [a, b] = await Promise.all([sweepAt(t0, 61), sweepAt(t0, 61)]);
    expect(a.handoffsRepaired + b.handoffsRepaired).toBe(1);
    expect(received(id).map((e) => e.detail.metadata.eventId)).toEqual([`${id}:received`]);
    const ack = publisher.events.filter(
      (e) => e.detailType === DETAIL_TYPES.customerNotificationRequested && e.detail.data.complaintId === id,
    );
    expect(ack.map((e) => e.detail.data.template)).toEqual(['acknowledgement']);
    expect(String(ack[0]?.detail.data.trackingPath)).toMatch(/^\/track\//);
    const repaired = await ctx.store.get(id);
    expect(repaired?.handoff).toEqual({
      repairs: 1,
      lastAt: new Date(Date.parse(t0) + 61_000).toISOString(),
    });
    expect((await ctx.store.timeline(id)).filter((e) => e.type === 'handoff_repaired')).toHaveLength(1);

    // Backing off: the next repair waits twice the grace after the last one.
    expect((await sweepAt(t0, 61 + 119)).handoffsRepaired).toBe(0);
    expect((await sweepAt(t0, 61 + 121)).handoffsRepaired).toBe(1);
    expect(received(id)).toHaveLength(2);

    // Classified: nothing more to repair, whatever the time.
    now = new Date(Date.parse(t0) + 200_000);
    await classifyComplaint(ctx, id);
    expect((await sweepAt(t0, 3600)).handoffsRepaired).toBe(0);
    expect(received(id)).toHaveLength(2);
  });
});
