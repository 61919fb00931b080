import { evaluateTimer, type TimerDecision } from '../domain/clocks';
import type { Complaint } from '../domain/complaint';
import { transition } from '../domain/lifecycle';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { TimerPayload } from '../scheduling/timers';
import type { ServiceContext } from './context';
import { retryOnConflict } from './retry';
import { applyDecisions } from './sla';
import { syncTimers, withTimers } from './timers';

/** A survey timer fired (EventBridge Scheduler → survey function). */
export async function handleSurveyTimer(
  ctx: ServiceContext,
  payload: TimerPayload,
): Promise<{ applied: string[] }> {
  return retryOnConflict(async () => {
    const complaint = await ctx.store.get(payload.complaintId);
    if (complaint === undefined) return { applied: [] };
    return applyDecisions(ctx, complaint, evaluateTimer(complaint, payload, ctx.now()), 'timer');
  });
}

const SURVEY_TEXT = {
  zh: '您好，您的投诉 {number} 已处理完毕。请您为本次处理打分（1–5 分），并告诉我们您的意见，这将帮助我们改进服务。',
  en: 'Hello, your complaint {number} has been resolved. Please rate how we handled it (1–5) and tell us what you think; it helps us improve.',
} as const;

/**
 * survey_send: the survey request goes out (Survey Requested + the customer
 * message) and the answer window opens. survey_close: no answer in the window — the
 * complaint closes as unanswered. Returns the new record, or undefined when the
 * decision no longer applies (e.g. the customer answered meanwhile).
 */
export async function handleSurveyDecision(
  ctx: ServiceContext,
  complaint: Complaint,
  decision: TimerDecision,
): Promise<Complaint | undefined> {
  const now = ctx.now();
  const survey = complaint.survey;
  if (survey === undefined || complaint.status !== 'resolved') return undefined;
  let next: Complaint;
  let events: OutboundEvent[];
  const ref = { complaintId: complaint.id, number: complaint.number };
  const customer = {
    id: complaint.submission.customer.id,
    contactRef: complaint.submission.customer.contactRef,
  };
  if (decision.kind === 'survey_send') {
    if (survey.requestedAt !== undefined) return undefined;
    const closesAt = ctx.calendar.add(now, ctx.policy.survey.answerWindow).toISOString();
    next = withTimers(
      {
        ...complaint,
        version: complaint.version + 1,
        survey: { ...survey, requestedAt: now.toISOString(), closesAt },
        updatedAt: now.toISOString(),
      },
      ctx.policy,
    );
    const metadata = (what: string) => ({
      version: 1 as const,
      eventId: `${complaint.id}:${what}:${survey.sendAt}`,
      occurredAt: now.toISOString(),
      correlationId: complaint.id,
    });
    events = [
      buildEvent('surveyRequested', SOURCES.survey, {
        metadata: metadata('survey-requested'),
        data: { ...ref, language: complaint.language, customer, answerBy: closesAt },
      }),
      buildEvent('customerNotificationRequested', SOURCES.survey, {
        metadata: metadata('notification:survey'),
        data: {
          ...ref,
          template: 'survey',
          language: complaint.language,
          channel: complaint.submission.channel,
          customer,
          text: SURVEY_TEXT[complaint.language].replace('{number}', complaint.number),
        },
      }),
    ];
  } else if (decision.kind === 'survey_close') {
    if (survey.answeredAt !== undefined || survey.requestedAt === undefined) return undefined;
    const status = transition(complaint.status, 'close');
    next = withTimers(
      {
        ...complaint,
        version: complaint.version + 1,
        status,
        survey: { ...survey, outcome: 'unanswered' },
        updatedAt: now.toISOString(),
      },
      ctx.policy,
    );
    events = [
      buildEvent('closed', SOURCES.survey, {
        metadata: {
          version: 1,
          eventId: `${complaint.id}:close:${next.version}`,
          occurredAt: now.toISOString(),
          correlationId: complaint.id,
        },
        data: {
          ...ref,
          action: 'close',
          actor: { type: 'system', id: 'survey', role: 'system' },
          previousStatus: complaint.status,
          status,
          leadDepartment: complaint.assignment?.leadDepartment,
          assignee: complaint.assignment?.assignee,
        },
      }),
    ];
  } else {
    return undefined;
  }
  await ctx.store.update({
    next,
    expectedVersion: complaint.version,
    timeline: [
      {
        at: now.toISOString(),
        type: decision.kind === 'survey_send' ? 'survey_requested' : 'closed',
        actor: 'system:survey',
        summary:
          decision.kind === 'survey_send'
            ? 'Satisfaction survey sent'
            : 'Closed: the survey was not answered in time',
      },
    ],
  });
  await syncTimers(ctx, complaint, next);
  await ctx.publisher.publish(events);
  return next;
}
