import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../infra/local/dynamodb-local';
import type { AcceptedEvent } from '../../infra/local/eventbridge-server';
import { createLocalIssuer } from '../../infra/local/jwt';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime';
import { DETAIL_TYPES } from '../../shared/events/names';
import { eventually as poll } from '../support/eventually';
import { readableItem } from '../support/table-dump';

/**
 * Issue #10's attacks, played for real against the app synthesized as `npm start` synthesizes it and
 * run by the local runtime (IAM checks on, the bus policy enforced for every caller): a reused
 * idempotency key, an event that tries to pre-claim an HTTP key, forged internal events, anonymous
 * elevation, unstorable numbers and over-long ids, unsafe evidence refs, a reply flood, cursor
 * probing, and an erasure followed by a search of the whole table for the erased text and for any
 * tracking token in clear. Each test fails if its attack works.
 */

let runtime: LocalRuntime;
const accepted: AcceptedEvent[] = [];
/** Every tracking token the service handed out during the suite: none may be stored in clear. */
const tokens = new Set<string>();
const outsider = { region: 'us-east-1', credentials: { accessKeyId: 'producer', secretAccessKey: 'x' } };
type Json = Record<string, any>;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    tableNameSuffix: `-attacks-${Date.now()}`,
    issuer: createLocalIssuer({ dir: mkdtempSync(join(tmpdir(), 'e2e-attacks-jwt-')) }),
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    asyncRetryDelayMs: 50,
    log: () => undefined,
  });
  runtime.onEvent((e) => accepted.push(e));
});

afterAll(async () => {
  await runtime?.close();
});

/** Waits up to 30 s: the attacks share the runtime with a whole pipeline per complaint. */
const eventually = <T>(read: () => Promise<T>, done: (v: T) => boolean) => poll(read, done, 30_000);

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${runtime.endpoints.httpApi}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const body = text.length > 0 ? (JSON.parse(text) as Json) : {};
  if (typeof body.trackingToken === 'string') tokens.add(body.trackingToken);
  return { status: response.status, body, headers: response.headers };
}

const submission = (customerId: string, description: string, extra: Json = {}) => ({
  channel: 'web',
  customer: { id: customerId, language: 'en', contactRef: `contact-${customerId}` },
  description,
  ...extra,
});

const admin = () => runtime.issuer.tokenFor({ role: 'admin' });
const fieldsOf = (body: Json) => (body.errors ?? []).map((e: { field: string }) => e.field);

async function assigned(complaintId: string): Promise<void> {
  await eventually(
    async () =>
      accepted.some(
        (a) =>
          a.event['detail-type'] === DETAIL_TYPES.complaintAssigned &&
          (a.event.detail as Json).data?.complaintId === complaintId,
      ),
    (done) => done,
  );
}

