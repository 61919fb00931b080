/**
 * The list prices the cost estimate multiplies by (`npm run cost`, `cost-model.ts`), in one place.
 *
 * **Region and date:** US East (N. Virginia), `us-east-1`, on-demand list prices as published on the
 * AWS pricing pages in December 2026, before the free tier (a new account's free tier would make small
 * volumes cost nothing; the estimate is what a team pays once it is used up). Prices change and other
 * Regions differ: check the pages below, or the AWS Pricing Calculator, before relying on a figure.
 * Change a price here and every figure follows.
 */
export interface Price {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
}

const price = (usd: number, per: number, unit: string, source: string): Price => ({ usd, per, unit, source });

export const PRICES = {
  // Lambda: https://aws.amazon.com/lambda/pricing/ (Arm, the functions' architecture)
  lambdaRequests: price(0.2, 1e6, 'requests', 'https://aws.amazon.com/lambda/pricing/'),
  lambdaArmGbSeconds: price(0.0000133334, 1, 'GB-second (arm64)', 'https://aws.amazon.com/lambda/pricing/'),
  // DynamoDB on-demand (Standard table class): https://aws.amazon.com/dynamodb/pricing/on-demand/
  dynamodbWrites: price(
    0.625,
    1e6,
    'write request units',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  ),
  dynamodbReads: price(
    0.125,
    1e6,
    'read request units',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  ),
  dynamodbStorage: price(0.25, 1, 'GB-month stored', 'https://aws.amazon.com/dynamodb/pricing/on-demand/'),
  // SQS standard queues, each 64 KB chunk of a request is a request: https://aws.amazon.com/sqs/pricing/
  sqsRequests: price(0.4, 1e6, 'requests', 'https://aws.amazon.com/sqs/pricing/'),
  // EventBridge custom events, each 64 KB chunk is an event: https://aws.amazon.com/eventbridge/pricing/
  eventBridgeEvents: price(1.0, 1e6, 'custom events', 'https://aws.amazon.com/eventbridge/pricing/'),
  // EventBridge Scheduler: https://aws.amazon.com/eventbridge/pricing/ (Scheduler section)
  schedulerInvocations: price(
    1.0,
    1e6,
    'scheduled invocations',
    'https://aws.amazon.com/eventbridge/pricing/',
  ),
  // API Gateway HTTP APIs, first 300 million a month, 512 KB chunks: https://aws.amazon.com/api-gateway/pricing/
  httpApiRequests: price(1.0, 1e6, 'HTTP API requests', 'https://aws.amazon.com/api-gateway/pricing/'),
  // CloudWatch: https://aws.amazon.com/cloudwatch/pricing/
  logsIngested: price(0.5, 1, 'GB ingested (standard logs)', 'https://aws.amazon.com/cloudwatch/pricing/'),
  customMetrics: price(0.3, 1, 'metric-month (first 10,000)', 'https://aws.amazon.com/cloudwatch/pricing/'),
  alarmMetrics: price(
    0.1,
    1,
    'alarm metric-month (standard resolution)',
    'https://aws.amazon.com/cloudwatch/pricing/',
  ),
  dashboards: price(3.0, 1, 'dashboard-month', 'https://aws.amazon.com/cloudwatch/pricing/'),
  // X-Ray: https://aws.amazon.com/xray/pricing/
  xrayTraces: price(5.0, 1e6, 'traces recorded', 'https://aws.amazon.com/xray/pricing/'),
  // KMS: https://aws.amazon.com/kms/pricing/
  kmsRequests: price(0.03, 1e4, 'requests', 'https://aws.amazon.com/kms/pricing/'),
  kmsKeys: price(1.0, 1, 'key-month', 'https://aws.amazon.com/kms/pricing/'),
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

/** The cost of `quantity` units at a list price. */
export const costOf = (name: PriceName, quantity: number): number => {
  const p = PRICES[name];
  return (quantity / p.per) * p.usd;
};

/**
 * Figures AWS does not let the local runtime observe, with where they come from. Each is used once,
 * in `cost-model.ts`, and printed with the estimate.
 */
export const ASSUMPTIONS = {
  /**
   * Bytes of Lambda's own log lines per invocation (text format: `START`, `END` and a `REPORT` line
   * with durations, memory, X-Ray ids and, on a cold start, the init duration): ≈ 90 + 60 + 300.
   */
  platformLogBytesPerInvocation: 450,
  /**
   * Empty `ReceiveMessage` calls of an idle SQS event source mapping per month. Lambda long-polls with
   * (at least) 5 pollers per mapping; a long poll waits up to 20 s: 5 × 3 a minute × 43,800 minutes.
   * AWS publishes no exact rate; read the queue's `NumberOfEmptyReceives` after a day to check.
   */
  idleReceivesPerMappingMonth: 5 * 3 * 43_200,
  /**
   * Billed init of a cold start on Lambda (Node.js 24, arm64, a 0.5–0.65 MB bundle): the runtime's
   * start plus the bundle's module init, which `BENCH_ONLY=bundles npm run bench` measures at 200–270 ms
   * of CPU on the benchmark machine. The local runtime counts the cold starts; its own instance start
   * (a process spawned on a shared machine) is slower than Lambda's and is not what is priced.
   */
  coldStartInitMs: 500,
  /** Minutes in the month the fixed cost is for (30 days). */
  minutesPerMonth: 43_200,
} as const;
