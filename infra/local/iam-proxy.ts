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
 * the error exactly as each protocol carries it (`aws-error-answer.ts`), so the AWS SDK v3 raises it
 * with AWS's message: `AccessDeniedException` (DynamoDB, EventBridge, KMS, Scheduler), `AccessDenied`
 * (SQS).
 *
 * Faults (`faults.ts`, optional): an allowed request may instead get the overload error the fault
 * controller picks for its service and operation (DynamoDB `ThrottlingException` /
 * `InternalServerError`, SQS `ServiceUnavailable`, …), in the same protocol shapes, which the SDK
 * retries as in AWS; while the service is in an outage every connection is dropped (the SDK sees a
 * reset socket, as with a dead server). With IAM checks off, the runtime still starts the proxies
 * for the faults, with an `authorize` that allows everything.
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
import { awsErrorAnswer, operationOf } from './aws-error-answer';
import { type AwsRequest, type AwsService, accessKeyIdOf, actionsOfRequest } from './aws-request-actions';
import type { Faults } from './faults';
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
  /**
   * Faults to inject (`faults.ts`): for each allowed request the proxy asks
   * `faults.dependencyFault(service, operation)` and answers that AWS error instead of forwarding;
   * while `faults.isDown(service)` it drops every connection, as a dead server would.
   */
  faults?: Faults;
  /**
   * Watches the allowed requests and their answers (a meter: `metering/`): `requestBody` may return a
   * replacement body for the upstream (e.g. asking DynamoDB for its consumed capacity), `answered`
   * gets the upstream's status and whole body once it has been sent on. The answer itself is passed
   * through unchanged (DynamoDB's `x-amz-crc32` covers the body).
   */
  observer?: {
    requestBody?: (request: AwsRequest) => string | undefined;
    /** Awaited before the request is forwarded (e.g. a meter taking the state before a write). */
    beforeForward?: (request: AwsRequest) => Promise<void>;
    answered: (request: AwsRequest, status: number, body: Buffer) => void;
  };
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
  stats(): { forwarded: number; denied: number; faulted: number; dropped: number };
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
  const counters = { forwarded: 0, denied: 0, faulted: 0, dropped: 0 };
  const { faults } = options;
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

  const forward = async (
    req: IncomingMessage,
    res: ServerResponse,
    request: AwsRequest,
    original: Buffer,
  ) => {
    const { observer } = options;
    await observer?.beforeForward?.(request).catch(() => undefined);
    const replaced = observer?.requestBody?.(request);
    const body = replaced === undefined ? original : Buffer.from(replaced, 'utf8');
    const headers = { ...req.headers };
    if (headers['transfer-encoding'] !== undefined || replaced !== undefined) {
      // The body is buffered (or replaced): send it with a length instead of re-chunking it.
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
        if (observer !== undefined) {
          const chunks: Buffer[] = [];
          upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamResponse.on('end', () =>
            observer.answered(request, upstreamResponse.statusCode ?? 502, Buffer.concat(chunks)),
          );
        }
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
    if (faults?.isDown(options.service)) {
      counters.dropped++;
      req.socket.destroy();
      return;
    }
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
        const fault = faults?.dependencyFault(options.service, operationOf(options.service, request));
        if (fault !== undefined) {
          counters.faulted++;
          const answer = awsErrorAnswer(options.service, request, fault, randomUUID());
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          return;
        }
        counters.forwarded++;
        await forward(req, res, request, body);
        return;
      }
      counters.denied++;
      options.onDenied?.({ accessKeyId, method: request.method, path: request.path, checks, message });
      const denied = { status: 400, code: 'AccessDeniedException', message };
      const answer = awsErrorAnswer(options.service, request, denied, randomUUID());
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
  // An outage starting drops the connections already open too (keep-alive sockets, long polls).
  const stopListening = faults?.onOutage((service, down) => {
    if (service === options.service && down) server.closeAllConnections();
  });

  return {
    endpoint: `http://${host}:${port}`,
    async close() {
      stopListening?.();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      agent.destroy();
    },
    stats: () => ({ ...counters }),
  };
}
