import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActionRequest } from '../../shared/api/schemas';
import type { Principal } from '../../shared/auth/principal';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { ActionCommand } from '../../shared/services/actions';
import type { ServiceContext } from '../../shared/services/context';
import { submission } from '../support/fixtures';
import { apiRequest, lambdaContext, toEvents } from '../support/lambda';
import { CLAIMS, type Who } from './support/callers';
import { createTestTable } from './support/dynamodb';
import { setHandlerEnvironment, TEST_TIMERS } from './support/handler-env';

/**
 * The agent API through its handler (middy, Powertools) against DynamoDB Local, with
 * EventBridge and EventBridge Scheduler replaced at the SDK boundary: every published
 * event and every schedule create/update/delete is recorded. Complaints are seeded by
 * the real intake → classification → assignment services. Time is set per step
 * (only `Date` is faked), so deadlines and their shifts are exact.
 */

const GROUP = TEST_TIMERS.group;
const _SLA_ARN = TEST_TIMERS.slaArn;
const SURVEY_ARN = TEST_TIMERS.surveyArn;

const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const scheduler = mockClient(SchedulerClient);
let publishFailures = 0;

type Handler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;
let agentApi: Handler;
let intakeApi: Handler;
let ctx: ServiceContext;
let services: {
  receive: typeof import('../../shared/services/intake').receiveComplaint;
  classify: typeof import('../../shared/services/classification').classifyComplaint;
  assign: typeof import('../../shared/services/assignment').assignComplaint;
  act: typeof import('../../shared/services/actions').performAction;
};

function resetMocks() {
  published.length = 0;
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    if (publishFailures > 0) {
      publishFailures--;
      return {
        FailedEntryCount: input.Entries.length,
        Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure' })),
      };
    }
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
}

const eventsOf = (type: string, complaintId?: string) =>
  toEvents(published).filter(
    (e) => e.detailType === type && (complaintId === undefined || e.detail.data.complaintId === complaintId),
  );
const created = (): CreateScheduleCommandInput[] =>
  scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
const deleted = (): string[] =>
  scheduler.commandCalls(DeleteScheduleCommand).map((c) => String(c.args[0].input.Name));
const updated = (): UpdateScheduleCommandInput[] =>
  scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input);

const setNow = (iso: string) => vi.setSystemTime(new Date(iso));
/** One second on: timeline entries written in the same millisecond have no defined order. */
const tick = () => vi.setSystemTime(new Date(Date.now() + 1000));
/** Tuesday 24 November 2026, 10:00 in Shanghai: a working day. */
const T0 = '2026-11-24T02:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

beforeAll(async () => {
  const tableName = await createTestTable('agent-api');
  setHandlerEnvironment(tableName);
  vi.useFakeTimers({ toFake: ['Date'] });
  setNow(T0);
  resetMocks();
  agentApi = (await import('../../functions/agent-api/handler')).handler as never;
  intakeApi = (await import('../../functions/intake/api-handler')).handler as never;
  ctx = (await import('../support/handler-runtime')).handlerRuntime().ctx;
  services = {
    receive: (await import('../../shared/services/intake')).receiveComplaint,
    classify: (await import('../../shared/services/classification')).classifyComplaint,
    assign: (await import('../../shared/services/assignment')).assignComplaint,
    act: (await import('../../shared/services/actions')).performAction,
  };
});

afterAll(() => {
  vi.useRealTimers();
});

beforeEach(() => {
  setNow(T0);
  publishFailures = 0;
  resetMocks();
});

// ---------------------------------------------------------------------------
// Callers and requests

const PRINCIPALS = {
  agent: { id: 'cs_wang', role: 'agent', department: 'customer_service' },
  admin: { id: 'admin_1', role: 'admin' },
} satisfies Record<string, Principal>;

interface Fixture {
  id: string;
  token: string;
  version: number;
}

