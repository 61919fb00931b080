import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IdempotencyKeyReusedError } from '../domain/idempotency';
import { badRequest, json } from './http';

/** What an `Idempotency-Key` header may hold: a caller's own id for one request, not a payload. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,200}$/;

/**
 * The request's `Idempotency-Key` (absent: undefined), or the 400 for a malformed one. Shared by every
 * route that creates a complaint (`POST /complaints`, `POST /agent/complaints`).
 */
export function idempotencyKeyHeader(
  event: APIGatewayProxyEventV2,
): { ok: true; key?: string } | { ok: false; response: APIGatewayProxyStructuredResultV2 } {
  const key = event.headers?.['idempotency-key'];
  if (key === undefined) return { ok: true };
  if (!IDEMPOTENCY_KEY.test(key)) {
    return {
      ok: false,
      response: badRequest([
        { field: 'Idempotency-Key', reason: 'must be 8–200 characters of letters, digits, . _ : -' },
      ]),
    };
  }
  return { ok: true, key };
}

/** 422: the key was used for another request; the answer names the conflict and nothing of the first. */
export function idempotencyKeyReused(error: IdempotencyKeyReusedError): APIGatewayProxyStructuredResultV2 {
  return json(422, {
    error: 'IdempotencyKeyReused',
    message: 'The request was not accepted',
    errors: [{ field: 'Idempotency-Key', reason: error.message }],
  });
}
