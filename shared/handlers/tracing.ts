import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

/**
 * Powertools' tracer: a handler subsegment with the cold start annotation, on top of the invocation
 * segments Lambda's active tracing records anyway. It brings the X-Ray SDK (≈ 115 KB and ≈ 25 ms of
 * every cold start), so only bundles synthesized with `-c sdkTracing=true` contain this module
 * (`shared/handlers/observability.ts`).
 */
export const tracer = new Tracer({ captureHTTPsRequests: false });

export const captureHandler = () => captureLambdaHandler(tracer, { captureResponse: false });