/** An HTTP API request for `routeKey` as `who`: a verified JWT's claims, or the customer's token as a bearer. */
function request(
  who: Who,
  routeKey: string,
  options: {
    fixture?: Fixture;
    body?: unknown;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const id = options.fixture?.id ?? 'none';
  const path = template.replace('{id}', id);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (who === 'customerToken') headers.authorization = `Bearer ${options.fixture?.token ?? 'no-token'}`;
  const event = apiRequest(method, path, options.body ?? '', headers);
  const claims = CLAIMS[who];
  return {
    ...event,
    routeKey,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    pathParameters: template.includes('{id}') ? { id } : undefined,
    queryStringParameters: options.query,
    requestContext: {
      ...event.requestContext,
      routeKey,
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

async function call(event: APIGatewayProxyEventV2) {
  const response = await agentApi(event, lambdaContext('agent-api'));
  // Every answer, whatever its status: the browser must never sniff it into HTML or script.
  expect(response.headers?.['x-content-type-options']).toBe('nosniff');
  expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
  return {
    status: response.statusCode ?? 0,
    body: JSON.parse(String(response.body ?? 'null')),
    headers: response.headers,
  };
}

const action = (
  who: Who,
  fixture: Fixture,
  body: Record<string, unknown>,
  headers?: Record<string, string>,
) =>
  call(
    request(who, 'POST /complaints/{id}/actions', {
      fixture,
      body: { expectedVersion: fixture.version, ...body },
      headers,
    }),
  );

// ---------------------------------------------------------------------------
// Seeding through the real services

/** Seeding publishes and schedules too: tests look only at what their own requests did. */
function forgetCalls() {
  published.length = 0;
  scheduler.resetHistory();
}

const SERVICE_QUALITY = '客服态度很差，电话里直接挂断了，投诉这个客服';
let seq = 0;

/** A complaint of the customer service department, assigned (version 3). */
async function seedAssigned(
  description = SERVICE_QUALITY,
  amount?: number,
  customerId?: string,
): Promise<Fixture> {
  seq++;
  const result = await services.receive(ctx, {
    submission: ComplaintSubmissionSchema.parse(
      submission({ customer: { id: customerId ?? `agent-api-${seq}`, language: 'zh' }, description, amount }),
    ),
    sourceSystem: 'test',
    messageId: `agent-api-${seq}`,
    submitter: { kind: 'producer', source: 'test' },
    idempotency: { kind: 'event', source: 'test', messageId: `agent-api-${seq}` },
  });
  tick();
  await services.classify(ctx, result.complaintId);
  tick();
  await services.assign(ctx, result.complaintId);
  tick();
  const stored = await ctx.store.get(result.complaintId);
  expect(stored?.assignment?.leadDepartment).toBe('customer_service');
  forgetCalls();
  return { id: result.complaintId, token: result.trackingToken, version: stored?.version ?? 0 };
}

async function advance(fixture: Fixture, who: Principal, command: ActionRequest) {
  const done = await services.act(ctx, who, fixture.id, {
    ...command,
    expectedVersion: fixture.version,
  } as ActionCommand);
  fixture.version = done.complaint.version;
  forgetCalls();
  return fixture;
}

async function seedInProgress(): Promise<Fixture> {
  return advance(await seedAssigned(), PRINCIPALS.agent, { action: 'acknowledge' });
}

/** In progress with a proposal (800, above the threshold) waiting for approval, proposed by cs_wang. */
async function seedPendingApproval(): Promise<Fixture> {
  return advance(await seedInProgress(), PRINCIPALS.agent, {
    action: 'propose-solution',
    solution: '退还服务费并由主管回访',
    compensation: { amount: 800 },
  });
}

// ---------------------------------------------------------------------------

describe('authorization matrix: every route × every kind of caller', () => {
  const WHO: Who[] = ['anonymous', 'customerToken', 'otherAgent', 'agent', 'supervisor', 'admin'];
  type Row = {
    route: string;
    fixture: () => Promise<Fixture | undefined>;
    send: (who: Who, fixture: Fixture | undefined) => Promise<{ status: number }>;
    expected: Record<Who, number>;
  };
  const none = async () => undefined;
  const rows: Row[] = [
    {
      route: 'POST /complaints (public intake)',
      fixture: none,
      send: async (who) => {
        const event = request(who, 'POST /complaints', {
          body: {
            channel: 'web',
            customer: { id: `matrix-${who}` },
            description: 'The app crashes on start',
          },
        });
        const response = await intakeApi({ ...event, rawPath: '/complaints' }, lambdaContext('intake-api'));
        return { status: response.statusCode ?? 0 };
      },
      expected: {
        anonymous: 202,
        customerToken: 202,
        otherAgent: 202,
        agent: 202,
        supervisor: 202,
        admin: 202,
      },
    },
    {
      route: 'POST /agent/complaints (hotline, on behalf of a caller)',
      fixture: none,
      send: (who) =>
        call({
          ...request(who, 'POST /agent/complaints', {
            body: {
              channel: 'hotline',
              customer: { id: `hotline-${who}` },
              description: '电话打不通，客服一直占线',
            },
          }),
          rawPath: '/agent/complaints',
        }),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 202,
        agent: 202,
        supervisor: 202,
        admin: 202,
      },
    },
    {
      route: 'PUT /admin/customers/{customerId} (customer directory)',
      fixture: none,
      send: (who) =>
        call({
          ...request(who, 'PUT /admin/customers/{customerId}', { body: { tier: 'vip' } }),
          rawPath: `/admin/customers/matrix-${who}`,
          pathParameters: { customerId: `matrix-${who}` },
        }),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 403,
        agent: 403,
        supervisor: 403,
        admin: 200,
      },
    },
    {
      route: 'GET /complaints?department=customer_service',
      fixture: none,
      send: (who) => call(request(who, 'GET /complaints', { query: { department: 'customer_service' } })),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 403,
        agent: 200,
        supervisor: 200,
        admin: 200,
      },
    },
    {
      // An assignee's queue is authorized before it is read: one's own, or (supervisor) the roster's.
      route: 'GET /complaints?assignee=cs_wang (customer service roster)',
      fixture: none,
      send: (who) => call(request(who, 'GET /complaints', { query: { assignee: 'cs_wang' } })),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 403,
        agent: 200,
        supervisor: 200,
        admin: 200,
      },
    },
    {
      route: 'GET /complaints?assignee=bill_wu (billing roster)',
      fixture: none,
      send: (who) => call(request(who, 'GET /complaints', { query: { assignee: 'bill_wu' } })),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 200,
        agent: 403,
        supervisor: 403,
        admin: 200,
      },
    },
    {
      route: 'GET /complaints/{id}',
      fixture: seedAssigned,
      send: (who, fixture) => call(request(who, 'GET /complaints/{id}', { fixture })),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 404,
        agent: 200,
        supervisor: 200,
        admin: 200,
      },
    },
    {
      route: 'POST /complaints/{id}/actions (acknowledge)',
      fixture: seedAssigned,
      send: (who, fixture) => action(who, fixture as Fixture, { action: 'acknowledge' }),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 404,
        agent: 200,
        supervisor: 200,
        admin: 200,
      },
    },
    {
      route: 'POST /complaints/{id}/actions (approve)',
      fixture: seedPendingApproval,
      send: (who, fixture) => action(who, fixture as Fixture, { action: 'approve' }),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 404,
        agent: 403,
        supervisor: 200,
        admin: 200,
      },
    },
    {
      route: 'POST /complaints/{id}/actions (reclassify)',
      fixture: seedAssigned,
      send: (who, fixture) =>
        action(who, fixture as Fixture, { action: 'reclassify', severity: 'urgent', reason: 'matrix' }),
      expected: {
        anonymous: 401,
        customerToken: 401,
        otherAgent: 404,
        agent: 403,
        supervisor: 200,
        admin: 200,
      },
    },
  ];
  const cases = rows.flatMap((row) => WHO.map((who) => ({ ...row, who, status: row.expected[who] })));

  it.each(cases)('$route as $who → $status', async ({ fixture, send, who, status }) => {
    const f = await fixture();
    expect((await send(who, f)).status).toBe(status);
  });

  it('answers an unknown complaint id with the same 404 as a complaint of another department', async () => {
    const fixture = await seedAssigned();
    const hidden = await call(request('otherAgent', 'GET /complaints/{id}', { fixture }));
    const missing = await call(
      request('agent', 'GET /complaints/{id}', { fixture: { ...fixture, id: '01KAVZZZZZZZZZZZZZZZZZZZZZ' } }),
    );
    expect(hidden).toMatchObject({ status: 404 });
    expect(missing.body).toEqual(hidden.body);
  });

  it('refuses a token without a role (403) and tells a missing token with 401 and WWW-Authenticate', async () => {
    const event = request('agent', 'GET /complaints');
    const noRole = await call({
      ...event,
      requestContext: {
        ...event.requestContext,
        authorizer: { jwt: { claims: { sub: 'x', 'cognito:groups': '[customers]' }, scopes: [] } },
      } as APIGatewayProxyEventV2['requestContext'],
    });
    expect(noRole.status).toBe(403);
    const anonymous = await call(request('anonymous', 'GET /complaints'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers?.['www-authenticate']).toBe('Bearer');
  });
});

