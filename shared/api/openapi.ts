import * as z from 'zod';
import { ComplaintSubmissionSchema } from '../domain/complaint';
import { ErasureRequestSchema } from '../domain/privacy';
import { ReportSchema } from '../domain/reporting/report';
import {
  ActionConflictSchema,
  ActionRequestSchema,
  ActionResultSchema,
  AgentComplaintViewSchema,
  API_ROUTES,
  type ApiRoute,
  ApprovalRequiredErrorSchema,
  CapReachedErrorSchema,
  CustomerConflictSchema,
  CustomerDirectoryEntrySchema,
  CustomerReplySchema,
  CustomerTierRequestSchema,
  CustomerViewSchema,
  CustomerWriteResultSchema,
  ErasureAcceptedSchema,
  ErasureViewSchema,
  ErrorSchema,
  IdempotencyKeyReusedErrorSchema,
  IllegalTransitionErrorSchema,
  IntakeAcceptedSchema,
  ListQuerySchema,
  QueuePageSchema,
  ReplyConflictSchema,
  SurveyAnswerSchema,
  TooManyRequestsSchema,
  ValidationErrorSchema,
  VersionConflictErrorSchema,
} from './schemas';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas the
 * handlers validate with (`npm run openapi` writes docs/openapi.json; a unit test
 * fails when the committed file is stale or a route is missing). OpenAPI 3.1 uses
 * JSON Schema 2020-12, zod's default target, so the schemas go in unchanged.
 */

type Json = Record<string, unknown>;

/** One JSON Schema (for parameters); references are not expected here. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/**
 * Component schemas, referencing each other by `#/components/schemas/<name>` (an
 * action result embeds the complaint view by reference, not by copy). Request schemas
 * are documented as accepted (defaults optional), responses as returned.
 */
function componentSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  return Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
      return [id, rest];
    }),
  );
}

const REQUESTS = {
  ComplaintSubmission: ComplaintSubmissionSchema,
  CustomerTierRequest: CustomerTierRequestSchema,
  ActionRequest: ActionRequestSchema,
  CustomerReply: CustomerReplySchema,
  SurveyAnswer: SurveyAnswerSchema,
  ErasureRequest: ErasureRequestSchema,
} as const;

const RESPONSES = {
  Report: ReportSchema,
  IntakeAccepted: IntakeAcceptedSchema,
  CustomerDirectoryEntry: CustomerDirectoryEntrySchema,
  QueuePage: QueuePageSchema,
  AgentComplaintView: AgentComplaintViewSchema,
  ActionResult: ActionResultSchema,
  CustomerView: CustomerViewSchema,
  CustomerWriteResult: CustomerWriteResultSchema,
  Error: ErrorSchema,
  ValidationError: ValidationErrorSchema,
  IdempotencyKeyReusedError: IdempotencyKeyReusedErrorSchema,
  IllegalTransitionError: IllegalTransitionErrorSchema,
  VersionConflictError: VersionConflictErrorSchema,
  ApprovalRequiredError: ApprovalRequiredErrorSchema,
  CapReachedError: CapReachedErrorSchema,
  ActionConflict: ActionConflictSchema,
  CustomerConflict: CustomerConflictSchema,
  ErasureAccepted: ErasureAcceptedSchema,
  Erasure: ErasureViewSchema,
  ReplyConflict: ReplyConflictSchema,
  TooManyRequests: TooManyRequestsSchema,
} as const;

type ComponentName = keyof typeof REQUESTS | keyof typeof RESPONSES;

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const content = (name: ComponentName) => ({ 'application/json': { schema: ref(name) } });
const response = (description: string, name: ComponentName, headers?: Json) => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: content(name),
});

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};
const ETAG = {
  ETag: {
    description: 'The complaint version, quoted; send it back as If-Match.',
    schema: { type: 'string' },
  },
};

/**
 * What a complaint-creating route's 503 (and the gateway's own 504) means: the caller cannot tell
 * whether the complaint was created, and the same Idempotency-Key settles it.
 */
const INTAKE_RETRY =
  'Retry with the same Idempotency-Key and body: you get the complaint if it was created, or it is created now (never twice). Without an Idempotency-Key a retry may create a second complaint.';

