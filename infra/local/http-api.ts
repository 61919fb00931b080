import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { createLocalIssuer, type LocalIssuer, LocalJwtError } from './jwt';
import { RouteThrottle, type ThrottleSettings } from './throttle';

/**
 * A local Amazon API Gateway HTTP API (payload format 2.0) for the local runtime.
 *
 * Why it exists: the customer and agent APIs are Lambda functions behind an HTTP API, and they
 * route on `event.routeKey` and read `pathParameters`, `queryStringParameters`, lower-cased
 * `headers`, `body` and the JWT authorizer's claims. To run them unchanged on this machine, the
 * runtime needs something that turns real HTTP requests into the events API Gateway would send,
 * refuses unauthenticated requests to JWT routes *before* the function runs (a handler never sees
 * an unverified token in AWS), and maps the function's result back the way API Gateway does.
 *
 * Rules reproduced from the HTTP API documentation:
 * - Route selection: method + path template (`{param}` segments; `ANY` method; `$default` route as a
 *   fallback); when several match, the one with literal segments earliest wins, as the most
 *   specific route wins in AWS.
 * - Event: headers lower-cased, repeated headers joined with commas; `Cookie` moved to `cookies`;
 *   repeated query parameters joined with commas; `pathParameters` / `queryStringParameters` /
 *   `body` absent when empty; bodies of non-text content types base64-encoded with
 *   `isBase64Encoded: true`; `requestContext.time` in the CLF form API Gateway uses.
 * - JWT authorizer: token from `Authorization` (with or without `Bearer `), checked against the
 *   local issuer; refusal is 401 `{"message":"Unauthorized"}` with `www-authenticate: Bearer`.
 *   Claims reach the function as API Gateway passes them: every value a string, arrays flattened
 *   to `[a b]`, numbers as decimal strings.
 * - Result: an object with `statusCode` is a structured response (headers, `cookies` →
 *   `set-cookie`, `isBase64Encoded` body); anything else is serialized as JSON with status 200 and
 *   `content-type: application/json`. A thrown error or malformed structured result is 500
 *   `{"message":"Internal Server Error"}`; a function over its timeout is 503; a handler error named
 *   `TooManyRequestsException` (the function throttled at its concurrency) is 429.
 * - Request bodies over 10 MB are refused with 413, as the HTTP API payload quota does.
 * - Throttling: the stage's route and default throttles (a token bucket per route, `throttle.ts`);
 *   over the limit is 429 `{"message":"Too Many Requests"}` before the authorizer and the function.
 * - The API's own error responses carry `x-content-type-options: nosniff` (the service's every
 *   response does; these are the ones it does not write itself).
 *
 * Local control routes: `/_local/<name>` is not part of the API. The runtime registers handlers there
 * ({@link HttpApi.setLocalRoute}: `/_local/status`, `/_local/faults`…); they answer only callers on
 * this machine (loopback addresses) and 403 anyone else, before any route, throttle or authorizer.
 *
 * Known gaps: no greedy `{proxy+}` paths, no stages other than `$default`-style routing with a path
 * prefix, no CORS configuration, no authorization scopes, no account-level throttling, no custom domains, no
 * mutual TLS; Lambda authorizers and IAM authorization are not emulated.
 */

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface HttpApiRoute {
  /** `METHOD /path/{param}`, `ANY /path`, or `$default`; exactly as in the template. */
  routeKey: string;
  /** `'jwt'` puts the route behind the local issuer, like the template's JWT authorizer. */
  authorizer?: 'jwt';
  handler: HttpApiHandler;
  /** The Lambda function name in the context; defaults to one derived from the route key. */
  functionName?: string;
  /** The function's timeout; HTTP API integrations give up after 30 s at most. */
  timeoutSeconds?: number;
}