describe('GET /complaints/{id}', () => {
  it('returns the complaint with its timeline, clocks, allowed actions and an ETag', async () => {
    const fixture = await seedAssigned();
    const { status, body, headers } = await call(request('agent', 'GET /complaints/{id}', { fixture }));
    expect(status).toBe(200);
    expect(headers?.etag).toBe(`"${fixture.version}"`);
    expect(body).toMatchObject({ id: fixture.id, status: 'assigned', version: fixture.version });
    expect(Object.keys(body.clocks).sort()).toEqual(['acknowledge', 'firstResponse', 'resolution']);
    expect(body.clockLog.length).toBeGreaterThan(0);
    expect(body.timeline.map((e: { type: string }) => e.type)).toEqual([
      'received',
      'classified',
      'assigned',
    ]);
    expect(body.allowedActions).toEqual(
      expect.arrayContaining(['acknowledge', 'respond', 'request-info', 'reassign', 'add-collaborator']),
    );
    expect(body.allowedActions).not.toContain('approve');
    expect(body).not.toHaveProperty('trackingTokenHash');
    expect(body).not.toHaveProperty('timers');
  });
});

describe('POST /complaints/{id}/actions', () => {
  it('refuses an illegal action with 409, the current status and what is possible', async () => {
    const fixture = await seedAssigned();
    const { status, body } = await action('agent', fixture, {
      action: 'resolve',
      rootCause: 'x',
      solution: 'y',
    });
    expect(status).toBe(409);
    expect(body).toMatchObject({ error: 'IllegalTransition', status: 'assigned' });
    expect(body.allowedActions).toEqual(expect.arrayContaining(['acknowledge', 'respond']));
    expect(body.allowedActions).not.toContain('resolve');
    expect(published).toHaveLength(0);
  });

  it('refuses a stale version with 409 and the current version, and accepts If-Match instead of the body field', async () => {
    const fixture = await seedAssigned();
    const stale = await action(
      'agent',
      { ...fixture, version: fixture.version - 1 },
      { action: 'acknowledge' },
    );
    expect(stale).toMatchObject({
      status: 409,
      body: { error: 'VersionConflict', currentVersion: fixture.version },
    });
    const missing = await call(
      request('agent', 'POST /complaints/{id}/actions', { fixture, body: { action: 'acknowledge' } }),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ field: 'expectedVersion', reason: expect.any(String) }]);
    const viaHeader = await call(
      request('agent', 'POST /complaints/{id}/actions', {
        fixture,
        body: { action: 'acknowledge' },
        headers: { 'if-match': `"${fixture.version}"` },
      }),
    );
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body).toMatchObject({
      previousStatus: 'assigned',
      status: 'in_progress',
      version: fixture.version + 1,
    });
  });

  it('answers invalid bodies with 400 naming each field', async () => {
    const fixture = await seedAssigned();
    const unknownAction = await action('agent', fixture, { action: 'delete' });
    expect(unknownAction.status).toBe(400);
    const missingMessage = await action('agent', fixture, { action: 'respond' });
    expect(missingMessage.body.errors).toEqual([{ field: 'message', reason: expect.any(String) }]);
    const extra = await action('agent', fixture, { action: 'acknowledge', assignee: 'x' });
    expect(extra.status).toBe(400);
    const emptyReassign = await action('agent', fixture, { action: 'reassign' });
    expect(emptyReassign.body.errors[0].field).toBe('assignee');
    const strangerAssignee = await action('agent', fixture, { action: 'reassign', assignee: 'bill_wu' });
    expect(strangerAssignee).toMatchObject({ status: 400, body: { errors: [{ field: 'assignee' }] } });
  });

  it('acknowledges: meets the clock, deletes its timers and publishes Complaint Acknowledged with a deterministic id', async () => {
    const fixture = await seedAssigned();
    setNow(at(20));
    const { status, body } = await action('agent', fixture, { action: 'acknowledge', note: 'on it' });
    expect(status).toBe(200);
    expect(body.complaint.clocks.acknowledge).toMatchObject({ state: 'met', metAt: at(20) });
    expect(body.complaint.work.acknowledgedAt).toBe(at(20));
    expect(deleted().sort()).toEqual([`${fixture.id}-ack-due`, `${fixture.id}-ack-warn`]);
    const [event] = eventsOf(DETAIL_TYPES.acknowledged, fixture.id);
    expect(event?.source).toBe('complaints.agent');
    expect(event?.detail.metadata.eventId).toBe(`${fixture.id}:acknowledge:${fixture.version + 1}`);
    expect(event?.detail.data).toMatchObject({
      action: 'acknowledge',
      actor: { type: 'agent', id: 'cs_wang', role: 'agent', department: 'customer_service' },
      previousStatus: 'assigned',
      status: 'in_progress',
    });
    expect(JSON.stringify(event?.detail)).not.toContain('on it');
    const timeline = body.complaint.timeline.at(-1);
    expect(timeline).toMatchObject({ type: 'acknowledged', actor: 'agent:cs_wang', data: { note: 'on it' } });
    expect(timeline.data).not.toHaveProperty('outbox');
  });

  it('responds: the first message meets the first response and goes to the customer in their language', async () => {
    const fixture = await seedAssigned();
    setNow(at(30));
    const message = '您好，我们已经联系该客服所在班组，今天内给您答复。';
    const { status, body } = await action('agent', fixture, { action: 'respond', message });
    expect(status).toBe(200);
    expect(body.complaint.clocks.firstResponse.state).toBe('met');
    expect(body.complaint.clocks.acknowledge.state).toBe('met');
    expect(body.complaint.work).toMatchObject({ firstResponseAt: at(30), acknowledgedAt: at(30) });
    const [notice] = eventsOf(DETAIL_TYPES.customerNotificationRequested, fixture.id);
    expect(notice?.detail.data).toMatchObject({ template: 'agent_message', language: 'zh', text: message });
    expect(notice?.detail.metadata.eventId).toBe(
      `${fixture.id}:notification:agent_message:${fixture.version + 1}`,
    );
    expect(eventsOf(DETAIL_TYPES.responded, fixture.id)).toHaveLength(1);
  });

  it('needs approval above the threshold: pending until a supervisor approves; resolve is refused until then', async () => {
    const fixture = await seedInProgress();
    const proposed = await action('agent', fixture, {
      action: 'propose-solution',
      solution: '退还两个月服务费',
      compensation: { amount: 800 },
    });
    expect(proposed.body).toMatchObject({
      status: 'pending_approval',
      complaint: { proposal: { needsApproval: true } },
    });
    expect(eventsOf(DETAIL_TYPES.solutionProposed, fixture.id)[0]?.detail.data).toMatchObject({
      needsApproval: true,
      compensation: { amount: 800, currency: 'CNY' },
    });
    fixture.version = proposed.body.version;

    const tooEarly = await action('agent', fixture, { action: 'resolve', rootCause: 'r', solution: 's' });
    expect(tooEarly.body).toMatchObject({ error: 'IllegalTransition', status: 'pending_approval' });
    expect(await action('agent', fixture, { action: 'approve' })).toMatchObject({ status: 403 });

    const rejected = await action('supervisor', fixture, { action: 'reject', reason: '金额过高' });
    expect(rejected.body).toMatchObject({
      status: 'in_progress',
      complaint: { proposal: { approval: { decision: 'rejected', by: 'sup_cs' } } },
    });
    fixture.version = rejected.body.version;
    const refused = await action('agent', fixture, {
      action: 'resolve',
      rootCause: '客服培训不足',
      solution: '退还服务费',
      compensation: { amount: 800 },
    });
    expect(refused).toMatchObject({ status: 409, body: { error: 'ApprovalRequired' } });

    const again = await action('agent', fixture, {
      action: 'propose-solution',
      solution: '退还一个月服务费',
      compensation: { amount: 600 },
    });
    fixture.version = again.body.version;
    const approved = await action('supervisor', fixture, { action: 'approve', note: 'ok' });
    expect(approved.body).toMatchObject({
      status: 'in_progress',
      complaint: { proposal: { approval: { decision: 'approved' } } },
    });
    expect(eventsOf(DETAIL_TYPES.solutionApproved, fixture.id)).toHaveLength(1);
    fixture.version = approved.body.version;
    const over = await action('agent', fixture, {
      action: 'resolve',
      rootCause: 'r',
      solution: 's',
      compensation: { amount: 700 },
    });
    expect(over.body).toMatchObject({ error: 'ApprovalRequired' });
    const resolved = await action('agent', fixture, {
      action: 'resolve',
      rootCause: '客服培训不足',
      solution: '退还一个月服务费',
      compensation: { amount: 600 },
    });
    expect(resolved).toMatchObject({ status: 200, body: { status: 'resolved' } });
  });

  it('resolves: meets the resolution clock, stops the others, schedules the survey and tells the customer', async () => {
    const fixture = await seedInProgress();
    scheduler.resetHistory();
    setNow(at(60));
    const { status, body } = await action('agent', fixture, {
      action: 'resolve',
      rootCause: '客服未按规范服务',
      solution: '已对该客服进行培训并向您致歉',
      compensation: { amount: 50 },
    });
    expect(status).toBe(200);
    expect(body.complaint.clocks.resolution.state).toBe('met');
    expect(body.complaint.clocks.firstResponse.state).toBe('stopped');
    expect(body.complaint.resolution).toMatchObject({
      resolvedBy: 'cs_wang',
      compensation: { amount: 50, currency: 'CNY' },
    });
    const sendAt = body.complaint.survey.sendAt;
    expect(Date.parse(sendAt)).toBeGreaterThan(Date.parse(at(60)));

    const survey = created().find((c) => c.Name === `${fixture.id}-survey-send`);
    expect(survey).toMatchObject({
      GroupName: GROUP,
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: SURVEY_ARN },
    });
    expect(JSON.parse(String(survey?.Target?.Input))).toEqual({
      version: 1,
      complaintId: fixture.id,
      kind: 'survey_send',
      at: sendAt,
    });
    expect(deleted().sort()).toEqual(
      [
        `${fixture.id}-fr-due`,
        `${fixture.id}-fr-warn`,
        `${fixture.id}-res-due`,
        `${fixture.id}-res-warn`,
      ].sort(),
    );
    const stored = await ctx.store.get(fixture.id);
    expect(stored?.timers).toEqual({ [`${fixture.id}-survey-send`]: sendAt });
    expect(eventsOf(DETAIL_TYPES.resolved, fixture.id)[0]?.detail.data.compensation).toEqual({
      amount: 50,
      currency: 'CNY',
    });
    const [notice] = eventsOf(DETAIL_TYPES.customerNotificationRequested, fixture.id);
    expect(notice?.detail.data).toMatchObject({ template: 'resolution' });
    expect(notice?.detail.data.text).toContain('已对该客服进行培训并向您致歉');
    expect(notice?.detail.data.text).not.toContain('客服未按规范服务');

    const closed = await action('agent', { ...fixture, version: body.version }, { action: 'close' });
    expect(closed.body.status).toBe('closed');
    expect(deleted()).toContain(`${fixture.id}-survey-send`);
  });

  it('reassigns within the department (load counters move) and adds a read-only collaborating department', async () => {
    const fixture = await seedAssigned();
    const before = await ctx.store.get(fixture.id);
    const previous = String(before?.assignment?.assignee);
    const target = previous === 'cs_wang' ? 'cs_li' : 'cs_wang';
    const loads = await ctx.store.agentLoads([previous, target]);
    const moved = await action('supervisor', fixture, { action: 'reassign', assignee: target });
    expect(moved.body.complaint.assignment).toMatchObject({
      assignee: target,
      leadDepartment: 'customer_service',
    });
    const after = await ctx.store.agentLoads([previous, target]);
    expect(after.get(previous)).toBe((loads.get(previous) ?? 0) - 1);
    expect(after.get(target)).toBe((loads.get(target) ?? 0) + 1);
    fixture.version = moved.body.version;

    const added = await action('agent', fixture, { action: 'add-collaborator', department: 'billing' });
    expect(added.body.complaint.assignment.collaborators).toEqual(['billing']);
    expect(eventsOf(DETAIL_TYPES.collaboratorAdded, fixture.id)[0]?.detail.data.collaborators).toEqual([
      'billing',
    ]);
    fixture.version = added.body.version;
    const view = await call(request('otherAgent', 'GET /complaints/{id}', { fixture }));
    expect(view.status).toBe(200);
    expect(view.body.allowedActions).toEqual([]);
    expect((await action('otherAgent', fixture, { action: 'acknowledge' })).status).toBe(403);
  });

  it('moves a complaint to another department with the least-loaded eligible agent there', async () => {
    const fixture = await seedAssigned();
    const { body } = await action('supervisor', fixture, { action: 'reassign', department: 'billing' });
    expect(body.complaint.assignment.leadDepartment).toBe('billing');
    expect(['bill_wu', 'bill_zheng']).toContain(body.complaint.assignment.assignee);
    // The former department no longer sees it; the new one does.
    expect((await call(request('agent', 'GET /complaints/{id}', { fixture }))).status).toBe(404);
    expect((await call(request('otherAgent', 'GET /complaints/{id}', { fixture }))).status).toBe(200);
  });

  it('publishes again, without applying twice, when the same request is retried after a failed publish', async () => {
    const fixture = await seedAssigned();
    publishFailures = 1;
    const message = '您好，已收到，正在处理。';
    const first = await action('agent', fixture, { action: 'respond', message });
    expect(first.status).toBe(503);
    expect(published).toHaveLength(0);
    const retry = await action('agent', fixture, { action: 'respond', message });
    expect(retry).toMatchObject({
      status: 200,
      body: { replayed: true, version: fixture.version + 1, status: 'in_progress' },
    });
    expect(eventsOf(DETAIL_TYPES.responded, fixture.id)[0]?.detail.metadata.eventId).toBe(
      `${fixture.id}:respond:${fixture.version + 1}`,
    );
    expect(eventsOf(DETAIL_TYPES.customerNotificationRequested, fixture.id)).toHaveLength(1);
    const timeline = await ctx.store.timeline(fixture.id);
    expect(timeline.filter((e) => e.type === 'responded')).toHaveLength(1);
    // A different request on the old version is a conflict, not a replay.
    const other = await action('agent', fixture, { action: 'respond', message: 'another' });
    expect(other.body).toMatchObject({ error: 'VersionConflict', currentVersion: fixture.version + 1 });
  });
});

