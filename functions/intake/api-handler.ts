import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { kmsServiceKeys } from '../../shared/clients/kms';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { IdempotencyKeyReusedError } from '../../shared/domain/idempotency';
import { newComplaintId } from '../../shared/domain/identifiers';
import { PRIORITY_FIELDS, type PriorityField } from '../../shared/domain/trust';
import { policyCurrencyProblems } from '../../shared/handlers/bounds';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, type FieldError, json, parseJsonBody } from '../../shared/handlers/http';
import { idempotencyKeyHeader, idempotencyKeyReused } from '../../shared/handlers/idempotency-key';
import { complaintAccepted } from '../../shared/handlers/intake-response';
import { counters, logger, withObservability } from '../../shared/handlers/observability';
import { tooLateToCreate } from '../../shared/handlers/request-age';
import { createRuntime } from '../../shared/handlers/runtime';
import { receiveComplaint } from '../../shared/services/intake';

const { ctx } = createRuntime({ keys: kmsServiceKeys });

/**
 * `POST /complaints`: a customer or a service submits a complaint over HTTP, anonymously: the
 * customer tier and the number of affected users are refused (400), the customer id is kept in the
 * anonymous namespace and the tier is the policy's default.
 * Returns 202 with the complaint id, its number, the customer's tracking token and
 * the acknowledgement text. Send an `Idempotency-Key` header to make retries safe:
 * the same key with the same body returns the same complaint; the same key with another
 * body is refused with 422 and nothing of the first complaint. Keys of HTTP callers live
 * in their own scope: no event producer can claim one. A request that reaches the function
 * too late (`MAX_CREATE_START_AGE_MS`) is answered 503 without creating anything.
 */
export async function intakeApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const body = parseJsonBody(event);
  if (!body.ok) return body.response;
  const header = idempotencyKeyHeader(event);
  if (!header.ok) return header.response;
  const { key } = header;
  const parsed = ComplaintSubmissionSchema.safeParse(body.value);
  // Anonymous callers state their grievance, never their own importance (docs/security.md).
  const untrusted = priorityFieldErrors(body.value);
  if (!parsed.success || untrusted.length > 0) {
    const issues = parsed.success
      ? []
      : parsed.error.issues.map((i) => ({
          field: i.path.length > 0 ? i.path.join('.') : '(body)',
          reason: i.message,
        }));
    const fields = new Set(untrusted.map((e) => e.field));
    return badRequest([...untrusted, ...issues.filter((i) => !fields.has(i.field))]);
  }
  // The schema bounds any amount; its decimals depend on the policy currency.
  const money = policyCurrencyProblems(ctx.policy.currency, [
    { field: 'amount', amount: parsed.data.amount },
  ]);
  if (money.length > 0) return badRequest(money);
  // The HTTP API has (almost) given up on this request: creating now would create a complaint the
  // caller is told failed. Nothing is created; the caller retries with the same key.
  const late = tooLateToCreate(event);
  if (late !== undefined) {
    logger.warn('Request too old to start creating a complaint', { ageMs: late.ageMs });
    return late.response;
  }
  let result: Awaited<ReturnType<typeof receiveComplaint>>;
  const messageId = key ?? `auto-${newComplaintId()}`;
  try {
    result = await receiveComplaint(ctx, {
      submission: parsed.data,
      sourceSystem: 'api',
      messageId,
      idempotency: { kind: 'http', key: messageId },
      submitter: { kind: 'anonymous' },
    });
  } catch (error) {
    if (error instanceof IdempotencyKeyReusedError) {
      counters.count('IdempotencyKeyReused');
      return idempotencyKeyReused(error);
    }
    // Nothing is half-done from the caller's view: a retry with the same key either
    // finds the stored complaint (and republishes its events) or creates it.
    logger.error('Intake failed', { error: errorSummary(error) });
    counters.count('IntakeFailures');
    return json(
      503,
      {
        error: 'ServiceUnavailable',
        message: 'The complaint could not be accepted right now. Retry with the same Idempotency-Key.',
      },
      { 'retry-after': '2' },
    );
  }
  logger.info('Complaint accepted', { complaintId: result.complaintId, replayed: result.replayed });
  return complaintAccepted(result);
}

/**
 * The priority-raising fields the body states, as 400 errors: on this public route nobody is trusted
 * with them (shared/domain/trust.ts). `amount` stays: money at stake is part of the grievance, and the
 * classifier reads amounts from the text anyway.
 */
function priorityFieldErrors(body: unknown): FieldError[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const customer = (body as { customer?: unknown }).customer;
  const stated: Record<PriorityField, boolean> = {
    'customer.tier': customer !== null && typeof customer === 'object' && Object.hasOwn(customer, 'tier'),
    affectedUsers: Object.hasOwn(body, 'affectedUsers'),
  };
  return PRIORITY_FIELDS.filter((field) => stated[field]).map((field) => ({
    field,
    reason: 'set by trusted producers only: an anonymous submission cannot state it',
  }));
}

export const handler = withObservability(intakeApi);
