import type { GenericLogger } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { EmfMetricSink } from '../metrics/emf-sink';

/**
 * Powertools singletons. The service name and metrics namespace come from the
 * POWERTOOLS_* variables the stack sets. The logger never logs events by default
 * (they carry personal data): handlers log ids, outcomes and error names only.
 */
export const logger = new Logger({ logRecordOrder: ['level', 'message'] });

/**
 * Powertools' own warnings go to the logger. An invocation without operational metrics is normal
 * here (a GET, a moot timer; the business metrics go through {@link businessMetrics}), so the
 * "No application metrics to publish" warning is logged at DEBUG.
 */
const metricsLogger: GenericLogger = {
  debug: (...content: unknown[]) => logger.debug(String(content[0] ?? '')),
  info: (...content: unknown[]) => logger.info(String(content[0] ?? '')),
  warn: (...content: unknown[]) => {
    const message = String(content[0] ?? '');
    if (message.startsWith('No application metrics to publish')) logger.debug(message);
    else logger.warn(message);
  },
  error: (...content: unknown[]) => logger.error(String(content[0] ?? '')),
};

/** Operational metrics of this function (failures, poison messages, cold starts), with the `service` dimension. */
export const metrics = new Metrics({ logger: metricsLogger });

/**
 * The business metrics (shared/metrics/lifecycle-metrics.ts): lifecycle counts and durations, the
 * backlog gauge. Same namespace, no `service` dimension; each point is its own EMF document.
 */
export const businessMetrics = new EmfMetricSink({ logger: metricsLogger });

/**
 * Powertools' tracer, when the bundle was synthesized with `-c sdkTracing=true` (the stack defines
 * `process.env.COMPLAINTS_SDK_TRACING` at bundling, so esbuild drops this import otherwise and the
 * X-Ray SDK stays out of the bundle). Lambda's active tracing records every invocation either way.
 */
const tracing = process.env.COMPLAINTS_SDK_TRACING === 'true' ? await import('./tracing') : undefined;

/** The middleware chain every handler uses: tracer (when bundled) → logger with context → metrics. */
export function withObservability<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  const chain = middy<TEvent, TResult>();
  if (tracing !== undefined) chain.use(tracing.captureHandler());
  return chain
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handler);
}