describe('POST /complaints/{id}/actions: reclassify', () => {
  /** The schedule group as Scheduler keeps it: create conflicts on an existing name, update needs one. */
  const group = new Set<string>();
  beforeEach(() => {
    group.clear();
    scheduler.on(CreateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
      const name = String(input.Name);
      if (group.has(name))
        throw new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
      group.add(name);
      return { ScheduleArn: `arn:aws:scheduler:::schedule/${GROUP}/${name}` };
    });
    scheduler.on(UpdateScheduleCommand).callsFake((input: UpdateScheduleCommandInput) => {
      const name = String(input.Name);
      if (!group.has(name)) {
        throw new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
      }
      return { ScheduleArn: `arn:aws:scheduler:::schedule/${GROUP}/${name}` };
    });
    scheduler.on(DeleteScheduleCommand).callsFake((input: { Name?: string }) => {
      group.delete(String(input.Name));
      return {};
    });
  });

  const reclassify = (who: Who, fixture: Fixture, body: Record<string, unknown>) =>
    action(who, fixture, { action: 'reclassify', reason: '多名用户反映同样问题，影响面大', ...body });

  it('general → major: deadlines from receipt on the major row, timers moved, P1, Reclassified + Escalated', async () => {
    const fixture = await seedAssigned();
    const before = await ctx.store.get(fixture.id);
    expect(before?.classification).toMatchObject({
      category: 'service_quality',
      severity: 'general',
      priority: 4,
    });
    expect(before?.receivedAt).toBe(T0);
    const scheduled = Object.keys(before?.timers ?? {});
    expect(scheduled.sort()).toEqual(
      ['ack-due', 'ack-warn', 'fr-due', 'fr-warn', 'res-due', 'res-warn']
        .map((t) => `${fixture.id}-${t}`)
        .sort(),
    );

    setNow(at(30));
    const { status, body } = await reclassify('supervisor', fixture, { severity: 'major' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ action: 'reclassify', previousStatus: 'assigned', status: 'assigned' });
    expect(body).not.toHaveProperty('routingSuggestion');
    expect(body.complaint.classification).toMatchObject({
      category: 'service_quality',
      severity: 'major',
      priority: 1,
    });
    // Major row (15 min / 1 h / 24 h, calendar time), measured from receipt — not from the reclassification.
    const clocks = body.complaint.clocks;
    expect(clocks.acknowledge).toMatchObject({ state: 'running', dueAt: at(15), startedAt: T0 });
    expect(clocks.firstResponse).toMatchObject({ state: 'running', dueAt: at(60), warnAt: at(48) });
    expect(clocks.resolution).toMatchObject({ state: 'running', dueAt: at(24 * 60) });
    const recomputed = body.complaint.clockLog.filter((e: { event: string }) => e.event === 'recomputed');
    expect(recomputed).toHaveLength(3);
    expect(recomputed[1]).toEqual({
      at: at(30),
      clock: 'firstResponse',
      event: 'recomputed',
      detail: {
        reason: 'reclassification',
        previousDueAt: before?.deadlines.firstResponse?.dueAt,
        dueAt: at(60),
        previousState: 'running',
        state: 'running',
      },
    });
    const entry = body.complaint.timeline.at(-1);
    expect(entry).toMatchObject({
      type: 'reclassified',
      actor: 'agent:sup_cs',
      data: {
        reason: '多名用户反映同样问题，影响面大',
        previous: { category: 'service_quality', severity: 'general', priority: 4 },
        classification: { category: 'service_quality', severity: 'major', priority: 1 },
        escalation: { role: 'executive_on_duty', contact: 'exec.on_duty' },
      },
    });

    // Every timer moved: the existing schedules are updated in place (create → conflict → update).
    const moved = updated();
    expect(moved.map((u) => u.Name).sort()).toEqual(scheduled.sort());
    expect(deleted()).toEqual([]);
    const frDue = moved.find((u) => u.Name === `${fixture.id}-fr-due`);
    expect(frDue?.ScheduleExpression).toBe('at(2026-11-24T03:00:00)');
    expect(JSON.parse(String(frDue?.Target?.Input))).toMatchObject({ kind: 'clock_due', at: at(60) });
    // The acknowledgement is already overdue under the major row: its timer fires at once (the SLA
    // function then breaches and escalates it), keeping the missed due time in the payload.
    const ackDue = moved.find((u) => u.Name === `${fixture.id}-ack-due`);
    expect(ackDue?.ScheduleExpression).toBe('at(2026-11-24T02:31:00)');
    expect(JSON.parse(String(ackDue?.Target?.Input))).toMatchObject({ kind: 'clock_due', at: at(15) });
    const stored = await ctx.store.get(fixture.id);
    expect(stored?.timers[`${fixture.id}-fr-due`]).toBe(at(60));

    const [reclassified] = eventsOf(DETAIL_TYPES.reclassified, fixture.id);
    expect(reclassified?.source).toBe('complaints.agent');
    expect(reclassified?.detail.metadata.eventId).toBe(`${fixture.id}:reclassify:${body.version}`);
    expect(reclassified?.detail.data).toMatchObject({
      action: 'reclassify',
      actor: { id: 'sup_cs', role: 'supervisor' },
      category: 'service_quality',
      severity: 'major',
      priority: 1,
      previousClassification: { severity: 'general', priority: 4 },
      deadlines: { firstResponse: { dueAt: at(60) } },
    });
    expect(JSON.stringify(reclassified?.detail)).not.toContain('多名用户');
    const escalated = eventsOf(DETAIL_TYPES.escalated, fixture.id);
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.source).toBe('complaints.agent');
    expect(escalated[0]?.detail.data).toMatchObject({
      reason: 'reclassified_major',
      level: 3,
      role: 'executive_on_duty',
      contact: 'exec.on_duty',
      leadDepartment: 'customer_service',
      detectedBy: 'action',
    });

    // The approval duty follows the new severity: a major complaint's solution always needs approval.
    fixture.version = body.version;
    await advance(fixture, PRINCIPALS.agent, { action: 'acknowledge' });
    const proposed = await action('agent', fixture, { action: 'propose-solution', solution: '致歉并回访' });
    expect(proposed.body.status).toBe('pending_approval');
  });

  it('answers an agent with 403 and changes nothing', async () => {
    const fixture = await seedAssigned();
    const refused = await reclassify('agent', fixture, { severity: 'major' });
    expect(refused).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
    expect(refused.body.message).toContain('supervisor');
    expect(published).toHaveLength(0);
    expect(scheduler.calls()).toHaveLength(0);
    expect((await ctx.store.get(fixture.id))?.version).toBe(fixture.version);
    const view = await call(request('agent', 'GET /complaints/{id}', { fixture }));
    expect(view.body.allowedActions).not.toContain('reclassify');
    const supervisors = await call(request('supervisor', 'GET /complaints/{id}', { fixture }));
    expect(supervisors.body.allowedActions).toContain('reclassify');
  });

  it('keeps the clocks paused while the complaint waits on the customer; the reply resumes them on the new targets', async () => {
    const fixture = await seedInProgress();
    setNow(at(10));
    await advance(fixture, PRINCIPALS.agent, { action: 'request-info', message: '请提供通话时间' });
    setNow(at(40));
    const { status, body } = await reclassify('supervisor', fixture, { severity: 'major' });
    expect(status).toBe(200);
    expect(body.status).toBe('waiting_on_customer');
    expect(body.complaint.clocks.acknowledge.state).toBe('met');
    // The info request met the first response; the resolution clock takes the major
    // row (24 h from receipt) and stays paused since the request, not since the reclassification.
    expect(body.complaint.clocks.firstResponse).toMatchObject({ state: 'met', metAt: at(10) });
    expect(body.complaint.clocks.resolution).toMatchObject({
      state: 'paused',
      pausedAt: at(10),
      dueAt: at(24 * 60),
    });
    expect(scheduler.calls()).toHaveLength(0);
    expect((await ctx.store.get(fixture.id))?.timers).toEqual({});
    expect(eventsOf(DETAIL_TYPES.reclassified, fixture.id)).toHaveLength(1);
    fixture.version = body.version;

    // The customer answers at +120 min: the 1,430 minutes left at the pause remain.
    setNow(at(120));
    const { customerReply } = await import('../../shared/services/customer');
    await customerReply(ctx, fixture.token, { message: '昨天下午三点左右' });
    const resumed = await ctx.store.get(fixture.id);
    expect(resumed?.status).toBe('in_progress');
    expect(resumed?.deadlines.resolution).toMatchObject({ state: 'running', dueAt: at(120 + 24 * 60 - 10) });
    expect(created().map((c) => c.Name)).toContain(`${fixture.id}-res-due`);
  });

  it('suggests the routing rules’ lead department for a new category without moving the complaint', async () => {
    const fixture = await seedAssigned();
    const { status, body } = await reclassify('supervisor', fixture, { category: 'billing_dispute' });
    expect(status).toBe(200);
    expect(body.routingSuggestion).toMatchObject({
      leadDepartment: 'billing',
      collaborators: ['customer_service'],
    });
    expect(body.complaint.assignment.leadDepartment).toBe('customer_service');
    expect(body.complaint.classification).toMatchObject({ category: 'billing_dispute', severity: 'general' });
    const schemas = await import('../../shared/api/schemas');
    expect(schemas.ActionResultSchema.safeParse(body).error).toBeUndefined();
    expect(eventsOf(DETAIL_TYPES.reclassified, fixture.id)[0]?.detail.data.routingSuggestion).toMatchObject({
      leadDepartment: 'billing',
    });
    expect(eventsOf(DETAIL_TYPES.escalated, fixture.id)).toHaveLength(0);
    // The supervisor follows the suggestion with reassign.
    fixture.version = body.version;
    const moved = await action('supervisor', fixture, { action: 'reassign', department: 'billing' });
    expect(moved.body.complaint.assignment.leadDepartment).toBe('billing');
  });

  it('refuses an unknown category, an empty change and a missing reason with 400 and the field', async () => {
    const fixture = await seedAssigned();
    const unknown = await reclassify('supervisor', fixture, { category: 'weather' });
    expect(unknown).toMatchObject({ status: 400, body: { error: 'ValidationError' } });
    expect(unknown.body.errors).toEqual([
      { field: 'category', reason: expect.stringContaining('unknown category "weather"') },
    ]);
    const neither = await reclassify('supervisor', fixture, {});
    expect(neither.status).toBe(400);
    expect(neither.body.errors).toEqual([
      { field: 'category', reason: 'give a category, a severity or both' },
    ]);
    const same = await reclassify('supervisor', fixture, { severity: 'general' });
    expect(same.status).toBe(400);
    expect(same.body.errors).toEqual([
      { field: 'severity', reason: expect.stringContaining('nothing to change') },
    ]);
    const noReason = await action('supervisor', fixture, { action: 'reclassify', severity: 'major' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors.map((e: { field: string }) => e.field)).toEqual(['reason']);
    const badSeverity = await reclassify('supervisor', fixture, { severity: 'catastrophic' });
    expect(badSeverity.body.errors.map((e: { field: string }) => e.field)).toEqual(['severity']);
    expect(published).toHaveLength(0);
    expect((await ctx.store.get(fixture.id))?.version).toBe(fixture.version);
  });
});

