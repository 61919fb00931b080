import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { ComplaintStore } from '../../shared/storage/ports';
import { apiRequest, lambdaContext, sqsRecordForEvent, toEvents } from '../support/lambda';
import { createTestTable } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * One complaint's whole life through every handler — intake, classification,
 * assignment, the SLA timer target, the agent API, the customer API and the survey
 * timer target — against DynamoDB Local. EventBridge and Scheduler are replaced at
 * the SDK boundary: each published event is fed to the next handler as its rule
 * would, and each timer fires by invoking its target with the payload the
 * CreateSchedule call carried, at the time it was set for (only `Date` is faked).
 */

const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const scheduler = mockClient(SchedulerClient);
/** Live schedules, as the schedule group would hold them: name → input. */
const schedules = new Map<string, CreateScheduleCommandInput>();

type Handler<E, R> = (event: E, context: ReturnType<typeof lambdaContext>) => Promise<R>;
const handlers: {
  intake?: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
  classification?: Handler<SQSEvent, SQSBatchResponse>;
  assignment?: Handler<SQSEvent, SQSBatchResponse>;
  sla?: Handler<unknown, { applied: string[] }>;
  survey?: Handler<unknown, { applied: string[] }>;
  agent?: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
  customer?: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
} = {};
let store: ComplaintStore;

