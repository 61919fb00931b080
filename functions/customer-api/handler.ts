import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import {
  CustomerReplySchema,
  type CustomerRouteKey,
  SurveyAnswerSchema,
  TimelineQuerySchema,
} from '../../shared/api/schemas';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { paramProblem, TOKEN_PARAM_PATTERN } from '../../shared/domain/bounds';
import { boundsErrorResponse } from '../../shared/handlers/bounds';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, type FieldError, json, parseJsonBody } from '../../shared/handlers/http';
import { counters, logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import {
  answerSurvey,
  CustomerConflictError,
  type CustomerResult,
  customerReply,
  TrackingNotFoundError,
  trackComplaint,
} from '../../shared/services/customer';

const { ctx } = createRuntime({ timers: eventBridgeTimers });

type Result = APIGatewayProxyStructuredResultV2;

/**
 * The customer endpoints (no login: the tracking token in the path is the
 * credential). Every miss — unknown, malformed or mistyped token — is the same 404,
 * so the API cannot be used to probe for complaints. The token is never logged (nor is
 * the path that contains it); logs carry the complaint outcome only.
 */
const ROUTES: Record<CustomerRouteKey, (event: APIGatewayProxyEventV2, token: string) => Promise<Result>> = {
  'GET /track/{token}': async (event, token) => {
    const query = TimelineQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return badRequest(fieldErrors(query.error));
    return json(200, await trackComplaint(ctx, token, query.data.before));
  },
  'POST /track/{token}/replies': async (event, token) => {
    const body = parseBody(event, CustomerReplySchema);
    if (!body.ok) return body.response;
    return written(await customerReply(ctx, token, body.value));
  },
  'POST /surveys/{token}': async (event, token) => {
    const body = parseBody(event, SurveyAnswerSchema);
    if (!body.ok) return body.response;
    return written(await answerSurvey(ctx, token, body.value));
  },
};

const NOT_FOUND = { error: 'NotFound', message: 'No complaint matches this link' } as const;

export async function customerApi(event: APIGatewayProxyEventV2): Promise<Result> {
  const route = Object.hasOwn(ROUTES, event.routeKey)
    ? ROUTES[event.routeKey as CustomerRouteKey]
    : undefined;
  if (route === undefined) return json(404, { error: 'NotFound', message: 'No such route' });
  // Before any lookup: an oversized or foreign token is a 400 (a well-formed unknown one stays 404).
  const token = event.pathParameters?.token;
  const badToken = paramProblem('token', token, TOKEN_PARAM_PATTERN, 'must be the token of a tracking link');
  if (badToken !== undefined || token === undefined)
    return badRequest([badToken ?? { field: 'token', reason: 'is required' }]);
  try {
    return await route(event, token);
  } catch (error) {
    if (error instanceof TrackingNotFoundError) return json(404, NOT_FOUND);
    if (error instanceof CustomerConflictError)
      return json(409, { error: error.code, message: error.message });
    const bounded = boundsErrorResponse(error);
    if (bounded !== undefined) return bounded;
    logger.error('Customer API request failed', { routeKey: event.routeKey, error: errorSummary(error) });
    counters.count('CustomerApiFailures');
    return json(
      503,
      { error: 'ServiceUnavailable', message: 'Please try again in a moment.' },
      { 'retry-after': '2' },
    );
  }
}

function parseBody<T extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  schema: T,
): { ok: true; value: z.infer<T> } | { ok: false; response: Result } {
  const body = parseJsonBody(event);
  if (!body.ok) return body;
  const parsed = schema.safeParse(body.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, response: badRequest(fieldErrors(parsed.error)) };
}

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({
    field: i.path.length > 0 ? i.path.join('.') : '(body)',
    reason: i.message,
  }));
}

function written(result: CustomerResult): Result {
  if (result.schedulingError !== undefined) {
    logger.warn('Timers not synchronised after a customer request', {
      error: errorSummary(result.schedulingError),
    });
    counters.count('TimerSyncFailures');
  }
  logger.info('Customer request handled', { outcome: result.outcome, replayed: result.replayed });
  return json(200, { outcome: result.outcome, complaint: result.view });
}

export const handler = withObservability(customerApi);
