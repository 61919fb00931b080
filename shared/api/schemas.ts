import * as z from 'zod';
import { AGENT_ACTIONS } from '../auth/authorization';
import { MoneyAmountSchema, moneyDecimalsProblem } from '../domain/bounds';
import { ClockLogEntrySchema, ComplaintSchema, DeadlineSchema, MoneySchema } from '../domain/complaint';
import { COMPLAINT_NUMBER_PATTERN } from '../domain/identifiers';
import { COMPLAINT_STATUSES, ComplaintStatusSchema } from '../domain/lifecycle';
import { ErasureCountsSchema, ErasureReasonSchema } from '../domain/privacy';
import { RoutingSuggestionSchema } from '../domain/routing';
import { LanguageSchema, SeveritySchema } from '../policy/vocabulary';

/**
 * The HTTP contract of the agent and customer API: request bodies, query parameters,
 * responses and error shapes as zod schemas. Handlers validate with them and the
 * OpenAPI document (`shared/api/openapi.ts`) is generated from them, so the
 * documentation cannot drift from what the code accepts and returns.
 */

const IsoTimestamp = z.iso.datetime({ offset: true });

/** Every route of the HTTP API, with the function that serves it. Infra and the docs read the same list. */
export const API_ROUTES = [
  {
    key: 'POST /complaints',
    method: 'post',
    path: '/complaints',
    function: 'intake',
    auth: 'none',
    operationId: 'submitComplaint',
    summary: 'Submit a complaint (customers, web forms, other services)',
  },
  {
    key: 'GET /complaints',
    method: 'get',
    path: '/complaints',
    function: 'agent',
    auth: 'jwt',
    operationId: 'listComplaints',
    summary: 'Work queue: complaints of a department or an agent, nearest deadline first',
  },
  {
    key: 'GET /complaints/{id}',
    method: 'get',
    path: '/complaints/{id}',
    function: 'agent',
    auth: 'jwt',
    operationId: 'getComplaint',
    summary: 'One complaint with its timeline, clocks and the actions the caller may take now',
  },
  {
    key: 'POST /complaints/{id}/actions',
    method: 'post',
    path: '/complaints/{id}/actions',
    function: 'agent',
    auth: 'jwt',
    operationId: 'performAction',
    summary: 'Perform one lifecycle action (optimistic concurrency on the complaint version)',
  },
  {
    key: 'POST /agent/complaints',
    method: 'post',
    path: '/agent/complaints',
    function: 'agent',
    auth: 'jwt',
    operationId: 'submitComplaintForCaller',
    summary: 'An agent submits a complaint on behalf of a caller (hotline): a trusted producer',
  },
  {
    key: 'PUT /admin/customers/{customerId}',
    method: 'put',
    path: '/admin/customers/{customerId}',
    function: 'agent',
    auth: 'jwt',
    operationId: 'setCustomerTier',
    summary: "Set a customer's tier in the service's customer directory (admins)",
  },
  {
    key: 'GET /track/{token}',
    method: 'get',
    path: '/track/{token}',
    function: 'customer',
    auth: 'none',
    operationId: 'trackComplaint',
    summary: "The customer's view of their complaint: status, steps, expected times, messages",
  },
  {
    key: 'POST /track/{token}/replies',
    method: 'post',
    path: '/track/{token}/replies',
    function: 'customer',
    auth: 'none',
    operationId: 'replyToComplaint',
    summary: 'The customer replies (resumes paused clocks; reopens a resolved complaint)',
  },
  {
    key: 'POST /surveys/{token}',
    method: 'post',
    path: '/surveys/{token}',
    function: 'customer',
    auth: 'none',
    operationId: 'answerSurvey',
    summary: 'The customer answers the satisfaction survey once (1–5 and an optional comment)',
  },
  {
    key: 'GET /reports/{period}/{id}',
    method: 'get',
    path: '/reports/{period}/{id}',
    function: 'reports',
    auth: 'jwt',
    operationId: 'getReport',
    summary:
      'A daily, weekly or monthly report as JSON, or as a self-contained HTML page (supervisors, admins)',
  },
  {
    key: 'POST /privacy/erasures',
    method: 'post',
    path: '/privacy/erasures',
    function: 'privacy',
    auth: 'jwt',
    operationId: 'requestErasure',
    summary: "Erase a customer's personal data from every complaint (admins)",
  },
  {
    key: 'GET /privacy/erasures/{erasureId}',
    method: 'get',
    path: '/privacy/erasures/{erasureId}',
    function: 'privacy',
    auth: 'jwt',
    operationId: 'getErasure',
    summary: 'Status of an erasure and what it erased (admins)',
  },
] as const;
export type ApiRoute = (typeof API_ROUTES)[number];
export type RouteKey = ApiRoute['key'];
export type AgentRouteKey = Extract<ApiRoute, { function: 'agent' }>['key'];
export type CustomerRouteKey = Extract<ApiRoute, { function: 'customer' }>['key'];

