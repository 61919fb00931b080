import * as z from 'zod';
import { ChannelSchema, LanguageSchema, SeveritySchema } from '../policy/vocabulary';
import { EvidenceRefSchema, MoneyAmountSchema } from './bounds';
import { CUSTOMER_NAMESPACES } from './identifiers';
import { ComplaintStatusSchema } from './lifecycle';

/**
 * The complaint record: the structured form every channel is normalised into.
 *
 * Personal data is kept to the minimum the process needs: an opaque customer id
 * from the reporting system, an optional contact reference (never the address
 * itself) and the text the customer wrote. Logs never include these fields.
 */

const IsoTimestamp = z.iso.datetime({ offset: true });

export const EvidenceSchema = z
  .object({
    kind: z.enum(['screenshot', 'log', 'chat_record', 'recording', 'document', 'other']),
    /**
     * Reference in the evidence store, never the content itself: an `https:` URL, an `s3://` ref or a
     * plain object key (bounds.ts `evidenceRefProblem`).
     */
    ref: EvidenceRefSchema,
  })
  .strict();

export const ComplaintTargetSchema = z
  .object({
    type: z.enum(['product_feature', 'service_step', 'staff_member', 'order', 'other']),
    ref: z.string().min(1).max(200),
  })
  .strict();

export const CustomerSchema = z
  .object({
    /** The customer's id in the company's systems (opaque, pseudonymous). */
    id: z.string().min(1).max(128),
    /** Tier id from the policy (e.g. standard, vip); defaults to the policy's default tier. */
    tier: z.string().min(1).max(40).optional(),
    language: LanguageSchema.optional(),
    /** Reference for the company's messaging service (e.g. a contact id), not an address. */
    contactRef: z.string().min(1).max(256).optional(),
  })
  .strict();

/** What an intake channel submits (HTTP body or inbound event), before the service adds anything. */
export const ComplaintSubmissionSchema = z
  .object({
    channel: ChannelSchema,
    customer: CustomerSchema,
    title: z.string().trim().min(1).max(200).optional(),
    description: z.string().trim().min(1).max(10_000),
    /** The customer's demand / expected outcome. */
    demand: z.string().trim().max(2_000).optional(),
    /** When the problem happened (ISO 8601 with offset). */
    occurredAt: IsoTimestamp.optional(),
    /** The scenario it happened in (page, flow, order step…). */
    scenario: z.string().trim().max(500).optional(),
    target: ComplaintTargetSchema.optional(),
    evidence: z.array(EvidenceSchema).max(20).default([]),
    /** Money at stake, in the policy currency (at most its minor unit of decimals). */
    amount: MoneyAmountSchema.optional(),
    /** How many users the reporter says are affected (monitors and hotline set this). */
    affectedUsers: z.number().int().positive().max(1e9).optional(),
  })
  .strict();
export type ComplaintSubmission = z.infer<typeof ComplaintSubmissionSchema>;
export type ComplaintSubmissionInput = z.input<typeof ComplaintSubmissionSchema>;

export const ValidityVerdictSchema = z.enum([
  'valid',
  'spam',
  'abusive',
  'duplicate',
  'out_of_scope',
  'insufficient',
]);
export type ValidityVerdict = z.infer<typeof ValidityVerdictSchema>;

export const ClassificationSchema = z.object({
  category: z.string(),
  severity: SeveritySchema,
  /** 1 is the highest priority, 4 the lowest. */
  priority: z.number().int().min(1).max(4),
  validity: ValidityVerdictSchema,
  /** Id of the open complaint this one duplicates, when validity is `duplicate`. */
  duplicateOf: z.string().optional(),
  /** Human-readable number of that open complaint, quoted to the customer. */
  duplicateOfNumber: z.string().optional(),
  repeat: z.object({ isRepeat: z.boolean(), previous: z.array(z.string()) }),
  /** Ids of the severity rules that fired, for the audit trail. */
  severityRules: z.array(z.string()),
  /** Keywords that decided the category (no customer text beyond the keyword itself). */
  matchedKeywords: z.array(z.string()),
  language: LanguageSchema,
  classifiedAt: IsoTimestamp,
});
export type Classification = z.infer<typeof ClassificationSchema>;

