import { z } from 'zod';
import { ChannelSchema, LanguageSchema, SeveritySchema } from '../policy/schema';
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
    /** Reference in the evidence store (URL or object key), never the content itself. */
    ref: z.string().min(1).max(2048),
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
    /** Money at stake, in the policy currency. */
    amount: z.number().nonnegative().max(1e9).optional(),
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

export const DeadlineSchema = z.object({
  /** When the target expires. */
  dueAt: IsoTimestamp,
  /** When the owner is warned. */
  warnAt: IsoTimestamp,
  basis: z.enum(['working', 'calendar']),
});
export type Deadline = z.infer<typeof DeadlineSchema>;

export const AssignmentSchema = z.object({
  leadDepartment: z.string(),
  collaborators: z.array(z.string()),
  /** Agent id; absent when no agent of the department is eligible (the team lead is then alerted). */
  assignee: z.string().optional(),
  reason: z.string(),
  assignedAt: IsoTimestamp,
});
export type Assignment = z.infer<typeof AssignmentSchema>;

export const ComplaintSchema = z.object({
  id: z.string(),
  number: z.string(),
  /** Optimistic-concurrency version; every state-changing write increments it. */
  version: z.number().int().nonnegative(),
  status: ComplaintStatusSchema,
  source: z.object({ system: z.string(), messageId: z.string() }),
  submission: ComplaintSubmissionSchema,
  tier: z.string(),
  language: LanguageSchema,
  receivedAt: IsoTimestamp,
  /** The first-response time promised in the acknowledgement; internal deadlines never exceed it. */
  promisedResponseBy: IsoTimestamp,
  /** Normalised text fingerprint used for duplicate detection (no raw text). */
  fingerprint: z.string(),
  classification: ClassificationSchema.optional(),
  assignment: AssignmentSchema.optional(),
  deadlines: z.partialRecord(ClockNameSchema, DeadlineSchema),
  updatedAt: IsoTimestamp,
});
export type Complaint = z.infer<typeof ComplaintSchema>;
