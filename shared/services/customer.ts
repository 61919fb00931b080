import { createHash } from 'node:crypto';
import type { CustomerReply, CustomerView, SurveyAnswer } from '../api/schemas';
import { toCustomerView } from '../api/views';
import { escalationContact, restartClocks, resumeClocks, stopClocks } from '../domain/clocks';
import type { Complaint } from '../domain/complaint';
import { hashToken } from '../domain/identifiers';
import { type ComplaintStatus, canTransition, isOpen, transition } from '../domain/lifecycle';
import { admitCustomerReply, ComplaintBusyError, checkTextFields, checkTimelineRoom } from '../domain/limits';
import { formatDueForCustomer } from '../domain/sla';
import { SOURCES } from '../events/names';
import { type Actor, buildEvent, type OutboundEvent } from '../events/schemas';
import type { Language } from '../policy/vocabulary';
import { type ComplaintUpdate, ConcurrencyConflictError, type TimelineEntry } from '../storage/ports';
import { actionEvent, notificationEvent, replayData, replayOwnWrite } from './actions';
import type { ServiceContext } from './context';
import { readLatestEntries, readTimelinePage } from './timeline-page';
import { syncTimers, withTimers } from './timers';

/**
 * The customer side: the tracking page, replies and the satisfaction survey, all
 * reached through the unguessable tracking token from intake (only its hash is
 * stored). An unknown token and a malformed one answer the same 404, so the endpoint
 * says nothing about which complaints exist.
 *
 * A reply on a resolved complaint, or a survey score at or below the policy threshold,
 * reopens the complaint: the clocks restart, and the reopening itself escalates — the
 * n-th reopening alerts level n of the chain (team lead, then department head, then
 * the executive on duty), and the next breach escalates above it.
 *
 * An identical request repeated right after it succeeded (a double click, a retry
 * after a lost response) is recognised on the timeline and answered with the same
 * result, republishing its events, instead of being recorded twice.
 */

export class TrackingNotFoundError extends Error {
  override name = 'TrackingNotFoundError';
  constructor() {
    super('No complaint matches this link');
  }
}

export type CustomerConflictCode = 'AlreadyAnswered' | 'SurveyNotOpen' | 'NotAccepting';

/** The request does not fit the complaint's state (closed, already answered…): 409. */
export class CustomerConflictError extends Error {
  override name = 'CustomerConflictError';
  constructor(
    readonly code: CustomerConflictCode,
    message: string,
  ) {
    super(message);
  }
}

/** Tokens are 16 random bytes, base64url: anything else cannot match and is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const CUSTOMER: Actor = { type: 'customer', id: 'customer', role: 'customer' };

async function findByToken(ctx: ServiceContext, token: string): Promise<Complaint> {
  if (!TOKEN_PATTERN.test(token)) throw new TrackingNotFoundError();
  const complaint = await ctx.store.getByTrackingTokenHash(hashToken(token));
  if (complaint === undefined) throw new TrackingNotFoundError();
  return complaint;
}

/**
 * The customer's view of their complaint: the newest timeline page (timeline-page.ts)
 * (steps and messages), or the page before `before` (the previous view's `olderCursor`).
 */
export async function trackComplaint(
  ctx: ServiceContext,
  token: string,
  before?: string,
): Promise<CustomerView> {
  const complaint = await findByToken(ctx, token);
  const page = await readTimelinePage(ctx, complaint.id, before);
  return withOlder(toCustomerView(complaint, page.entries, ctx.policy, ctx.now()), page.olderCursor);
}

function withOlder(view: CustomerView, olderCursor: string | undefined): CustomerView {
  return olderCursor === undefined ? view : { ...view, olderCursor };
}

export interface CustomerResult {
  view: CustomerView;
  /** What the request did. */
  outcome: 'replied' | 'reopened' | 'satisfied';
  replayed: boolean;
  schedulingError?: unknown;
}

const REOPENED_TEXT = {
  zh: '您好，您的投诉 {number} 已重新打开，我们会在 {respondBy} 前再次答复您。',
  en: 'Hello, your complaint {number} has been reopened. We will get back to you by {respondBy}.',
} as const satisfies Record<Language, string>;

