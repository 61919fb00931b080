import { complaintFingerprint, complaintText, detectLanguage } from '../domain/classification';
import type { Complaint, ComplaintSubmission } from '../domain/complaint';
import { hashToken, newComplaintId, newComplaintNumber, newTrackingToken } from '../domain/identifiers';
import { computeDeadlines, formatDueForCustomer } from '../domain/sla';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { Language, Policy } from '../policy/schema';
import type { ServiceContext } from './context';

/** How one channel message enters the service. */
export interface IntakeRequest {
  submission: ComplaintSubmission;
  /** The producer system (HTTP API: `api`; events: the event source). */
  sourceSystem: string;
  /** The producer's message id; the same id twice is the same complaint. */
  messageId: string;
}

export interface IntakeResult {
  complaintId: string;
  number: string;
  trackingToken: string;
  status: Complaint['status'];
  acknowledgement: { text: string; respondBy: string; language: Language };
  /** True when this message was seen before and the earlier complaint is returned. */
  replayed: boolean;
}

const MAX_NUMBER_ATTEMPTS = 5;

/** Unknown or missing tiers fall back to the policy's default tier (noted on the timeline). */
export function resolveTier(policy: Policy, requested: string | undefined): string {
  return requested !== undefined && policy.tiers.some((t) => t.id === requested)
    ? requested
    : policy.defaultTier;
}

/**
 * Accepts a complaint: numbers it, stores it with its idempotency claim and tracking
 * token in one transaction, and publishes `Complaint Received` plus the
 * acknowledgement for the customer. A replay (same source and message id)
 * returns the stored complaint and publishes the same events again with the same
 * event ids, so a crash between the write and the publish loses nothing.
 */
export async function receiveComplaint(ctx: ServiceContext, request: IntakeRequest): Promise<IntakeResult> {
  const { policy, calendar, store } = ctx;
  const now = ctx.now();
  const { submission } = request;
  const tier = resolveTier(policy, submission.customer.tier);
  const language =
    submission.customer.language ?? detectLanguage(complaintText(submission), policy.defaultLanguage);
  // Before classification only the tier is known: promise what the category-agnostic
  // row for this tier allows; classification later never sets a later first-response deadline.
  const promise = computeDeadlines(policy, calendar, {
    category: '*',
    severity: policy.severity.default,
    tier,
    from: now,
    clocks: ['acknowledge', 'firstResponse'],
  });
  if (promise.acknowledge === undefined || promise.firstResponse === undefined) {
    throw new Error('The SLA matrix gave no acknowledgement or first-response target');
  }
  const id = newComplaintId(now);
  const trackingToken = newTrackingToken();
  const complaint: Complaint = {
    id,
    number: newComplaintNumber(now, policy.calendar.timeZone),
    version: 1,
    status: 'received',
    source: { system: request.sourceSystem, messageId: request.messageId },
    submission,
    tier,
    language,
    receivedAt: now.toISOString(),
    promisedResponseBy: promise.firstResponse.dueAt,
    fingerprint: complaintFingerprint(submission),
    deadlines: { acknowledge: promise.acknowledge },
    clockLog: [],
    timers: {},
    work: {},
    reopenCount: 0,
    trackingTokenHash: hashToken(trackingToken),
    updatedAt: now.toISOString(),
  };
  const idempotencyKey = idempotencyKeyFor(complaint.source);
  const notes =
    submission.customer.tier !== undefined && submission.customer.tier !== tier
      ? ` (unknown tier "${submission.customer.tier}", using "${tier}")`
      : '';

  for (let attempt = 1; attempt <= MAX_NUMBER_ATTEMPTS; attempt++) {
    const result = await store.create({
      complaint,
      idempotencyKey,
      trackingToken,
      trackingTokenHash: hashToken(trackingToken),
      timeline: [
        {
          at: complaint.receivedAt,
          type: 'received',
          actor: `system:intake`,
          summary: `Received via ${submission.channel}${notes}`,
          data: { channel: submission.channel, sourceSystem: request.sourceSystem, tier },
        },
      ],
    });
    if (result.outcome === 'created') {
      await ctx.publisher.publish(intakeEvents(policy, complaint, trackingToken));
      return intakeResult(policy, complaint, trackingToken, false);
    }
    if (result.outcome === 'duplicate') {
      const existing = await store.get(result.complaintId);
      if (existing === undefined)
        throw new Error(`Idempotency record points at missing complaint ${result.complaintId}`);
      await ctx.publisher.publish(intakeEvents(policy, existing, result.trackingToken));
      return intakeResult(policy, existing, result.trackingToken, true);
    }
    complaint.number = newComplaintNumber(now, policy.calendar.timeZone);
  }
  throw new Error(`Could not claim a unique complaint number after ${MAX_NUMBER_ATTEMPTS} attempts`);
}

/**
 * The idempotency key a complaint was claimed under, from its stored source: `<source>#<message id>`
 * (imports: `import#<system>#<external id>`). Erasure finds the claim through it.
 */
export function idempotencyKeyFor(source: Complaint['source']): string {
  return `${source.system}#${source.messageId}`;
}

export function trackingPath(token: string): string {
  return `/track/${token}`;
}

function acknowledgementText(
  policy: Policy,
  complaint: Complaint,
  token: string,
): { text: string; respondBy: string } {
  const respondBy = formatDueForCustomer(
    new Date(complaint.promisedResponseBy),
    complaint.language,
    policy.calendar.timeZone,
  );
  const text = policy.messages.acknowledgement[complaint.language]
    .replaceAll('{number}', complaint.number)
    .replaceAll('{respondBy}', respondBy)
    .replaceAll('{trackingUrl}', trackingPath(token));
  return { text, respondBy };
}

function intakeResult(policy: Policy, complaint: Complaint, token: string, replayed: boolean): IntakeResult {
  const { text } = acknowledgementText(policy, complaint, token);
  return {
    complaintId: complaint.id,
    number: complaint.number,
    trackingToken: token,
    status: complaint.status,
    acknowledgement: { text, respondBy: complaint.promisedResponseBy, language: complaint.language },
    replayed,
  };
}

function intakeEvents(policy: Policy, complaint: Complaint, token: string): OutboundEvent[] {
  const metadata = (what: string) => ({
    version: 1 as const,
    eventId: `${complaint.id}:${what}`,
    occurredAt: complaint.receivedAt,
    correlationId: complaint.id,
  });
  const { customer } = complaint.submission;
  return [
    buildEvent('complaintReceived', SOURCES.intake, {
      metadata: metadata('received'),
      data: {
        complaintId: complaint.id,
        number: complaint.number,
        channel: complaint.submission.channel,
        tier: complaint.tier,
        language: complaint.language,
        receivedAt: complaint.receivedAt,
        promisedResponseBy: complaint.promisedResponseBy,
        sourceSystem: complaint.source.system,
      },
    }),
    buildEvent('customerNotificationRequested', SOURCES.intake, {
      metadata: metadata('notification:acknowledgement'),
      data: {
        complaintId: complaint.id,
        number: complaint.number,
        template: 'acknowledgement',
        language: complaint.language,
        channel: complaint.submission.channel,
        customer: { id: customer.id, contactRef: customer.contactRef },
        text: acknowledgementText(policy, complaint, token).text,
        trackingPath: trackingPath(token),
      },
    }),
  ];
}