// ---------------------------------------------------------------------------
// Agent API requests

const text = (max: number) => z.string().trim().min(1).max(max);

/**
 * Messages, solutions and replies: the service enforces `policy.limits.maxMessageChars` (default
 * 5,000 characters, at most 10,000; 400 naming the field). The schema's bound is the policy's
 * ceiling in UTF-16 units (an emoji counts twice here, once against the policy).
 */
const MESSAGE_MAX = 20_000;
const message = () => text(MESSAGE_MAX);

/** An internal note for colleagues: stored on the timeline, never shown to the customer or published. */
const Note = text(2_000)
  .optional()
  .describe('Internal note for colleagues; kept on the timeline, never shown to the customer.');

const ExpectedVersion = z
  .number()
  .int()
  .min(1)
  .optional()
  .describe(
    'The complaint version the action is based on (optimistic concurrency). Required unless an If-Match header carries it.',
  );

/** Money in an action body; the currency defaults to the policy currency. */
export const CompensationInputSchema = z
  .object({
    amount: MoneyAmountSchema.describe(
      "At most the currency's minor unit of decimals (2 for CNY, 0 for JPY); a number the store cannot hold is refused.",
    ),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional()
      .describe('ISO 4217 code; defaults to the policy currency. Any other currency always needs approval.'),
  })
  .strict()
  .superRefine((money, ctx) => {
    // Without a currency the policy's applies; the handler checks that one (it knows the policy).
    const problem =
      money.currency === undefined ? undefined : moneyDecimalsProblem(money.amount, money.currency);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['amount'], message: problem });
  });

const base = { expectedVersion: ExpectedVersion, note: Note };

export const AcknowledgeActionSchema = z
  .object({ action: z.literal('acknowledge'), ...base })
  .strict()
  .describe('Take ownership: meets the acknowledgement clock.');
export const RespondActionSchema = z
  .object({
    action: z.literal('respond'),
    message: message().describe("Sent to the customer as written, in the customer's language."),
    ...base,
  })
  .strict()
  .describe('Message the customer; the first message meets the first-response clock.');
export const RequestInfoActionSchema = z
  .object({
    action: z.literal('request-info'),
    message: message().describe('The question for the customer, sent as written.'),
    ...base,
  })
  .strict()
  .describe('Ask the customer for information: the clocks pause until the customer replies.');
export const ProposeSolutionActionSchema = z
  .object({
    action: z.literal('propose-solution'),
    solution: message(),
    compensation: CompensationInputSchema.optional(),
    ...base,
  })
  .strict()
  .describe(
    'Propose a solution; above the policy compensation threshold, or for a severity that always needs it, it waits for approval.',
  );
export const ApproveActionSchema = z
  .object({ action: z.literal('approve'), ...base })
  .strict()
  .describe('Supervisor or admin: approve the pending proposal.');