export interface StartHttpApiOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  routes: readonly HttpApiRoute[];
  /** The issuer JWT routes trust; created from the default key file when omitted and needed. */
  issuer?: LocalIssuer;
  /** `$default` serves at `/`; any other name serves under `/<stage>` like a named stage. */
  stage?: string;
  apiId?: string;
  accountId?: string;
  /** Called with each refusal of a JWT route, for the runtime's log (never the token itself). */
  onAuthorizerError?: (routeKey: string, error: LocalJwtError) => void;
  /** The stage's throttles (the template's `DefaultRouteSettings` / `RouteSettings`); absent: none. */
  throttle?: ThrottleSettings;
  /** Where a function's error goes (API Gateway only logs it; the client sees a bare 500). Defaults to stderr. */
  onHandlerError?: (routeKey: string, error: unknown) => void;
  /** Called with each request a route admitted (past the throttle): what an HTTP API bills, and its body size. */
  onAdmitted?: (routeKey: string, bodyBytes: number) => void;
}

/** A request to a local control route (`/_local/<name>`). */
export interface LocalRouteRequest {
  method: string;
  /** The path after `/_local/<name>` ('' or `/…`). */
  subPath: string;
  query: URLSearchParams;
  body: string;
}

/** Answers a local control route: a status and a JSON body (or text with `contentType`). */
export type LocalRouteHandler = (
  request: LocalRouteRequest,
) =>
  | Promise<{ status: number; body: unknown; contentType?: string }>
  | { status: number; body: unknown; contentType?: string };

export interface HttpApi {
  /** Base URL, e.g. `http://127.0.0.1:41234` (with `/<stage>` for a named stage). */
  readonly endpoint: string;
  readonly port: number;
  /** Serves `/_local/<name>[/…]` with `handler` for callers on this machine; replaces an earlier one. */
  setLocalRoute(name: string, handler: LocalRouteHandler): void;
  close(): Promise<void>;
}

/** Whether a socket's remote address is this machine (IPv4 127/8, IPv6 ::1, IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const LOCAL_PREFIX = '/_local/';

/** The HTTP API payload quota. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_SECONDS = 30;

interface CompiledRoute {
  route: HttpApiRoute;
  method: string;
  segments: Array<{ literal: string } | { param: string }>;
  functionName: string;
}

function compile(route: HttpApiRoute): CompiledRoute {
  const functionName =
    route.functionName ??
    `local-${route.routeKey.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'default'}`;
  if (route.routeKey === '$default') return { route, method: '$default', segments: [], functionName };
  const match = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) (\/\S*)$/.exec(route.routeKey);
  if (match === null) throw new Error(`Invalid route key "${route.routeKey}": expected "METHOD /path"`);
  const [, method = '', path = '/'] = match;
  const segments = path
    .slice(1)
    .split('/')
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_.-]+)\}$/.exec(segment);
      if (param?.[1] !== undefined) return { param: param[1] };
      if (segment.includes('{')) throw new Error(`Unsupported path template in "${route.routeKey}"`);
      return { literal: segment };
    });
  return { route, method, segments, functionName };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The matching route and its decoded path parameters; literal segments beat parameters. */
function selectRoute(
  routes: readonly CompiledRoute[],
  method: string,
  path: string,
): { compiled: CompiledRoute; params: Record<string, string> } | undefined {
  const parts = path.slice(1).split('/');
  let best: { compiled: CompiledRoute; params: Record<string, string>; score: string } | undefined;
  for (const compiled of routes) {
    if (compiled.method === '$default') continue;
    if (compiled.method !== 'ANY' && compiled.method !== method) continue;
    if (compiled.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let score = '';
    let ok = true;
    compiled.segments.forEach((segment, i) => {
      const part = parts[i] ?? '';
      if ('literal' in segment) {
        if (segment.literal !== part) ok = false;
        score += '1';
      } else {
        if (part === '') ok = false;
        params[segment.param] = safeDecode(part);
        score += '0';
      }
    });
    // An exact method beats ANY at equal specificity.
    score += compiled.method === 'ANY' ? '0' : '1';
    if (ok && (best === undefined || score > best.score)) best = { compiled, params, score };
  }
  if (best !== undefined) return { compiled: best.compiled, params: best.params };
  const fallback = routes.find((r) => r.method === '$default');
  return fallback === undefined ? undefined : { compiled: fallback, params: {} };
}

/** Content types API Gateway passes as text; everything else (including form posts) arrives base64. */
function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the form of `requestContext.time`. */
function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * Claims as an HTTP API hands them to the function: a map of strings. Arrays become `[a b]`
 * (which shared/auth/principal.ts parses), objects their JSON.
 */
export function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      flat[name] = `[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ')}]`;
    } else if (typeof value === 'object') {
      flat[name] = JSON.stringify(value);
    } else {
      flat[name] = String(value);
    }
  }
  return flat;
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const token = header.replace(/^Bearer\s+/i, '').trim();
  return token === '' ? undefined : token;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      // Keep draining so the client gets the 413 instead of a reset connection.
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(payload),
    'apigw-requestid': requestId,
    ...headers,
  });
  res.end(payload);
}