describe('GET /complaints (queues)', () => {
  it('lists the department queue nearest deadline first, across statuses, page by page', async () => {
    // A fresh department would be cleaner; instead list with filters narrow enough to be stable.
    const a = await seedAssigned();
    setNow(at(5));
    const b = await seedAssigned();
    await advance(b, PRINCIPALS.agent, { action: 'acknowledge' });
    const all: Array<{ id: string; nextDueAt?: string; status: string }> = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query: Record<string, string> = { status: 'assigned,in_progress', limit: '3' };
      if (cursor !== undefined) query.cursor = cursor;
      const page = await call(request('agent', 'GET /complaints', { query }));
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      all.push(...page.body.items);
      cursor = page.body.cursor;
      pages++;
    } while (cursor !== undefined && pages < 50);
    expect(cursor).toBeUndefined();
    const ids = all.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    const dues = all.map((i) => i.nextDueAt ?? '9999');
    expect(dues).toEqual([...dues].sort());
    expect(new Set(all.map((i) => i.status))).toEqual(new Set(['assigned', 'in_progress']));
  });

  it('filters by assignee and overdue, and refuses other departments and bad filters', async () => {
    const fixture = await seedAssigned();
    const stored = await ctx.store.get(fixture.id);
    const assignee = String(stored?.assignment?.assignee);
    const mine = await call(
      request('supervisor', 'GET /complaints', { query: { assignee, status: 'assigned' } }),
    );
    expect(mine.body.items.every((i: { assignee: string }) => i.assignee === assignee)).toBe(true);
    expect(mine.body.items.map((i: { id: string }) => i.id)).toContain(fixture.id);

    const notYet = await call(request('agent', 'GET /complaints', { query: { overdue: 'true' } }));
    expect(notYet.body.items.map((i: { id: string }) => i.id)).not.toContain(fixture.id);
    setNow(at(3 * 24 * 60));
    const overdue = await call(
      request('agent', 'GET /complaints', { query: { overdue: 'true', limit: '100' } }),
    );
    expect(overdue.body.items.map((i: { id: string }) => i.id)).toContain(fixture.id);
    expect(overdue.body.items.every((i: { overdue: boolean }) => i.overdue)).toBe(true);

    expect(
      (await call(request('agent', 'GET /complaints', { query: { department: 'billing' } }))).status,
    ).toBe(403);
    expect((await call(request('admin', 'GET /complaints', { query: { department: 'nope' } }))).status).toBe(
      400,
    );
    expect((await call(request('agent', 'GET /complaints', { query: { status: 'done' } }))).status).toBe(400);
    expect((await call(request('agent', 'GET /complaints', { query: { limit: '500' } }))).status).toBe(400);
    expect((await call(request('agent', 'GET /complaints', { query: { cursor: 'garbage' } }))).status).toBe(
      400,
    );
    const admin = await call(
      request('admin', 'GET /complaints', { query: { status: 'assigned', limit: '100' } }),
    );
    expect(admin.body.items.map((i: { id: string }) => i.id)).toContain(fixture.id);
  });
});

