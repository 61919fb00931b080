/**
 * Whether a lifecycle event is plausible enough to count in the reports. The aggregator distrusts
 * what it receives (issue #10): the bus policy keeps outsiders from publishing internal events, and
 * this keeps a faulty or compromised publisher from moving a figure with values no real complaint can
 * have. An implausible event is a poison message (its reason goes to the aggregator's DLQ), never a
 * figure.
 *
 * Checks, on top of the complaint existing in the store (the service's job):
 * - survey scores are integers from 1 to 5;
 * - channels, categories, severities and departments are the policy's;
 * - SLA clocks are known, escalation levels are integers from 1 to {@link MAX_ESCALATION_LEVEL};
 * - times are plausible: not before the complaint's receipt, not after now, each with
 *   {@link CLOCK_SKEW_MS} of tolerance; a `Complaint Received` carries the stored receipt time.
 */
import type { Policy } from '../../policy/schema';
import { CHANNELS, SEVERITIES } from '../../policy/vocabulary';
import { CLOCKS, type LifecycleEvent } from './facts';

/** Tolerance for clocks of different machines (publisher vs aggregator). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** No escalation chain has more levels than this. */
export const MAX_ESCALATION_LEVEL = 10;

/** What the policy knows: the values a report may group by. */
export interface ReportVocabulary {
  channels: ReadonlySet<string>;
  categories: ReadonlySet<string>;
  severities: ReadonlySet<string>;
  departments: ReadonlySet<string>;
}

/** The vocabulary of a policy: every channel, the policy's categories and departments, every severity. */
export function vocabularyOf(policy: Policy): ReportVocabulary {
  return {
    channels: new Set(CHANNELS),
    categories: new Set(policy.categories.map((c) => c.id)),
    severities: new Set(SEVERITIES),
    departments: new Set(policy.routing.departments.map((d) => d.id)),
  };
}

/** The stored complaint, as far as the check needs it. */
export interface StoredReceipt {
  receivedAt: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The reason `event` is implausible for the stored complaint, or undefined when it may count.
 * `now` is the aggregator's clock.
 */
export function implausibility(
  event: LifecycleEvent,
  complaint: StoredReceipt,
  vocabulary: ReportVocabulary,
  now: Date,
  skewMs = CLOCK_SKEW_MS,
): string | undefined {
  const data = event.detail.data;
  const received = Date.parse(complaint.receivedAt);
  const timeProblem = (field: string, value: string): string | undefined => {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return `${field} is not a timestamp`;
    if (at < received - skewMs)
      return `${field} ${value} is before the complaint was received (${complaint.receivedAt})`;
    if (at > now.getTime() + skewMs) return `${field} ${value} is in the future`;
    return undefined;
  };
  const unknown = (field: string, value: unknown, known: ReadonlySet<string>, required: boolean) => {
    if (value === undefined && !required) return undefined;
    const text = str(value);
    return text !== undefined && known.has(text)
      ? undefined
      : `${field} ${JSON.stringify(value)} is not known to the policy`;
  };

  const occurred = timeProblem('occurredAt', event.detail.metadata.occurredAt);
  if (occurred !== undefined) return occurred;

  switch (event.detailType) {
    case 'Complaint Received': {
      const receivedAt = str(data.receivedAt) ?? event.detail.metadata.occurredAt;
      const at = Date.parse(receivedAt);
      if (Number.isNaN(at) || Math.abs(at - received) > skewMs) {
        return `receivedAt ${receivedAt} is not the stored receipt time (${complaint.receivedAt})`;
      }
      return unknown('channel', data.channel, vocabulary.channels, true);
    }
    case 'Complaint Classified':
    case 'Complaint Reclassified': {
      const required = event.detailType === 'Complaint Classified';
      return (
        unknown('category', data.category, vocabulary.categories, required) ??
        unknown('severity', data.severity, vocabulary.severities, required)
      );
    }
    case 'Complaint Assigned':
      return unknown('leadDepartment', data.leadDepartment, vocabulary.departments, true);
    case 'Complaint Reassigned':
      return unknown('leadDepartment', data.leadDepartment, vocabulary.departments, false);
    case 'Complaint SLA Breached':
      return (CLOCKS as readonly unknown[]).includes(data.clock)
        ? undefined
        : `clock ${JSON.stringify(data.clock)} is not an SLA clock`;
    case 'Complaint Escalated': {
      const level = data.level;
      return Number.isInteger(level) && (level as number) >= 1 && (level as number) <= MAX_ESCALATION_LEVEL
        ? undefined
        : `escalation level ${JSON.stringify(level)} is not an integer from 1 to ${MAX_ESCALATION_LEVEL}`;
    }
    case 'Survey Answered': {
      const score = data.score;
      return Number.isInteger(score) && (score as number) >= 1 && (score as number) <= 5
        ? undefined
        : `survey score ${JSON.stringify(score)} is not an integer from 1 to 5`;
    }
    default:
      return undefined;
  }
}