const COMMON = {
  unavailable: response('A dependency failed; retry the same request.', 'Error', RETRY_AFTER),
  intakeUnavailable: response(
    `A dependency failed, or the request reached the service too late to be processed (\`RequestExpired\`: nothing was created); the HTTP API itself answers 503 or 504 when the function did not answer within its 30 s integration timeout. ${INTAKE_RETRY}`,
    'Error',
    RETRY_AFTER,
  ),
  intakeTimedOut: {
    description: `The HTTP API gave up waiting for the function (answered by the API, not the service): the complaint may or may not have been created. ${INTAKE_RETRY}`,
  },
  invalid: response('Invalid input: every field and the reason it was refused.', 'ValidationError'),
  tooLarge: response('The body exceeds 64 KB.', 'Error'),
  notJson: response('The body is not application/json.', 'Error'),
  unauthorized: response('No valid bearer token (answered by the JWT authorizer or the function).', 'Error'),
  forbidden: response(
    'The token has no usable role (agent, supervisor, admin) or department, or the caller may see the complaint but not perform this action.',
    'Error',
  ),
  notFound: response(
    'No such complaint, or one the caller may not see: the two are indistinguishable on purpose.',
    'Error',
  ),
  tokenNotFound: response('No complaint matches this link (unknown or malformed token).', 'Error'),
  throttled: {
    description:
      'Throttled by API Gateway (the route\'s rate or burst): `{"message":"Too Many Requests"}`. Retry later, with backoff.',
    content: {
      'application/json': {
        schema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
      },
    },
  },
} as const;

const BEFORE_PARAMETER = {
  name: 'before',
  in: 'query',
  required: false,
  description:
    'The `olderCursor` of a previous view: the timeline page before it (views show the newest page).',
  schema: { type: 'string', maxLength: 100 },
};

const TOKEN_PARAMETER = {
  name: 'token',
  in: 'path',
  required: true,
  description: 'The tracking token from intake (also the survey link).',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
};
const ID_PARAMETER = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The complaint id (a ULID); anything else is 400 before any lookup.',
  schema: { type: 'string', pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' },
};

function listParameters(): Json[] {
  const properties = (jsonSchema(ListQuerySchema, 'input').properties ?? {}) as Record<string, Json>;
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: false, description, schema: rest };
  });
}

const AGENT_AUTHORIZATION =
  'Roles come from the token (`cognito:groups`, `role` or `custom:role`; admin > supervisor > agent), the department from `custom:department` or `department`. ' +
  'Agents and supervisors see the complaints their department leads or collaborates on and act on those it leads; admins see and act on all. ' +
  'Approving and rejecting proposals needs a supervisor or admin other than the proposer.';

