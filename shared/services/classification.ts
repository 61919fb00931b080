import { classify, rejectionMessage } from '../domain/classification';
import type { Classification, ClockName, Complaint, Deadline } from '../domain/complaint';
import { transition } from '../domain/lifecycle';
import { computeDeadlines } from '../domain/sla';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { Policy } from '../policy/schema';
import { ComplaintNotFoundError, type TimelineEntry } from '../storage/ports';
import { PoisonMessageError, type ServiceContext } from './context';
import { retryOnConflict } from './retry';
import { syncTimers, withTimers } from './timers';

/**
 * `concurrent`: another delivery of the same `Complaint Received` classified the complaint while
 * this one was working on it; that delivery writes the timers and publishes the events.
 */
export type ClassificationOutcome = 'classified' | 'rejected' | 'republished' | 'concurrent';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Classifies a received complaint (category, severity, validity, repeat, priority),
 * computes its SLA deadlines and publishes `Complaint Classified`, or rejects it
 * politely (`Complaint Rejected` + the reason for the customer).
 *
 * Idempotent: a complaint already past `received` is not classified again; its
 * stored outcome is published again with the same event ids (the earlier publish
 * may have failed after the write).
 *
 * Two deliveries of the same event may race (at-least-once delivery): the loser's
 * versioned write conflicts, and it decides again from a fresh read instead of
 * failing the message (which would come back only after the visibility timeout).
 * If the complaint is classified by then, the winner owns the timers and the events:
 * the loser succeeds without publishing anything. Any other concurrent change (a
 * customer reply, an agent's note) is retried.
 */
export async function classifyComplaint(
  ctx: ServiceContext,
  complaintId: string,
): Promise<ClassificationOutcome> {
  let attempt = 0;
  return retryOnConflict(() => classifyOnce(ctx, complaintId, ++attempt > 1));
}

async function classifyOnce(
  ctx: ServiceContext,
  complaintId: string,
  afterConflict: boolean,
): Promise<ClassificationOutcome> {
  const { store, policy } = ctx;
  const complaint = await store.get(complaintId);
  if (complaint === undefined) throw new PoisonMessageError(new ComplaintNotFoundError(complaintId).message);
  if (complaint.classification !== undefined) {
    // A concurrent delivery won the race: its write is done and its publish is under way (or it
    // fails and its own message is redelivered, which republishes below). Nothing left to do here.
    if (afterConflict) return 'concurrent';
    // Redelivery: make sure the timers the stored state calls for exist (create is idempotent).
    await syncTimers(ctx, { timers: {} }, complaint);
    await ctx.publisher.publish(classificationEvents(policy, complaint));
    return 'republished';
  }
  const now = ctx.now();
  const since = new Date(now.getTime() - policy.repeat.windowDays * DAY_MS).toISOString();
  // Only the complaints of the same namespace: an anonymous claim of a known customer's id neither
  // sees nor feeds that customer's repeat and duplicate detection (#10).
  const recent = (
    await store.recentByCustomer(complaint.submission.customer.id, since, complaint.customerNamespace)
  ).filter((r) => r.id !== complaint.id);
  const classified = classify(
    policy,
    {
      submission: complaint.submission,
      tier: complaint.tier,
      now,
      selfId: complaint.id,
      receivedAt: new Date(complaint.receivedAt),
    },
    { recent },
  );
  const classification: Classification = {
    ...classified,
    duplicateOfNumber: recent.find((r) => r.id === classified.duplicateOf)?.number,
  };
  const valid = classification.validity === 'valid';
  const deadlines = valid ? classifiedDeadlines(ctx, complaint, classification) : {};
  const next: Complaint = withTimers(
    {
      ...complaint,
      version: complaint.version + 1,
      status: transition(complaint.status, valid ? 'classify' : 'reject'),
      classification,
      deadlines,
      clockLog: [
        ...complaint.clockLog,
        ...Object.entries(deadlines).map(([clock, d]) => ({
          at: d?.startedAt ?? complaint.receivedAt,
          clock: clock as ClockName,
          event: 'started' as const,
          detail: { dueAt: d?.dueAt ?? '', basis: d?.basis ?? 'calendar' },
        })),
      ],
      updatedAt: now.toISOString(),
    },
    ctx.policy,
  );
  const entry: TimelineEntry = valid
    ? {
        at: now.toISOString(),
        type: 'classified',
        actor: 'system:classification',
        summary: `Classified as ${classification.category} / ${classification.severity}, priority P${classification.priority}${classification.repeat.isRepeat ? ', repeat complaint' : ''}`,
        data: {
          category: classification.category,
          severity: classification.severity,
          priority: classification.priority,
          severityRules: classification.severityRules,
          matchedKeywords: classification.matchedKeywords,
          repeatOf: classification.repeat.previous,
        },
      }
    : {
        at: now.toISOString(),
        type: 'rejected',
        actor: 'system:classification',
        summary: `Rejected as ${classification.validity}`,
        data: { verdict: classification.validity, duplicateOf: classification.duplicateOf },
      };
  const duplicateOf = classification.duplicateOf;
  await store.update({
    next,
    expectedVersion: complaint.version,
    timeline: [entry],
    relatedTimeline:
      duplicateOf === undefined
        ? undefined
        : [
            {
              complaintId: duplicateOf,
              entry: {
                at: now.toISOString(),
                type: 'duplicate_submission',
                actor: 'customer',
                summary: `The customer submitted this again as ${complaint.number}`,
                data: { duplicateId: complaint.id, channel: complaint.submission.channel },
              },
            },
          ],
  });
  // After the write: a failure here leaves the timers in the record (and the sweep
  // index), so the backstop sweep still acts on time; the retried message re-applies.
  await syncTimers(ctx, complaint, next);
  await ctx.publisher.publish(classificationEvents(policy, next));
  return valid ? 'classified' : 'rejected';
}

/** Deadlines from the full SLA row; the first response never later than what the customer was promised. */
function classifiedDeadlines(
  ctx: ServiceContext,
  complaint: Complaint,
  classification: Classification,
): Complaint['deadlines'] {
  const deadlines = computeDeadlines(ctx.policy, ctx.calendar, {
    category: classification.category,
    severity: classification.severity,
    tier: complaint.tier,
    from: new Date(complaint.receivedAt),
  });
  const promised = complaint.promisedResponseBy;
  const first: Deadline | undefined = deadlines.firstResponse;
  if (first !== undefined && first.dueAt > promised) {
    deadlines.firstResponse = {
      ...first,
      dueAt: promised,
      warnAt: [first.warnAt, promised].sort()[0] ?? promised,
    };
  }
  return deadlines;
}

function classificationEvents(policy: Policy, complaint: Complaint): OutboundEvent[] {
  const c = complaint.classification;
  if (c === undefined) return [];
  const metadata = (what: string) => ({
    version: 1 as const,
    eventId: `${complaint.id}:${what}:${c.classifiedAt}`,
    occurredAt: c.classifiedAt,
    correlationId: complaint.id,
  });
  const ref = { complaintId: complaint.id, number: complaint.number };
  if (c.validity === 'valid') {
    return [
      buildEvent('complaintClassified', SOURCES.classification, {
        metadata: metadata('classified'),
        data: {
          ...ref,
          channel: complaint.submission.channel,
          category: c.category,
          severity: c.severity,
          priority: c.priority,
          tier: complaint.tier,
          language: complaint.language,
          isRepeat: c.repeat.isRepeat,
          severityRules: c.severityRules,
          deadlines: complaint.deadlines,
        },
      }),
    ];
  }
  const duplicate = c.duplicateOf;
  const reason = rejectionMessage(policy, c.validity, complaint.language, {
    number: c.duplicateOfNumber ?? complaint.number,
  });
  return [
    buildEvent('complaintRejected', SOURCES.classification, {
      metadata: metadata('rejected'),
      data: {
        ...ref,
        channel: complaint.submission.channel,
        verdict: c.validity,
        duplicateOf: duplicate,
        language: complaint.language,
        reason,
        contestable: c.validity !== 'duplicate',
      },
    }),
    buildEvent('customerNotificationRequested', SOURCES.classification, {
      metadata: metadata('notification:rejection'),
      data: {
        ...ref,
        template: 'rejection',
        language: complaint.language,
        channel: complaint.submission.channel,
        customer: {
          id: complaint.submission.customer.id,
          contactRef: complaint.submission.customer.contactRef,
        },
        text: reason,
      },
    }),
  ];
}