/** What a write changes and publishes; the shared tail (write, timers, publish) does the rest. */
interface CustomerWrite {
  next: Complaint;
  timeline: Array<Omit<TimelineEntry, 'at' | 'actor'>>;
  events: (after: Complaint) => OutboundEvent[];
  agentLoadChanges?: ComplaintUpdate['agentLoadChanges'];
  outcome: CustomerResult['outcome'];
}

/**
 * Reopens a resolved (or closed) complaint: status `reopened`, one more reopening,
 * the clocks restarted with their escalation level starting at the level this
 * reopening alerts, the previous proposal dropped (a new solution needs its own
 * approval), the owner's load counted again, and `Complaint Reopened` +
 * `Complaint Escalated` + a message to the customer.
 */
function planReopen(
  ctx: ServiceContext,
  c: Complaint,
  now: Date,
): {
  next: Complaint;
  entry: Omit<TimelineEntry, 'at' | 'actor'>;
  events: (after: Complaint) => OutboundEvent[];
  agentLoadChanges: NonNullable<ComplaintUpdate['agentLoadChanges']>;
} {
  const { policy, calendar } = ctx;
  const status = transition(c.status, 'reopen');
  const reopenCount = c.reopenCount + 1;
  const levels = [...policy.escalation.levels].sort((a, b) => a.level - b.level);
  const baseLevel = Math.min(reopenCount, levels.length);
  const level = levels[baseLevel - 1] ?? levels[levels.length - 1];
  if (level === undefined) throw new Error('The policy has no escalation levels');
  const { proposal: _dropped, ...rest } = c;
  const work = { ...c.work };
  delete work.waitingSince;
  const reopened: Complaint = { ...rest, status, reopenCount, work };
  const next: Complaint = {
    ...reopened,
    ...restartClocks(reopened, policy, calendar, now, level.level),
  };
  // The previous owner's supervisor: the lead department's team lead (higher roles on later reopenings).
  const contact = escalationContact(policy, next, level.role);
  const assignee = c.assignment?.assignee;
  return {
    next,
    entry: {
      type: 'reopened',
      summary: `Reopened by the customer (reopening ${reopenCount}); escalated to ${level.role}`,
      data: { reopenCount, escalation: { level: level.level, role: level.role, contact } },
    },
    events: (after) => {
      const respondBy = after.deadlines.firstResponse?.dueAt ?? after.promisedResponseBy;
      return [
        actionEvent('reopened', SOURCES.customer, after, {
          action: 'reopen',
          actor: CUSTOMER,
          previousStatus: c.status,
        }),
        buildEvent('escalated', SOURCES.customer, {
          metadata: {
            version: 1,
            eventId: `${after.id}:escalated:reopened:${after.version}`,
            occurredAt: after.updatedAt,
            correlationId: after.id,
          },
          data: {
            complaintId: after.id,
            number: after.number,
            level: level.level,
            role: level.role,
            contact,
            reason: 'reopened',
            leadDepartment: after.assignment?.leadDepartment,
            assignee: after.assignment?.assignee,
            detectedBy: 'action',
          },
        }),
        notificationEvent(
          SOURCES.customer,
          after,
          'reopened',
          REOPENED_TEXT[after.language]
            .replaceAll('{number}', after.number)
            .replaceAll(
              '{respondBy}',
              formatDueForCustomer(new Date(respondBy), after.language, policy.calendar.timeZone),
            ),
        ),
      ];
    },
    agentLoadChanges: assignee === undefined ? [] : [{ agentId: assignee, delta: 1 }],
  };
}

/**
 * The customer replies. Waiting on the customer: the paused clocks resume (the
 * waiting time does not count) and the complaint is back in progress. Resolved: the
 * reply reopens it. Any other open state: the reply is recorded and announced, the
 * status stays. Closed or rejected: 409 (the complaint no longer takes replies).
 */
export async function customerReply(
  ctx: ServiceContext,
  token: string,
  reply: CustomerReply,
): Promise<CustomerResult> {
  checkTextFields(ctx.policy.limits, { message: reply.message });
  return customerWrite(ctx, token, 'reply', reply, (c, now) => {
    const write = decideReply(ctx, c, now, reply);
    // Counted on the record: the versioned write that stores the reply stores the new counts.
    checkTimelineRoom(ctx.policy.limits, c, write.timeline.length);
    const usage = admitCustomerReply(ctx.policy.limits, c, now);
    return { ...write, next: { ...write.next, usage } };
  });
}

