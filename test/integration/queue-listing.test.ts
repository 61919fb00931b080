import { createHash } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import type { ServiceContext } from '../../shared/services/context';
import type { QueueItem, QueuePage } from '../../shared/storage/ports';
import { submission } from '../support/fixtures';
import { apiRequest, lambdaContext } from '../support/lambda';
import { CLAIMS, type Who } from './support/callers';
import { createTestTable } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * Attacks on the agent API's queue listing, through its handler against DynamoDB Local:
 * probing and forging cursors, reading queues one may not see, and a forged role claim.
 * Complaints are seeded by the real intake → classification → assignment services; only
 * EventBridge and Scheduler are answered at the SDK boundary; KMS is the local endpoint.
 */

const eventBridge = mockClient(EventBridgeClient);
const scheduler = mockClient(SchedulerClient);

type Handler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;
let agentApi: Handler;
let ctx: ServiceContext;
let store: typeof import('../../shared/storage/dynamodb-store').DynamoDbComplaintStore;

const T0 = new Date('2026-11-24T02:00:00.000Z');

beforeAll(async () => {
  setHandlerEnvironment(await createTestTable('queue-listing'));
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })),
  }));
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
  agentApi = (await import('../../functions/agent-api/handler')).handler as never;
  ctx = (await import('../support/handler-runtime')).handlerRuntime().ctx;
  store = (await import('../../shared/storage/dynamodb-store')).DynamoDbComplaintStore;
  // Five customer-service complaints, due one after another.
  for (let i = 0; i < 5; i++) {
    await seedAssigned();
    vi.setSystemTime(new Date(Date.now() + 60_000));
  }
});

beforeEach(() => {
  vi.setSystemTime(T0);
  vi.restoreAllMocks();
});

let seq = 0;
/** A complaint of the customer service department, assigned to one of its agents. */
async function seedAssigned(): Promise<string> {
  seq++;
  const { receiveComplaint } = await import('../../shared/services/intake');
  const { classifyComplaint } = await import('../../shared/services/classification');
  const { assignComplaint } = await import('../../shared/services/assignment');
  const result = await receiveComplaint(ctx, {
    submission: ComplaintSubmissionSchema.parse(
      submission({
        customer: { id: `queue-listing-${seq}`, language: 'zh' },
        description: '客服态度很差，电话里直接挂断了，投诉这个客服',
      }),
    ),
    sourceSystem: 'test',
    messageId: `queue-listing-${seq}`,
    submitter: { kind: 'producer', source: 'test' },
    idempotency: { kind: 'event', source: 'test', messageId: `queue-listing-${seq}` },
  });
  await classifyComplaint(ctx, result.complaintId);
  await assignComplaint(ctx, result.complaintId);
  expect((await ctx.store.get(result.complaintId))?.assignment?.leadDepartment).toBe('customer_service');
  return result.complaintId;
}