const AGENT = {
  sub: 'u-1',
  'cognito:groups': '[agent]',
  'custom:department': 'billing',
  'custom:agent_id': '',
};
const SUPERVISOR = {
  sub: 'u-2',
  'cognito:groups': '[supervisor]',
  'custom:department': 'billing',
  'custom:agent_id': 'sup_billing',
};

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not loaded`);
  return value;
}
const eventsOf = (type: string) => toEvents(published).filter((e) => e.detailType === type);
const setNow = (iso: string) => vi.setSystemTime(new Date(iso));

async function deliver(type: string, handler: Handler<SQSEvent, SQSBatchResponse> | undefined) {
  const event = eventsOf(type).at(-1);
  expect(event, `a published "${type}"`).toBeDefined();
  const response = await need(handler, type)(
    { Records: [sqsRecordForEvent(event as never)] },
    lambdaContext(),
  );
  expect(response.batchItemFailures).toEqual([]);
}

/** Fires the live schedule `name` at its time, as Scheduler would, through its target function. */
async function fire(name: string, target: 'sla' | 'survey') {
  const schedule = schedules.get(name);
  expect(schedule, `schedule ${name} (live: ${[...schedules.keys()].join(', ')})`).toBeDefined();
  const payload = JSON.parse(String(schedule?.Target?.Input));
  setNow(payload.at);
  const handler = target === 'sla' ? handlers.sla : handlers.survey;
  return need(handler, target)(
    payload,
    lambdaContext(target === 'sla' ? 'complaints-sla' : 'complaints-survey'),
  );
}

async function agentAction(claims: Record<string, string>, id: string, body: Record<string, unknown>) {
  const current = await store.get(id);
  const event = apiRequest('POST', `/complaints/${id}/actions`, {
    ...body,
    expectedVersion: current?.version,
  });
  const response = await need(handlers.agent, 'agent')(
    {
      ...event,
      routeKey: 'POST /complaints/{id}/actions',
      pathParameters: { id },
      requestContext: { ...event.requestContext, authorizer: { jwt: { claims, scopes: [] } } } as never,
    },
    lambdaContext('agent-api'),
  );
  expect(response.statusCode, String(response.body)).toBe(200);
  return JSON.parse(String(response.body));
}

async function customer(routeKey: string, token: string, body?: unknown) {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const event = apiRequest(method, template.replace('{token}', token), body ?? '');
  const response = await need(handlers.customer, 'customer')(
    {
      ...event,
      routeKey,
      pathParameters: { token },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    lambdaContext('customer-api'),
  );
  return { status: response.statusCode, body: JSON.parse(String(response.body)) };
}

beforeAll(async () => {
  const tableName = await createTestTable('lifecycle');
  setHandlerEnvironment(tableName, { EVENT_BUS_NAME: 'complaints-lifecycle', DEADLINE_SHARDS: '2' });
  vi.useFakeTimers({ toFake: ['Date'] });
  setNow('2026-11-24T02:00:00.000Z'); // Tuesday 10:00 in Shanghai
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  const keep = (input: CreateScheduleCommandInput) => {
    schedules.set(String(input.Name), input);
    return { ScheduleArn: `arn:aws:scheduler:::schedule/${input.Name}` };
  };
  scheduler.on(CreateScheduleCommand).callsFake(keep);
  scheduler.on(UpdateScheduleCommand).callsFake(keep);
  scheduler.on(DeleteScheduleCommand).callsFake((input: { Name: string }) => {
    schedules.delete(input.Name);
    return {};
  });
  handlers.intake = (await import('../../functions/intake/api-handler')).handler as never;
  handlers.classification = (await import('../../functions/classification/handler')).handler as never;
  handlers.assignment = (await import('../../functions/assignment/handler')).handler as never;
  handlers.sla = (await import('../../functions/sla/handler')).handler as never;
  handlers.survey = (await import('../../functions/survey/handler')).handler as never;
  handlers.agent = (await import('../../functions/agent-api/handler')).handler as never;
  handlers.customer = (await import('../../functions/customer-api/handler')).handler as never;
  store = (await import('../support/handler-runtime')).handlerRuntime().ctx.store;
});

afterAll(() => {
  vi.useRealTimers();
});

describe('a complaint from intake to a closed survey, through every handler', () => {
  it('runs the closed loop', async () => {
    // 1. Intake over HTTP.
    const intake = await need(handlers.intake, 'intake')(
      apiRequest(
        'POST',
        '/complaints',
        {
          channel: 'app',
          customer: { id: 'life-1', language: 'zh', contactRef: 'crm-9' },
          description: '会员自动续费多扣了我800元，要求退款',
        },
        { 'content-type': 'application/json', 'idempotency-key': 'lifecycle-0001' },
      ),
      lambdaContext(),
    );
    expect(intake.statusCode).toBe(202);
    const { complaintId: id, trackingToken: token } = JSON.parse(String(intake.body));

    // 2. Classification schedules every clock; 3. assignment picks a billing agent.
    await deliver(DETAIL_TYPES.complaintReceived, handlers.classification);
    expect(eventsOf(DETAIL_TYPES.complaintClassified)[0]?.detail.data).toMatchObject({
      category: 'billing_dispute',
      severity: 'important',
    });
    for (const clock of ['ack', 'fr', 'res']) expect(schedules.has(`${id}-${clock}-due`)).toBe(true);
    await deliver(DETAIL_TYPES.complaintClassified, handlers.assignment);
    const assignee = String(eventsOf(DETAIL_TYPES.complaintAssigned)[0]?.detail.data.assignee);
    expect(['bill_wu', 'bill_zheng']).toContain(assignee);
    const agent = { ...AGENT, 'custom:agent_id': assignee };

    // 4. Nobody acknowledges: warning, then breach and level-1 escalation at the deadline.
    await fire(`${id}-ack-warn`, 'sla');
    expect(eventsOf(DETAIL_TYPES.slaWarning).map((e) => e.detail.data.clock)).toEqual(['acknowledge']);
    const ackDue = JSON.parse(String(schedules.get(`${id}-ack-due`)?.Target?.Input));
    await fire(`${id}-ack-due`, 'sla');
    expect(eventsOf(DETAIL_TYPES.slaBreached)).toHaveLength(1);
    expect(eventsOf(DETAIL_TYPES.escalated).map((e) => [e.detail.data.level, e.detail.data.contact])).toEqual(
      [[1, 'lead.billing']],
    );
    // A duplicate delivery of the same timer changes nothing.
    await expect(handlers.sla?.(ackDue, lambdaContext('complaints-sla'))).resolves.toEqual({ applied: [] });
    expect(eventsOf(DETAIL_TYPES.escalated)).toHaveLength(1);
    expect(schedules.has(`${id}-ack-esc`)).toBe(true);

    // 5. The agent acknowledges: the acknowledgement clock is met, its escalation timer deleted.
    await agentAction(agent, id, { action: 'acknowledge' });
    expect(schedules.has(`${id}-ack-esc`)).toBe(false);

    // 6. The agent asks for information (clocks pause); the customer replies 2 working hours later.
    const resBefore = (await store.get(id))?.deadlines.resolution?.dueAt ?? '';
    setNow('2026-11-24T05:30:00.000Z'); // 13:30
    await agentAction(agent, id, { action: 'request-info', message: '请提供扣款记录截图' });
    expect(schedules.has(`${id}-res-due`)).toBe(false);
    setNow('2026-11-24T07:30:00.000Z'); // 15:30: two working hours later
    expect((await customer('POST /track/{token}/replies', token, { message: '截图已上传' })).status).toBe(
      200,
    );
    const resumed = await store.get(id);
    // The info request was the first response; the resolution clock (calendar time) was
    // paused for exactly two hours and moved by exactly that.
    expect(resumed?.deadlines.firstResponse?.state).toBe('met');
    expect(Date.parse(resumed?.deadlines.resolution?.dueAt ?? '') - Date.parse(resBefore)).toBe(7_200_000);
    const resDue = schedules.get(`${id}-res-due`);
    expect(resDue).toBeDefined();
    expect(resumed?.clockLog.some((e) => e.event === 'resumed' && e.detail?.pausedSeconds === 7200)).toBe(
      true,
    );

    // 7. 800 yuan is over the approval threshold: propose → pending approval → supervisor approves → resolve.
    await agentAction(agent, id, {
      action: 'propose-solution',
      solution: '退还多扣的800元',
      compensation: { amount: 800, currency: 'CNY' },
    });
    expect((await store.get(id))?.status).toBe('pending_approval');
    await agentAction(SUPERVISOR, id, { action: 'approve', note: '核实无误' });
    await agentAction(agent, id, {
      action: 'resolve',
      rootCause: '续费任务重复执行',
      solution: '退还多扣的800元',
      compensation: { amount: 800, currency: 'CNY' },
    });
    expect((await store.get(id))?.status).toBe('resolved');
    expect(schedules.get(`${id}-survey-send`)?.Target?.Arn).toContain('complaints-survey');

    // 8. The survey goes out; a low score reopens the complaint and escalates one level up.
    await fire(`${id}-survey-send`, 'survey');
    expect(eventsOf(DETAIL_TYPES.surveyRequested)).toHaveLength(1);
    expect(schedules.has(`${id}-survey-close`)).toBe(true);
    expect((await customer('POST /surveys/{token}', token, { score: 2, comment: '退款太慢' })).status).toBe(
      200,
    );
    expect((await store.get(id))?.status).toBe('reopened');
    expect(eventsOf(DETAIL_TYPES.reopened)).toHaveLength(1);
    expect(eventsOf(DETAIL_TYPES.escalated).at(-1)?.detail.data).toMatchObject({
      reason: 'reopened',
      contact: 'lead.billing',
    });
    expect(schedules.has(`${id}-survey-close`)).toBe(false);
    expect(schedules.has(`${id}-res-due`)).toBe(true);

    // 9. Worked again and resolved; the second survey is answered well and the complaint closes.
    await agentAction(agent, id, { action: 'acknowledge' });
    await agentAction(agent, id, { action: 'respond', message: '退款已加急处理，预计今天到账' });
    await agentAction(agent, id, {
      action: 'resolve',
      rootCause: '退款通道延迟',
      solution: '加急退款已到账',
    });
    await fire(`${id}-survey-send`, 'survey');
    expect((await customer('POST /surveys/{token}', token, { score: 5 })).status).toBe(200);

    const closed = await store.get(id);
    expect(closed?.status).toBe('closed');
    expect(closed?.survey?.outcome).toBe('satisfied');
    expect([...schedules.keys()].filter((k) => k.startsWith(id))).toEqual([]);
    expect(eventsOf(DETAIL_TYPES.closed)).toHaveLength(1);
    const track = await customer('GET /track/{token}', token);
    expect(track.body.status).toBe('closed');
    expect(JSON.stringify(track.body)).not.toContain(assignee);
    // The clock log proves what happened to each clock.
    const ackLog = closed?.clockLog.filter((e) => e.clock === 'acknowledge').map((e) => e.event);
    expect(ackLog?.slice(0, 5)).toEqual(['started', 'warned', 'breached', 'escalated', 'met']);
  });
});
