import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
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
 * The customer endpoints through their handler against DynamoDB Local: tracking,
 * replies (pause/resume, reopening) and the survey loop, with EventBridge and
 * EventBridge Scheduler recorded at the SDK boundary. Agents' steps are taken with
 * the agent service directly; time is set per step (only `Date` is faked).
 */

const _GROUP = TEST_TIMERS.group;
const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const scheduler = mockClient(SchedulerClient);
/** Everything the function logged (Powertools writes JSON lines to stdout). */
const logLines: string[] = [];
const issuedTokens: string[] = [];

type Handler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;
let customerApi: Handler;
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
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
}

const eventsOf = (type: string, complaintId: string) =>
  toEvents(published).filter((e) => e.detailType === type && e.detail.data.complaintId === complaintId);
const created = (): CreateScheduleCommandInput[] =>
  scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
const createdAt = (name: string): string | undefined => {
  const input = created().find((c) => c.Name === name)?.Target?.Input;
  return input === undefined ? undefined : JSON.parse(input).at;
};
const deleted = (): string[] =>
  scheduler.commandCalls(DeleteScheduleCommand).map((c) => String(c.args[0].input.Name));

const setNow = (iso: string) => vi.setSystemTime(new Date(iso));
const tick = () => vi.setSystemTime(new Date(Date.now() + 1000));
/** Tuesday 24 November 2026, 10:00 in Shanghai: a working day. */
const T0 = '2026-11-24T02:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let writeSpy: { mockRestore: () => void } | undefined;

