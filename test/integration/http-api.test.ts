import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HttpApi, type HttpApiRoute, startHttpApi } from '../../infra/local/http-api';
import { createLocalIssuer, type LocalIssuer, LocalJwtError } from '../../infra/local/jwt';
import { principalFromClaims } from '../../shared/auth/principal';

/**
 * The local HTTP API and JWT issuer against real HTTP requests: the events the functions get must
 * look like API Gateway's payload 2.0, and JWT routes must refuse bad tokens before any function runs.
 */

const execFileAsync = promisify(execFile);
const REPO = new URL('../..', import.meta.url).pathname;

let keyDir: string;
let issuer: LocalIssuer;
let api: HttpApi;
const handlerErrors: Array<{ routeKey: string; error: unknown }> = [];
const calls: Array<{ event: APIGatewayProxyEventV2 & { requestContext: any }; context: Context }> = [];

/** A handler that records what it was called with and answers with `result`. */
function recording(result: (event: APIGatewayProxyEventV2) => APIGatewayProxyResultV2) {
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    calls.push({ event: event as any, context });
    return result(event);
  };
}

const echo = recording((event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ routeKey: event.routeKey, path: event.pathParameters ?? null }),
}));

const routes: HttpApiRoute[] = [
  { routeKey: 'GET /complaints', authorizer: 'jwt', handler: echo, functionName: 'AgentApi' },
  { routeKey: 'GET /complaints/{id}', authorizer: 'jwt', handler: echo, functionName: 'AgentApi' },
  { routeKey: 'POST /complaints/{id}/actions', authorizer: 'jwt', handler: echo },
  { routeKey: 'GET /complaints/summary', handler: recording(() => ({ statusCode: 204 })) },
  { routeKey: 'POST /public/complaints', handler: echo, functionName: 'CustomerApi' },
  { routeKey: 'GET /public/complaints/{id}/status/{token}', handler: echo },
  { routeKey: 'GET /result/string', handler: recording(() => 'plain string') },
  { routeKey: 'GET /result/object', handler: recording(() => ({ hello: 'world', n: 1 }) as any) },
  {
    routeKey: 'GET /result/structured',
    handler: recording(() => ({
      statusCode: 201,
      headers: { 'content-type': 'text/plain', 'x-custom': 'yes' },
      cookies: ['a=1; Path=/', 'b=2'],
      body: 'created',
    })),
  },
  {
    routeKey: 'GET /result/binary',
    handler: recording(() => ({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    })),
  },
  {
    routeKey: 'GET /result/throws',
    handler: async () => {
      throw new Error('boom');
    },
  },
];

beforeAll(async () => {
  keyDir = mkdtempSync(join(tmpdir(), 'http-api-jwt-'));
  issuer = createLocalIssuer({ dir: keyDir });
  api = await startHttpApi({
    routes,
    issuer,
    onHandlerError: (routeKey, error) => handlerErrors.push({ routeKey, error }),
  });
});