export const ClockNameSchema = z.enum(['acknowledge', 'firstResponse', 'resolution']);
export type ClockName = z.infer<typeof ClockNameSchema>;

export const ClockStateSchema = z.enum(['running', 'paused', 'met', 'breached', 'stopped']);
export type ClockState = z.infer<typeof ClockStateSchema>;

/**
 * One SLA clock: its target and its state. `dueAt`/`warnAt` are the current targets
 * (shifted by pauses, recomputed on reclassification or reopening); the state
 * fields say what already happened, so a repeated or late timer does nothing twice.
 */
export const DeadlineSchema = z.object({
  /** When the target expires. */
  dueAt: IsoTimestamp,
  /** When the owner is warned. */
  warnAt: IsoTimestamp,
  basis: z.enum(['working', 'calendar']),
  /** When the clock started (receipt, or the reopening). */
  startedAt: IsoTimestamp.optional(),
  state: ClockStateSchema.default('running'),
  /** Set while paused (waiting on the customer). */
  pausedAt: IsoTimestamp.optional(),
  warnedAt: IsoTimestamp.optional(),
  metAt: IsoTimestamp.optional(),
  breachedAt: IsoTimestamp.optional(),
  /** Highest escalation level alerted for this clock (0 = none). */
  escalationLevel: z.number().int().min(0).default(0),
  /** When the next escalation level is due (after a breach), if any level is left. */
  nextEscalationAt: IsoTimestamp.optional(),
});
export type Deadline = z.infer<typeof DeadlineSchema>;

