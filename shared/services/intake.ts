import { complaintFingerprint, complaintText, detectLanguage } from '../domain/classification';
import type { Complaint, ComplaintSubmission } from '../domain/complaint';
import { claimExpires, IdempotencyKeyReusedError, type IdempotencyScope } from '../domain/idempotency';
import { newComplaintId, newComplaintNumber } from '../domain/identifiers';
import { computeDeadlines, formatDueForCustomer } from '../domain/sla';
import { applyTrust, consultsDirectory, type Submitter, type TrustedSubmission } from '../domain/trust';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { Policy } from '../policy/schema';
import type { Language } from '../policy/vocabulary';
import type { ServiceContext } from './context';
import { idempotencyClaim, sameRequest, trackingTokenOf } from './idempotency';

/** How one channel message enters the service. */
export interface IntakeRequest {
  submission: ComplaintSubmission;
  /** The producer system (HTTP API: `api`; events: the event source). */
  sourceSystem: string;
  /** The producer's message id (recorded on the complaint). */
  messageId: string;
  /** Who submits: decides which priority-raising facts count and whose word the customer id is (shared/domain/trust.ts). */
  submitter: Submitter;
  /**
   * Where the idempotency claim is made (HTTP callers, each event source, each imported system apart):
   * the same scope and id with the same submission is the same complaint; with another submission it
   * is refused (`IdempotencyKeyReusedError`).
   */
  idempotency: IdempotencyScope;
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

/**
 * Accepts a complaint: numbers it, stores it with its idempotency claim and tracking
 * token hash in one transaction, and publishes `Complaint Received` plus the
 * acknowledgement for the customer. A replay (same scope and id, same submission)
 * returns the stored complaint with its token derived again, and publishes the same
 * events again with the same event ids, so a crash between the write and the publish
 * loses nothing. The same scope and id with another submission throws
 * `IdempotencyKeyReusedError`, which names nothing of the first complaint.
 */
export async function receiveComplaint(ctx: ServiceContext, request: IntakeRequest): Promise<IntakeResult> {
  const { policy, calendar, store } = ctx;
  const now = ctx.now();
  // Who may state what (#10): anonymous callers never their own importance, and their customer id is
  // a claim the directory is not asked about.
  const directoryTier = consultsDirectory(request.submitter)
    ? (await store.customerDirectoryEntry(request.submission.customer.id))?.tier
    : undefined;
  const trusted = applyTrust(policy, request.submission, request.submitter, directoryTier);
  const { submission, tier } = trusted;
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
  const tracking = await trackingTokenOf(ctx.keys, id);
  const claim = await idempotencyClaim(ctx.keys, request.idempotency, submission);
  const complaint: Complaint = {
    id,
    number: newComplaintNumber(now, policy.calendar.timeZone),
    version: 1,
    status: 'received',
    source: { system: request.sourceSystem, messageId: request.messageId, claim: claim.key },
    submission,
    tier,
    tierSource: trusted.tierSource,
    customerNamespace: trusted.customerNamespace,
    language,
    receivedAt: now.toISOString(),
    promisedResponseBy: promise.firstResponse.dueAt,
    fingerprint: complaintFingerprint(submission),
    deadlines: { acknowledge: promise.acknowledge },
    clockLog: [],
    timers: {},
    work: {},
    reopenCount: 0,
    trackingTokenHash: tracking.hash,
    updatedAt: now.toISOString(),
  };
  const notes = trustNotes(trusted);

  for (let attempt = 1; attempt <= MAX_NUMBER_ATTEMPTS; attempt++) {
    const result = await store.create({
      complaint,
      idempotencyKey: claim.key,
      requestFingerprint: claim.fingerprint,
      trackingTokenHash: tracking.hash,
      idempotencyExpires: claimExpires(request.idempotency),
      timeline: [
        {
          at: complaint.receivedAt,
          type: 'received',
          actor: `system:intake`,
          summary: `Received via ${submission.channel}${notes}`,
          data: {
            channel: submission.channel,
            sourceSystem: request.sourceSystem,
            tier,
            tierSource: trusted.tierSource,
            customerNamespace: trusted.customerNamespace,
            ...(trusted.ignored.length > 0 ? { ignoredFields: trusted.ignored } : {}),
          },
        },
      ],
    });
    if (result.outcome === 'created') {
      await ctx.publisher.publish(intakeEvents(policy, complaint, tracking.token));
      return intakeResult(policy, complaint, tracking.token, false);
    }
    if (result.outcome === 'duplicate') {
      // Another request under this key: refuse before reading anything of the first complaint.
      if (!sameRequest(result.requestFingerprint, claim))
        throw new IdempotencyKeyReusedError(request.idempotency.kind);
      const existing = await store.get(result.complaintId);
      if (existing === undefined)
        throw new Error(`Idempotency record points at missing complaint ${result.complaintId}`);
      const replayed = await trackingTokenOf(ctx.keys, existing.id);
      await ctx.publisher.publish(intakeEvents(policy, existing, replayed.token));
      return intakeResult(policy, existing, replayed.token, true);
    }
    complaint.number = newComplaintNumber(now, policy.calendar.timeZone);
  }
  throw new Error(`Could not claim a unique complaint number after ${MAX_NUMBER_ATTEMPTS} attempts`);
}

/**
 * What the received entry says about trust: the fields ignored (names only: no customer text, no
 * values) and an unknown tier a trusted producer named.
 */
function trustNotes(trusted: TrustedSubmission): string {
  const notes: string[] = [];
  if (trusted.unknownTier) notes.push(`unknown tier stated, using "${trusted.tier}"`);
  if (trusted.ignored.length > 0) {
    notes.push(`ignored ${trusted.ignored.join(', ')}: this submitter is not trusted to state them`);
  }
  notes.push(`tier from ${trusted.tierSource}`);
  return ` (${notes.join('; ')})`;
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

/**
 * The intake events of a stored complaint again, as intake published them (same event ids, so every
 * consumer absorbs them as a duplicate): the hand-off repair of the sweep (`shared/domain/handoff.ts`).
 */
export async function republishIntakeEvents(ctx: ServiceContext, complaint: Complaint): Promise<void> {
  const { token } = await trackingTokenOf(ctx.keys, complaint.id);
  await ctx.publisher.publish(intakeEvents(ctx.policy, complaint, token));
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
