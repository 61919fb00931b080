/**
 * Usage × list price (`prices.ts`): the per-complaint cost and the fixed monthly cost that
 * `npm run cost` prints. Pure: the figures come in, priced rows come out.
 */
import { ASSUMPTIONS, costOf, PRICES, type PriceName } from './prices';

/** Billable quantities, in the units of the prices they are multiplied by. */
export interface Usage {
  lambdaRequests: number;
  lambdaArmGbSeconds: number;
  dynamodbWrites: number;
  dynamodbReads: number;
  sqsRequests: number;
  eventBridgeEvents: number;
  schedulerInvocations: number;
  httpApiRequests: number;
  /** Bytes (priced per GB). */
  logBytes: number;
  xrayTraces: number;
  kmsRequests: number;
}

export const emptyUsage = (): Usage => ({
  lambdaRequests: 0,
  lambdaArmGbSeconds: 0,
  dynamodbWrites: 0,
  dynamodbReads: 0,
  sqsRequests: 0,
  eventBridgeEvents: 0,
  schedulerInvocations: 0,
  httpApiRequests: 0,
  logBytes: 0,
  xrayTraces: 0,
  kmsRequests: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  const sum = emptyUsage();
  for (const key of Object.keys(sum) as Array<keyof Usage>) sum[key] = a[key] + b[key];
  return sum;
}

export function scaleUsage(usage: Usage, factor: number): Usage {
  const scaled = emptyUsage();
  for (const key of Object.keys(scaled) as Array<keyof Usage>) scaled[key] = usage[key] * factor;
  return scaled;
}

export interface CostRow {
  service: string;
  quantity: number;
  unit: string;
  usd: number;
}

const GB = 1024 ** 3;

/** Which price each usage figure is billed at, and under which service it is listed. */
const BILLING: ReadonlyArray<{ field: keyof Usage; price: PriceName; service: string; scale?: number }> = [
  { field: 'dynamodbWrites', price: 'dynamodbWrites', service: 'DynamoDB writes' },
  { field: 'dynamodbReads', price: 'dynamodbReads', service: 'DynamoDB reads' },
  { field: 'lambdaRequests', price: 'lambdaRequests', service: 'Lambda requests' },
  { field: 'lambdaArmGbSeconds', price: 'lambdaArmGbSeconds', service: 'Lambda duration' },
  { field: 'sqsRequests', price: 'sqsRequests', service: 'SQS' },
  { field: 'eventBridgeEvents', price: 'eventBridgeEvents', service: 'EventBridge' },
  { field: 'schedulerInvocations', price: 'schedulerInvocations', service: 'EventBridge Scheduler' },
  { field: 'httpApiRequests', price: 'httpApiRequests', service: 'API Gateway (HTTP API)' },
  { field: 'logBytes', price: 'logsIngested', service: 'CloudWatch Logs', scale: 1 / GB },
  { field: 'xrayTraces', price: 'xrayTraces', service: 'X-Ray' },
  { field: 'kmsRequests', price: 'kmsRequests', service: 'KMS requests' },
];

/** Priced rows of a usage (every service, zero rows included, so tables line up). */
export function priceUsage(usage: Usage): CostRow[] {
  return BILLING.map(({ field, price, service, scale }) => {
    const quantity = usage[field] * (scale ?? 1);
    return { service, quantity, unit: PRICES[price].unit, usd: costOf(price, quantity) };
  });
}

export const totalOf = (rows: readonly CostRow[]): number => rows.reduce((sum, row) => sum + row.usd, 0);

/** What a deployment pays every month whatever the volume, from the template and the published metrics. */
export interface FixedCounts {
  /** Metrics the alarms read (an alarm on metric math is billed per metric it reads). */
  alarmMetrics: number;
  dashboards: number;
  /** Customer-managed KMS keys. */
  kmsKeys: number;
  /** Distinct custom metrics (namespace, name, dimensions) published in a month. */
  customMetrics: number;
  /** SQS event source mappings: their idle long polls (`ASSUMPTIONS.idleReceivesPerMappingMonth`). */
  eventSourceMappings: number;
}

export function priceFixed(counts: FixedCounts): CostRow[] {
  const rows: Array<[string, PriceName, number]> = [
    ['CloudWatch alarms', 'alarmMetrics', counts.alarmMetrics],
    ['CloudWatch dashboards', 'dashboards', counts.dashboards],
    ['KMS keys', 'kmsKeys', counts.kmsKeys],
    ['CloudWatch custom metrics', 'customMetrics', counts.customMetrics],
  ];
  const idleReceives = counts.eventSourceMappings * ASSUMPTIONS.idleReceivesPerMappingMonth;
  return [
    ...rows.map(([service, price, quantity]) => ({
      service,
      quantity,
      unit: PRICES[price].unit,
      usd: costOf(price, quantity),
    })),
    {
      service: 'SQS idle long polls',
      quantity: idleReceives,
      unit: PRICES.sqsRequests.unit,
      usd: costOf('sqsRequests', idleReceives),
    },
  ];
}

/** Runs in a 30-day month of a recurring job (`rate(5 minutes)`: 8,640). */
export interface RecurringJob {
  name: string;
  runsPerMonth: number;
  /** Measured usage of one run. */
  perRun: Usage;
}

/** The monthly usage of the recurring jobs (sweep, reports, retention), whatever the volume. */
export function recurringUsage(jobs: readonly RecurringJob[]): Usage {
  return jobs.reduce((sum, job) => addUsage(sum, scaleUsage(job.perRun, job.runsPerMonth)), emptyUsage());
}
