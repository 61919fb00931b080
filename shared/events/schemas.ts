import * as z from 'zod';
import {
  AssignmentSchema,
  ComplaintSubmissionSchema,
  DeadlineSchema,
  ValidityVerdictSchema,
} from '../domain/complaint';
import { ErasureCountsSchema, ErasureReasonSchema } from '../domain/privacy';
import { RoutingSuggestionSchema } from '../domain/routing';
import { ChannelSchema, LanguageSchema, SeveritySchema } from '../policy/vocabulary';
import { DETAIL_TYPES, type DetailType, SOURCES } from './names';

/**
 * Versioned event details. Every event on the bus has the shape
 * `{ metadata: { version, eventId, occurredAt, … }, data: { … } }`:
 * consumers route on `detail.metadata.version` and dedupe on `detail.metadata.eventId`
 * (deterministic per state change, so a republished event has the same id).
 * Personal data stays out of events except where the consumer needs it
 * (`Customer Notification Requested` carries the contact reference and the text to send).
 */

const IsoTimestamp = z.iso.datetime({ offset: true });

const OutboundMetadataSchema = z.object({
  version: z.literal(1),
  /** Deterministic id of the state change: `<complaintId>:<what>:<version>`. */
  eventId: z.string().min(1),
  occurredAt: IsoTimestamp,
  /** Correlates every event of one complaint's journey (the complaint id). */
  correlationId: z.string().min(1),
});

function outbound<T extends z.ZodRawShape>(data: T) {
  return z.object({ metadata: OutboundMetadataSchema, data: z.object(data) });
}

const ComplaintRef = {
  complaintId: z.string(),
  number: z.string(),
};

const Deadlines = z.partialRecord(z.enum(['acknowledge', 'firstResponse', 'resolution']), DeadlineSchema);

/** Inbound: another service reports a complaint. Idempotent on (source, metadata.messageId). */
export const ComplaintReportedV1 = z.object({
  metadata: z
    .object({
      version: z.literal(1),
      /** The producer's id for this message; a repeat with the same id is the same complaint. */
      messageId: z.string().min(1).max(200),
      occurredAt: IsoTimestamp.optional(),
    })
    .strict(),
  data: ComplaintSubmissionSchema,
});

/**
 * Inbound: the CRM (a source in the policy's `trust.customerDirectorySources`) changed a customer's
 * profile. Feeds the customer directory; ordered by `data.updatedAt` (an older update never overwrites
 * a newer one), so redelivery and reordering are harmless.
 */
export const CustomerProfileUpdatedV1 = z.object({
  metadata: z
    .object({
      version: z.literal(1),
      /** The producer's id for this message (for tracing; the write itself is ordered by `updatedAt`). */
      messageId: z.string().min(1).max(200),
      occurredAt: IsoTimestamp.optional(),
    })
    .strict(),
  data: z
    .object({
      /** The customer's id in the company's systems (the same id complaints carry). */
      customerId: z.string().min(1).max(128),
      /** A tier id of the policy (e.g. standard, vip). */
      tier: z.string().min(1).max(40),
      /** When the profile changed in the CRM (ISO 8601 with offset). */
      updatedAt: IsoTimestamp,
    })
    .strict(),
});

export const ComplaintReceivedV1 = outbound({
  ...ComplaintRef,
  channel: ChannelSchema,
  tier: z.string(),
  language: LanguageSchema,
  receivedAt: IsoTimestamp,
  /** What the customer was promised in the acknowledgement. */
  promisedResponseBy: IsoTimestamp,
  sourceSystem: z.string(),
});

export const ComplaintClassifiedV1 = outbound({
  ...ComplaintRef,
  channel: ChannelSchema,
  category: z.string(),
  severity: SeveritySchema,
  priority: z.number().int().min(1).max(4),
  tier: z.string(),
  language: LanguageSchema,
  isRepeat: z.boolean(),
  severityRules: z.array(z.string()),
  deadlines: Deadlines,
});