function decideReply(ctx: ServiceContext, c: Complaint, now: Date, reply: CustomerReply): CustomerWrite {
  if (c.status === 'closed' || c.status === 'rejected') {
    throw new CustomerConflictError('NotAccepting', 'This complaint is closed and no longer takes replies');
  }
  const replied: Omit<TimelineEntry, 'at' | 'actor'> = {
    type: 'customer_replied',
    summary: 'The customer replied',
    data: { message: reply.message },
  };
  const repliedEvent = (after: Complaint, previousStatus: ComplaintStatus) =>
    actionEvent('customerReplied', SOURCES.customer, after, {
      action: 'customer-reply',
      actor: CUSTOMER,
      previousStatus,
    });
  if (c.status === 'resolved') {
    const reopen = planReopen(ctx, c, now);
    return {
      next: reopen.next,
      timeline: [replied, reopen.entry],
      events: (after) => [repliedEvent(after, c.status), ...reopen.events(after)],
      agentLoadChanges: reopen.agentLoadChanges,
      outcome: 'reopened',
    };
  }
  if (!isOpen(c.status)) {
    throw new CustomerConflictError('NotAccepting', 'This complaint does not take replies now');
  }
  let next: Complaint = c;
  if (c.status === 'waiting_on_customer') {
    const work = { ...c.work };
    delete work.waitingSince;
    next = {
      ...c,
      ...resumeClocks(c, now, ctx.calendar),
      status: transition(c.status, 'customer_reply'),
      work,
    };
  } else if (canTransition(c.status, 'customer_reply')) {
    next = { ...c, status: transition(c.status, 'customer_reply') };
  }
  return {
    next,
    timeline: [
      c.status === 'waiting_on_customer'
        ? { ...replied, summary: 'The customer replied; clocks resumed' }
        : replied,
    ],
    events: (after) => [repliedEvent(after, c.status)],
    outcome: 'replied',
  };
}

/**
 * The customer answers the satisfaction survey, once. A score at or below the policy
 * threshold reopens the complaint; a better one closes it. Answering before the
 * survey request went out is fine while the complaint is resolved (the link is the
 * tracking link); after the answer window, or once the complaint moved on, it is 409.
 */
export async function answerSurvey(
  ctx: ServiceContext,
  token: string,
  answer: SurveyAnswer,
): Promise<CustomerResult> {
  return customerWrite(ctx, token, 'survey', answer, (c, now) => {
    if (c.survey?.answeredAt !== undefined) {
      throw new CustomerConflictError('AlreadyAnswered', 'The survey of this complaint was already answered');
    }
    if (c.status !== 'resolved') {
      throw new CustomerConflictError('SurveyNotOpen', 'There is no open survey for this complaint');
    }
    const closesAt = c.survey?.closesAt;
    if (closesAt !== undefined && Date.parse(closesAt) < now.getTime()) {
      throw new CustomerConflictError('SurveyNotOpen', 'The answer window of this survey has passed');
    }
    const at = now.toISOString();
    const survey = {
      ...(c.survey ?? { sendAt: at }),
      score: answer.score,
      ...(answer.comment === undefined ? {} : { comment: answer.comment }),
      answeredAt: at,
    };
    const answered: Omit<TimelineEntry, 'at' | 'actor'> = {
      type: 'survey_answered',
      summary: `Survey answered: ${answer.score}/5`,
      data: { score: answer.score },
    };
    const answeredEvent = (after: Complaint) =>
      actionEvent('surveyAnswered', SOURCES.customer, after, {
        action: 'survey-answer',
        actor: CUSTOMER,
        previousStatus: c.status,
        score: answer.score,
      });
    if (answer.score <= ctx.policy.survey.reopenAtOrBelow) {
      const reopen = planReopen(ctx, { ...c, survey: { ...survey, outcome: 'reopened' } }, now);
      return {
        next: reopen.next,
        timeline: [answered, reopen.entry],
        events: (after) => [answeredEvent(after), ...reopen.events(after)],
        agentLoadChanges: reopen.agentLoadChanges,
        outcome: 'reopened',
      };
    }
    const status = transition(c.status, 'close');
    return {
      next: { ...c, ...stopClocks(c, now), status, survey: { ...survey, outcome: 'satisfied' } },
      timeline: [answered, { type: 'closed', summary: 'Closed: the customer is satisfied' }],
      events: (after) => [
        answeredEvent(after),
        actionEvent('closed', SOURCES.customer, after, {
          action: 'close',
          actor: CUSTOMER,
          previousStatus: c.status,
        }),
      ],
      outcome: 'satisfied',
    };
  });
}

