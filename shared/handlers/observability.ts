import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * Powertools singletons. The service name and metrics namespace come from the
 * POWERTOOLS_* variables the stack sets. The logger never logs events by default
 * (they carry personal data): handlers log ids, outcomes and error names only.
 */
export const logger = new Logger({ logRecordOrder: ['level', 'message'] });
export const metrics = new Metrics();
export const tracer = new Tracer({ captureHTTPsRequests: false });

/** The middleware chain every handler uses: tracer → logger with context → metrics. */
export function withObservability<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .handler(handler);
}
