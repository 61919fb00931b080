import type { MetricSink } from './emf-sink';

/**
 * What the functions count about their own operation: failures answered with a 503, poison messages,
 * repairs by the sweep. They are **log-only** documents (`{"PoisonMessages": 1, "service": "intake"}`,
 * no CloudWatch metric): no alarm reads them, because what they signal is alarmed at its effect — a
 * 503 is a 5xx of the HTTP API, a poison message is a message in a DLQ, a sweep repair is work that
 * was saved, not lost. The dashboard's operations section sums them per service with Logs Insights.
 */
export const OPERATIONAL_COUNTERS = {
  PoisonMessages: 'Queue records that can never succeed, moved to their DLQ at once',
  BatchRecordsOutOfTime: 'Queue records given back unfinished because the batch neared its timeout',
  IntakeFailures: 'Submissions answered 503 (retry with the same Idempotency-Key)',
  IdempotencyKeyReused: 'Submissions refused because their Idempotency-Key was used for another body',
  AgentApiFailures: 'Agent API requests answered 503',
  CustomerApiFailures: 'Customer API requests answered 503',
  PrivacyApiFailures: 'Privacy API requests answered 503',
  TimerSyncFailures: 'Writes whose timers could not be synchronised (the sweep is the backstop)',
  SweepRecoveredDeadlines: 'Deadlines the sweep applied because their timer was lost',
  IntakeHandoffsRepaired: 'Complaints whose intake events the sweep published again (lost hand-off)',
} as const;

export type OperationalCounter = keyof typeof OPERATIONAL_COUNTERS;

/** Counts of one function, each written at once as a log-only document with the function's service. */
export class OperationalCounters {
  /** @param service @default POWERTOOLS_SERVICE_NAME when counting */
  constructor(
    private readonly sink: MetricSink,
    private readonly service?: string,
  ) {}

  count(name: OperationalCounter, value = 1): void {
    const service = this.service ?? process.env.POWERTOOLS_SERVICE_NAME;
    const fields: Record<string, string> = service === undefined || service === '' ? {} : { service };
    this.sink.emit([{ name, unit: 'Count', value, fields, metric: false }]);
  }
}
