import type { GenericLogger } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { EmfMetricSink } from '../metrics/emf-sink';
import { OperationalCounters } from '../metrics/operational-counters';

/**
 * Powertools singletons. The service name and metrics namespace come from the
 * POWERTOOLS_* variables the stack sets. The logger never logs events by default
 * (they carry personal data): handlers log ids, outcomes and error names only.
 */
export const logger = new Logger({ logRecordOrder: ['level', 'message'] });

/** Powertools Metrics' own warnings go to the logger. */
const metricsLogger: GenericLogger = {
  debug: (...content: unknown[]) => logger.debug(String(content[0] ?? '')),
  info: (...content: unknown[]) => logger.info(String(content[0] ?? '')),
  warn: (...content: unknown[]) => logger.warn(String(content[0] ?? '')),
  error: (...content: unknown[]) => logger.error(String(content[0] ?? '')),
};

/**
 * The business figures (shared/metrics/lifecycle-metrics.ts): lifecycle counts and durations, the
 * backlog gauge. One JSON document per point on stdout, no `service`; only the totals an alarm reads
 * are also CloudWatch metrics (EMF).
 */
export const businessMetrics = new EmfMetricSink({ logger: metricsLogger });

/**
 * Operational counters of this function (failures, poison messages, sweep repairs), with its
 * `service`: log-only documents (shared/metrics/operational-counters.ts). There is no per-function
 * `ColdStart` metric either: Lambda's `REPORT` line of a cold start has an `Init Duration`
 * (`@initDuration` in Logs Insights), and every log line of the invocation says `cold_start`.
 */
export const counters = new OperationalCounters(businessMetrics);

/**
 * Powertools' tracer, when the bundle was synthesized with `-c sdkTracing=true` (the stack defines
 * `process.env.COMPLAINTS_SDK_TRACING` at bundling, so esbuild drops this import otherwise and the
 * X-Ray SDK stays out of the bundle). Lambda's active tracing records every invocation either way.
 */
const tracing = process.env.COMPLAINTS_SDK_TRACING === 'true' ? await import('./tracing') : undefined;

/** The middleware chain every handler uses: tracer (when bundled) → logger with context. */
export function withObservability<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  const chain = middy<TEvent, TResult>();
  if (tracing !== undefined) chain.use(tracing.captureHandler());
  return chain.use(injectLambdaContext(logger, { resetKeys: true })).handler(handler);
}