export const RejectActionSchema = z
  .object({
    action: z.literal('reject'),
    reason: text(2_000).describe('Internal: why the proposal was rejected.'),
    ...base,
  })
  .strict()
  .describe('Supervisor or admin: reject the pending proposal.');
export const ResolveActionSchema = z
  .object({
    action: z.literal('resolve'),
    rootCause: message().describe('Internal: archived for analysis, not shown to the customer.'),
    solution: message().describe('Shown to the customer as the resolution.'),
    compensation: CompensationInputSchema.optional(),
    ...base,
  })
  .strict()
  .describe('Resolve: meets the resolution clock and schedules the satisfaction survey.');
export const ReassignActionSchema = z
  .object({
    action: z.literal('reassign'),
    assignee: z.string().min(1).max(128).optional().describe('An agent of the (new) lead department.'),
    department: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('New lead department; without an assignee the least-loaded eligible agent is chosen.'),
    ...base,
  })
  .strict()
  .refine((b) => b.assignee !== undefined || b.department !== undefined, {
    message: 'give an assignee, a department or both',
    path: ['assignee'],
  })
  .describe('Move the complaint to another owner and/or lead department.');
export const AddCollaboratorActionSchema = z
  .object({ action: z.literal('add-collaborator'), department: z.string().min(1).max(64), ...base })
  .strict()
  .describe('Add a collaborating department (read access to the complaint).');
export const CloseActionSchema = z
  .object({ action: z.literal('close'), reason: text(2_000).optional().describe('Internal.'), ...base })
  .strict()
  .describe('Close a resolved or rejected complaint.');

export const ReclassifyActionSchema = z
  .object({
    action: z.literal('reclassify'),
    category: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('A category id of the policy; an unknown one is refused (400).'),
    severity: SeveritySchema.optional(),
    reason: text(2_000).describe('Internal: why the classification changes; kept on the timeline only.'),
    ...base,
  })
  .strict()
  .refine((b) => b.category !== undefined || b.severity !== undefined, {
    message: 'give a category, a severity or both',
    path: ['category'],
  })
  .describe(
    'Supervisor or admin: change the category and/or severity. The priority follows the policy; the unmet SLA clocks are recomputed from when they started (the receipt, or the reopening), waiting time still excluded, met clocks stay met, paused clocks stay paused; a rise to a severity that alerts the top level at intake (major) alerts it now. The lead department is not changed: `routingSuggestion` in the result says where the routing rules would send it (use reassign).',
  );

/** The body of `POST /complaints/{id}/actions`: one shape per action, chosen by `action`. */
export const ActionRequestSchema = z.discriminatedUnion('action', [
  AcknowledgeActionSchema,
  RespondActionSchema,
  RequestInfoActionSchema,
  ProposeSolutionActionSchema,
  ApproveActionSchema,
  RejectActionSchema,
  ResolveActionSchema,
  ReassignActionSchema,
  AddCollaboratorActionSchema,
  CloseActionSchema,
  ReclassifyActionSchema,
]);
export type ActionRequest = z.infer<typeof ActionRequestSchema>;

/** `GET /complaints` query parameters (all strings on the wire). */
export const ListQuerySchema = z
  .object({
    status: z
      .string()
      .optional()
      .describe(
        `Comma-separated statuses (${COMPLAINT_STATUSES.join(', ')}). Default: every status an owned complaint can be in.`,
      ),
    department: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('Lead department. Agents and supervisors may only give their own (it is their default).'),
    assignee: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "Only complaints owned by this agent. An agent may give only their own id, a supervisor their own or an agent of their department's roster, an admin anyone's; otherwise 403.",
      ),
    overdue: z
      .enum(['true', 'false'])
      .optional()
      .describe('true: only complaints whose next deadline (or warning) has passed.'),
    limit: z.coerce.number().int().min(1).max(100).default(25).describe('Page size, at most 100.'),
    cursor: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe(
        'The `cursor` of the previous page, unchanged. Opaque and sealed: it opens only for the same caller with the same filters, for 24 hours; otherwise 400 (start again without it).',
      ),
    number: z
      .string()
      .regex(COMPLAINT_NUMBER_PATTERN, 'must be a complaint number, e.g. C20261124-7KQ2MZ')
      .optional()
      .describe(
        'Look-up by complaint number (what a customer quotes on the phone): at most one item, none when no complaint has this number or the caller may not see it. Not combined with the other filters.',
      ),
    customer: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "Look-up by customer id: the customer's complaints the caller may see, newest first (`limit`, `cursor`), including anonymous submissions that gave this id. The items carry no customer data. Not combined with the other filters.",
      ),
  })
  .strict();

