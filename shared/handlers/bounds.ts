import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { moneyDecimalsProblem } from '../domain/bounds';
import {
  ComplaintBusyError,
  ComplaintCapError,
  MessageTooLongError,
  ReplyRateLimitError,
} from '../domain/limits';
import { InvalidTimelineCursorError } from '../storage/ports';
import { badRequest, type FieldError, json } from './http';

/**
 * The answers to the bounds of `policy.limits` (shared/domain/limits.ts), the same in the agent
 * and the customer API: 400 naming the field, 409 naming the cap, 429 with Retry-After.
 */
export function boundsErrorResponse(error: unknown): APIGatewayProxyStructuredResultV2 | undefined {
  if (error instanceof MessageTooLongError) {
    return badRequest([
      { field: error.field, reason: `must be at most ${error.limit} characters (limits.maxMessageChars)` },
    ]);
  }
  if (error instanceof InvalidTimelineCursorError)
    return badRequest([{ field: 'before', reason: error.message }]);
  if (error instanceof ComplaintCapError) {
    return json(409, { error: 'CapReached', message: error.message, cap: error.cap, limit: error.limit });
  }
  if (error instanceof ReplyRateLimitError || error instanceof ComplaintBusyError) {
    const seconds = error.retryAfterSeconds;
    return json(
      429,
      { error: 'TooManyRequests', message: error.message, retryAfterSeconds: seconds },
      { 'retry-after': String(seconds) },
    );
  }
  return undefined;
}

/**
 * Amounts given without a currency are in the policy currency: more decimals than its minor unit
 * (schemas only know the most any currency has) is a 400 for that field.
 */
export function policyCurrencyProblems(
  currency: string,
  amounts: ReadonlyArray<{ field: string; amount: number | undefined }>,
): FieldError[] {
  const problems: FieldError[] = [];
  for (const { field, amount } of amounts) {
    if (amount === undefined) continue;
    const reason = moneyDecimalsProblem(amount, currency);
    if (reason !== undefined) problems.push({ field, reason });
  }
  return problems;
}