export const ClockLogEntrySchema = z.object({
  at: IsoTimestamp,
  clock: ClockNameSchema,
  event: z.enum([
    'started',
    'warned',
    'paused',
    'resumed',
    'met',
    'breached',
    'escalated',
    'recomputed',
    'stopped',
  ]),
  /** e.g. the escalation level, the new due time, the paused working seconds. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type ClockLogEntry = z.infer<typeof ClockLogEntrySchema>;

export const MoneySchema = z.object({
  amount: z.number().nonnegative().max(1e9),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

/** Facts of the work on a complaint that the clocks and reports read. */
export const WorkSchema = z.object({
  acknowledgedAt: IsoTimestamp.optional(),
  firstResponseAt: IsoTimestamp.optional(),
  /** Set while waiting on the customer. */
  waitingSince: IsoTimestamp.optional(),
});

export const ProposalSchema = z.object({
  solution: z.string(),
  compensation: MoneySchema.optional(),
  proposedBy: z.string(),
  proposedAt: IsoTimestamp,
  /** Above the policy threshold, or a severity that always needs approval. */
  needsApproval: z.boolean(),
  approval: z
    .object({
      decision: z.enum(['approved', 'rejected']),
      by: z.string(),
      at: IsoTimestamp,
      note: z.string().optional(),
    })
    .optional(),
});

export const ResolutionSchema = z.object({
  rootCause: z.string(),
  solution: z.string(),
  compensation: MoneySchema.optional(),
  resolvedBy: z.string(),
  resolvedAt: IsoTimestamp,
});

export const SurveySchema = z.object({
  /** When the survey request is scheduled to go out. */
  sendAt: IsoTimestamp,
  requestedAt: IsoTimestamp.optional(),
  /** End of the answer window (set when the request goes out). */
  closesAt: IsoTimestamp.optional(),
  score: z.number().int().min(1).max(5).optional(),
  comment: z.string().optional(),
  answeredAt: IsoTimestamp.optional(),
  outcome: z.enum(['satisfied', 'reopened', 'unanswered']).optional(),
});

export const AssignmentSchema = z.object({
  leadDepartment: z.string(),
  collaborators: z.array(z.string()),
  /** Agent id; absent when no agent of the department is eligible (the team lead is then alerted). */
  assignee: z.string().optional(),
  reason: z.string(),
  assignedAt: IsoTimestamp,
});
export type Assignment = z.infer<typeof AssignmentSchema>;

/**
 * Where a complaint's tier came from (#10): `producer`, a trusted producer stated it (policy
 * `trust.producers`); `directory`, the customer directory the service keeps; `default`, the policy's
 * default tier (anonymous submissions always, and everyone the directory does not know).
 */
export const TierSourceSchema = z.enum(['producer', 'directory', 'default']);
export type TierSource = z.infer<typeof TierSourceSchema>;

export const CustomerNamespaceSchema = z.enum(CUSTOMER_NAMESPACES);

/**
 * What a complaint has accumulated, counted on the record itself so that the caps of
 * `policy.limits` are enforced by the same conditional (versioned) write that adds to them:
 * two concurrent writers cannot both take the last slot. Records written before these counts
 * existed (and records that never had an update) start from 0.
 */
export const UsageSchema = z.object({
  /** Timeline entries written with the record (the store adds each update's entries). */
  timelineEntries: z.number().int().min(0).default(0),
  /** Customer replies in all. */
  customerReplies: z.number().int().min(0).default(0),
  /** When the customer's replies of the last hour were written, oldest first (the rolling hourly limit). */
  recentReplies: z.array(IsoTimestamp).default([]),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ComplaintSchema = z.object({
  id: z.string(),
  number: z.string(),
  /** Optimistic-concurrency version; every state-changing write increments it. */
  version: z.number().int().nonnegative(),
  status: ComplaintStatusSchema,
  source: z.object({
    system: z.string(),
    messageId: z.string(),
    /** The key of its idempotency claim (`IDEMP#<keyed digest>`): erasure scrubs the claim through it. */
    claim: z.string().optional(),
  }),
  submission: ComplaintSubmissionSchema,
  tier: z.string(),
  /** Where `tier` came from; absent on complaints stored before tier sources were recorded. */
  tierSource: TierSourceSchema.optional(),
  /**
   * Whose word `submission.customer.id` is: `anonymous` (the public route) ids are indexed apart and
   * never meet a verified customer's history. Records stored before namespaces existed read as
   * `verified` (the store upgrades public-route ones when it reads them).
   */
  customerNamespace: CustomerNamespaceSchema.default('verified'),
  language: LanguageSchema,
  receivedAt: IsoTimestamp,
  /** The first-response time promised in the acknowledgement; internal deadlines never exceed it. */
  promisedResponseBy: IsoTimestamp,
  /** Normalised text fingerprint used for duplicate detection (no raw text). */
  fingerprint: z.string(),
  classification: ClassificationSchema.optional(),
  assignment: AssignmentSchema.optional(),
  deadlines: z.partialRecord(ClockNameSchema, DeadlineSchema),
  /** Append-only log of clock events: the proof of SLA compliance after the fact. */
  clockLog: z.array(ClockLogEntrySchema).default([]),
  /** Timers currently scheduled for this complaint: schedule name → fire time. */
  timers: z.record(z.string(), IsoTimestamp).default({}),
  work: WorkSchema.default({}),
  proposal: ProposalSchema.optional(),
  resolution: ResolutionSchema.optional(),
  survey: SurveySchema.optional(),
  /** How often the customer reopened it; each reopening escalates one level higher. */
  reopenCount: z.number().int().min(0).default(0),
  /** What callers made it accumulate (policy.limits); absent = nothing counted yet. */
  usage: UsageSchema.optional(),
  /**
   * Hand-off repairs (`shared/domain/handoff.ts`): how often the sweep published the intake events
   * again because classification had not started, and when it last did.
   */
  handoff: z.object({ repairs: z.number().int().min(1), lastAt: IsoTimestamp }).optional(),
  /** Hash of the customer's tracking token (also the survey link). */
  trackingTokenHash: z.string().optional(),
  /**
   * Set when the customer's personal data was erased from this complaint (an erasure request, or the
   * retention period after closing): the texts are redacted, the customer id is a pseudonym, and the
   * complaint leaves the customer index and the retention index (`shared/domain/privacy.ts`).
   */
  erasure: z.object({ erasureId: z.string(), erasedAt: IsoTimestamp }).optional(),
  updatedAt: IsoTimestamp,
});
export type Complaint = z.infer<typeof ComplaintSchema>;
