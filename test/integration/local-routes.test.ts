import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpApi, startHttpApi } from '../../infra/local/http-api';

/**
 * The HTTP API's local control routes (`/_local/<name>`): handlers the runtime registers answer
 * callers on this machine before any API route; an unknown name is 404. (Refusing other callers is
 * decided by `isLoopback`, unit-tested in test/unit/supervisor.test.ts: a test cannot call from
 * another machine.)
 */

let api: HttpApi;
beforeAll(async () => {
  api = await startHttpApi({
    routes: [{ routeKey: '$default', handler: async () => ({ statusCode: 418, body: 'api' }) }],
  });
  api.setLocalRoute('status', () => ({ status: 200, body: { ok: true } }));
  api.setLocalRoute('faults', (request) => ({
    status: request.method === 'PUT' ? 202 : 200,
    body: { method: request.method, subPath: request.subPath, body: request.body, q: request.query.get('q') },
  }));
});
afterAll(async () => {
  await api?.close();
});

describe('local control routes', () => {
  it('answers a registered route from this machine, before the API routes', async () => {
    const status = await fetch(`${api.endpoint}/_local/status`);
    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('no-store');
    expect(await status.json()).toEqual({ ok: true });
    const faults = await fetch(`${api.endpoint}/_local/faults/profile?q=1`, {
      method: 'PUT',
      body: '{"a":1}',
    });
    expect(faults.status).toBe(202);
    expect(await faults.json()).toEqual({ method: 'PUT', subPath: '/profile', body: '{"a":1}', q: '1' });
    expect((await fetch(`${api.endpoint}/anything`)).status).toBe(418);
  });

  it('answers 404 for an unknown local route, naming the known ones', async () => {
    const response = await fetch(`${api.endpoint}/_local/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ routes: ['status', 'faults'] });
  });

  it('refuses a route name that is not a plain word', () => {
    expect(() => api.setLocalRoute('../x', () => ({ status: 200, body: null }))).toThrow(
      /Invalid local route/,
    );
  });
});
