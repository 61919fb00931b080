import * as z from 'zod';

/**
 * What the service accepts from outside, bounded once: numbers the store can hold, money with no
 * more decimals than its currency has, evidence references with safe schemes only. Every schema
 * that takes such a value from a caller or a producer (the submission, the API bodies, inbound
 * events) uses these, so the rule lives in one place and a value the store would refuse is a 400
 * with the field and the reason — never a 503 from a write that cannot succeed.
 */

/**
 * DynamoDB numbers: up to 38 significant digits, magnitudes from 1e-130 to below 1e126 (0 is
 * fine). A JavaScript number never has more than 17 significant digits, so the magnitude (and
 * finiteness: `1e999` parses to Infinity) is what can fail.
 */
export function storableNumberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return 'must be a finite number';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && magnitude < 1e-130) return 'is too close to zero to be stored (below 1e-130)';
  if (magnitude >= 1e126) return 'is too large to be stored (1e126 or more)';
  return undefined;
}

/** Decimal places of a number as JSON writes it (`1e-7` → 7, `0.1` → 1, `12` → 0). */
export function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = Math.abs(value).toString().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** The most decimals any ISO 4217 currency has (e.g. CLF, UYW): the bound before the currency is known. */
export const MAX_MINOR_UNITS = 4;

/** Minor-unit digits of an ISO 4217 currency (CNY 2, JPY 0, KWD 3); 2 for a code the runtime does not know. */
export function minorUnitsOf(currency: string): number {
  try {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits;
    return digits ?? 2;
  } catch {
    return 2;
  }
}

/** Why `amount` is not an amount of `currency` (more decimals than its minor unit), if it is not. */
export function moneyDecimalsProblem(amount: number, currency: string): string | undefined {
  const allowed = minorUnitsOf(currency);
  return decimalPlaces(amount) > allowed
    ? `must have at most ${allowed} decimal place${allowed === 1 ? '' : 's'} for ${currency}`
    : undefined;
}

/**
 * An amount of money from outside: storable, 0 … 1e9, at most {@link MAX_MINOR_UNITS} decimals.
 * The currency's own minor unit is checked where the currency is known
 * ({@link moneyDecimalsProblem}: the policy currency, or the currency given with the amount).
 */
export const MoneyAmountSchema = z
  .number()
  .nonnegative()
  .max(1e9)
  .superRefine((value, ctx) => {
    const problem = storableNumberProblem(value);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    if (decimalPlaces(value) > MAX_MINOR_UNITS) {
      ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_MINOR_UNITS} decimal places` });
    }
  });

/**
 * Evidence references: `https:` URLs and `s3://bucket/key` object refs, or a plain object key
 * (no scheme, no leading `/`, no `..` segment) in the evidence store, which is what the
 * channels and the history import send today. Anything a browser or a viewer could run or
 * resolve locally (`javascript:`, `data:`, `file:`, `vbscript:`, plain `http:`…) is refused.
 */
export function evidenceRefProblem(ref: string): string | undefined {
  // Control characters and whitespace (a browser strips them before reading a scheme).
  for (const char of ref) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f))
      return 'must not contain spaces or control characters';
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(ref)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (ref.startsWith('/') || ref.startsWith('\\'))
      return 'must be an https: URL, an s3:// ref or an object key';
    if (ref.split(/[/\\]/).includes('..')) return 'must not contain ".." segments';
    return undefined;
  }
  if (scheme === 'https') {
    try {
      const url = new URL(ref);
      return url.hostname === '' ? 'must name a host' : undefined;
    } catch {
      return 'is not a valid https URL';
    }
  }
  if (scheme === 's3') {
    return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(ref)
      ? undefined
      : 'must be s3://<bucket>/<key>';
  }
  return `the "${scheme}:" scheme is not allowed (use https: or s3://)`;
}

export const EvidenceRefSchema = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((ref, ctx) => {
    const problem = evidenceRefProblem(ref);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

// ---------------------------------------------------------------------------
// Path and query parameters: checked before any store call.

/** Complaint ids are ULIDs (shared/domain/identifiers.ts `newComplaintId`). */
export const COMPLAINT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * The shape every tracking token has on the wire (base64url, bounded). The exact token format is
 * the customer service's business (a malformed one there is the same 404 as an unknown one); this
 * only keeps oversized or foreign input from reaching it.
 */
export const TOKEN_PARAM_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Report ids: `2026-11-24`, `2026-W48`, `2026-11` (the period parser says which fits). */
export const REPORT_ID_PARAM_PATTERN = /^[0-9A-Za-z-]{1,16}$/;

export interface ParamProblem {
  field: string;
  reason: string;
}

/** Checks one path or query parameter against a pattern; the reason names the bound. */
export function paramProblem(
  field: string,
  value: string | undefined,
  pattern: RegExp,
  expected: string,
): ParamProblem | undefined {
  if (value === undefined || value === '') return { field, reason: 'is required' };
  if (value.length > 200) return { field, reason: `is too long (${value.length} characters); ${expected}` };
  return pattern.test(value) ? undefined : { field, reason: expected };
}
