import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import {
  ActionRequestSchema,
  type ActionResult,
  type AgentRouteKey,
  CustomerTierRequestSchema,
  ListQuerySchema,
  MAX_CUSTOMER_ID_LENGTH,
  StatusListSchema,
  TimelineQuerySchema,
} from '../../shared/api/schemas';
import { authorizeCustomerDirectory } from '../../shared/auth/authorization';
import { jwtClaims, type Principal, principalFromClaims, roleClaimOf } from '../../shared/auth/principal';
import { kmsServiceKeys } from '../../shared/clients/kms';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { COMPLAINT_ID_PATTERN, paramProblem } from '../../shared/domain/bounds';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { IdempotencyKeyReusedError } from '../../shared/domain/idempotency';
import { newComplaintId } from '../../shared/domain/identifiers';
import { boundsErrorResponse, policyCurrencyProblems } from '../../shared/handlers/bounds';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, type FieldError, json, parseJsonBody } from '../../shared/handlers/http';
import { idempotencyKeyHeader, idempotencyKeyReused } from '../../shared/handlers/idempotency-key';
import { complaintAccepted } from '../../shared/handlers/intake-response';
import { counters, logger, withObservability } from '../../shared/handlers/observability';
import { tooLateToCreate } from '../../shared/handlers/request-age';
import { createRuntime } from '../../shared/handlers/runtime';
import {
  ApprovalRequiredError,
  ComplaintAccessError,
  IllegalActionError,
  performAction,
  RequestValidationError,
  VersionConflictError,
} from '../../shared/services/actions';
import { agentView, getComplaintView } from '../../shared/services/agent-view';
import { UnknownTierError, updateCustomerTier } from '../../shared/services/customer-directory';
import { receiveComplaint } from '../../shared/services/intake';
import { findByCustomer, findByNumber } from '../../shared/services/look-up';
import { listQueue } from '../../shared/services/queue-listing';

const { ctx, config } = createRuntime({ timers: eventBridgeTimers, keys: kmsServiceKeys });
/** The one claim roles are read from (fails the cold start when the stack did not name it). */
const roleClaim = roleClaimOf(config);

type Result = APIGatewayProxyStructuredResultV2;

/**
 * The agent API (HTTP API with a JWT authorizer): one function for its three routes,
 * routing on `event.routeKey`. API Gateway has already verified the token; the
 * handler turns the verified claims into a principal, maps the request to one
 * service call and the service's errors to the documented status codes
 * (docs/openapi.json). It logs ids and outcomes, never request bodies.
 */
const ROUTES: Record<
  AgentRouteKey,
  (event: APIGatewayProxyEventV2, principal: Principal) => Promise<Result>
> = {
  'GET /complaints': listComplaints,
  'GET /complaints/{id}': getComplaint,
  'POST /complaints/{id}/actions': postAction,
  'POST /agent/complaints': submitForCaller,
  'PUT /admin/customers/{customerId}': setCustomerTier,
};

export async function agentApi(event: APIGatewayProxyEventV2): Promise<Result> {
  const route = Object.hasOwn(ROUTES, event.routeKey) ? ROUTES[event.routeKey as AgentRouteKey] : undefined;
  if (route === undefined) return json(404, { error: 'NotFound', message: 'No such route' });
  const who = principalFromClaims(jwtClaims(event), roleClaim);
  if (!who.ok) {
    return who.status === 401
      ? json(401, { error: 'Unauthorized', message: who.reason }, { 'www-authenticate': 'Bearer' })
      : json(403, { error: 'Forbidden', message: who.reason });
  }
  try {
    return await route(event, who.principal);
  } catch (error) {
    return errorResponse(error, event.routeKey);
  }
}

function issues(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((i) => ({
    field:
      i.path.length > 0 ? `${prefix}${i.path.join('.')}` : prefix === '' ? '(body)' : prefix.slice(0, -1),
    reason: i.message,
  }));
}

async function listComplaints(event: APIGatewayProxyEventV2, principal: Principal): Promise<Result> {
  const parsed = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) return badRequest(issues(parsed.error));
  const query = parsed.data;
  if (query.number !== undefined) {
    const others = (['status', 'department', 'assignee', 'overdue', 'cursor', 'customer'] as const).filter(
      (name) => query[name] !== undefined,
    );
    if (others.length > 0) {
      return badRequest([{ field: 'number', reason: `cannot be combined with ${others.join(', ')}` }]);
    }
    return json(200, await findByNumber(ctx, principal, query.number));
  }
  if (query.customer !== undefined) {
    const others = (['status', 'department', 'assignee', 'overdue'] as const).filter(
      (name) => query[name] !== undefined,
    );
    if (others.length > 0) {
      return badRequest([{ field: 'customer', reason: `cannot be combined with ${others.join(', ')}` }]);
    }
    return json(
      200,
      await findByCustomer(ctx, principal, query.customer, {
        limit: query.limit,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      }),
    );
  }
  let statuses: z.infer<typeof StatusListSchema> | undefined;
  if (query.status !== undefined) {
    const list = StatusListSchema.safeParse(
      query.status
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );
    if (!list.success)
      return badRequest([{ field: 'status', reason: 'must be a comma-separated list of statuses' }]);
    statuses = [...new Set(list.data)];
  }
  const page = await listQueue(ctx, principal, {
    statuses,
    department: query.department,
    assignee: query.assignee,
    overdue: query.overdue === 'true',
    limit: query.limit,
    cursor: query.cursor,
  });
  return json(200, page);
}