beforeAll(async () => {
  const tableName = await createTestTable('customer-api');
  // Everything the handler logs is captured below, to check that tokens never reach the logs.
  setHandlerEnvironment(tableName, { POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  const write = process.stdout.write.bind(process.stdout);
  writeSpy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"level"')) {
      logLines.push(text);
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  vi.useFakeTimers({ toFake: ['Date'] });
  setNow(T0);
  resetMocks();
  customerApi = (await import('../../functions/customer-api/handler')).handler as never;
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
  writeSpy?.mockRestore();
});

beforeEach(() => {
  setNow(T0);
  resetMocks();
});

// ---------------------------------------------------------------------------

const AGENT: Principal = { id: 'cs_wang', role: 'agent', department: 'customer_service' };
const SUPERVISOR: Principal = { id: 'sup_cs', role: 'supervisor', department: 'customer_service' };

/** A token nobody was given (well-formed, so it is looked up and missed). */
const GUESSED = 'AAAAAAAAAAAAAAAAAAAAAA';

function request(
  routeKey: string,
  token: string,
  body?: unknown,
  who: Who = 'customerToken',
): APIGatewayProxyEventV2 {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const event = apiRequest(method, template.replace('{token}', token), body ?? '');
  const claims = CLAIMS[who];
  return {
    ...event,
    routeKey,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    pathParameters: { token },
    requestContext: {
      ...event.requestContext,
      routeKey,
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

async function call(event: APIGatewayProxyEventV2, context = lambdaContext('customer-api')) {
  const response = await customerApi(event, context);
  // Every answer, whatever its status: the browser must never sniff it into HTML or script.
  expect(response.headers?.['x-content-type-options']).toBe('nosniff');
  expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
  return {
    status: response.statusCode ?? 0,
    body: JSON.parse(String(response.body ?? 'null')),
    headers: response.headers ?? {},
    bytes: Buffer.byteLength(String(response.body ?? '')),
  };
}
const track = (token: string, who: Who = 'customerToken') =>
  call(request('GET /track/{token}', token, undefined, who));
const reply = (token: string, message: string, who: Who = 'customerToken') =>
  call(request('POST /track/{token}/replies', token, { message }, who));
const answer = (token: string, body: unknown, who: Who = 'customerToken') =>
  call(request('POST /surveys/{token}', token, body, who));

interface Fixture {
  id: string;
  token: string;
  version: number;
}

const SERVICE_QUALITY = '客服态度很差，电话里直接挂断了，投诉这个客服';
let seq = 0;

async function seedAssigned(): Promise<Fixture> {
  seq++;
  const result = await services.receive(ctx, {
    submission: ComplaintSubmissionSchema.parse(
      submission({ customer: { id: `customer-api-${seq}`, language: 'zh' }, description: SERVICE_QUALITY }),
    ),
    sourceSystem: 'test',
    messageId: `customer-api-${seq}`,
    submitter: { kind: 'producer', source: 'test' },
    idempotency: { kind: 'event', source: 'test', messageId: `customer-api-${seq}` },
  });
  issuedTokens.push(result.trackingToken);
  tick();
  await services.classify(ctx, result.complaintId);
  tick();
  await services.assign(ctx, result.complaintId);
  tick();
  const stored = await ctx.store.get(result.complaintId);
  expect(stored?.assignment?.leadDepartment).toBe('customer_service');
  published.length = 0;
  scheduler.resetHistory();
  return { id: result.complaintId, token: result.trackingToken, version: stored?.version ?? 0 };
}

async function act(fixture: Fixture, command: ActionRequest, who: Principal = AGENT) {
  const done = await services.act(ctx, who, fixture.id, {
    ...command,
    expectedVersion: fixture.version,
  } as ActionCommand);
  fixture.version = done.complaint.version;
  tick();
  published.length = 0;
  scheduler.resetHistory();
  return fixture;
}

async function seedResolved(): Promise<Fixture> {
  const fixture = await act(await seedAssigned(), { action: 'acknowledge' });
  return act(fixture, {
    action: 'resolve',
    rootCause: '服务规范执行不到位',
    solution: '已向您致歉并对客服进行培训',
  });
}

// ---------------------------------------------------------------------------

describe('authorization matrix: customer routes × every kind of caller', () => {
  // The tracking token is the only credential here: a JWT, however privileged, opens
  // nothing without it; callers without the token can only guess one.
  const WHO: Who[] = ['anonymous', 'customerToken', 'otherAgent', 'agent', 'supervisor', 'admin'];
  const rows = [
    { route: 'GET /track/{token}', fixture: seedAssigned, send: (t: string, w: Who) => track(t, w) },
    {
      route: 'POST /track/{token}/replies',
      fixture: seedAssigned,
      send: (t: string, w: Who) => reply(t, '补充一下：是昨天下午的电话', w),
    },
    {
      route: 'POST /surveys/{token}',
      fixture: seedResolved,
      send: (t: string, w: Who) => answer(t, { score: 5 }, w),
    },
  ];
  const cases = rows.flatMap((row) =>
    WHO.map((who) => ({ ...row, who, status: who === 'customerToken' ? 200 : 404 })),
  );

  it.each(cases)('$route as $who → $status', async ({ fixture, send, who, status }) => {
    const f = await fixture();
    const token = who === 'customerToken' ? f.token : GUESSED;
    const response = await send(token, who);
    expect(response.status).toBe(status);
    if (status === 404)
      expect(response.body).toEqual({ error: 'NotFound', message: 'No complaint matches this link' });
  });
});

describe('GET /track/{token}', () => {
  it('shows status, public steps, expected times and agent messages — never notes, staff ids or internals', async () => {
    const fixture = await seedAssigned();
    const marker = 'INTERNAL-NOTE-7f3a9c21';
    await act(fixture, { action: 'acknowledge', note: `${marker} customer sounded upset` });
    const message = '您好，非常抱歉给您带来不好的体验，我们正在核实通话记录。';
    await act(fixture, { action: 'respond', message, note: `${marker} check call recording` });
    await act(fixture, {
      action: 'propose-solution',
      solution: `${marker} refund proposal`,
      compensation: { amount: 900 },
      note: marker,
    });

    const { status, body } = await track(fixture.token);
    expect(status).toBe(200);
    const text = JSON.stringify(body);
    expect(text).not.toContain(marker);
    const stored = await ctx.store.get(fixture.id);
    const assignee = String(stored?.assignment?.assignee);
    for (const hidden of [
      assignee,
      'cs_wang',
      'agent:',
      'customer_service',
      'lead.cs',
      'pending_approval',
      fixture.id,
    ]) {
      expect(text, hidden).not.toContain(hidden);
    }
    for (const keyword of stored?.classification?.matchedKeywords ?? [])
      expect(text, keyword).not.toContain(keyword);
    for (const internal of [
      'classification',
      'clockLog',
      'deadlines',
      'timeline',
      'proposal',
      'submission',
      'work',
    ]) {
      expect(body, internal).not.toHaveProperty(internal);
    }

    expect(body).toMatchObject({
      number: stored?.number,
      status: 'in_progress',
      language: 'zh',
      category: '服务质量',
      canReply: true,
      messages: [{ from: 'agent', kind: 'message', text: message }],
    });
    expect(body.steps.map((s: { step: string }) => s.step)).toEqual([
      'received',
      'classified',
      'assigned',
      'acknowledged',
      'responded',
    ]);
    expect(body.steps[0].label).toBe('已受理');
    expect(body.expected.resolutionBy).toBe(stored?.deadlines.resolution?.dueAt);
    expect(body.expected).not.toHaveProperty('firstResponseBy');
  });

  it('answers unknown and malformed tokens with the same 404, foreign or oversized ones with 400, and never logs a token', async () => {
    for (const token of [GUESSED, 'short', 'x'.repeat(100)]) {
      const { status, body } = await track(token);
      expect({ status, body }).toEqual({
        status: 404,
        body: { error: 'NotFound', message: 'No complaint matches this link' },
      });
    }
    // Refused before any lookup: no token has these characters or this length.
    for (const token of ['x'.repeat(3000), '../../etc', 'a b']) {
      const { status, body } = await track(token);
      expect(status).toBe(400);
      expect(body.errors).toEqual([{ field: 'token', reason: expect.stringMatching(/token|too long/) }]);
    }
    expect(logLines.length).toBeGreaterThan(0);
    const logged = logLines.join('\n');
    for (const token of [...issuedTokens, GUESSED]) expect(logged).not.toContain(token);
  });
});

describe('POST /track/{token}/replies', () => {
  it('meets the first response and pauses the resolution clock on request-info; the reply resumes it, shifted by the pause', async () => {
    const fixture = await act(await seedAssigned(), { action: 'acknowledge' });
    const before = await ctx.store.get(fixture.id);
    const resDue = String(before?.deadlines.resolution?.dueAt);

    setNow(at(10));
    const done = await services.act(ctx, AGENT, fixture.id, {
      action: 'request-info',
      message: '请提供通话的大致时间和来电号码后四位。',
      expectedVersion: fixture.version,
    });
    expect(done.complaint.status).toBe('waiting_on_customer');
    expect(deleted().sort()).toEqual(
      [
        `${fixture.id}-fr-due`,
        `${fixture.id}-fr-warn`,
        `${fixture.id}-res-due`,
        `${fixture.id}-res-warn`,
      ].sort(),
    );
    expect(created()).toEqual([]);
    const waiting = await track(fixture.token);
    expect(waiting.body).toMatchObject({
      status: 'waiting_on_customer',
      canReply: true,
      messages: [{ from: 'agent', kind: 'info_request' }],
    });
    expect(waiting.body.expected).toEqual({});

    scheduler.resetHistory();
    setNow(at(70));
    const { status, body } = await reply(fixture.token, '昨天下午三点左右，尾号 1234。');
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: 'replied', complaint: { status: 'in_progress' } });
    // A calendar-time clock: its target moves by exactly the hour spent waiting.
    const hour = 60 * 60_000;
    expect(createdAt(`${fixture.id}-res-due`)).toBe(new Date(Date.parse(resDue) + hour).toISOString());
    expect(
      created()
        .map((c) => c.Name)
        .sort(),
    ).toEqual([`${fixture.id}-res-due`, `${fixture.id}-res-warn`].sort());
    const after = await ctx.store.get(fixture.id);
    // The info request was the first response: met, not paused.
    expect(after?.deadlines.firstResponse).toMatchObject({ state: 'met', metAt: at(10) });
    expect(after?.clockLog.filter((e) => e.event === 'resumed').map((e) => e.detail?.pausedSeconds)).toEqual([
      3600,
    ]);
    expect(after?.work.waitingSince).toBeUndefined();
    const [replied] = eventsOf(DETAIL_TYPES.customerReplied, fixture.id);
    expect(replied?.source).toBe('complaints.customer');
    expect(replied?.detail.data).toMatchObject({
      previousStatus: 'waiting_on_customer',
      status: 'in_progress',
    });
    expect(JSON.stringify(replied?.detail)).not.toContain('尾号');
    expect(body.complaint.messages.at(-1)).toMatchObject({ from: 'customer', kind: 'reply' });
  });

  it('reopens a resolved complaint and escalates one level higher on each reopening', async () => {
    const fixture = await seedResolved();
    setNow(at(120));
    const first = await reply(fixture.token, '问题根本没有解决，客服还是没有回电');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      outcome: 'reopened',
      complaint: { status: 'reopened', canReply: true },
    });
    const stored = await ctx.store.get(fixture.id);
    expect(stored).toMatchObject({ status: 'reopened', reopenCount: 1 });
    expect(stored?.proposal).toBeUndefined();
    expect(stored?.deadlines.resolution).toMatchObject({ state: 'running', escalationLevel: 1 });
    expect(eventsOf(DETAIL_TYPES.customerReplied, fixture.id)).toHaveLength(1);
    expect(eventsOf(DETAIL_TYPES.reopened, fixture.id)[0]?.detail.data).toMatchObject({
      previousStatus: 'resolved',
      status: 'reopened',
      reopenCount: 1,
    });
    expect(eventsOf(DETAIL_TYPES.escalated, fixture.id)[0]?.detail.data).toMatchObject({
      reason: 'reopened',
      level: 1,
      role: 'team_lead',
      contact: 'lead.cs',
      detectedBy: 'action',
    });
    expect(eventsOf(DETAIL_TYPES.customerNotificationRequested, fixture.id)[0]?.detail.data.template).toBe(
      'reopened',
    );
    expect(deleted()).toContain(`${fixture.id}-survey-send`);
    expect(created().map((c) => c.Name)).toEqual(
      expect.arrayContaining([`${fixture.id}-fr-due`, `${fixture.id}-res-due`]),
    );

    fixture.version = Number(stored?.version);
    await act(fixture, { action: 'acknowledge' });
    await act(fixture, { action: 'resolve', rootCause: 'r', solution: '客服主管已回电说明' });
    await reply(fixture.token, '还是不满意');
    expect(eventsOf(DETAIL_TYPES.escalated, fixture.id)[0]?.detail.data).toMatchObject({
      level: 2,
      role: 'department_head',
      contact: 'head.cs',
    });
  });

  it('records a reply on an open complaint, refuses one on a closed complaint, and validates the body', async () => {
    const fixture = await seedAssigned();
    const open = await reply(fixture.token, '请尽快处理');
    expect(open.body).toMatchObject({ outcome: 'replied', complaint: { status: 'in_progress' } });
    expect(eventsOf(DETAIL_TYPES.customerReplied, fixture.id)).toHaveLength(1);

    const closed = await seedResolved();
    await answer(closed.token, { score: 4 });
    expect(await reply(closed.token, 'hello?')).toMatchObject({
      status: 409,
      body: { error: 'NotAccepting' },
    });

    expect((await reply(fixture.token, '')).status).toBe(400);
    const extra = await call(
      request('POST /track/{token}/replies', fixture.token, { message: 'x', admin: true }),
    );
    expect(extra.status).toBe(400);
    const notJson = await customerApi(
      {
        ...request('POST /track/{token}/replies', fixture.token, 'message=x'),
        headers: { 'content-type': 'text/plain' },
      },
      lambdaContext('customer-api'),
    );
    expect(notJson.statusCode).toBe(415);
  });
});

describe('POST /surveys/{token}', () => {
  it('reopens on a low score (Reopened + Escalated to the team lead), and a second answer is 409', async () => {
    const fixture = await seedResolved();
    setNow(at(200));
    const { status, body } = await answer(fixture.token, { score: 1, comment: '敷衍了事' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: 'reopened', complaint: { status: 'reopened' } });
    const stored = await ctx.store.get(fixture.id);
    expect(stored?.survey).toMatchObject({
      score: 1,
      comment: '敷衍了事',
      outcome: 'reopened',
      answeredAt: at(200),
    });
    expect(stored?.reopenCount).toBe(1);
    expect(eventsOf(DETAIL_TYPES.surveyAnswered, fixture.id)[0]?.detail.data).toMatchObject({ score: 1 });
    expect(JSON.stringify(eventsOf(DETAIL_TYPES.surveyAnswered, fixture.id))).not.toContain('敷衍了事');
    expect(eventsOf(DETAIL_TYPES.reopened, fixture.id)).toHaveLength(1);
    expect(eventsOf(DETAIL_TYPES.escalated, fixture.id)[0]?.detail.data).toMatchObject({
      reason: 'reopened',
      level: 1,
      role: 'team_lead',
      contact: 'lead.cs',
      leadDepartment: 'customer_service',
    });
    expect(deleted()).toContain(`${fixture.id}-survey-send`);
    expect(created().map((c) => c.Name)).toContain(`${fixture.id}-res-due`);

    // The identical answer again (a double click) is the same answer; any other is refused.
    published.length = 0;
    const same = await answer(fixture.token, { score: 1, comment: '敷衍了事' });
    expect(same).toMatchObject({ status: 200, body: { outcome: 'reopened' } });
    expect(eventsOf(DETAIL_TYPES.surveyAnswered, fixture.id)[0]?.detail.metadata.eventId).toBe(
      `${fixture.id}:survey-answer:${stored?.version}`,
    );
    expect((await ctx.store.get(fixture.id))?.version).toBe(stored?.version);
    expect(await answer(fixture.token, { score: 5 })).toMatchObject({
      status: 409,
      body: { error: 'AlreadyAnswered' },
    });
  });

  it('closes on a good score, before or after the survey request went out', async () => {
    const fixture = await seedResolved();
    const { body } = await answer(fixture.token, { score: 5 });
    expect(body).toMatchObject({
      outcome: 'satisfied',
      complaint: { status: 'closed', survey: { answered: true, score: 5 } },
    });
    const stored = await ctx.store.get(fixture.id);
    expect(stored?.survey).toMatchObject({ score: 5, outcome: 'satisfied' });
    const [closed] = eventsOf(DETAIL_TYPES.closed, fixture.id);
    expect(closed?.source).toBe('complaints.customer');
    expect(closed?.detail.data).toMatchObject({ previousStatus: 'resolved', status: 'closed' });
    expect(deleted()).toEqual([`${fixture.id}-survey-send`]);
    expect(await answer(fixture.token, { score: 4 })).toMatchObject({
      status: 409,
      body: { error: 'AlreadyAnswered' },
    });
    const view = await track(fixture.token);
    expect(view.body).toMatchObject({
      status: 'closed',
      canReply: false,
      resolution: { solution: '已向您致歉并对客服进行培训' },
    });
    expect(JSON.stringify(view.body)).not.toContain('服务规范执行不到位');
  });

  it('refuses a survey answer while the complaint is not resolved, and validates the score', async () => {
    const fixture = await seedAssigned();
    expect(await answer(fixture.token, { score: 5 })).toMatchObject({
      status: 409,
      body: { error: 'SurveyNotOpen' },
    });
    const resolved = await seedResolved();
    for (const bad of [
      { score: 0 },
      { score: 6 },
      { score: 3.5 },
      { score: '5' },
      {},
      { score: 5, extra: 1 },
    ]) {
      expect((await answer(resolved.token, bad)).status, JSON.stringify(bad)).toBe(400);
    }
    const invalid = await answer(resolved.token, { score: 9 });
    expect(invalid.body.errors).toEqual([{ field: 'score', reason: expect.any(String) }]);
  });

  it('refuses an answer after the answer window, once the survey went out', async () => {
    const fixture = await seedResolved();
    const stored = await ctx.store.get(fixture.id);
    if (stored?.survey === undefined) throw new Error('no survey');
    // As the survey function records it when the request goes out (Survey Requested).
    await ctx.store.update({
      next: {
        ...stored,
        version: stored.version + 1,
        survey: { ...stored.survey, requestedAt: at(60 * 24), closesAt: at(60 * 24 * 8) },
      },
      expectedVersion: stored.version,
      timeline: [],
    });
    setNow(at(60 * 24 * 9));
    expect(await answer(fixture.token, { score: 2 })).toMatchObject({
      status: 409,
      body: { error: 'SurveyNotOpen' },
    });
  });
});

describe('responses match the documented schemas (docs/openapi.json)', () => {
  it('returns what the OpenAPI document promises', async () => {
    const schemas = await import('../../shared/api/schemas');
    const fixture = await seedResolved();
    expect(schemas.CustomerViewSchema.safeParse((await track(fixture.token)).body).error).toBeUndefined();
    const replied = await reply(fixture.token, '还有问题');
    expect(schemas.CustomerWriteResultSchema.safeParse(replied.body).error).toBeUndefined();
    const notOpen = await answer(fixture.token, { score: 3 });
    expect(notOpen.status).toBe(409);
    expect(schemas.CustomerConflictSchema.safeParse(notOpen.body).error).toBeUndefined();
    expect(
      schemas.ValidationErrorSchema.safeParse((await answer(fixture.token, { score: 0 })).body).error,
    ).toBeUndefined();
    expect(schemas.ErrorSchema.safeParse((await track(GUESSED)).body).error).toBeUndefined();
  });
});

describe('approval is not the customer’s business', () => {
  it('shows a complaint waiting for approval simply as in progress', async () => {
    const fixture = await act(await seedAssigned(), { action: 'acknowledge' });
    await act(fixture, { action: 'propose-solution', solution: 's', compensation: { amount: 2000 } });
    expect((await track(fixture.token)).body.status).toBe('in_progress');
    await act(fixture, { action: 'approve' }, SUPERVISOR);
    expect((await track(fixture.token)).body.status).toBe('in_progress');
  });
});

describe('bounded input (issue #10, point 7): reply rate, caps, sizes and pages', () => {
  const HOUR_MS = 3_600_000;

  it('lets at most customerRepliesPerHour of 100 concurrent 5 KB replies through; the rest get 429 with Retry-After, and nothing is lost or half-written', async () => {
    const fixture = await seedAssigned();
    const limit = ctx.policy.limits.customerRepliesPerHour;
    const messages = Array.from({ length: 100 }, (_, i) =>
      `reply ${String(i).padStart(3, '0')} `.padEnd(5000, 'x'),
    );
    expect(Buffer.byteLength(messages[0] ?? '')).toBe(5000);

    // In AWS each request is its own invocation with its own time budget; here all 100 share one
    // DynamoDB Local on a small machine, so each gets a longer budget than the 30 s of the default.
    const patient = () => ({ ...lambdaContext('customer-api'), getRemainingTimeInMillis: () => 240_000 });
    const answers = await Promise.all(
      messages.map((m) =>
        call(request('POST /track/{token}/replies', fixture.token, { message: m }), patient()),
      ),
    );

    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(limit);
    // Refused by the limit (429), or, for a writer that lost the race for the record four times in a
    // row while the limit was not yet reached, "try again" (503, the documented answer to contention on
    // a loaded machine): both say when to come back; neither wrote anything (checked below).
    for (const answer of refused) {
      expect([429, 503]).toContain(answer.status);
      const retryAfter = Number(answer.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
      if (answer.status === 503) {
        expect(answer.body).toMatchObject({ error: 'ServiceUnavailable' });
        continue;
      }
      expect(answer.body).toMatchObject({ error: 'TooManyRequests' });
      expect(answer.body.retryAfterSeconds).toBe(retryAfter);
    }
    expect(refused.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(100 - limit - 10);
    // The hourly limit itself answered: one more is allowed when the first reply leaves the hour.
    expect(refused.some((a) => a.headers['retry-after'] === '3600')).toBe(true);

    // Nothing lost, nothing half-written: record counts, timeline, events and answers agree.
    const stored = await ctx.store.get(fixture.id);
    const timeline = await ctx.store.timeline(fixture.id);
    const replies = timeline.filter((e) => e.type === 'customer_replied').map((e) => String(e.data?.message));
    expect(replies).toHaveLength(accepted.length);
    expect(new Set(replies).size).toBe(accepted.length);
    for (const message of replies) expect(messages).toContain(message);
    expect(stored?.version).toBe(fixture.version + accepted.length);
    expect(stored?.usage?.customerReplies).toBe(accepted.length);
    expect(stored?.usage?.timelineEntries).toBe(timeline.length);
    expect(eventsOf(DETAIL_TYPES.customerReplied, fixture.id)).toHaveLength(accepted.length);

    // A rolling hour: once the first reply is an hour old, the next one is accepted.
    setNow(new Date(Date.now() + HOUR_MS + 1000).toISOString());
    const later = await reply(fixture.token, 'one more, an hour later');
    expect(later.body).toMatchObject({ outcome: 'replied' });
  }, 300_000);

  it('refuses a reply over maxMessageChars with 400 naming the field and the limit', async () => {
    const fixture = await seedAssigned();
    const max = ctx.policy.limits.maxMessageChars;
    const answer = await reply(fixture.token, '投'.repeat(max + 1));
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { field: 'message', reason: `must be at most ${max} characters (limits.maxMessageChars)` },
    ]);
    expect((await ctx.store.get(fixture.id))?.version).toBe(fixture.version);
  });

  it('refuses replies past maxCustomerReplies with 409 naming the cap, and pages the views so each stays bounded', async () => {
    const fixture = await seedAssigned();
    const { maxCustomerReplies, customerRepliesPerHour, maxMessageChars } = ctx.policy.limits;
    const spacing = Math.ceil(HOUR_MS / customerRepliesPerHour) + 1000;
    // Control characters: six bytes each once JSON-escaped, the worst a text can grow in a response.
    const text = (i: number) => `#${i}#`.padEnd(maxMessageChars, '\u0001');
    let now = Date.parse(T0);
    for (let i = 0; i < maxCustomerReplies; i++) {
      now += spacing;
      setNow(new Date(now).toISOString());
      const answer = await reply(fixture.token, text(i));
      expect(answer.status, `reply ${i}`).toBe(200);
    }
    setNow(new Date(now + spacing).toISOString());
    const over = await reply(fixture.token, 'one too many');
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({
      error: 'CapReached',
      cap: 'maxCustomerReplies',
      limit: maxCustomerReplies,
    });
    expect((await ctx.store.get(fixture.id))?.usage?.customerReplies).toBe(maxCustomerReplies);

    // The tracking page shows the newest page; `olderCursor` leads back through every reply, once each.
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const event = request('GET /track/{token}', fixture.token);
      const page = await call({
        ...event,
        queryStringParameters: before === undefined ? undefined : { before },
      });
      expect(page.status).toBe(200);
      expect(page.bytes).toBeLessThan(3 * 1024 * 1024);
      const texts = page.body.messages.map((m: { text: string }) => m.text.split('#')[1]);
      seen.unshift(...texts);
      before = page.body.olderCursor;
      pages++;
    } while (before !== undefined && pages < 20);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: maxCustomerReplies }, (_, i) => String(i)));

    // A cursor is checked before use.
    const forged = await call({
      ...request('GET /track/{token}', fixture.token),
      queryStringParameters: { before: Buffer.from('x#y').toString('base64url') },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].field).toBe('before');
  }, 300_000);
});