export const ComplaintRejectedV1 = outbound({
  ...ComplaintRef,
  channel: ChannelSchema,
  verdict: ValidityVerdictSchema.exclude(['valid']),
  duplicateOf: z.string().optional(),
  language: LanguageSchema,
  /** The polite reason given to the customer, in their language. */
  reason: z.string(),
  /** The customer can contest the rejection through the tracking link. */
  contestable: z.boolean(),
});

export const ComplaintAssignedV1 = outbound({
  ...ComplaintRef,
  category: z.string(),
  severity: SeveritySchema,
  priority: z.number().int().min(1).max(4),
  leadDepartment: AssignmentSchema.shape.leadDepartment,
  collaborators: AssignmentSchema.shape.collaborators,
  assignee: z.string().optional(),
  /** Set when no agent could be chosen: the department's team lead must act. */
  needsAttention: z.string().optional(),
  /** Who is alerted immediately (team lead when unassigned; the executive on duty for major complaints). */
  alerted: z.array(z.object({ role: z.string(), contact: z.string() })),
  deadlines: Deadlines,
});

/** Who did something: an agent/supervisor/admin of the agent API, the customer, or the system. */
export const ActorSchema = z.object({
  type: z.enum(['agent', 'customer', 'system']),
  id: z.string(),
  role: z.enum(['agent', 'supervisor', 'admin', 'customer', 'system']),
  department: z.string().optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/**
 * One schema for every lifecycle action (each action has its own detail-type, so
 * consumers subscribe to exactly what they need). Internal notes never appear here.
 */
export const ComplaintActionV1 = outbound({
  ...ComplaintRef,
  action: z.string(),
  actor: ActorSchema,
  previousStatus: z.string(),
  status: z.string(),
  leadDepartment: z.string().optional(),
  assignee: z.string().optional(),
  collaborators: z.array(z.string()).optional(),
  compensation: z.object({ amount: z.number(), currency: z.string() }).optional(),
  /** Whether a supervisor must approve the proposal (propose-solution). */
  needsApproval: z.boolean().optional(),
  /** The survey score, for Survey Answered. */
  score: z.number().int().min(1).max(5).optional(),
  reopenCount: z.number().int().optional(),
  /** The classification after the action (Complaint Reclassified). */
  category: z.string().optional(),
  severity: SeveritySchema.optional(),
  priority: z.number().int().min(1).max(4).optional(),
  /** The classification before a reclassification. */
  previousClassification: z
    .object({ category: z.string(), severity: SeveritySchema, priority: z.number().int().min(1).max(4) })
    .optional(),
  /** Reclassification: the lead department the routing rules name for the new classification, when it is not the current one (nothing was moved). */
  routingSuggestion: RoutingSuggestionSchema.optional(),
  deadlines: Deadlines.optional(),
});

export const ClockEventV1 = outbound({
  ...ComplaintRef,
  clock: z.enum(['acknowledge', 'firstResponse', 'resolution']),
  dueAt: IsoTimestamp,
  /** Who owns the complaint now (warnings go to them). */
  assignee: z.string().optional(),
  leadDepartment: z.string().optional(),
  severity: SeveritySchema.optional(),
  /** Which path noticed it: the exact timer or the backstop sweep. */
  detectedBy: z.enum(['timer', 'sweep']),
});

export const ComplaintEscalatedV1 = outbound({
  ...ComplaintRef,
  /** The clock that was missed; absent when the escalation comes from a reopening or a major complaint at intake. */
  clock: z.enum(['acknowledge', 'firstResponse', 'resolution']).optional(),
  level: z.number().int().min(1),
  role: z.enum(['team_lead', 'department_head', 'executive_on_duty']),
  /** The person to alert (directory id from the policy). */
  contact: z.string(),
  /** major_at_intake: assigned with a top-level severity; reclassified_major: raised to one later by a supervisor. */
  reason: z.enum(['deadline_missed', 'reopened', 'major_at_intake', 'reclassified_major']),
  leadDepartment: z.string().optional(),
  assignee: z.string().optional(),
  detectedBy: z.enum(['timer', 'sweep', 'action']),
});

export const SurveyRequestedV1 = outbound({
  ...ComplaintRef,
  language: LanguageSchema,
  customer: z.object({ id: z.string(), contactRef: z.string().optional() }),
  /** End of the answer window; the customer answers at `/surveys/<tracking token>`. */
  answerBy: IsoTimestamp,
});

export const CustomerNotificationRequestedV1 = outbound({
  ...ComplaintRef,
  /** Which message this is; the messaging service may pick its own template by it. */
  template: z.enum([
    'acknowledgement',
    'rejection',
    'agent_message',
    'info_request',
    'resolution',
    'survey',
    'reopened',
    'closed',
  ]),
  language: LanguageSchema,
  channel: ChannelSchema,
  customer: z.object({ id: z.string(), contactRef: z.string().optional() }),
  /** The rendered text in the customer's language. */
  text: z.string(),
  /** Relative tracking path (`/track/<token>`), when the message carries one. */
  trackingPath: z.string().optional(),
});

/** A periodic report was generated (or regenerated); supervisors and admins read it at `path`. */
export const ComplaintReportGeneratedV1 = z.object({
  metadata: OutboundMetadataSchema,
  data: z.object({
    kind: z.enum(['daily', 'weekly', 'monthly']),
    /** `2026-11-24`, `2026-W47` or `2026-11`. */
    periodId: z.string(),
    timeZone: z.string(),
    start: IsoTimestamp,
    end: IsoTimestamp,
    generatedAt: IsoTimestamp,
    /** Relative API path of the report (JSON, or HTML with `Accept: text/html`). */
    path: z.string(),
    headline: z.object({
      received: z.number(),
      backlog: z.number(),
      resolutionCompliance: z.number().nullable(),
      satisfactionAverage: z.number().nullable(),
    }),
  }),
});

/**
 * A customer's personal data (or, for the retention run, that of complaints past the retention
 * period) was erased. Carries the erasure id and what was erased, by kind and count: never whose data.
 */
export const CustomerDataErasedV1 = z.object({
  metadata: OutboundMetadataSchema,
  data: z.object({
    erasureId: z.string(),
    trigger: z.enum(['request', 'retention']),
    reason: ErasureReasonSchema,
    requestedAt: IsoTimestamp,
    completedAt: IsoTimestamp,
    erased: ErasureCountsSchema,
  }),
});

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  detailType: DetailType;
  /** The source that publishes it; `*` for inbound events any producer may publish. */
  source: string;
  direction: 'inbound' | 'outbound';
  description: string;
  schema: S;
}

/** The event catalog: one entry per detail-type, generated into docs/events. */
export const EVENT_CATALOG = {
  complaintReported: {
    detailType: DETAIL_TYPES.complaintReported,
    source: '*',
    direction: 'inbound',
    description:
      'Another service (app backend, hotline/IVR, social-media monitor, app-store scraper, mail gateway) reports a complaint. Any source not starting with "complaints." is accepted; customer.tier and affectedUsers count only from the sources in the policy\'s trust.producers (from others they are ignored and the timeline says so).',
    schema: ComplaintReportedV1,
  },
  customerProfileUpdated: {
    detailType: DETAIL_TYPES.customerProfileUpdated,
    source: '*',
    direction: 'inbound',
    description:
      "The CRM changed a customer's profile: sets the customer's tier in the service's customer directory. Accepted only from the sources in the policy's trust.customerDirectorySources; from any other source it goes to the intake DLQ with the reason. An older update (by data.updatedAt) never overwrites a newer one.",
    schema: CustomerProfileUpdatedV1,
  },
  complaintReceived: {
    detailType: DETAIL_TYPES.complaintReceived,
    source: SOURCES.intake,
    direction: 'outbound',
    description: 'A complaint was accepted, numbered and stored; the customer was acknowledged.',
    schema: ComplaintReceivedV1,
  },
  complaintClassified: {
    detailType: DETAIL_TYPES.complaintClassified,
    source: SOURCES.classification,
    direction: 'outbound',
    description: 'A valid complaint got its category, severity, priority and SLA deadlines.',
    schema: ComplaintClassifiedV1,
  },
  complaintRejected: {
    detailType: DETAIL_TYPES.complaintRejected,
    source: SOURCES.classification,
    direction: 'outbound',
    description:
      'A complaint was found invalid (spam, abusive, duplicate, out of scope, insufficient); the customer is told why.',
    schema: ComplaintRejectedV1,
  },
  complaintAssigned: {
    detailType: DETAIL_TYPES.complaintAssigned,
    source: SOURCES.assignment,
    direction: 'outbound',
    description:
      'A complaint got a lead department, collaborating departments and (when one is eligible) an owner.',
    schema: ComplaintAssignedV1,
  },
  customerNotificationRequested: {
    detailType: DETAIL_TYPES.customerNotificationRequested,
    source: [SOURCES.intake, SOURCES.classification, SOURCES.agent, SOURCES.customer, SOURCES.survey].join(
      ' | ',
    ),
    direction: 'outbound',
    description:
      "A message for the customer, rendered in the customer's language, for the company's messaging service to deliver.",
    schema: CustomerNotificationRequestedV1,
  },
  ...actionEvents(),
  slaWarning: {
    detailType: DETAIL_TYPES.slaWarning,
    source: SOURCES.sla,
    direction: 'outbound',
    description:
      'A clock reached its warning point (policy warnAtFraction of the target): the owner is warned.',
    schema: ClockEventV1,
  },
  slaBreached: {
    detailType: DETAIL_TYPES.slaBreached,
    source: SOURCES.sla,
    direction: 'outbound',
    description:
      'A clock passed its deadline unmet. Published once per clock, whether the timer or the sweep noticed it.',
    schema: ClockEventV1,
  },
  escalated: {
    detailType: DETAIL_TYPES.escalated,
    source: `${SOURCES.sla} | ${SOURCES.assignment} | ${SOURCES.customer} | ${SOURCES.agent}`,
    direction: 'outbound',
    description:
      'A complaint went one level up the escalation chain (team lead → department head → executive on duty): a missed deadline, a reopening, a major complaint at intake, or one reclassified as major.',
    schema: ComplaintEscalatedV1,
  },
  surveyRequested: {
    detailType: DETAIL_TYPES.surveyRequested,
    source: SOURCES.survey,
    direction: 'outbound',
    description:
      'The satisfaction survey is due (policy sendAfter after resolution); the customer is asked for a 1–5 score.',
    schema: SurveyRequestedV1,
  },
  reportGenerated: {
    detailType: DETAIL_TYPES.reportGenerated,
    source: SOURCES.reporting,
    direction: 'outbound',
    description:
      'A daily, weekly (ISO week) or monthly report was generated from the aggregates and stored; the detail carries its path and headline figures.',
    schema: ComplaintReportGeneratedV1,
  },
  customerDataErased: {
    detailType: DETAIL_TYPES.customerDataErased,
    source: SOURCES.privacy,
    direction: 'outbound',
    description:
      "Personal data was erased, on an admin's request (POST /privacy/erasures) or by the daily retention run: the erasure id and how many items of each kind were erased, never whose data.",
    schema: CustomerDataErasedV1,
  },
} as const satisfies Record<string, EventDefinition>;

/** The action detail-types, all with the ComplaintActionV1 schema. */
function actionEvents() {
  const entries = {
    acknowledged: [
      DETAIL_TYPES.acknowledged,
      SOURCES.agent,
      'An agent took ownership (the acknowledgement clock is met).',
    ],
    responded: [
      DETAIL_TYPES.responded,
      SOURCES.agent,
      'An agent sent the customer a message (the first one meets the first-response clock).',
    ],
    infoRequested: [
      DETAIL_TYPES.infoRequested,
      SOURCES.agent,
      'An agent asked the customer for information: the clocks pause.',
    ],
    customerReplied: [
      DETAIL_TYPES.customerReplied,
      SOURCES.customer,
      'The customer replied: paused clocks resume; on a resolved complaint the reply reopens it.',
    ],
    solutionProposed: [
      DETAIL_TYPES.solutionProposed,
      SOURCES.agent,
      'A solution (and compensation) was proposed; above the policy threshold it waits for approval.',
    ],
    solutionApproved: [
      DETAIL_TYPES.solutionApproved,
      SOURCES.agent,
      'A supervisor approved the proposed solution.',
    ],
    solutionRejected: [
      DETAIL_TYPES.solutionRejected,
      SOURCES.agent,
      'A supervisor rejected the proposed solution.',
    ],
    resolved: [
      DETAIL_TYPES.resolved,
      SOURCES.agent,
      'The complaint was resolved (root cause, solution, compensation archived); the survey is scheduled.',
    ],
    reassigned: [
      DETAIL_TYPES.reassigned,
      SOURCES.agent,
      'The complaint moved to another owner or lead department.',
    ],
    collaboratorAdded: [
      DETAIL_TYPES.collaboratorAdded,
      SOURCES.agent,
      'A collaborating department was added.',
    ],
    closed: [
      DETAIL_TYPES.closed,
      `${SOURCES.agent} | ${SOURCES.customer} | ${SOURCES.survey}`,
      'The complaint was closed (by an agent, a good survey score, or an unanswered survey).',
    ],
    reopened: [
      DETAIL_TYPES.reopened,
      SOURCES.customer,
      'The customer reopened the complaint (low survey score or a reply after resolution): clocks restart, escalation one level up.',
    ],
    reclassified: [
      DETAIL_TYPES.reclassified,
      SOURCES.agent,
      'A supervisor or admin changed the category and/or severity: the priority and the unmet SLA clocks are recomputed (targets measured from when each clock started — the receipt, or the reopening — waiting time excluded, met clocks kept); routingSuggestion when the routing rules name another lead department (not moved automatically).',
    ],
    surveyAnswered: [
      DETAIL_TYPES.surveyAnswered,
      SOURCES.customer,
      'The customer answered the satisfaction survey.',
    ],
  } as const;
  return Object.fromEntries(
    Object.entries(entries).map(([key, [detailType, source, description]]) => [
      key,
      { detailType, source, direction: 'outbound', description, schema: ComplaintActionV1 },
    ]),
  ) as Record<keyof typeof entries, EventDefinition<typeof ComplaintActionV1>>;
}

export type ComplaintReported = z.infer<typeof ComplaintReportedV1>;
export type CustomerProfileUpdated = z.infer<typeof CustomerProfileUpdatedV1>;
export type ComplaintReceived = z.infer<typeof ComplaintReceivedV1>;
export type ComplaintClassified = z.infer<typeof ComplaintClassifiedV1>;
export type ComplaintRejected = z.infer<typeof ComplaintRejectedV1>;
export type ComplaintAssigned = z.infer<typeof ComplaintAssignedV1>;
export type CustomerNotificationRequested = z.infer<typeof CustomerNotificationRequestedV1>;
export type ComplaintAction = z.infer<typeof ComplaintActionV1>;
export type ClockEvent = z.infer<typeof ClockEventV1>;
export type ComplaintEscalated = z.infer<typeof ComplaintEscalatedV1>;

/** An event ready to publish: its source, detail-type and validated detail. */
export interface OutboundEvent {
  source: string;
  detailType: DetailType;
  detail: { metadata: { eventId: string }; data: Record<string, unknown> };
}

/** Builds an outbound event, validating the detail against its schema (a bug here must not reach the bus). */
export function buildEvent<K extends keyof typeof EVENT_CATALOG>(
  key: K,
  source: string,
  detail: z.input<(typeof EVENT_CATALOG)[K]['schema']>,
): OutboundEvent {
  const definition: EventDefinition = EVENT_CATALOG[key];
  const parsed = definition.schema.parse(detail) as OutboundEvent['detail'];
  return { source, detailType: definition.detailType, detail: parsed };
}