describe('attacks on the trust boundary, against the local runtime', () => {
  const victim = {
    customerId: `victim-${Date.now()}`,
    description: 'VICTIM-SECRET my refund of 120 never arrived',
  };
  let first: Json;

  it('a reused Idempotency-Key with another body is 422 and reveals nothing; the honest retry gets its complaint back', async () => {
    const key = `attack-key-${Date.now()}`;
    const created = await call('POST', '/complaints', {
      body: submission(victim.customerId, victim.description),
      headers: { 'idempotency-key': key },
    });
    expect(created.status).toBe(202);
    first = created.body;
    const hijack = await call('POST', '/complaints', {
      body: submission('attacker', 'I want to see what this key returns'),
      headers: { 'idempotency-key': key },
    });
    expect(hijack.status).toBe(422);
    expect(fieldsOf(hijack.body)).toEqual(['Idempotency-Key']);
    const leaked = JSON.stringify(hijack.body);
    for (const secret of [first.complaintId, first.number, first.trackingToken]) {
      expect(leaked).not.toContain(secret);
    }
    const retry = await call('POST', '/complaints', {
      body: submission(victim.customerId, victim.description),
      headers: { 'idempotency-key': key },
    });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({
      complaintId: first.complaintId,
      trackingToken: first.trackingToken,
      replayed: true,
    });
    // The same key from an event producer whose source is "api" is another namespace: a new complaint.
    const events = new EventBridgeClient({ endpoint: runtime.endpoints.eventBridge, ...outsider });
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: runtime.endpoints.eventBusName,
            Source: 'api',
            DetailType: DETAIL_TYPES.complaintReported,
            Detail: JSON.stringify({
              metadata: { version: 1, messageId: key },
              data: submission('producer-customer', 'Reported by another system with a colliding id'),
            }),
          },
        ],
      }),
    );
    events.destroy();
    expect(put.FailedEntryCount).toBe(0);
    const received = await eventually(
      async () =>
        accepted.find(
          (a) =>
            a.event['detail-type'] === DETAIL_TYPES.complaintReceived &&
            a.event.source === 'complaints.intake' &&
            (a.event.detail as Json).data?.sourceSystem === 'api' &&
            (a.event.detail as Json).data?.complaintId !== first.complaintId,
        ),
      (a) => a !== undefined,
    );
    expect((received?.event.detail as Json | undefined)?.data?.complaintId).not.toBe(first.complaintId);
  });

  it('refuses forged internal events from outside the service, whatever the credentials', async () => {
    const events = new EventBridgeClient({ endpoint: runtime.endpoints.eventBridge, ...outsider });
    const forged = (source: string, detailType: string, data: Json) => ({
      EventBusName: runtime.endpoints.eventBusName,
      Source: source,
      DetailType: detailType,
      Detail: JSON.stringify({
        metadata: {
          version: 1,
          eventId: `forged-${source}-${detailType}`,
          occurredAt: new Date().toISOString(),
        },
        data,
      }),
    });
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          forged('complaints.intake', DETAIL_TYPES.complaintReceived, {
            complaintId: 'forged-1',
            channel: 'web',
          }),
          forged('complaints.customer', DETAIL_TYPES.surveyAnswered, {
            complaintId: first.complaintId,
            score: 1_000_000,
          }),
          // An internal detail-type under a source of one's own is refused too.
          forged('shop.backend', DETAIL_TYPES.surveyAnswered, { complaintId: first.complaintId, score: 5 }),
        ],
      }),
    );
    events.destroy();
    expect(result.FailedEntryCount).toBe(3);
    for (const entry of result.Entries ?? []) {
      expect(entry.ErrorCode).toMatch(/NotAuthorized|AccessDenied/);
    }
    expect(
      accepted.filter((a) => String((a.event.detail as Json).metadata?.eventId).startsWith('forged-')),
    ).toEqual([]);
  });

  it('an anonymous caller cannot raise its own priority, and unstorable or unsafe input is 400, never 503', async () => {
    const vip = await call('POST', '/complaints', {
      body: submission('anon-1', 'Please treat me as important', {
        customer: { id: 'anon-1', tier: 'vip' },
        affectedUsers: 1_000_000_000,
      }),
    });
    expect(vip.status).toBe(400);
    expect(fieldsOf(vip.body)).toEqual(expect.arrayContaining(['customer.tier', 'affectedUsers']));
    const tiny = await call('POST', '/complaints', {
      body: submission('anon-2', 'A tiny amount', { amount: 1e-200 }),
    });
    expect(tiny.status).toBe(400);
    expect(fieldsOf(tiny.body)).toContain('amount');
    const script = await call('POST', '/complaints', {
      body: submission('anon-3', 'See my evidence', {
        evidence: [{ kind: 'screenshot', ref: 'javascript:alert(1)' }],
      }),
    });
    expect(script.status).toBe(400);
    const longId = await call('GET', `/complaints/${'A'.repeat(3000)}`, { token: admin() });
    expect(longId.status).toBe(400);
    expect(longId.headers.get('x-content-type-options')).toBe('nosniff');
    const longToken = await call('GET', `/track/${'x'.repeat(3000)}`);
    expect(longToken.status).toBe(400);
  });

  it('a reply flood on one complaint is cut at the hourly limit with 429 and Retry-After; nothing half-written', async () => {
    const token = first.trackingToken as string;
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call('POST', `/track/${token}/replies`, { body: { message: `${'flood '.repeat(800)}${i}` } }),
      ),
    );
    const ok = replies.filter((r) => r.status < 300);
    const limited = replies.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(10);
    expect(ok.length + limited.length).toBe(30);
    for (const r of limited) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    const view = await call('GET', `/complaints/${first.complaintId}`, { token: admin() });
    expect(view.status).toBe(200);
    const stored = (view.body.timeline as Json[]).filter((t) => t.type === 'customer_replied');
    expect(stored.length).toBe(ok.length);
  });

  it('queue cursors reveal nothing and open only for their own caller and query', async () => {
    const second = await call('POST', '/complaints', {
      body: submission(`queue-${Date.now()}`, 'The app charged me twice for the same order'),
    });
    await assigned(first.complaintId);
    await assigned(second.body.complaintId);
    const page = await call('GET', '/complaints?limit=1', { token: admin() });
    expect(page.status).toBe(200);
    const cursor = page.body.cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
    for (const id of [first.complaintId, second.body.complaintId]) expect(decoded).not.toContain(id);
    expect(decoded).not.toMatch(/\d{4}-\d{2}-\d{2}|DEPT#|AGENT#|C#/);
    const flipped = Buffer.from(cursor, 'base64url');
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(
      (await call('GET', `/complaints?limit=1&cursor=${flipped.toString('base64url')}`, { token: admin() }))
        .status,
    ).toBe(400);
    const supervisor = runtime.issuer.tokenFor({
      role: 'supervisor',
      department: 'billing',
      agentId: 'lead.billing',
    });
    const replayed = await call('GET', `/complaints?limit=1&cursor=${cursor}`, { token: supervisor });
    expect(replayed.status).toBe(400);
    expect(fieldsOf(replayed.body)).toEqual(['cursor']);
    const forged = Buffer.from(
      JSON.stringify({ v: 1, q: 'x', s: { 'd:billing:assigned': { c: 'e30', s: 0 } } }),
    ).toString('base64url');
    expect((await call('GET', `/complaints?cursor=${forged}`, { token: admin() })).status).toBe(400);
    // Another department's agent's queue is refused before anything is read.
    const other = await call('GET', '/complaints?assignee=cs_wang', { token: supervisor });
    expect(other.status).toBe(403);
  });

  it('look-ups by number and by customer find nothing another department may not see', async () => {
    await assigned(first.complaintId);
    const seen = await call('GET', `/complaints/${first.complaintId}`, { token: admin() });
    const { number, assignment } = seen.body as {
      number: string;
      assignment: { leadDepartment: string; collaborators: string[] };
    };
    const lead = assignment.leadDepartment;
    const supervisorOf = (department: string) =>
      runtime.issuer.tokenFor({ role: 'supervisor', department, agentId: `lead.${department}` });
    // A department that neither leads nor collaborates on the victim's complaint.
    const stranger = ['billing', 'customer_service', 'technical_support', 'product', 'security'].find(
      (d) => d !== lead && !assignment.collaborators.includes(d),
    ) as string;
    const outsider = supervisorOf(stranger);
    const byNumber = `/complaints?number=${number}`;
    const byCustomer = `/complaints?customer=${encodeURIComponent(victim.customerId)}`;
    expect((await call('GET', byNumber, { token: outsider })).body).toEqual({ items: [] });
    // The customer's other complaints may involve the stranger's department; this one never shows,
    // and whatever does show, the stranger may open.
    const theirs = await call('GET', byCustomer, { token: outsider });
    expect(theirs.status).toBe(200);
    const ids = theirs.body.items.map((i: Json) => i.id as string);
    expect(ids).not.toContain(first.complaintId);
    for (const id of ids)
      expect((await call('GET', `/complaints/${id}`, { token: outsider })).status).toBe(200);
    // The lead department's supervisor finds it both ways; no list carries the customer's id or text.
    const found = await call('GET', byNumber, { token: supervisorOf(lead) });
    expect(found.body.items.map((i: Json) => i.id)).toEqual([first.complaintId]);
    const mine = await call('GET', byCustomer, { token: supervisorOf(lead) });
    expect(mine.body.items.map((i: Json) => i.id)).toContain(first.complaintId);
    for (const body of [found.body, mine.body, theirs.body]) {
      expect(JSON.stringify(body)).not.toContain(victim.customerId);
      expect(JSON.stringify(body)).not.toContain('VICTIM-SECRET');
    }
  });

  it('erasure leaves none of the customer data and no tracking token in clear anywhere in the table', async () => {
    const agent = runtime.issuer.tokenFor({ role: 'agent', department: 'billing', agentId: 'bill_wu' });
    const request = { customerId: victim.customerId, reason: 'customer_request' };
    expect((await call('POST', '/privacy/erasures', { token: agent, body: request })).status).toBe(403);
    const posted = await call('POST', '/privacy/erasures', { token: admin(), body: request });
    expect(posted.status).toBe(202);
    const erasureId = posted.body.erasureId as string;
    const done = await eventually(
      async () => (await call('GET', `/privacy/erasures/${erasureId}`, { token: admin() })).body,
      (e) => e.status === 'completed',
    );
    expect(done.erased.complaints).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(done)).not.toContain(victim.customerId);
    // The whole table, every item and attribute (a test-only Scan).
    const db = new DynamoDBClient({
      endpoint: runtime.endpoints.dynamodb,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    const items: string[] = [];
    for (const table of Object.values(runtime.endpoints.tables)) {
      let start: Record<string, never> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) items.push(JSON.stringify(readableItem(unmarshall(item))));
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start !== undefined);
    }
    db.destroy();
    expect(items.length).toBeGreaterThan(10);
    const dump = items.join('\n');
    for (const secret of ['VICTIM-SECRET', victim.customerId, `contact-${victim.customerId}`]) {
      expect(dump).not.toContain(secret);
    }
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    for (const token of tokens) expect(dump).not.toContain(token);
    // The victim's tracking link is dead.
    expect((await call('GET', `/track/${first.trackingToken}`)).status).toBe(404);
  });
});