/**
 * Attempts of a write that keeps losing to concurrent writers on the same complaint. Generous,
 * because a flood of replies is decided one version at a time: each loser re-reads and re-decides
 * against the winner's counts (and soon gets the 429 of the hourly limit); the last losers get
 * {@link ComplaintBusyError}.
 */
const CONFLICT_ATTEMPTS = 16;

/**
 * The shared tail of a customer write: find the complaint by token, recognise a
 * repeat of the request that wrote its latest version, decide, write conditionally
 * (re-deciding from a fresh read when an agent or a timer wrote in between), change
 * the schedules, publish.
 */
async function customerWrite(
  ctx: ServiceContext,
  token: string,
  kind: 'reply' | 'survey',
  body: unknown,
  decide: (c: Complaint, now: Date) => CustomerWrite,
): Promise<CustomerResult> {
  let complaint = await findByToken(ctx, token);
  for (let attempt = 1; ; attempt++) {
    // Only the newest entries can hold the replay record of the latest write: a small read per
    // attempt, which matters when a flood of concurrent replies retries against each other.
    const latest = await readLatestEntries(ctx, complaint.id);
    const fingerprintOf = (version: number) =>
      createHash('sha256')
        .update(JSON.stringify([kind, complaint.id, version, body]))
        .digest('base64url')
        .slice(0, 22);
    const replay = await replayOwnWrite(ctx, complaint, latest, fingerprintOf(complaint.version - 1));
    if (replay !== undefined) {
      return {
        view: await currentView(ctx, complaint),
        outcome: outcomeOf(complaint, kind),
        replayed: true,
      };
    }
    const now = ctx.now();
    const write = decide(complaint, now);
    const next = withTimers(
      { ...write.next, version: complaint.version + 1, updatedAt: now.toISOString() },
      ctx.policy,
    );
    const events = write.events(next);
    const entries: TimelineEntry[] = write.timeline.map((entry, i) => ({
      ...entry,
      // One write, several entries (reply, then reopening): 1 ms apart, so the timeline keeps their order.
      at: new Date(now.getTime() + i).toISOString(),
      actor: 'customer',
      // The first entry carries the write's replay record.
      data:
        i === 0
          ? { ...entry.data, ...replayData(next, complaint.status, fingerprintOf(complaint.version), events) }
          : entry.data,
    }));
    try {
      await ctx.store.update({
        next,
        expectedVersion: complaint.version,
        timeline: entries,
        agentLoadChanges: write.agentLoadChanges,
      });
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError)) throw error;
      if (attempt >= CONFLICT_ATTEMPTS) throw new ComplaintBusyError();
      // Jittered, growing pause: concurrent losers spread out instead of colliding again.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt, 8)));
      const fresh = await ctx.store.get(complaint.id);
      if (fresh === undefined) throw new TrackingNotFoundError();
      complaint = fresh;
      continue;
    }
    let schedulingError: unknown;
    try {
      await syncTimers(ctx, complaint, next);
    } catch (error) {
      schedulingError = error;
    }
    await ctx.publisher.publish(events);
    return {
      view: await currentView(ctx, next),
      outcome: write.outcome,
      replayed: false,
      ...(schedulingError === undefined ? {} : { schedulingError }),
    };
  }
}

/** The customer's view of the complaint as stored now (the newest timeline page, read consistently). */
async function currentView(ctx: ServiceContext, c: Complaint): Promise<CustomerView> {
  const page = await readTimelinePage(ctx, c.id);
  return withOlder(toCustomerView(c, page.entries, ctx.policy, ctx.now()), page.olderCursor);
}

function outcomeOf(c: Complaint, kind: 'reply' | 'survey'): CustomerResult['outcome'] {
  if (c.status === 'reopened') return 'reopened';
  return kind === 'survey' ? 'satisfied' : 'replied';
}
