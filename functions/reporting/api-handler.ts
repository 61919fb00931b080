import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jwtClaims, principalFromClaims, roleClaimOf } from '../../shared/auth/principal';
import { paramProblem, REPORT_ID_PARAM_PATTERN } from '../../shared/domain/bounds';
import { InvalidPeriodError, type PeriodKind } from '../../shared/domain/reporting/report';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, json, SECURITY_HEADERS } from '../../shared/handlers/http';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createReportingContext, createRuntime } from '../../shared/handlers/runtime';
import { renderReportHtml } from '../../shared/reporting/render-html';
import { getReport, ReportNotAvailableError } from '../../shared/services/reporting';

const runtime = createRuntime();
const reporting = createReportingContext(runtime);
/** The one claim roles are read from (fails the cold start when the stack did not name it). */
const roleClaim = roleClaimOf(runtime.config);

type Result = APIGatewayProxyStructuredResultV2;

/** Whether the client asked for HTML (`Accept: text/html` before JSON, or `?format=html`). */
export function wantsHtml(event: APIGatewayProxyEventV2): boolean {
  const format = event.queryStringParameters?.format;
  if (format !== undefined) return format === 'html';
  const accept = (event.headers?.accept ?? '').toLowerCase();
  const html = accept.indexOf('text/html');
  const jsonAt = accept.indexOf('application/json');
  return html !== -1 && (jsonAt === -1 || html < jsonAt);
}

/**
 * `GET /reports/{period}/{id}` (JWT; supervisors and admins): a stored report as JSON, or as a
 * self-contained HTML page. A finished period without a report yet is generated on the spot.
 */
export async function reportsApi(event: APIGatewayProxyEventV2): Promise<Result> {
  const who = principalFromClaims(jwtClaims(event), roleClaim);
  if (!who.ok) {
    return who.status === 401
      ? json(401, { error: 'Unauthorized', message: who.reason }, { 'www-authenticate': 'Bearer' })
      : json(403, { error: 'Forbidden', message: who.reason });
  }
  if (who.principal.role === 'agent') {
    return json(403, { error: 'Forbidden', message: 'Reports are for supervisors and admins' });
  }
  const kind = event.pathParameters?.period ?? '';
  const id = event.pathParameters?.id ?? '';
  // Before any lookup: bounded, plain parameters (the period parser says exactly what fits).
  const bad = [
    paramProblem('period', kind, /^[a-z]{1,16}$/, 'must be daily, weekly or monthly'),
    paramProblem(
      'id',
      id,
      REPORT_ID_PARAM_PATTERN,
      'must be a period id such as 2026-11-24, 2026-W47 or 2026-11',
    ),
    ...['format', 'lang'].map((name) => {
      const value = event.queryStringParameters?.[name];
      return value === undefined
        ? undefined
        : paramProblem(name, value, /^[A-Za-z-]{1,16}$/, 'is not a known value');
    }),
  ].filter((p) => p !== undefined);
  if (bad.length > 0) return badRequest(bad);
  try {
    const report = await getReport(reporting, kind as PeriodKind, id);
    if (wantsHtml(event)) {
      // `?lang=zh|en`, else the browser's Accept-Language (Chinese first), else English.
      const wanted = event.queryStringParameters?.lang ?? event.headers?.['accept-language'] ?? '';
      const lang = wanted.toLowerCase().startsWith('zh') ? 'zh' : 'en';
      return {
        statusCode: 200,
        headers: {
          ...SECURITY_HEADERS,
          'content-type': 'text/html; charset=utf-8',
          // Self-contained (inline CSS and SVG): nothing to load, run, submit or frame it.
          'content-security-policy':
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          'referrer-policy': 'no-referrer',
        },
        body: renderReportHtml(report, { lang }),
      };
    }
    return json(200, report);
  } catch (error) {
    if (error instanceof InvalidPeriodError) {
      const field = /period must be/.test(error.message) ? 'period' : 'id';
      return badRequest([{ field, reason: error.message }]);
    }
    if (error instanceof ReportNotAvailableError)
      return json(404, { error: 'NotFound', message: error.message });
    logger.error('Report request failed', { kind, id, error: errorSummary(error) });
    return json(500, { error: 'InternalError', message: 'The report could not be produced' });
  }
}

export const handler = withObservability(reportsApi);