/** Maps a function result to the HTTP response by the payload 2.0 rules (see the module comment). */
function sendResult(res: ServerResponse, result: unknown, requestId: string): void {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const structured = result as {
      statusCode: unknown;
      headers?: Record<string, unknown>;
      cookies?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    if (
      typeof structured.statusCode !== 'number' ||
      !Number.isInteger(structured.statusCode) ||
      structured.statusCode < 100 ||
      structured.statusCode > 599 ||
      (structured.body !== undefined && typeof structured.body !== 'string')
    ) {
      sendJson(res, 500, { message: 'Internal Server Error' }, requestId);
      return;
    }
    const body =
      structured.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(structured.body, structured.isBase64Encoded === true ? 'base64' : 'utf8');
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(structured.headers ?? {})) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
    if (Array.isArray(structured.cookies) && structured.cookies.length > 0) {
      headers['set-cookie'] = structured.cookies.map(String);
    }
    headers['content-length'] = String(body.length);
    headers['apigw-requestid'] = requestId;
    res.writeHead(structured.statusCode, headers);
    res.end(body);
    return;
  }
  // Not structured: API Gateway assumes 200 and JSON, and the body is the function's JSON payload.
  sendJson(res, 200, result === undefined ? null : result, requestId);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
const TIMED_OUT = Symbol('timed out');