/** The complaint id from the path, checked before any lookup (a ULID; anything else is 400). */
function complaintIdOf(event: APIGatewayProxyEventV2): { id: string } | { response: Result } {
  const id = event.pathParameters?.id;
  const problem = paramProblem(
    'id',
    id,
    COMPLAINT_ID_PATTERN,
    'must be a complaint id (26 characters, a ULID)',
  );
  return problem === undefined && id !== undefined
    ? { id }
    : { response: badRequest([problem ?? { field: 'id', reason: 'is required' }]) };
}

async function getComplaint(event: APIGatewayProxyEventV2, principal: Principal): Promise<Result> {
  const target = complaintIdOf(event);
  if ('response' in target) return target.response;
  const query = TimelineQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) return badRequest(issues(query.error));
  const view = await getComplaintView(ctx, principal, target.id, query.data.before);
  return json(200, view, { etag: `"${view.version}"` });
}

/** `If-Match: "7"` (or W/"7", or 7) → 7. */
function versionFromIfMatch(header: string | undefined): number | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  return match?.[1] === undefined ? 'invalid' : Number(match[1]);
}

async function postAction(event: APIGatewayProxyEventV2, principal: Principal): Promise<Result> {
  const target = complaintIdOf(event);
  if ('response' in target) return target.response;
  const body = parseJsonBody(event);
  if (!body.ok) return body.response;
  const parsed = ActionRequestSchema.safeParse(body.value);
  if (!parsed.success) return badRequest(issues(parsed.error));
  const request = parsed.data;
  if ('compensation' in request && request.compensation?.currency === undefined) {
    const money = policyCurrencyProblems(ctx.policy.currency, [
      { field: 'compensation.amount', amount: request.compensation?.amount },
    ]);
    if (money.length > 0) return badRequest(money);
  }
  const fromHeader = versionFromIfMatch(event.headers?.['if-match']);
  if (fromHeader === 'invalid') {
    return badRequest([{ field: 'If-Match', reason: 'must be the complaint version, e.g. "7"' }]);
  }
  if (
    fromHeader !== undefined &&
    request.expectedVersion !== undefined &&
    fromHeader !== request.expectedVersion
  ) {
    return badRequest([{ field: 'expectedVersion', reason: 'differs from the If-Match header' }]);
  }
  const expectedVersion = request.expectedVersion ?? fromHeader;
  if (expectedVersion === undefined) {
    return badRequest([{ field: 'expectedVersion', reason: 'is required (or send an If-Match header)' }]);
  }
  const complaintId = target.id;
  const done = await performAction(ctx, principal, complaintId, { ...request, expectedVersion });
  if (done.schedulingError !== undefined) {
    // The write stands and the sweep index points at the next deadline; the sweep is the backstop.
    logger.warn('Timers not synchronised after an action', {
      complaintId,
      action: request.action,
      error: errorSummary(done.schedulingError),
    });
    counters.count('TimerSyncFailures');
  }
  logger.info('Action performed', {
    complaintId,
    action: request.action,
    status: done.complaint.status,
    version: done.complaint.version,
    replayed: done.replayed,
    role: principal.role,
  });
  const result: ActionResult = {
    action: done.action,
    previousStatus: done.previousStatus,
    status: done.complaint.status,
    version: done.complaint.version,
    replayed: done.replayed,
    ...(done.routingSuggestion === undefined ? {} : { routingSuggestion: done.routingSuggestion }),
    complaint: await agentView(ctx, principal, done.complaint),
  };
  return json(200, result, { etag: `"${done.complaint.version}"` });
}

/** As on the public route: the caller's key for safe retries. */

/**
 * `POST /agent/complaints`: an agent submits on behalf of a caller (hotline). The agent is
 * authenticated, so this is a trusted producer (shared/domain/trust.ts): the customer id is verified,
 * affected users count, the tier comes from the customer directory (an agent cannot state it: 400).
 */