afterAll(async () => {
  await api?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

beforeEach(() => {
  calls.length = 0;
});

const supervisorToken = () =>
  issuer.tokenFor({ role: 'supervisor', department: 'billing', agentId: 'sup_1' });

describe('local issuer', () => {
  it('signs RS256 tokens it verifies, and reuses its key from the directory', () => {
    const token = issuer.sign({ custom: 'x' });
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: issuer.keyId,
    });
    const claims = issuer.verify(token);
    expect(claims).toMatchObject({ iss: issuer.issuer, aud: 'complaints-local', custom: 'x' });
    expect(typeof claims.sub).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);

    const again = createLocalIssuer({ dir: keyDir });
    expect(again.keyId).toBe(issuer.keyId);
    expect(again.verify(token)).toEqual(claims);
    expect(issuer.jwks().keys).toEqual([
      expect.objectContaining({ kty: 'RSA', kid: issuer.keyId, alg: 'RS256' }),
    ]);
    expect(issuer.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('refuses tokens with typed reasons', () => {
    const reason = (token: string) => {
      try {
        issuer.verify(token);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(LocalJwtError);
        return (error as LocalJwtError).reason;
      }
    };
    const good = supervisorToken();
    const [h, p, s] = good.split('.');
    const forged = Buffer.from(p!, 'base64url').toString().replace('supervisor', 'admin');
    expect(reason(`${h}.${Buffer.from(forged).toString('base64url')}.${s}`)).toBe('bad-signature');
    expect(reason('not-a-token')).toBe('malformed');
    expect(reason(issuer.sign({}, { expiresInSeconds: -1 }))).toBe('expired');
    expect(reason(issuer.sign({ aud: 'someone-else' }))).toBe('wrong-audience');
    expect(reason(issuer.sign({ iss: 'https://evil.invalid' }))).toBe('wrong-issuer');
    const otherDir = mkdtempSync(join(tmpdir(), 'http-api-other-'));
    try {
      const other = createLocalIssuer({ dir: otherDir });
      expect(reason(other.tokenFor({ role: 'admin' }))).toBe('unknown-key');
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    expect(reason(none)).toBe('malformed');
    const hs = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${p}.${s}`;
    expect(reason(hs)).toBe('unsupported-algorithm');
  });

  it('tokenFor carries the claims the agent API reads', () => {
    const claims = issuer.verify(supervisorToken());
    expect(claims).toMatchObject({
      'cognito:groups': ['supervisor'],
      'custom:department': 'billing',
      'custom:agent_id': 'sup_1',
      token_use: 'id',
    });
  });
});

describe('local HTTP API', () => {
  it('matches path templates and builds a payload 2.0 event', async () => {
    const response = await fetch(
      `${api.endpoint}/public/complaints/cmp%2001/status/tok-1?a=1&b=two&a=3&empty=`,
      { headers: { 'X-Trace': 'abc', Cookie: 'c1=v1; c2=v2', 'User-Agent': 'vitest-agent' } },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      routeKey: 'GET /public/complaints/{id}/status/{token}',
      path: { id: 'cmp 01', token: 'tok-1' },
    });
    expect(calls).toHaveLength(1);
    const { event, context } = calls[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /public/complaints/{id}/status/{token}',
      rawPath: '/public/complaints/cmp%2001/status/tok-1',
      rawQueryString: 'a=1&b=two&a=3&empty=',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { a: '1,3', b: 'two', empty: '' },
      pathParameters: { id: 'cmp 01', token: 'tok-1' },
      isBase64Encoded: false,
      requestContext: {
        accountId: expect.any(String),
        apiId: 'local',
        domainName: '127.0.0.1',
        routeKey: 'GET /public/complaints/{id}/status/{token}',
        stage: '$default',
        requestId: expect.any(String),
        timeEpoch: expect.any(Number),
        http: {
          method: 'GET',
          path: '/public/complaints/cmp%2001/status/tok-1',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'vitest-agent',
        },
      },
    });
    expect(event.headers['x-trace']).toBe('abc');
    expect(event.headers).not.toHaveProperty('X-Trace');
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.body).toBeUndefined();
    expect(event.requestContext.authorizer).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(10_000);
    expect(context.functionName).toMatch(/^local-/);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(25_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(30_000);
    expect(response.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
  });

  it('prefers literal segments over parameters and omits empty maps', async () => {
    const response = await fetch(`${api.endpoint}/complaints/summary`);
    expect(response.status).toBe(204);
    expect(calls[0]!.event.routeKey).toBe('GET /complaints/summary');
    expect(calls[0]!.event).not.toHaveProperty('pathParameters');
    expect(calls[0]!.event).not.toHaveProperty('queryStringParameters');
    expect(calls[0]!.event.rawQueryString).toBe('');
  });

  it('passes POST bodies through: JSON as text, binary as base64', async () => {
    const payload = { text: 'Mein Paket ist beschädigt 📦', n: 3 };
    const response = await fetch(`${api.endpoint}/public/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(payload),
    });
    expect(response.status).toBe(200);
    const { event, context } = calls[0]!;
    expect(context.functionName).toBe('CustomerApi');
    expect(event.isBase64Encoded).toBe(false);
    expect(JSON.parse(event.body!)).toEqual(payload);
    expect(event.headers['content-type']).toBe('application/json; charset=utf-8');

    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    await fetch(`${api.endpoint}/public/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(calls[1]!.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(calls[1]!.event.body!, 'base64')).toEqual(bytes);
  });

  it('answers 404 for unknown routes and wrong methods without calling a function', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/public/complaints'],
      ['GET', '/public/complaints/x/status'],
      ['GET', '/complaints//'],
    ] as const) {
      const response = await fetch(`${api.endpoint}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
    expect(calls).toHaveLength(0);
  });

  it('refuses bodies over 10 MB with 413', async () => {
    const response = await fetch(`${api.endpoint}/public/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect(calls).toHaveLength(0);
  });

  describe('result mapping (payload 2.0)', () => {
    it('structured: status, headers, cookies, body', async () => {
      const response = await fetch(`${api.endpoint}/result/structured`);
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toBe('text/plain');
      expect(response.headers.get('x-custom')).toBe('yes');
      expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
      expect(await response.text()).toBe('created');
    });

    it('structured with isBase64Encoded: decoded bytes', async () => {
      const response = await fetch(`${api.endpoint}/result/binary`);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
    });

    it('a plain string or object: 200, JSON', async () => {
      const str = await fetch(`${api.endpoint}/result/string`);
      expect(str.status).toBe(200);
      expect(str.headers.get('content-type')).toBe('application/json');
      expect(await str.json()).toBe('plain string');

      const obj = await fetch(`${api.endpoint}/result/object`);
      expect(obj.status).toBe(200);
      expect(obj.headers.get('content-type')).toBe('application/json');
      expect(await obj.json()).toEqual({ hello: 'world', n: 1 });
    });

    it('a thrown error: 500 Internal Server Error', async () => {
      const response = await fetch(`${api.endpoint}/result/throws`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ message: 'Internal Server Error' });
      expect(handlerErrors).toEqual([{ routeKey: 'GET /result/throws', error: new Error('boom') }]);
    });
  });

  describe('JWT authorizer', () => {
    async function getWith(authorization?: string) {
      const response = await fetch(`${api.endpoint}/complaints/c1`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      return {
        status: response.status,
        wwwAuth: response.headers.get('www-authenticate'),
        body: await response.json(),
      };
    }

    const unauthorized = { status: 401, wwwAuth: 'Bearer', body: { message: 'Unauthorized' } };

    it('no token: 401 without calling the function', async () => {
      expect(await getWith()).toEqual(unauthorized);
      expect(await getWith('Bearer ')).toEqual(unauthorized);
      expect(calls).toHaveLength(0);
    });

    it('tampered, expired, wrong audience or foreign tokens: 401', async () => {
      const [h, p, s] = supervisorToken().split('.');
      const forged = Buffer.from(
        JSON.stringify({
          ...JSON.parse(Buffer.from(p!, 'base64url').toString()),
          'cognito:groups': ['admin'],
        }),
      ).toString('base64url');
      expect(await getWith(`Bearer ${h}.${forged}.${s}`)).toEqual(unauthorized);
      expect(await getWith(`Bearer ${issuer.sign({}, { expiresInSeconds: -5 })}`)).toEqual(unauthorized);
      expect(await getWith(`Bearer ${issuer.sign({ aud: 'other-app' })}`)).toEqual(unauthorized);
      expect(await getWith(`Bearer ${issuer.sign({ iss: 'https://elsewhere.invalid' })}`)).toEqual(
        unauthorized,
      );
      expect(await getWith('Bearer garbage')).toEqual(unauthorized);
      expect(calls).toHaveLength(0);
    });

    it('a valid token: the function sees the claims as API Gateway passes them', async () => {
      const token = issuer.sign({
        'cognito:groups': ['agent', 'supervisor'],
        'custom:department': 'billing',
        'custom:agent_id': 'sup_1',
        token_use: 'id',
        scope: 'complaints/read complaints/write',
      });
      const response = await fetch(`${api.endpoint}/complaints/c1?status=open`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      const { event } = calls[0]!;
      expect(event.pathParameters).toEqual({ id: 'c1' });
      expect(event.queryStringParameters).toEqual({ status: 'open' });
      const { claims, scopes } = event.requestContext.authorizer.jwt;
      expect(claims).toMatchObject({
        'cognito:groups': '[agent supervisor]',
        'custom:department': 'billing',
        'custom:agent_id': 'sup_1',
        iss: issuer.issuer,
        aud: 'complaints-local',
        exp: expect.stringMatching(/^\d+$/),
      });
      for (const value of Object.values(claims)) expect(typeof value).toBe('string');
      expect(scopes).toEqual(['complaints/read', 'complaints/write']);
      // What the agent API makes of it.
      expect(principalFromClaims(claims, 'cognito:groups')).toEqual({
        ok: true,
        principal: { id: 'sup_1', role: 'supervisor', department: 'billing' },
      });
    });

    it('accepts the token without the Bearer prefix, as API Gateway does', async () => {
      const response = await fetch(`${api.endpoint}/complaints`, {
        headers: { authorization: supervisorToken() },
      });
      expect(response.status).toBe(200);
      expect(calls[0]!.context.functionName).toBe('AgentApi');
    });
  });
});

describe('scripts/local-token.ts', () => {
  it('prints a token the issuer verifies, and the claims with --json', async () => {
    const args = [
      '--import',
      'tsx',
      'scripts/local-token.ts',
      '--role',
      'supervisor',
      '--department',
      'billing',
    ];
    const env = { ...process.env, COMPLAINTS_LOCAL_JWT_DIR: keyDir };
    const plain = await execFileAsync('node', [...args, '--agent-id', 'sup_9'], {
      cwd: REPO,
      env,
      timeout: 30_000,
    });
    const token = plain.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(issuer.verify(token)).toMatchObject({
      'cognito:groups': ['supervisor'],
      'custom:department': 'billing',
      'custom:agent_id': 'sup_9',
    });

    const json = await execFileAsync('node', [...args, '--key-dir', keyDir, '--json'], {
      cwd: REPO,
      timeout: 30_000,
    });
    const parsed = JSON.parse(json.stdout) as { token: string; claims: Record<string, unknown> };
    expect(issuer.verify(parsed.token)).toEqual(parsed.claims);
    expect(parsed.claims['custom:department']).toBe('billing');
  });

  it('fails with a usage message on a bad role', async () => {
    const run = execFileAsync('node', ['--import', 'tsx', 'scripts/local-token.ts', '--role', 'boss'], {
      cwd: REPO,
      env: { ...process.env, COMPLAINTS_LOCAL_JWT_DIR: keyDir },
      timeout: 30_000,
    });
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--role must be one of'),
    });
  });
});

describe('stages and timeouts', () => {
  it('serves a named stage under its prefix and answers 503 when a function overruns its timeout', async () => {
    let release: () => void = () => undefined;
    const staged = await startHttpApi({
      stage: 'dev',
      routes: [
        {
          routeKey: 'GET /ping',
          handler: async (event) => ({ statusCode: 200, body: event.requestContext.stage }),
        },
        {
          routeKey: 'GET /slow',
          timeoutSeconds: 0.2,
          handler: () =>
            new Promise((resolve) => {
              release = () => resolve({ statusCode: 200 });
            }),
        },
      ],
    });
    try {
      expect(staged.endpoint).toMatch(/\/dev$/);
      const ping = await fetch(`${staged.endpoint}/ping`);
      expect(await ping.text()).toBe('dev');
      expect((await fetch(`${staged.endpoint.replace(/\/dev$/, '')}/ping`)).status).toBe(404);
      const slow = await fetch(`${staged.endpoint}/slow`);
      expect(slow.status).toBe(503);
      expect(await slow.json()).toEqual({ message: 'Service Unavailable' });
    } finally {
      release();
      await staged.close();
    }
  });
});

describe('throttling (issue #10, point 8)', () => {
  it('answers a flood on the public intake route with 429 while an agent route still answers', async () => {
    const { DEFAULT_ROUTE_THROTTLES } = await import('../../infra/constructs/http-api');
    const limit = (group: 'intake' | 'agent') => ({
      rate: Number(DEFAULT_ROUTE_THROTTLES[group].rateLimit),
      burst: Number(DEFAULT_ROUTE_THROTTLES[group].burstLimit),
    });
    let intakeCalls = 0;
    const throttled = await startHttpApi({
      issuer,
      throttle: {
        default: { rate: 50, burst: 100 },
        routes: { 'POST /complaints': limit('intake'), 'GET /complaints/{id}': limit('agent') },
      },
      routes: [
        {
          routeKey: 'POST /complaints',
          handler: async () => {
            intakeCalls++;
            return { statusCode: 202, body: '{}' };
          },
        },
        {
          routeKey: 'GET /complaints/{id}',
          authorizer: 'jwt',
          handler: async (event) => ({
            statusCode: 200,
            body: JSON.stringify({ id: event.pathParameters?.id }),
          }),
        },
      ],
    });
    try {
      const started = Date.now();
      const flood = await Promise.all(
        Array.from({ length: 200 }, () =>
          fetch(`${throttled.endpoint}/complaints`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }),
        ),
      );
      const agent = await fetch(`${throttled.endpoint}/complaints/01JABCDEFGHJKMNPQRSTVWXYZ0`, {
        headers: { authorization: `Bearer ${supervisorToken()}` },
      });
      const seconds = (Date.now() - started) / 1000;
      const statuses = flood.map((r) => r.status);
      const passed = statuses.filter((s) => s === 202).length;
      const refused = flood.filter((r) => r.status === 429);
      const { rate, burst } = limit('intake');
      expect(passed).toBeGreaterThanOrEqual(1);
      expect(passed).toBeLessThanOrEqual(burst + Math.ceil(rate * seconds));
      expect(intakeCalls).toBe(passed);
      expect(refused.length).toBe(200 - passed);
      for (const response of refused.slice(0, 5)) {
        expect(await response.json()).toEqual({ message: 'Too Many Requests' });
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
      expect(agent.status).toBe(200);
      expect(await agent.json()).toEqual({ id: '01JABCDEFGHJKMNPQRSTVWXYZ0' });
    } finally {
      await throttled.close();
    }
  });

  it('refills at the route rate: after a pause the intake route answers again', async () => {
    const throttled = await startHttpApi({
      throttle: { routes: { 'POST /complaints': { rate: 20, burst: 1 } } },
      routes: [{ routeKey: 'POST /complaints', handler: async () => ({ statusCode: 202, body: '{}' }) }],
    });
    try {
      const post = () => fetch(`${throttled.endpoint}/complaints`, { method: 'POST', body: '{}' });
      expect((await post()).status).toBe(202);
      expect((await post()).status).toBe(429);
      await new Promise((r) => setTimeout(r, 120));
      expect((await post()).status).toBe(202);
    } finally {
      await throttled.close();
    }
  });

  it("sends nosniff on the local API's own answers (404, 401)", async () => {
    const missing = await fetch(`${api.endpoint}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
    const unauthorized = await fetch(`${api.endpoint}/complaints`);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
