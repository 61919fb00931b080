import type { Policy } from '../policy/schema';
import type { Complaint, Usage } from './complaint';

/**
 * The bounds of `policy.limits` on what callers may make one complaint accumulate. Pure: the
 * services decide with these from the record they read and write the new counts with the same
 * conditional (versioned) write, so concurrent requests cannot all pass one check — the loser of
 * the race re-reads, and re-decides against the winner's counts.
 */

export type Limits = Policy['limits'];

const HOUR_MS = 3_600_000;

export function usageOf(c: Complaint): Usage {
  return c.usage ?? { timelineEntries: 0, customerReplies: 0, recentReplies: [] };
}

/** The customer sent replies faster than `customerRepliesPerHour`: 429 with Retry-After. */
export class ReplyRateLimitError extends Error {
  override name = 'ReplyRateLimitError';
  constructor(
    readonly limit: number,
    /** Seconds until one more reply is allowed. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      `At most ${limit} replies per hour are accepted for one complaint; retry in ${retryAfterSeconds} s`,
    );
  }
}

/** A write kept losing to concurrent writers on the same complaint: 429, retry in a moment. */
export class ComplaintBusyError extends Error {
  override name = 'ComplaintBusyError';
  readonly retryAfterSeconds = 1;
  constructor() {
    super('This complaint is receiving too many requests at once; retry in a moment');
  }
}

export type CapName = 'maxCustomerReplies' | 'maxTimelineEntries';

/** A cap of what one complaint may accumulate is reached: 409 naming it. Retrying does not help. */
export class ComplaintCapError extends Error {
  override name = 'ComplaintCapError';
  constructor(
    readonly cap: CapName,
    readonly limit: number,
  ) {
    super(
      cap === 'maxCustomerReplies'
        ? `This complaint has reached its cap of ${limit} customer replies (limits.maxCustomerReplies)`
        : `This complaint has reached its cap of ${limit} timeline entries (limits.maxTimelineEntries)`,
    );
  }
}

/** A text field over `maxMessageChars`: 400 with the field and the reason. */
export class MessageTooLongError extends Error {
  override name = 'MessageTooLongError';
  constructor(
    readonly field: string,
    readonly limit: number,
    readonly length: number,
  ) {
    super(`${field} must be at most ${limit} characters (it has ${length})`);
  }
}

/** Characters as a reader counts them (code points: an emoji or a rare CJK character is one). */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Throws {@link MessageTooLongError} for the first named text field over the limit. */
export function checkTextFields(limits: Limits, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const length = characterCount(value);
    if (length > limits.maxMessageChars) throw new MessageTooLongError(field, limits.maxMessageChars, length);
  }
}

/** Throws {@link ComplaintCapError} when `adding` more timeline entries would pass `maxTimelineEntries`. */
export function checkTimelineRoom(limits: Limits, c: Complaint, adding: number): void {
  if (usageOf(c).timelineEntries + adding > limits.maxTimelineEntries) {
    throw new ComplaintCapError('maxTimelineEntries', limits.maxTimelineEntries);
  }
}

/**
 * Admits one more customer reply at `now`, or throws: the cap in all (409), then the rolling hour
 * (429, with the seconds until the oldest reply of the hour leaves the window). Returns the usage
 * the write must store.
 */
export function admitCustomerReply(limits: Limits, c: Complaint, now: Date): Usage {
  const usage = usageOf(c);
  if (usage.customerReplies >= limits.maxCustomerReplies) {
    throw new ComplaintCapError('maxCustomerReplies', limits.maxCustomerReplies);
  }
  const windowStart = now.getTime() - HOUR_MS;
  const recent = usage.recentReplies.filter((at) => Date.parse(at) > windowStart).sort();
  if (recent.length >= limits.customerRepliesPerHour) {
    // The reply that frees a slot is the one `limit` places from the end.
    const freeing = recent[recent.length - limits.customerRepliesPerHour] ?? recent[0] ?? now.toISOString();
    const wait = Date.parse(freeing) + HOUR_MS - now.getTime();
    throw new ReplyRateLimitError(limits.customerRepliesPerHour, Math.max(1, Math.ceil(wait / 1000)));
  }
  return {
    ...usage,
    customerReplies: usage.customerReplies + 1,
    // Only the last `limit` replies can matter for the next decision.
    recentReplies: [...recent, now.toISOString()].slice(-limits.customerRepliesPerHour),
  };
}

/** The free-text fields of agent actions (messages, solutions, reasons, notes): each obeys `maxMessageChars`. */
export const AGENT_TEXT_FIELDS = ['message', 'solution', 'rootCause', 'reason', 'note'] as const;

/**
 * An agent action's bounds: its texts (400) and room for its one timeline entry (409). Checked on
 * the record the action's versioned write is based on.
 */
export function checkAgentAction(
  limits: Limits,
  c: Complaint,
  command: Readonly<Record<string, unknown>>,
): void {
  checkTextFields(limits, Object.fromEntries(AGENT_TEXT_FIELDS.map((field) => [field, command[field]])));
  checkTimelineRoom(limits, c, 1);
}