/** `GET /complaints/{id}` and `GET /track/{token}` query parameters. */
export const TimelineQuerySchema = z
  .object({
    before: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('The `olderCursor` of a previous view: the timeline page before it.'),
  })
  .strict();

/** Parses the comma-separated status filter; undefined when absent. */
export const StatusListSchema = z.array(ComplaintStatusSchema).min(1);

// ---------------------------------------------------------------------------
// Customer directory (admins)

/** The longest customer id (as in a complaint's `customer.id`). */
export const MAX_CUSTOMER_ID_LENGTH = 128;

/** `PUT /admin/customers/{customerId}` body. */
export const CustomerTierRequestSchema = z
  .object({ tier: z.string().min(1).max(40).describe('A tier id of the policy (e.g. standard, vip).') })
  .strict();

/** 200 of `PUT /admin/customers/{customerId}`: the entry now stored. */
export const CustomerDirectoryEntrySchema = z.object({
  tier: z.string(),
  updatedAt: IsoTimestamp,
  source: z.string().describe('admin:<id>, or the event source of the CRM that set it.'),
  outcome: z
    .enum(['applied', 'unchanged', 'stale'])
    .describe('applied: stored; unchanged: already so; stale: a newer entry is stored and stays.'),
});

// ---------------------------------------------------------------------------
// Customer API requests

export const CustomerReplySchema = z
  .object({
    message: message().describe(
      'The reply, as the customer wrote it: at most limits.maxMessageChars characters (default 5,000).',
    ),
  })
  .strict();
export type CustomerReply = z.infer<typeof CustomerReplySchema>;

export const SurveyAnswerSchema = z
  .object({
    score: z.number().int().min(1).max(5).describe('1 (very dissatisfied) … 5 (very satisfied).'),
    comment: text(2_000).optional(),
  })
  .strict();
export type SurveyAnswer = z.infer<typeof SurveyAnswerSchema>;

// ---------------------------------------------------------------------------
// Responses