/** The operation object of each route. */
const OPERATIONS: Record<ApiRoute['key'], Json> = {
  'GET /reports/{period}/{id}': {
    description:
      'Supervisors and admins (agents get 403). Reports are generated shortly after each period ends (business time zone) and stored; a finished period without a report is generated on request, and the current period answers with its figures so far (`partial: true`, not stored). ' +
      '`Accept: text/html` (or `?format=html`, `&lang=en`) returns a self-contained HTML page with SVG charts instead of JSON.',
    parameters: [
      {
        name: 'period',
        in: 'path',
        required: true,
        description: 'daily, weekly or monthly.',
        schema: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
      },
      {
        name: 'id',
        in: 'path',
        required: true,
        description: 'The period: 2026-11-24 (daily), 2026-W47 (ISO week), 2026-11 (monthly).',
        schema: { type: 'string', pattern: '^\\d{4}-(\\d{2}-\\d{2}|W\\d{2}|\\d{2})$' },
      },
    ],
    responses: {
      200: {
        description: 'The report: the period, its figures and the previous period’s for comparison.',
        content: { ...content('Report'), 'text/html': { schema: { type: 'string' } } },
      },
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response('Not a supervisor or admin.', 'Error'),
      404: response('The period has not started.', 'Error'),
      503: COMMON.unavailable,
    },
  },
  'POST /privacy/erasures': {
    description:
      "Admins only (other roles get 403). Erases the customer's personal data from every complaint found under the customer's id — texts, contact and evidence references, replies, the survey comment, tracking links, idempotency fingerprints, the customer directory entry — and replaces the id by an unlinkable pseudonym; anonymous figures (reports) do not change. " +
      'Asynchronous: poll the erasure. The same customer again within a week returns the same erasure. `reason` is a category, never free text (docs/privacy.md).',
    requestBody: { required: true, content: content('ErasureRequest') },
    responses: {
      202: response('Accepted: the erasure runs in the background.', 'ErasureAccepted', {
        Location: { description: 'The erasure to poll.', schema: { type: 'string' } },
      }),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response('Not an admin.', 'Error'),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.unavailable,
    },
  },
  'GET /privacy/erasures/{erasureId}': {
    description:
      'Admins only. `running`, then `completed` with what was erased, by kind and count; never the customer id or any erased data.',
    parameters: [
      {
        name: 'erasureId',
        in: 'path',
        required: true,
        description: 'The id `POST /privacy/erasures` returned.',
        schema: { type: 'string', pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' },
      },
    ],
    responses: {
      200: response('The erasure.', 'Erasure'),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response('Not an admin.', 'Error'),
      404: response('No erasure with this id.', 'Error'),
      503: COMMON.unavailable,
    },
  },
  'POST /complaints': {
    description:
      'Public: customers and services submit without an account (stage throttling and validation protect it). Send an Idempotency-Key to make retries safe. ' +
      'Anonymous callers cannot state their own importance: `customer.tier` and `affectedUsers` are refused (400, "set by trusted producers only"); the tier is the policy default and the customer id is kept apart from verified customers’ history. `amount` is accepted (money at stake is part of the grievance).',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'The same key with the same body returns the same complaint (and token); the same key with another body is refused with 422.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,200}$' },
      },
    ],
    requestBody: { required: true, content: content('ComplaintSubmission') },
    responses: {
      202: response('Accepted: the complaint, its number and the tracking token.', 'IntakeAccepted'),
      400: COMMON.invalid,
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      422: response(
        'The Idempotency-Key was already used for a different request (nothing of that request is told).',
        'IdempotencyKeyReusedError',
      ),
      503: COMMON.intakeUnavailable,
      504: COMMON.intakeTimedOut,
    },
  },
  'POST /agent/complaints': {
    description:
      'Any agent, supervisor or admin submits a complaint on behalf of a caller (hotline). The submission is trusted like an allowed producer: the customer id is verified (it meets the customer’s history), `affectedUsers` counts, the tier comes from the customer directory (`customer.tier` is refused: 400). The source system is `agent:<agent id>`.',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'The same key returns the same complaint.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,200}$' },
      },
    ],
    requestBody: { required: true, content: content('ComplaintSubmission') },
    responses: {
      202: response('Accepted: the complaint, its number and the tracking token.', 'IntakeAccepted'),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response('The token has no usable role or department.', 'Error'),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.intakeUnavailable,
      504: COMMON.intakeTimedOut,
    },
  },
  'PUT /admin/customers/{customerId}': {
    description:
      'Admins only (agents and supervisors get 403). Sets the customer’s tier in the customer directory, which intake reads for verified customer ids (events, hotline), never for anonymous submissions. Ordered by time: a CRM update older than this one does not overwrite it.',
    parameters: [
      {
        name: 'customerId',
        in: 'path',
        required: true,
        description: 'The customer’s id in the company’s systems (as in complaints).',
        schema: { type: 'string', minLength: 1, maxLength: 128 },
      },
    ],
    requestBody: { required: true, content: content('CustomerTierRequest') },
    responses: {
      200: response('The directory entry now stored.', 'CustomerDirectoryEntry'),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response('Not an admin.', 'Error'),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.unavailable,
    },
  },
  'GET /complaints': {
    description: `Ordered by the nearest deadline across the selected statuses. ${AGENT_AUTHORIZATION}`,
    parameters: listParameters(),
    responses: {
      200: response('One page of the queue.', 'QueuePage'),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: response(
        'A department other than the caller’s own (agents, supervisors), or no usable role.',
        'Error',
      ),
      503: COMMON.unavailable,
    },
  },
  'GET /complaints/{id}': {
    description: AGENT_AUTHORIZATION,
    parameters: [ID_PARAMETER, BEFORE_PARAMETER],
    responses: {
      200: response(
        'The complaint with its timeline, clocks and allowed actions.',
        'AgentComplaintView',
        ETAG,
      ),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: COMMON.forbidden,
      404: COMMON.notFound,
      503: COMMON.unavailable,
    },
  },
  'POST /complaints/{id}/actions': {
    description:
      'One lifecycle action per request, on the version the caller read (`expectedVersion` or If-Match). ' +
      'A retry of a request whose response was lost is recognised and not applied twice (`replayed: true`). ' +
      AGENT_AUTHORIZATION,
    parameters: [
      ID_PARAMETER,
      {
        name: 'If-Match',
        in: 'header',
        required: false,
        description: 'The expected version (the ETag of GET), instead of `expectedVersion` in the body.',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: content('ActionRequest') },
    responses: {
      200: response('Done: the new status and the updated complaint.', 'ActionResult', ETAG),
      400: COMMON.invalid,
      401: COMMON.unauthorized,
      403: COMMON.forbidden,
      404: COMMON.notFound,
      409: response(
        'IllegalTransition (with the current status and the actions possible now), VersionConflict (with the current version), ApprovalRequired, or CapReached (the complaint has reached limits.maxTimelineEntries).',
        'ActionConflict',
      ),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.unavailable,
    },
  },
  'GET /track/{token}': {
    description:
      'Public, addressed by the unguessable token. Shows status, steps, expected times, the messages exchanged and the outcome; never internal notes, staff ids or classification details.',
    parameters: [TOKEN_PARAMETER, BEFORE_PARAMETER],
    responses: {
      200: response("The customer's view.", 'CustomerView'),
      400: COMMON.invalid,
      404: COMMON.tokenNotFound,
      503: COMMON.unavailable,
    },
  },
  'POST /track/{token}/replies': {
    description:
      'Resumes paused clocks when the complaint waits on the customer; reopens a resolved complaint (clocks restart, escalation one level up). Closed or rejected complaints answer 409.',
    parameters: [TOKEN_PARAMETER],
    requestBody: { required: true, content: content('CustomerReply') },
    responses: {
      200: response('Recorded.', 'CustomerWriteResult'),
      400: COMMON.invalid,
      404: COMMON.tokenNotFound,
      409: response(
        'NotAccepting: the complaint is closed or rejected; CapReached: it has reached limits.maxCustomerReplies (or maxTimelineEntries).',
        'ReplyConflict',
      ),
      429: response(
        'More than limits.customerRepliesPerHour replies in the last hour (Retry-After: seconds until one is allowed), or too many at once (Retry-After: 1).',
        'TooManyRequests',
        RETRY_AFTER,
      ),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.unavailable,
    },
  },
  'POST /surveys/{token}': {
    description:
      'Once per resolution. A score at or below the policy threshold reopens the complaint; a better one closes it. Repeating the identical answer right away returns the same result.',
    parameters: [TOKEN_PARAMETER],
    requestBody: { required: true, content: content('SurveyAnswer') },
    responses: {
      200: response('Recorded.', 'CustomerWriteResult'),
      400: COMMON.invalid,
      404: COMMON.tokenNotFound,
      409: response(
        'AlreadyAnswered, or SurveyNotOpen (not resolved, or the answer window passed).',
        'CustomerConflict',
      ),
      413: COMMON.tooLarge,
      415: COMMON.notJson,
      503: COMMON.unavailable,
    },
  },
};