function list(who: Who | Record<string, unknown>, query: Record<string, string>): APIGatewayProxyEventV2 {
  const event = apiRequest('GET', '/complaints', '');
  const claims = typeof who === 'string' ? CLAIMS[who] : who;
  return {
    ...event,
    routeKey: 'GET /complaints',
    body: undefined,
    queryStringParameters: query,
    requestContext: {
      ...event.requestContext,
      routeKey: 'GET /complaints',
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

async function call(event: APIGatewayProxyEventV2) {
  const response = await agentApi(event, lambdaContext('agent-api'));
  return { status: response.statusCode ?? 0, body: JSON.parse(String(response.body ?? 'null')) };
}

const ASSIGNED = { status: 'assigned', limit: '1' };

/** The first page of the agent's assigned queue, one item per page: it has a cursor. */
async function firstPage(who: Who = 'agent', query: Record<string, string> = ASSIGNED) {
  const page = await call(list(who, query));
  expect(page.status).toBe(200);
  expect(page.body.items).toHaveLength(1);
  expect(typeof page.body.cursor).toBe('string');
  return page.body as { items: Array<{ id: string; status: string; nextDueAt?: string }>; cursor: string };
}

function expectCursorRefused(response: { status: number; body: { errors?: unknown } }) {
  expect(response.status).toBe(400);
  expect(response.body.errors).toEqual([
    { field: 'cursor', reason: expect.stringMatching(/start again without it/) },
  ]);
}

/** Every spelling of the cursor's bytes an attacker would try to read. */
function readings(cursor: string): string[] {
  const bytes = Buffer.from(cursor, 'base64url');
  return [cursor, bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('hex')];
}

describe('queue cursors reveal nothing and open for no one else', () => {
  it('pages through the queue with sealed cursors, neither skipping nor repeating', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(list('agent', { ...ASSIGNED, ...(cursor === undefined ? {} : { cursor }) }));
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { id: string }) => i.id));
      cursor = page.body.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect(cursor).toBeUndefined();
    const all = await call(list('agent', { status: 'assigned', limit: '100' }));
    expect(seen).toEqual(all.body.items.map((i: { id: string }) => i.id));
    expect(seen.length).toBeGreaterThanOrEqual(5);
  });

  it('probing: the cursor holds no complaint id, status, date, department or store key in any reading', async () => {
    const page = await firstPage();
    const all = await call(list('agent', { status: 'assigned', limit: '100' }));
    const ids = all.body.items.map((i: { id: string }) => i.id);
    // (Only strings too long to occur by chance in random bytes or base64url.)
    const secrets = [
      ...ids,
      ...ids.map((id: string) => id.slice(0, 10)), // the ULID's time part
      'assigned',
      'customer_service',
      'cs_wang',
      '2026-',
      'DEPT#',
      'AGENT#',
      'C#01',
      'META',
      'gsi1',
    ];
    for (const text of readings(page.cursor)) {
      for (const secret of secrets) expect(text, `cursor reveals "${secret}"`).not.toContain(secret);
    }
    // Not even a structure to start from.
    expect(() => JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8'))).toThrow();
  });

  it('tampering: every flipped bit of the cursor is refused with 400 naming the cursor, and nothing is read', async () => {
    const { cursor } = await firstPage();
    const bytes = Buffer.from(cursor, 'base64url');
    const reads = vi.spyOn(store.prototype, 'listByDepartment');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const response = await call(list('agent', { ...ASSIGNED, cursor: flipped.toString('base64url') }));
      expect(response.status, `bit ${bit}`).toBe(400);
      expectCursorRefused(response);
    }
    expect(reads).not.toHaveBeenCalled();
    // The untouched cursor still works.
    expect((await call(list('agent', { ...ASSIGNED, cursor }))).status).toBe(200);
  });

  it('replay: another principal’s cursor is refused, as is, re-labelled or for another query', async () => {
    const theirs = (await firstPage('supervisor')).cursor;
    const attempts = [theirs];
    // An attacker who can read the format re-labels it for themselves (the query key is a plain hash).
    const decoded = tryJson(theirs);
    if (decoded !== undefined && typeof decoded === 'object' && decoded !== null && 'q' in decoded) {
      const q = createHash('sha256')
        .update(JSON.stringify(['cs_wang', undefined, undefined, ['assigned'], false]))
        .digest('base64url')
        .slice(0, 12);
      attempts.push(Buffer.from(JSON.stringify({ ...decoded, q })).toString('base64url'));
    }
    for (const cursor of attempts) expectCursorRefused(await call(list('agent', { ...ASSIGNED, cursor })));
    // Mine, but for another query (other statuses, an overdue filter): refused too.
    const mine = (await firstPage()).cursor;
    expectCursorRefused(await call(list('agent', { status: 'in_progress', limit: '1', cursor: mine })));
    expectCursorRefused(await call(list('agent', { ...ASSIGNED, overdue: 'true', cursor: mine })));
    expectCursorRefused(await call(list('agent', { ...ASSIGNED, assignee: 'cs_wang', cursor: mine })));
  });

  it('forgery: a hand-built cursor holding a raw store key is refused, and no store key is ever used', async () => {
    const all = await call(list('agent', { status: 'assigned', limit: '100' }));
    const target = all.body.items[2] as { id: string; nextDueAt: string };
    const rawKey = {
      pk: `C#${target.id}`,
      sk: 'META',
      gsi1pk: 'DEPT#customer_service#assigned',
      gsi1sk: `${target.nextDueAt}#${target.id}`,
    };
    const storeCursor = Buffer.from(JSON.stringify(rawKey)).toString('base64url');
    // The listing cursor as the service used to build it: a per-queue store cursor and a plain-hash query key.
    const q = createHash('sha256')
      .update(JSON.stringify(['cs_wang', undefined, undefined, ['assigned'], false]))
      .digest('base64url')
      .slice(0, 12);
    const forged = [
      storeCursor,
      Buffer.from(
        JSON.stringify({ v: 1, q, s: { 'd:customer_service:assigned': { c: storeCursor, s: 0 } } }),
      ).toString('base64url'),
      Buffer.from(JSON.stringify({ a: rawKey.gsi1sk })).toString('base64url'),
      'garbage',
    ];
    for (const cursor of forged) expectCursorRefused(await call(list('agent', { ...ASSIGNED, cursor })));
  });

  it('expiry: a cursor older than 24 hours is refused with the reason', async () => {
    const { cursor } = await firstPage();
    vi.setSystemTime(new Date(T0.getTime() + 23 * 3600_000));
    expect((await call(list('agent', { ...ASSIGNED, cursor }))).status).toBe(200);
    vi.setSystemTime(new Date(T0.getTime() + 24 * 3600_000 + 1000));
    const late = await call(list('agent', { ...ASSIGNED, cursor }));
    expectCursorRefused(late);
    expect(late.body.errors[0].reason).toMatch(/expired/);
  });
});