export const TimelineEntrySchema = z.object({
  at: IsoTimestamp,
  type: z.string(),
  actor: z.string().describe('system:<function>, agent:<id> or customer'),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const QueueItemViewSchema = z.object({
  id: z.string(),
  number: z.string(),
  status: ComplaintStatusSchema,
  category: z.string().optional(),
  severity: z.string().optional(),
  priority: z.number().int().optional(),
  leadDepartment: z.string().optional(),
  assignee: z.string().optional(),
  receivedAt: IsoTimestamp,
  nextDueAt: IsoTimestamp.optional().describe('The next deadline or warning of this complaint.'),
  overdue: z.boolean(),
  version: z.number().int(),
});
export type QueueItemView = z.infer<typeof QueueItemViewSchema>;

export const QueuePageSchema = z.object({
  items: z.array(QueueItemViewSchema),
  cursor: z
    .string()
    .optional()
    .describe(
      'Pass as `cursor` for the next page (same caller, same filters, within 24 hours); absent on the last page. Opaque: it reveals nothing.',
    ),
});
export type QueuePage = z.infer<typeof QueuePageSchema>;

/** The agent's view: the record without storage internals, with its clocks, timeline and available actions. */
export const AgentComplaintViewSchema = ComplaintSchema.omit({
  trackingTokenHash: true,
  fingerprint: true,
  timers: true,
  deadlines: true,
}).extend({
  clocks: z.partialRecord(z.enum(['acknowledge', 'firstResponse', 'resolution']), DeadlineSchema),
  clockLog: z.array(ClockLogEntrySchema),
  timeline: z.array(TimelineEntrySchema),
  allowedActions: z
    .array(z.enum(AGENT_ACTIONS))
    .describe('What the caller may do now, given the status, their role and their department.'),
  olderCursor: z
    .string()
    .optional()
    .describe(
      '`timeline` is the newest page; pass as `?before=` for the older entries. Absent on the oldest page.',
    ),
});
export type AgentComplaintView = z.infer<typeof AgentComplaintViewSchema>;

export const ActionResultSchema = z.object({
  action: z.enum(AGENT_ACTIONS),
  previousStatus: ComplaintStatusSchema,
  status: ComplaintStatusSchema,
  version: z.number().int(),
  /** True when this request had already been applied (a retry after a lost response). */
  replayed: z.boolean(),
  routingSuggestion: RoutingSuggestionSchema.optional().describe(
    'reclassify only: the routing rules send the new classification to another lead department than the current one. Nothing was moved; reassign to follow the suggestion.',
  ),
  complaint: AgentComplaintViewSchema,
});
export type ActionResult = z.infer<typeof ActionResultSchema>;

/** Statuses as the customer sees them: internal steps (classification, approval) are folded in. */
export const PublicStatusSchema = z.enum([
  'received',
  'rejected',
  'in_progress',
  'waiting_on_customer',
  'resolved',
  'reopened',
  'closed',
]);
export type PublicStatus = z.infer<typeof PublicStatusSchema>;

export const PUBLIC_STEPS = [
  'received',
  'classified',
  'rejected',
  'assigned',
  'acknowledged',
  'responded',
  'info_requested',
  'customer_replied',
  'resolved',
  'reopened',
  'closed',
] as const;
export const PublicStepSchema = z.enum(PUBLIC_STEPS);
export type PublicStep = z.infer<typeof PublicStepSchema>;

export const CustomerViewSchema = z.object({
  number: z.string(),
  status: PublicStatusSchema,
  language: LanguageSchema,
  category: z.string().optional().describe("The category's name in the customer's language."),
  receivedAt: IsoTimestamp,
  steps: z.array(z.object({ step: PublicStepSchema, at: IsoTimestamp, label: z.string() })),
  expected: z.object({
    firstResponseBy: IsoTimestamp.optional(),
    resolutionBy: IsoTimestamp.optional(),
  }),
  messages: z.array(
    z.object({
      at: IsoTimestamp,
      from: z.enum(['agent', 'customer']),
      kind: z.enum(['message', 'info_request', 'reply']),
      text: z.string(),
    }),
  ),
  resolution: z
    .object({ solution: z.string(), compensation: MoneySchema.optional(), resolvedAt: IsoTimestamp })
    .optional(),
  rejection: z.object({ reason: z.string() }).optional(),
  survey: z
    .object({ canAnswer: z.boolean(), answered: z.boolean(), score: z.number().int().optional() })
    .optional(),
  canReply: z.boolean().describe('Whether POST /track/{token}/replies is accepted now.'),
  olderCursor: z
    .string()
    .optional()
    .describe('Steps and messages show the newest timeline page; pass as `?before=` for the older ones.'),
});
export type CustomerView = z.infer<typeof CustomerViewSchema>;

/** 200 of the customer's replies and survey answers: what happened, and the updated view. */
export const CustomerWriteResultSchema = z.object({
  outcome: z
    .enum(['replied', 'reopened', 'satisfied'])
    .describe(
      'replied: recorded (paused clocks resumed); reopened: the complaint is worked on again; satisfied: closed.',
    ),
  complaint: CustomerViewSchema,
});

/** 202 of `POST /complaints` (functions/intake/api-handler.ts). */
export const IntakeAcceptedSchema = z.object({
  complaintId: z.string(),
  number: z.string(),
  status: ComplaintStatusSchema,
  trackingToken: z.string().describe('Keep it: the only key to GET /track/{token} and the survey.'),
  trackingPath: z.string(),
  acknowledgement: z.object({ language: LanguageSchema, respondBy: IsoTimestamp, text: z.string() }),
  replayed: z.boolean(),
});

// ---------------------------------------------------------------------------
// Errors

export const FieldErrorSchema = z.object({ field: z.string(), reason: z.string() });

export const ErrorSchema = z.object({
  error: z.string().describe('A stable code: NotFound, Forbidden, Unauthorized, ServiceUnavailable, …'),
  message: z.string(),
});
export const ValidationErrorSchema = ErrorSchema.extend({
  error: z.literal('ValidationError'),
  errors: z.array(FieldErrorSchema),
});
/** 422 of `POST /complaints`: the Idempotency-Key was used for a different request (nothing of it is told). */
export const IdempotencyKeyReusedErrorSchema = ErrorSchema.extend({
  error: z.literal('IdempotencyKeyReused'),
  errors: z.array(FieldErrorSchema),
});
export const IllegalTransitionErrorSchema = ErrorSchema.extend({
  error: z.literal('IllegalTransition'),
  status: ComplaintStatusSchema.describe('The current status.'),
  allowedActions: z.array(z.enum(AGENT_ACTIONS)),
});
export const VersionConflictErrorSchema = ErrorSchema.extend({
  error: z.literal('VersionConflict'),
  currentVersion: z.number().int(),
});
export const ApprovalRequiredErrorSchema = ErrorSchema.extend({ error: z.literal('ApprovalRequired') });
/** 409 when a complaint has reached a cap of `policy.limits` (retrying does not help). */
export const CapReachedErrorSchema = ErrorSchema.extend({
  error: z.literal('CapReached'),
  cap: z.enum(['maxCustomerReplies', 'maxTimelineEntries']).describe('The policy limit that was reached.'),
  limit: z.number().int(),
});
/** 409 of the action endpoint: one of four shapes, told apart by `error`. */
export const ActionConflictSchema = z.discriminatedUnion('error', [
  IllegalTransitionErrorSchema,
  VersionConflictErrorSchema,
  ApprovalRequiredErrorSchema,
  CapReachedErrorSchema,
]);
export const CustomerConflictSchema = ErrorSchema.extend({
  error: z.enum(['AlreadyAnswered', 'SurveyNotOpen', 'NotAccepting']),
});

// ---------------------------------------------------------------------------
// Privacy API

export const ErasureAcceptedSchema = z.object({
  erasureId: z
    .string()
    .describe('Id of the erasure; the same customer again within a week gets the same id.'),
});

/** An erasure as `GET /privacy/erasures/{erasureId}` reports it: never whose data. */
export const ErasureViewSchema = z.object({
  erasureId: z.string(),
  status: z.enum(['running', 'completed']),
  trigger: z.enum(['request', 'retention']),
  reason: ErasureReasonSchema,
  requestedBy: z.string().describe('`admin:<id>`, or `system:retention` for the daily retention run.'),
  requestedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().optional(),
  erased: ErasureCountsSchema.describe('How many items of each kind were erased so far.'),
});

/** 429: too many replies to this complaint in the last hour, or too many requests at once. */
export const TooManyRequestsSchema = ErrorSchema.extend({
  error: z.literal('TooManyRequests'),
  retryAfterSeconds: z.number().int().describe('Also in the Retry-After header.'),
});
/** 409 of a customer reply: the complaint takes no replies now, or has reached its cap. */
export const ReplyConflictSchema = z.union([CustomerConflictSchema, CapReachedErrorSchema]);
