/**
 * An authorizing HTTP proxy in front of one local AWS endpoint (DynamoDB Local, local-aws-sqs, the
 * project's EventBridge, Scheduler or KMS server), for the local runtime's IAM enforcement.
 *
 * Each local Lambda function signs its SDK calls with its own access key id; the proxy buffers each
 * request, works out the IAM actions and resources it needs (`aws-request-actions.ts`), and asks
 * `authorize(accessKeyId, checks)` — which knows the function behind the key and its role's
 * statements (`iam-policy.ts`) — for a denial message. Allowed requests are forwarded unchanged
 * (method, path, headers, body; only the connection target changes: the local servers do not verify
 * SigV4 signatures, so the signed `host` header may keep naming the proxy) and the upstream response
 * is streamed back, long polls included. Denied requests never reach the upstream: the proxy answers
 * the error exactly as each protocol carries it, so the AWS SDK v3 raises it with AWS's message:
 * - DynamoDB (JSON 1.0): 400, `{"__type":"com.amazon.coral.service#AccessDeniedException","message":…}`
 *   → `AccessDeniedException`;
 * - SQS JSON: the same body plus `x-amzn-query-error: AccessDenied;Sender`, which the SDK's query
 *   compatibility turns into the error name `AccessDenied` (AWS's SQS code); SQS Query (form bodies):
 *   403 `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>…`;
 * - EventBridge and KMS (JSON 1.1): 400, `{"__type":"AccessDeniedException","message":…}`;
 * - Scheduler (REST-JSON): 403, `x-amzn-errortype: AccessDeniedException`, `{"Message":…}`.
 * Every answer carries an `x-amzn-requestid`.
 *
 * Known limits: bodies are buffered whole (fine for these APIs' sizes); a request whose body or
 * signature the proxy cannot read reaches `authorize` with an unmapped check or an undefined key,
 * and it is `authorize`'s call; the SQS SDK sends a request to the host of its `QueueUrl` unless the
 * client has an explicit `endpoint` (config, not only `AWS_ENDPOINT_URL_SQS`), so the queue URLs a
 * function sees must name the proxy, or its SQS calls bypass it.
 */
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AwsRequest,
  type AwsService,
  accessKeyIdOf,
  actionsOfRequest,
  isSqsJsonRequest,
} from './aws-request-actions';
import type { AccessCheck } from './iam-policy';

export interface AuthorizingProxyOptions {
  /** The endpoint behind the proxy, e.g. `http://127.0.0.1:8000`. */
  upstream: string;
  service: AwsService;
  region: string;
  accountId: string;
  /** The queue name of an SQS queue URL (default: the URL's last path segment). */
  queueNameOfUrl?: (url: string) => string | undefined;
  /** DynamoDB: the partition key of a table or index, for `dynamodb:LeadingKeys` (see aws-request-actions.ts). */
  partitionKeyOf?: (table: string, index?: string) => string | undefined;
  /**
   * Decides a request: a denial message (sent as AccessDenied), or undefined to forward it. The key
   * is undefined for unsigned requests. Throwing denies the request with the error's message.
   */
  authorize: (accessKeyId: string | undefined, checks: AccessCheck[]) => string | undefined;
  /** Called for every denied request (the runtime logs them: functions may swallow the error). */
  onDenied?: (denial: {
    accessKeyId: string | undefined;
    method: string;
    path: string;
    checks: AccessCheck[];
    message: string;
  }) => void;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port to listen on (default 0: a free one). */
  port?: number;
}

export interface AuthorizingProxy {
  /** `http://<host>:<port>`, the endpoint functions get instead of the upstream's. */
  readonly endpoint: string;
  /** Stops listening and drops open connections (including long polls). */
  close(): Promise<void>;
  stats(): { forwarded: number; denied: number };
}

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/** Status, headers and body of an AccessDenied answer, in the request's protocol. */
function accessDenied(
  service: AwsService,
  request: AwsRequest,
  message: string,
  requestId: string,
): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  const coral = { __type: 'com.amazon.coral.service#AccessDeniedException', message };
  switch (service) {
    case 'dynamodb':
      return {
        status: 400,
        headers: { ...headers, 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify(coral),
      };
    case 'sqs':
      if (isSqsJsonRequest(request)) {
        return {
          status: 400,
          headers: {
            ...headers,
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-query-error': 'AccessDenied;Sender',
          },
          body: JSON.stringify(coral),
        };
      }
      return {
        status: 403,
        headers: { ...headers, 'content-type': 'text/xml' },
        body:
          '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>' +
          `<Type>Sender</Type><Code>AccessDenied</Code><Message>${escapeXml(message)}</Message><Detail/>` +
          `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'events':
    case 'kms':
      return {
        status: 400,
        headers: { ...headers, 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ __type: 'AccessDeniedException', message }),
      };
    case 'scheduler':
      return {
        status: 403,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'x-amzn-errortype': 'AccessDeniedException',
        },
        body: JSON.stringify({ Message: message }),
      };
  }
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** Starts a proxy in front of `options.upstream`. */
export async function startAuthorizingProxy(options: AuthorizingProxyOptions): Promise<AuthorizingProxy> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true });
  const counters = { forwarded: 0, denied: 0 };
  const ctx = {
    region: options.region,
    accountId: options.accountId,
    ...(options.queueNameOfUrl !== undefined && { queueNameOfUrl: options.queueNameOfUrl }),
    ...(options.partitionKeyOf !== undefined && { partitionKeyOf: options.partitionKeyOf }),
  };

  const decide = (
    request: AwsRequest,
    accessKeyId: string | undefined,
    checks: AccessCheck[],
  ): string | undefined => {
    try {
      return options.authorize(accessKeyId, checks);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return `The local runtime could not authorize ${request.method} ${request.path}: ${reason}`;
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const headers = { ...req.headers };
    if (headers['transfer-encoding'] !== undefined) {
      // The body is buffered: send it with a length instead of re-chunking it.
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    const upstreamRequest = httpRequest(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (upstreamResponse) => {
        res.writeHead(
          upstreamResponse.statusCode ?? 502,
          upstreamResponse.statusMessage,
          upstreamResponse.headers,
        );
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ message: `The local endpoint ${options.upstream} failed: ${error.message}` }));
    });
    // A caller that gives up (e.g. an aborted long poll) must not leave the upstream request running.
    res.on('close', () => {
      if (!res.writableFinished) upstreamRequest.destroy();
    });
    upstreamRequest.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch {
        res.destroy();
        return;
      }
      const request: AwsRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: body.toString('utf8'),
      };
      const accessKeyId = accessKeyIdOf(req.headers, request.path);
      const checks = actionsOfRequest(options.service, request, ctx);
      const message = decide(request, accessKeyId, checks);
      if (message === undefined) {
        counters.forwarded++;
        forward(req, res, body);
        return;
      }
      counters.denied++;
      options.onDenied?.({ accessKeyId, method: request.method, path: request.path, checks, message });
      const answer = accessDenied(options.service, request, message, randomUUID());
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    })();
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      agent.destroy();
    },
    stats: () => ({ ...counters }),
  };
}