describe('GET /complaints?number= and ?customer= (look-up)', () => {
  it('finds the complaint a caller may see, and nothing for one they may not or that does not exist', async () => {
    const fixture = await seedAssigned();
    const stored = await ctx.store.get(fixture.id);
    const number = String(stored?.number);
    const found = await call(request('agent', 'GET /complaints', { query: { number } }));
    expect(found.status).toBe(200);
    expect(found.body.items).toHaveLength(1);
    expect(found.body.items[0]).toMatchObject({
      id: fixture.id,
      number,
      status: stored?.status,
      leadDepartment: stored?.assignment?.leadDepartment,
      version: stored?.version,
    });
    expect(found.body.cursor).toBeUndefined();
    expect((await call(request('admin', 'GET /complaints', { query: { number } }))).body.items).toHaveLength(
      1,
    );
    // Another department's agent learns nothing, not even that the number exists.
    const other = await call(request('otherAgent', 'GET /complaints', { query: { number } }));
    expect(other).toMatchObject({ status: 200, body: { items: [] } });
    const unknown = await call(
      request('agent', 'GET /complaints', { query: { number: 'C20990101-ZZZZZZ' } }),
    );
    expect(unknown).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('finds a customer’s complaints the caller may see, newest first, page by page', async () => {
    const customer = `lookup-${Date.now()}`;
    const first = await seedAssigned(SERVICE_QUALITY, undefined, customer);
    const second = await seedAssigned('客服电话一直打不通，排队一个小时也没人接', undefined, customer);
    await seedAssigned(SERVICE_QUALITY); // another customer's
    const all = await call(request('agent', 'GET /complaints', { query: { customer } }));
    expect(all.status).toBe(200);
    expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([second.id, first.id]);
    // Page by page with the sealed cursor, which only this caller can use for this customer.
    const page1 = await call(request('agent', 'GET /complaints', { query: { customer, limit: '1' } }));
    expect(page1.body.items.map((i: { id: string }) => i.id)).toEqual([second.id]);
    expect(typeof page1.body.cursor).toBe('string');
    const page2 = await call(
      request('agent', 'GET /complaints', { query: { customer, limit: '1', cursor: page1.body.cursor } }),
    );
    expect(page2.body.items.map((i: { id: string }) => i.id)).toEqual([first.id]);
    const stolen = await call(
      request('supervisor', 'GET /complaints', {
        query: { customer, limit: '1', cursor: page1.body.cursor },
      }),
    );
    expect(stolen.status).toBe(400);
    // Another department sees none of them; the items name no customer.
    const other = await call(request('otherAgent', 'GET /complaints', { query: { customer } }));
    expect(other).toMatchObject({ status: 200, body: { items: [] } });
    expect(JSON.stringify(all.body)).not.toContain(customer);
  });

  it('refuses a malformed number and a number with other filters, naming the field', async () => {
    const bad = await call(request('agent', 'GET /complaints', { query: { number: 'C2026-1' } }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('number');
    const mixed = await call(
      request('agent', 'GET /complaints', { query: { number: 'C20261124-7KQ2MZ', status: 'assigned' } }),
    );
    expect(mixed.status).toBe(400);
    expect(JSON.stringify(mixed.body)).toMatch(/number.*status/);
    const customerMixed = await call(
      request('agent', 'GET /complaints', { query: { customer: 'c-1', department: 'customer_service' } }),
    );
    expect(customerMixed.status).toBe(400);
    expect(JSON.stringify(customerMixed.body)).toMatch(/customer.*department/);
  });
});

describe('responses match the documented schemas (docs/openapi.json)', () => {
  it('returns what the OpenAPI document promises, on success and on error', async () => {
    const schemas = await import('../../shared/api/schemas');
    const intake = await intakeApi(
      request('anonymous', 'POST /complaints', {
        body: { channel: 'web', customer: { id: 'schema-check' }, description: 'The app crashes on start' },
      }),
      lambdaContext('intake-api'),
    );
    expect(schemas.IntakeAcceptedSchema.safeParse(JSON.parse(String(intake.body))).error).toBeUndefined();

    const fixture = await seedAssigned();
    const list = await call(request('agent', 'GET /complaints', { query: { limit: '5' } }));
    expect(schemas.QueuePageSchema.safeParse(list.body).error).toBeUndefined();
    const detail = await call(request('agent', 'GET /complaints/{id}', { fixture }));
    expect(schemas.AgentComplaintViewSchema.safeParse(detail.body).error).toBeUndefined();
    const done = await action('agent', fixture, { action: 'acknowledge' });
    expect(schemas.ActionResultSchema.safeParse(done.body).error).toBeUndefined();

    const conflicts = [
      // (The identical acknowledge again would be recognised as a retry of the one just done.)
      await action('agent', fixture, { action: 'acknowledge', note: 'again' }),
      await action('agent', { ...fixture, version: fixture.version + 1 }, { action: 'acknowledge' }),
      await action(
        'agent',
        { ...fixture, version: fixture.version + 1 },
        { action: 'resolve', rootCause: 'r', solution: 's', compensation: { amount: 9000 } },
      ),
    ];
    expect(conflicts.map((c) => c.body.error)).toEqual([
      'VersionConflict',
      'IllegalTransition',
      'ApprovalRequired',
    ]);
    for (const conflict of conflicts) {
      expect(conflict.status).toBe(409);
      expect(schemas.ActionConflictSchema.safeParse(conflict.body).error).toBeUndefined();
    }
    const invalid = await action('agent', fixture, { action: 'respond' });
    expect(schemas.ValidationErrorSchema.safeParse(invalid.body).error).toBeUndefined();
    for (const error of [
      await call(request('anonymous', 'GET /complaints')),
      await call(request('otherAgent', 'GET /complaints/{id}', { fixture })),
      await call(request('otherAgent', 'GET /complaints', { query: { department: 'customer_service' } })),
    ]) {
      expect(schemas.ErrorSchema.safeParse(error.body).error).toBeUndefined();
    }
  });
});

describe('dependency failures', () => {
  it('answers 503 with Retry-After when the store is unavailable', async () => {
    const fixture = await seedAssigned();
    const { DynamoDbComplaintStore } = await import('../../shared/storage/dynamodb-store');
    const get = vi
      .spyOn(DynamoDbComplaintStore.prototype, 'get')
      .mockRejectedValueOnce(new Error('throttled'));
    const response = await agentApi(
      request('agent', 'GET /complaints/{id}', { fixture }),
      lambdaContext('agent-api'),
    );
    get.mockRestore();
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('2');
    expect(JSON.parse(String(response.body))).toMatchObject({ error: 'ServiceUnavailable' });
  });
});

describe('bounded input (issue #10, point 7)', () => {
  it('answers a 3,000-character complaint id with 400 naming the field, before any store call', async () => {
    const fixture = await seedAssigned();
    const { DynamoDbComplaintStore } = await import('../../shared/storage/dynamodb-store');
    const get = vi.spyOn(DynamoDbComplaintStore.prototype, 'get');
    const long = { ...fixture, id: 'A'.repeat(3000) };
    const view = await call(request('agent', 'GET /complaints/{id}', { fixture: long }));
    const acted = await action('agent', long, { action: 'acknowledge' });
    const odd = await call(
      request('agent', 'GET /complaints/{id}', { fixture: { ...fixture, id: '../META' } }),
    );
    expect(get).not.toHaveBeenCalled();
    get.mockRestore();
    for (const answer of [view, acted]) {
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([
        {
          field: 'id',
          reason: 'is too long (3000 characters); must be a complaint id (26 characters, a ULID)',
        },
      ]);
    }
    expect(odd.status).toBe(400);
    expect(odd.body.errors[0].field).toBe('id');
  });

  it('refuses texts over maxMessageChars and unstorable or over-precise money with 400 naming the field', async () => {
    const fixture = await seedInProgress();
    const max = ctx.policy.limits.maxMessageChars;
    const long = await action('agent', fixture, { action: 'respond', message: '答'.repeat(max + 1) });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([
      { field: 'message', reason: `must be at most ${max} characters (limits.maxMessageChars)` },
    ]);
    const note = await action('agent', fixture, {
      action: 'respond',
      message: 'ok',
      note: 'n'.repeat(max + 1),
    });
    expect(note.status).toBe(400);
    const tiny = await action('agent', fixture, {
      action: 'propose-solution',
      solution: 's',
      compensation: { amount: 1e-200 },
    });
    expect(tiny.status).toBe(400);
    expect(tiny.body.errors).toEqual([
      { field: 'compensation.amount', reason: 'is too close to zero to be stored (below 1e-130)' },
    ]);
    const cents = await action('agent', fixture, {
      action: 'propose-solution',
      solution: 's',
      compensation: { amount: 10.005 },
    });
    expect(cents.body.errors).toEqual([
      { field: 'compensation.amount', reason: 'must have at most 2 decimal places for CNY' },
    ]);
    expect((await ctx.store.get(fixture.id))?.version).toBe(fixture.version);
  });

  it('refuses any action past maxTimelineEntries with 409 naming the cap (counted on the record)', async () => {
    const fixture = await seedInProgress();
    const max = ctx.policy.limits.maxTimelineEntries;
    // A complaint that has accumulated all but one entry: the count lives on the record.
    const current = await ctx.store.get(fixture.id);
    if (current === undefined) throw new Error('seeded complaint missing');
    const usage = { timelineEntries: max - 1, customerReplies: 0, recentReplies: [] };
    await ctx.store.update({
      next: { ...current, version: current.version + 1, usage },
      expectedVersion: current.version,
      timeline: [],
    });
    fixture.version = current.version + 1;
    const last = await action('agent', fixture, { action: 'respond', message: 'the last entry that fits' });
    expect(last.status).toBe(200);
    fixture.version = last.body.version;
    const over = await action('agent', fixture, { action: 'respond', message: 'one too many' });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ error: 'CapReached', cap: 'maxTimelineEntries', limit: max });
    const stored = await ctx.store.get(fixture.id);
    expect(stored?.usage?.timelineEntries).toBe(max);
    expect(stored?.version).toBe(fixture.version);
  });

  it('pages the timeline of the agent view: the newest page, then the older ones by cursor', async () => {
    const fixture = await seedInProgress();
    const texts = Array.from({ length: 55 }, (_, i) =>
      `#${i}#`.padEnd(ctx.policy.limits.maxMessageChars, '\u0001'),
    );
    for (const message of texts) {
      tick();
      await advance(fixture, PRINCIPALS.agent, { action: 'respond', message });
    }
    const newest = await call(request('agent', 'GET /complaints/{id}', { fixture }));
    expect(newest.status).toBe(200);
    expect(newest.body.timeline.length).toBeLessThanOrEqual(50);
    expect(newest.body.olderCursor).toEqual(expect.any(String));
    const older = await call(
      request('agent', 'GET /complaints/{id}', { fixture, query: { before: newest.body.olderCursor } }),
    );
    expect(older.status).toBe(200);
    expect(older.body.olderCursor).toBeUndefined();
    const all = [...older.body.timeline, ...newest.body.timeline];
    const responded = all
      .filter((e: { type: string }) => e.type === 'responded')
      .map((e: { data: { message: string } }) => e.data.message.split('#')[1]);
    expect(responded).toEqual(texts.map((_, i) => String(i)));
    expect(all[0].type).toBe('received');
  });
});