/** Starts the local HTTP API; resolves once it listens. */
export async function startHttpApi(options: StartHttpApiOptions): Promise<HttpApi> {
  const stage = options.stage ?? '$default';
  const stagePrefix = stage === '$default' ? '' : `/${stage}`;
  const apiId = options.apiId ?? 'local';
  const accountId = options.accountId ?? '123456789012';
  const compiled = options.routes.map(compile);
  const throttle = new RouteThrottle(options.throttle ?? {});
  const localRoutes = new Map<string, LocalRouteHandler>();
  const serveLocal = async (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      req.resume();
      sendJson(res, 403, { message: 'Forbidden: local control routes answer this machine only' }, requestId);
      return;
    }
    const rest = url.pathname.slice(LOCAL_PREFIX.length);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const handler = localRoutes.get(name);
    const body = await readBody(req).catch(() => Buffer.alloc(0));
    if (handler === undefined) {
      sendJson(res, 404, { message: `No local route ${name}`, routes: [...localRoutes.keys()] }, requestId);
      return;
    }
    const answer = await handler({
      method: (req.method ?? 'GET').toUpperCase(),
      subPath: slash < 0 ? '' : rest.slice(slash),
      query: url.searchParams,
      body: body.toString('utf8'),
    });
    if (answer.contentType !== undefined) {
      const text = String(answer.body);
      res.writeHead(answer.status, {
        'content-type': answer.contentType,
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      });
      res.end(text);
      return;
    }
    sendJson(res, answer.status, answer.body, requestId, { 'cache-control': 'no-store' });
  };
  let issuer = options.issuer;
  if (issuer === undefined && options.routes.some((r) => r.authorizer === 'jwt'))
    issuer = createLocalIssuer();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const started = new Date();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rawPath = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (rawPath.startsWith(LOCAL_PREFIX)) return serveLocal(req, res, url, requestId);

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      sendJson(res, 413, { message: 'Request Entity Too Large' }, requestId, { connection: 'close' });
      req.resume();
      return;
    }

    let routePath: string | undefined = rawPath;
    if (stagePrefix !== '') {
      routePath =
        rawPath === stagePrefix
          ? '/'
          : rawPath.startsWith(`${stagePrefix}/`)
            ? rawPath.slice(stagePrefix.length)
            : undefined;
    }
    const selected = routePath === undefined ? undefined : selectRoute(compiled, method, routePath);

    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendJson(res, 413, { message: 'Request Entity Too Large' }, requestId);
        return;
      }
      throw error;
    }
    if (selected === undefined) {
      sendJson(res, 404, { message: 'Not Found' }, requestId);
      return;
    }
    const { compiled: route, params } = selected;
    if (!throttle.admit(route.route.routeKey)) {
      sendJson(res, 429, { message: 'Too Many Requests' }, requestId);
      return;
    }
    options.onAdmitted?.(route.route.routeKey, body.length);

    const headers: Record<string, string> = {};
    let cookies: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] ?? '').toLowerCase();
      const value = req.rawHeaders[i + 1] ?? '';
      if (name === 'cookie') {
        cookies = cookies.concat(
          value
            .split(';')
            .map((c) => c.trim())
            .filter((c) => c !== ''),
        );
        continue;
      }
      headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    }

    let authorizer: { jwt: { claims: Record<string, string>; scopes: string[] } } | undefined;
    if (route.route.authorizer === 'jwt') {
      const token = bearerToken(headers.authorization);
      try {
        if (token === undefined || issuer === undefined) throw new LocalJwtError('malformed', 'no token');
        const claims = issuer.verify(token);
        const scope = typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s !== '') : [];
        authorizer = { jwt: { claims: flattenClaims(claims), scopes: scope } };
      } catch (error) {
        if (!(error instanceof LocalJwtError)) throw error;
        options.onAuthorizerError?.(route.route.routeKey, error);
        sendJson(res, 401, { message: 'Unauthorized' }, requestId, { 'www-authenticate': 'Bearer' });
        return;
      }
    }

    const queryStringParameters: Record<string, string> = {};
    for (const [name, value] of url.searchParams) {
      const previous = queryStringParameters[name];
      queryStringParameters[name] = previous === undefined ? value : `${previous},${value}`;
    }
    const text = isTextContentType(headers['content-type']);
    const host = headers.host ?? 'localhost';
    const domainName = host.replace(/:\d+$/, '');
    const event: APIGatewayProxyEventV2 & { requestContext: { authorizer?: unknown } } = {
      version: '2.0',
      routeKey: route.route.routeKey,
      rawPath,
      rawQueryString: url.search.replace(/^\?/, ''),
      ...(cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(Object.keys(queryStringParameters).length > 0 ? { queryStringParameters } : {}),
      ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}),
      requestContext: {
        accountId,
        apiId,
        ...(authorizer === undefined ? {} : { authorizer }),
        domainName,
        domainPrefix: domainName.split('.')[0] ?? domainName,
        http: {
          method,
          path: rawPath,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: route.route.routeKey,
        stage,
        time: clfTime(started),
        timeEpoch: started.getTime(),
      },
      ...(body.length > 0 ? { body: body.toString(text ? 'utf8' : 'base64') } : {}),
      isBase64Encoded: body.length > 0 && !text,
    };

    const timeoutMs = (route.route.timeoutSeconds ?? INTEGRATION_TIMEOUT_SECONDS) * 1000;
    const deadline = Date.now() + timeoutMs;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: route.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:${accountId}:function:${route.functionName}`,
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${route.functionName}`,
      logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };

    let result: unknown;
    try {
      result = await withTimeout(
        Promise.resolve().then(() => route.route.handler(event, context)),
        timeoutMs,
      );
    } catch (error) {
      (options.onHandlerError ?? ((key, e) => console.error(`[http-api] ${key} failed:`, e)))(
        route.route.routeKey,
        error,
      );
      // The function was throttled (all its instances busy at its concurrency): 429, not a fault.
      if (error instanceof Error && error.name === 'TooManyRequestsException') {
        sendJson(res, 429, { message: 'Too Many Requests' }, requestId);
        return;
      }
      sendJson(res, 500, { message: 'Internal Server Error' }, requestId);
      return;
    }
    if (result === TIMED_OUT) {
      sendJson(res, 503, { message: 'Service Unavailable' }, requestId);
      return;
    }
    sendResult(res, result, requestId);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[http-api] request failed:', error);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' }, 'unknown');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}${stagePrefix}`,
    port,
    setLocalRoute: (name, handler) => {
      if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`Invalid local route name "${name}"`);
      localRoutes.set(name, handler);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
