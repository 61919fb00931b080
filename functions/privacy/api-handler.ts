import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jwtClaims, principalFromClaims, roleClaimOf } from '../../shared/auth/principal';
import { ERASURE_ID_PATTERN, ErasureRequestSchema } from '../../shared/domain/privacy';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, json, parseJsonBody } from '../../shared/handlers/http';
import { counters, logger, withObservability } from '../../shared/handlers/observability';
import { createPrivacyContext } from '../../shared/handlers/privacy-runtime';
import { createRuntime } from '../../shared/handlers/runtime';
import { ErasureForbiddenError, getErasure, mayErase, requestErasure } from '../../shared/services/privacy';

const runtime = createRuntime();
const ctx = createPrivacyContext(runtime);
/** The one claim roles are read from (fails the cold start when the stack did not name it). */
const roleClaim = roleClaimOf(runtime.config);

type Result = APIGatewayProxyStructuredResultV2;

/**
 * The privacy API (JWT, admins only): `POST /privacy/erasures` starts the erasure of a customer's
 * personal data and answers 202 with its id (the same customer again within a week: the same
 * erasure); `GET /privacy/erasures/{erasureId}` reports its status and what was erased. Neither logs
 * nor returns the customer id.
 */
export async function privacyApi(event: APIGatewayProxyEventV2): Promise<Result> {
  const who = principalFromClaims(jwtClaims(event), roleClaim);
  if (!who.ok) {
    return who.status === 401
      ? json(401, { error: 'Unauthorized', message: who.reason }, { 'www-authenticate': 'Bearer' })
      : json(403, { error: 'Forbidden', message: who.reason });
  }
  const principal = who.principal;
  if (!mayErase(principal)) {
    return json(403, { error: 'Forbidden', message: new ErasureForbiddenError().message });
  }
  try {
    if (event.routeKey === 'POST /privacy/erasures') {
      const body = parseJsonBody(event);
      if (!body.ok) return body.response;
      const parsed = ErasureRequestSchema.safeParse(body.value);
      if (!parsed.success) {
        return badRequest(
          parsed.error.issues.map((i) => ({
            field: i.path.length > 0 ? i.path.join('.') : '(body)',
            reason: i.message,
          })),
        );
      }
      const { erasureId, started } = await requestErasure(ctx, principal, parsed.data);
      logger.info('Erasure requested', { erasureId, started, reason: parsed.data.reason });
      return json(202, { erasureId }, { location: `/privacy/erasures/${erasureId}` });
    }
    if (event.routeKey === 'GET /privacy/erasures/{erasureId}') {
      const erasureId = event.pathParameters?.erasureId ?? '';
      if (!ERASURE_ID_PATTERN.test(erasureId)) {
        return badRequest([{ field: 'erasureId', reason: 'must be an erasure id (26 characters, a ULID)' }]);
      }
      const erasure = await getErasure(ctx, principal, erasureId);
      return erasure === undefined
        ? json(404, { error: 'NotFound', message: 'No erasure with this id' })
        : json(200, erasure);
    }
    return json(404, { error: 'NotFound', message: 'No such route' });
  } catch (error) {
    logger.error('Privacy API request failed', { routeKey: event.routeKey, error: errorSummary(error) });
    counters.count('PrivacyApiFailures');
    return json(
      503,
      {
        error: 'ServiceUnavailable',
        message:
          'The request could not be completed right now. Retry the same request: it starts one erasure only.',
      },
      { 'retry-after': '2' },
    );
  }
}

export const handler = withObservability(privacyApi);