async function submitForCaller(event: APIGatewayProxyEventV2, principal: Principal): Promise<Result> {
  const body = parseJsonBody(event);
  if (!body.ok) return body.response;
  const header = idempotencyKeyHeader(event);
  if (!header.ok) return header.response;
  const { key } = header;
  const parsed = ComplaintSubmissionSchema.safeParse(body.value);
  if (!parsed.success) return badRequest(issues(parsed.error));
  if (parsed.data.customer.tier !== undefined) {
    return badRequest([
      {
        field: 'customer.tier',
        reason:
          'comes from the customer directory (an admin sets it with PUT /admin/customers/{customerId}); an agent cannot state it',
      },
    ]);
  }
  // As on the public route: too late to create a complaint the caller would be told failed.
  const late = tooLateToCreate(event);
  if (late !== undefined) {
    logger.warn('Request too old to start creating a complaint', { ageMs: late.ageMs, agent: principal.id });
    return late.response;
  }
  const messageId = key ?? `auto-${newComplaintId()}`;
  let result: Awaited<ReturnType<typeof receiveComplaint>>;
  try {
    result = await receiveComplaint(ctx, {
      submission: parsed.data,
      sourceSystem: `agent:${principal.id}`,
      messageId,
      // Each agent's keys apart from the public route's and from other agents'.
      idempotency: { kind: 'agent', agentId: principal.id, key: messageId },
      submitter: { kind: 'agent', agentId: principal.id },
    });
  } catch (error) {
    if (error instanceof IdempotencyKeyReusedError) {
      return idempotencyKeyReused(error);
    }
    throw error;
  }
  logger.info('Complaint accepted for a caller', {
    complaintId: result.complaintId,
    replayed: result.replayed,
    agent: principal.id,
  });
  return complaintAccepted(result);
}

/** `PUT /admin/customers/{customerId}`: an admin sets a customer's tier in the directory. */
async function setCustomerTier(event: APIGatewayProxyEventV2, principal: Principal): Promise<Result> {
  const decision = authorizeCustomerDirectory(principal);
  if (!decision.allow) return json(403, { error: 'Forbidden', message: decision.reason });
  const customerId = event.pathParameters?.customerId ?? '';
  if (customerId.length === 0 || customerId.length > MAX_CUSTOMER_ID_LENGTH) {
    return badRequest([{ field: 'customerId', reason: `must be 1–${MAX_CUSTOMER_ID_LENGTH} characters` }]);
  }
  const body = parseJsonBody(event);
  if (!body.ok) return body.response;
  const parsed = CustomerTierRequestSchema.safeParse(body.value);
  if (!parsed.success) return badRequest(issues(parsed.error));
  try {
    const { outcome, current } = await updateCustomerTier(ctx, {
      customerId,
      tier: parsed.data.tier,
      updatedAt: ctx.now().toISOString(),
      source: `admin:${principal.id}`,
    });
    logger.info('Customer directory updated', { outcome, admin: principal.id });
    return json(200, { ...current, outcome });
  } catch (error) {
    if (error instanceof UnknownTierError) return badRequest([{ field: 'tier', reason: error.message }]);
    throw error;
  }
}

/** Service errors → the documented responses; anything else is a dependency failure (503, safe to retry). */
function errorResponse(error: unknown, routeKey: string): Result {
  if (error instanceof ComplaintAccessError) {
    return error.status === 404
      ? json(404, { error: 'NotFound', message: 'No complaint with this id' })
      : json(403, { error: 'Forbidden', message: error.message });
  }
  if (error instanceof RequestValidationError) return badRequest(error.errors);
  if (error instanceof IllegalActionError) {
    return json(409, {
      error: 'IllegalTransition',
      message: error.message,
      status: error.status,
      allowedActions: error.allowedActions,
    });
  }
  if (error instanceof VersionConflictError) {
    return json(
      409,
      { error: 'VersionConflict', message: error.message, currentVersion: error.currentVersion },
      { etag: `"${error.currentVersion}"` },
    );
  }
  if (error instanceof ApprovalRequiredError) {
    return json(409, { error: 'ApprovalRequired', message: error.message });
  }
  const bounded = boundsErrorResponse(error);
  if (bounded !== undefined) return bounded;
  if (error instanceof Error && error.name === 'InvalidCursorError') {
    return badRequest([{ field: 'cursor', reason: 'is not valid' }]);
  }
  logger.error('Agent API request failed', { routeKey, error: errorSummary(error) });
  counters.count('AgentApiFailures');
  return json(
    503,
    {
      error: 'ServiceUnavailable',
      message:
        'The request could not be completed right now. Retry the same request: an action that was already applied is not applied twice.',
    },
    { 'retry-after': '2' },
  );
}

export const handler = withObservability(agentApi);
