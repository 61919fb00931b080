import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { newComplaintId } from '../../shared/domain/identifiers';
import { policyCurrencyProblems } from '../../shared/handlers/bounds';
import { errorSummary } from '../../shared/handlers/errors';
import { badRequest, json, parseJsonBody } from '../../shared/handlers/http';
import { logger, metrics, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { receiveComplaint, trackingPath } from '../../shared/services/intake';

const { ctx } = createRuntime();

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,200}$/;

/**
 * `POST /complaints`: a customer or a service submits a complaint over HTTP.
 * Returns 202 with the complaint id, its number, the customer's tracking token and
 * the acknowledgement text. Send an `Idempotency-Key` header to make retries safe:
 * the same key returns the same complaint.
 */
export async function intakeApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const body = parseJsonBody(event);
  if (!body.ok) return body.response;
  const key = event.headers?.['idempotency-key'];
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    return badRequest([
      { field: 'Idempotency-Key', reason: 'must be 8–200 characters of letters, digits, . _ : -' },
    ]);
  }
  const parsed = ComplaintSubmissionSchema.safeParse(body.value);
  if (!parsed.success) {
    return badRequest(
      parsed.error.issues.map((i) => ({
        field: i.path.length > 0 ? i.path.join('.') : '(body)',
        reason: i.message,
      })),
    );
  }
  // The schema bounds any amount; its decimals depend on the policy currency.
  const money = policyCurrencyProblems(ctx.policy.currency, [
    { field: 'amount', amount: parsed.data.amount },
  ]);
  if (money.length > 0) return badRequest(money);
  let result: Awaited<ReturnType<typeof receiveComplaint>>;
  try {
    result = await receiveComplaint(ctx, {
      submission: parsed.data,
      sourceSystem: 'api',
      messageId: key ?? `auto-${newComplaintId()}`,
    });
  } catch (error) {
    // Nothing is half-done from the caller's view: a retry with the same key either
    // finds the stored complaint (and republishes its events) or creates it.
    logger.error('Intake failed', { error: errorSummary(error) });
    metrics.addMetric('IntakeFailures', MetricUnit.Count, 1);
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
  return json(202, {
    complaintId: result.complaintId,
    number: result.number,
    status: result.status,
    trackingToken: result.trackingToken,
    trackingPath: trackingPath(result.trackingToken),
    acknowledgement: result.acknowledgement,
    replayed: result.replayed,
  });
}

export const handler = withObservability(intakeApi);