export function buildOpenApiDocument(): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of API_ROUTES) {
    const operation: Json = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.function],
      security: route.auth === 'jwt' ? [{ jwt: [] }] : [],
      ...OPERATIONS[route.key],
    };
    // Every route has its own API Gateway throttle (infra/constructs/http-api.ts).
    const responses = operation.responses as Record<string, Json>;
    responses[429] ??= COMMON.throttled;
    paths[route.path] = { ...paths[route.path], [route.method]: operation };
  }
  const schemas = { ...componentSchemas(REQUESTS, 'input'), ...componentSchemas(RESPONSES, 'output') };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Complaint service API',
      version: '1.0.0',
      description:
        'Intake, the agent console (JWT) and the customer tracking and survey endpoints (tracking token). Generated from shared/api/schemas.ts by `npm run openapi`; do not edit by hand.',
    },
    tags: [
      { name: 'intake', description: 'Submitting complaints (public).' },
      { name: 'agent', description: 'The agent console: queues, complaint detail, lifecycle actions (JWT).' },
      { name: 'customer', description: 'Tracking, replies and the survey, by tracking token (public).' },
      { name: 'reports', description: 'Periodic reports for managers (JWT: supervisors and admins).' },
      { name: 'privacy', description: 'Erasure of personal data (JWT: admins).' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        jwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An access or ID token of the configured issuer (the stack’s Cognito user pool or an external issuer), verified by the HTTP API JWT authorizer.',
        },
      },
    },
  };
}

/** The document as committed: pretty-printed with a final newline. */
export function openApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
