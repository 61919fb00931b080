import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { json } from './http';

/**
 * How old an HTTP request may be when intake starts creating its complaint. The HTTP API gives
 * up after 30 s (integration timeout) and answers the caller 503/504; an invocation that only
 * starts after that (a cold start behind a burst, a throttled retry) would create a complaint
 * the caller was told failed. 25 s leaves the write and the publish a few seconds before the 30 s.
 */
export const MAX_CREATE_START_AGE_MS = 25_000;

/** Beyond these, `timeEpoch` is not something the API could have sent (clock skew is far smaller). */
const MAX_BELIEVABLE_AGE_MS = 60 * 60_000;
const MAX_BELIEVABLE_SKEW_MS = 60_000;

/**
 * The request's age in ms from the API's `requestContext.timeEpoch` (set by API Gateway, not by
 * the caller), or undefined when it is missing or absurd (not a number, in the future beyond
 * clock skew, older than an hour): such a request is treated as fresh, never refused.
 */
export function requestAgeMs(event: APIGatewayProxyEventV2, now: number = Date.now()): number | undefined {
  const started: unknown = event.requestContext?.timeEpoch;
  if (typeof started !== 'number' || !Number.isFinite(started) || started <= 0) return undefined;
  const age = now - started;
  if (age < -MAX_BELIEVABLE_SKEW_MS || age > MAX_BELIEVABLE_AGE_MS) return undefined;
  return Math.max(0, age);
}

/**
 * The 503 for a complaint-creating request that is already too old to start creating (nothing was
 * created: the caller retries with the same Idempotency-Key), or undefined when there is time.
 */
export function tooLateToCreate(
  event: APIGatewayProxyEventV2,
  now: number = Date.now(),
): { response: APIGatewayProxyStructuredResultV2; ageMs: number } | undefined {
  const ageMs = requestAgeMs(event, now);
  if (ageMs === undefined || ageMs <= MAX_CREATE_START_AGE_MS) return undefined;
  return {
    ageMs,
    response: json(
      503,
      {
        error: 'RequestExpired',
        message:
          'The request waited too long before it could be processed; nothing was created. ' +
          'Retry with the same Idempotency-Key and body.',
      },
      { 'retry-after': '1' },
    ),
  };
}
