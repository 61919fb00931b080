/** Local sockets and AWS endpoints in the same region connect in milliseconds. */
const DEFAULT_CONNECTION_TIMEOUT_MS = 1_000;
/** Per attempt; three attempts still fit in the functions' default 10 s timeout. */
const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * What every client is built with: a connection timeout, a request timeout that fails the
 * attempt (not only a warning, hence `throwOnRequestTimeout`), a socket idle timeout of the same
 * length, and the standard retry mode. A frozen dependency then costs a few seconds and a
 * retry, not the whole Lambda timeout. A `TimeoutError` is transient for the SDK, so it is
 * retried; writes stay safe to retry (versioned conditions, and `TransactWriteItems` carries
 * the SDK's idempotency token across attempts).
 *
 * The handler options are passed as a plain object: each client builds its own
 * `NodeHttpHandler` (`@smithy/node-http-handler`) from them, so no extra module is imported.
 * Environment: `AWS_SDK_CONNECTION_TIMEOUT_MS`, `AWS_SDK_REQUEST_TIMEOUT_MS`, `AWS_MAX_ATTEMPTS`.
 */
export function clientConfig(env: Record<string, string | undefined> = process.env) {
  const requestTimeout = positiveInteger(env.AWS_SDK_REQUEST_TIMEOUT_MS) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    maxAttempts: positiveInteger(env.AWS_MAX_ATTEMPTS) ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: positiveInteger(env.AWS_SDK_CONNECTION_TIMEOUT_MS) ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  };
}

function positiveInteger(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