describe('an assignee’s queue is authorized before it is read', () => {
  it('refuses an agent listing another department’s agent, or a colleague, and reads nothing', async () => {
    const byAssignee = vi.spyOn(store.prototype, 'listByAssignee');
    const byDepartment = vi.spyOn(store.prototype, 'listByDepartment');
    for (const [who, assignee] of [
      ['agent', 'bill_wu'],
      ['agent', 'cs_li'],
      ['supervisor', 'bill_wu'],
      ['otherAgent', 'cs_wang'],
    ] as const) {
      const response = await call(list(who, { assignee, limit: '100' }));
      expect(response.status, `${who} → ${assignee}`).toBe(403);
      expect(response.body.items).toBeUndefined();
    }
    expect(byAssignee).not.toHaveBeenCalled();
    expect(byDepartment).not.toHaveBeenCalled();
  });

  it('shows a supervisor none of another department’s complaints in a roster agent’s queue, and never reads them', async () => {
    // cs_li's queue holds a complaint billing now leads (e.g. moved while cs_li kept it).
    const id = await seedAssigned();
    const complaint = await ctx.store.get(id);
    if (complaint?.assignment === undefined) throw new Error('seeded complaint is not assigned');
    await ctx.store.update({
      next: {
        ...complaint,
        version: complaint.version + 1,
        assignment: { ...complaint.assignment, leadDepartment: 'billing', assignee: 'cs_li' },
      },
      expectedVersion: complaint.version,
      timeline: [],
    });
    const admin = await call(list('admin', { assignee: 'cs_li', limit: '100' }));
    expect(admin.body.items.map((i: { id: string }) => i.id)).toContain(id);

    const reads = vi.spyOn(store.prototype, 'listByAssignee');
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call(
        list('supervisor', { assignee: 'cs_li', limit: '1', ...(cursor === undefined ? {} : { cursor }) }),
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { id: string }) => i.id));
      cursor = page.body.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect(seen).not.toContain(id);
    expect(reads).toHaveBeenCalled();
    const returned = await Promise.all(reads.mock.results.map((r) => r.value as Promise<QueuePage>));
    const read: QueueItem[] = returned.flatMap((p) => p.items);
    expect(read.map((i) => i.id)).not.toContain(id);
    expect(read.every((i) => i.leadDepartment === 'customer_service')).toBe(true);
  });
});

describe('roles come from the one named claim', () => {
  it('treats a token with custom:role admin (and role admin) but cognito:groups agent as an agent', async () => {
    const forged = {
      sub: 'u-wang',
      'cognito:username': 'cs_wang',
      'cognito:groups': '[agent]',
      'custom:role': 'admin',
      role: 'admin',
      'custom:department': 'customer_service',
    };
    expect((await call(list(forged, { department: 'billing' }))).status).toBe(403);
    expect((await call(list(forged, { assignee: 'bill_wu' }))).status).toBe(403);
    expect((await call(list(forged, { status: 'assigned' }))).status).toBe(200);
    // Without the groups claim the other claims give no role at all.
    const { 'cognito:groups': _groups, ...noGroups } = forged;
    expect((await call(list(noGroups, { status: 'assigned' }))).status).toBe(403);
  });
});

function tryJson(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
