import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import type { Principal } from '../../shared/auth/principal';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { hashToken } from '../../shared/domain/identifiers';
import { redactTimelineEntry } from '../../shared/domain/privacy';
import { REPORTED_DETAIL_TYPES } from '../../shared/domain/reporting/facts';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { ActionCommand } from '../../shared/services/actions';
import type { PrivacyContext } from '../../shared/services/privacy';
import type { ReportingContext } from '../../shared/services/reporting';
import { submission } from '../support/fixtures';
import { apiRequest, lambdaContext, toEvents } from '../support/lambda';
import { readableItem } from '../support/table-dump';
import { CLAIMS, type Who } from './support/callers';
import { createTestTable, localDynamoClient } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * Erasure and retention, played as attacks, through the privacy handlers against DynamoDB Local and
 * a real SQS server (local-aws-sqs) for the worker queue; EventBridge and Scheduler are replaced at
 * the SDK boundary (their payloads are recorded). Complaints are driven by the real services through
 * replies, messages, a resolution and a survey, and every lifecycle event is folded into the report
 * aggregates, so "the figures do not change" is measured on the real buckets.
 *
 * After an erasure a test-only Scan of the whole test table looks for every personal string: the
 * description, demand, title, scenario, references, replies, messages, survey comment, customer id,
 * contact reference and tracking token. Any hit fails the test.
 */

const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const scheduler = mockClient(SchedulerClient);

type Api = (e: APIGatewayProxyEventV2, c: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
let privacyApi: Api;
let worker: (e: SQSEvent, c: unknown) => Promise<SQSBatchResponse>;
let retention: (e: unknown, c: unknown) => Promise<{ erasureId: string; started: boolean }>;
let ctx: PrivacyContext;
let reporting: ReportingContext;
let tableName: string;
let sqsServer: Server;
let sqs: SQSClient;
let queueUrl: string;
let services: {
  receive: typeof import('../../shared/services/intake').receiveComplaint;
  classify: typeof import('../../shared/services/classification').classifyComplaint;
  assign: typeof import('../../shared/services/assignment').assignComplaint;
  act: typeof import('../../shared/services/actions').performAction;
  reply: typeof import('../../shared/services/customer').customerReply;
  survey: typeof import('../../shared/services/customer').answerSurvey;
  record: typeof import('../../shared/services/reporting').recordLifecycleEvent;
};

const setNow = (iso: string) => vi.setSystemTime(new Date(iso));
const tick = () => vi.setSystemTime(new Date(Date.now() + 1000));
/** Tuesday 24 November 2026, 10:00 in Shanghai: a working day. */
const T0 = '2026-11-24T02:00:00.000Z';
const AGENT: Principal = { id: 'cs_wang', role: 'agent', department: 'customer_service' };

beforeAll(async () => {
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
  sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  queueUrl = String(
    (
      await sqs.send(
        new CreateQueueCommand({ QueueName: 'erasure', Attributes: { VisibilityTimeout: '60' } }),
      )
    ).QueueUrl,
  );
  tableName = await createTestTable('privacy');
  setHandlerEnvironment(tableName, {
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    ERASURE_QUEUE_URL: queueUrl,
    // Small rounds, so one erasure takes several and the continuation path is exercised.
    ERASURE_CHUNK_ITEMS: '7',
  });
  vi.useFakeTimers({ toFake: ['Date'] });
  setNow(T0);
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
  privacyApi = (await import('../../functions/privacy/api-handler')).handler as never;
  worker = (await import('../../functions/privacy/worker')).handler as never;
  retention = (await import('../../functions/privacy/retention-handler')).handler as never;
  const runtime = (await import('../support/handler-runtime')).handlerRuntime();
  ctx = (await import('../../shared/handlers/privacy-runtime')).createPrivacyContext(runtime);
  reporting = (await import('../../shared/handlers/runtime')).createReportingContext(runtime);
  services = {
    receive: (await import('../../shared/services/intake')).receiveComplaint,
    classify: (await import('../../shared/services/classification')).classifyComplaint,
    assign: (await import('../../shared/services/assignment')).assignComplaint,
    act: (await import('../../shared/services/actions')).performAction,
    reply: (await import('../../shared/services/customer')).customerReply,
    survey: (await import('../../shared/services/customer')).answerSurvey,
    record: (await import('../../shared/services/reporting')).recordLifecycleEvent,
  };
});

afterAll(async () => {
  vi.useRealTimers();
  sqs?.destroy();
  await new Promise((r) => sqsServer?.close(r));
});

// ---------------------------------------------------------------------------
// Seeding: real services, every lifecycle event folded into the report aggregates

/**
 * The personal strings one seeded complaint stores (all unique, so a table-wide search is exact). The
 * tracking token is apart: whether the idempotency claim keeps it is another work package's matter,
 * but after an erasure it must be gone either way (see {@link allSecrets}).
 */
interface Seeded {
  id: string;
  token: string;
  customerId: string;
  secrets: string[];
}

/** Everything of these complaints that must not survive an erasure: texts, ids, tokens and token hashes. */
const allSecrets = (seeded: readonly Seeded[]) =>
  seeded.flatMap((s) => [...s.secrets, s.token, hashToken(s.token)]);

/** Folds every lifecycle event published so far into the report facts and buckets (as the aggregator would). */
async function aggregate(): Promise<void> {
  for (const event of toEvents(published.splice(0))) {
    if (!(REPORTED_DETAIL_TYPES as readonly string[]).includes(event.detailType)) continue;
    await services.record(reporting, { detailType: event.detailType, detail: event.detail as never });
  }
}

async function act(id: string, command: Record<string, unknown>): Promise<void> {
  const current = await ctx.store.get(id);
  await services.act(ctx, AGENT, id, {
    ...command,
    expectedVersion: current?.version ?? 0,
  } as unknown as ActionCommand);
  tick();
}

/**
 * A complaint of `customerId` with everything personal a complaint can hold: title, description,
 * demand, scenario, target, evidence, contact reference; an agent's info request, the customer's
 * reply; then (closed) a resolution and a survey comment, or (open) a second reply.
 */
async function seed(customerId: string, outcome: 'closed' | 'open'): Promise<Seeded> {
  const m = randomUUID().slice(0, 8);
  const s = {
    title: `TITLE-${m}`,
    description: `客服态度很差，电话里直接挂断了，投诉这个客服 DESC-${m}`,
    demand: `DEMAND-${m}`,
    scenario: `SCENARIO-${m}`,
    target: `TARGET-${m}`,
    evidence: `https://evidence.example.com/EVIDENCE-${m}.png`,
    contactRef: `CONTACT-${m}`,
    infoRequest: `AGENTMSG-${m} 请提供通话时间`,
    reply: `REPLY-${m} 昨天下午三点`,
    rootCause: `ROOTCAUSE-${m}`,
    solution: `SOLUTION-${m}`,
    comment: `COMMENT-${m}`,
    reply2: `SECONDREPLY-${m}`,
  };
  const received = await services.receive(ctx, {
    submission: ComplaintSubmissionSchema.parse(
      submission({
        customer: { id: customerId, language: 'zh', contactRef: s.contactRef },
        title: s.title,
        description: s.description,
        demand: s.demand,
        scenario: s.scenario,
        target: { type: 'staff_member', ref: s.target },
        evidence: [{ kind: 'screenshot', ref: s.evidence }],
      }),
    ),
    sourceSystem: 'privacy-test',
    messageId: `msg-${m}`,
    idempotency: { kind: 'event', source: 'privacy-test', messageId: `msg-${m}` },
    submitter: { kind: 'producer', source: 'privacy-test' },
  });
  const id = received.complaintId;
  tick();
  await services.classify(ctx, id);
  tick();
  await services.assign(ctx, id);
  tick();
  await act(id, { action: 'acknowledge' });
  await act(id, { action: 'request-info', message: s.infoRequest });
  await services.reply(ctx, received.trackingToken, { message: s.reply });
  tick();
  const secrets = [s.title, `DESC-${m}`, s.demand, s.scenario, s.target, `EVIDENCE-${m}`, s.contactRef];
  secrets.push(`AGENTMSG-${m}`, `REPLY-${m}`, customerId);
  if (outcome === 'closed') {
    await act(id, { action: 'resolve', rootCause: s.rootCause, solution: s.solution });
    await services.survey(ctx, received.trackingToken, { score: 5, comment: s.comment });
    tick();
    secrets.push(s.rootCause, s.solution, s.comment);
  } else {
    await services.reply(ctx, received.trackingToken, { message: s.reply2 });
    tick();
    secrets.push(`SECONDREPLY-${m}`);
  }
  await aggregate();
  return { id, token: received.trackingToken, customerId, secrets };
}

// ---------------------------------------------------------------------------
// The table, the API, the queue

/** Test-only: every item of the test table (the service itself never scans). */
async function scanTable(): Promise<Record<string, unknown>[]> {
  const db = DynamoDBDocumentClient.from(localDynamoClient());
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []).map(readableItem));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Where in the table each string still occurs (item keys), for a readable failure. */
async function findInTable(strings: readonly string[]): Promise<Record<string, string[]>> {
  const items = await scanTable();
  const hits: Record<string, string[]> = {};
  for (const item of items) {
    const text = JSON.stringify(item);
    for (const s of strings) {
      if (text.includes(s)) hits[s] = [...(hits[s] ?? []), `${String(item.pk)} / ${String(item.sk)}`];
    }
  }
  return hits;
}

/** The report aggregates (day and month buckets, facts, first day) as stored. */
async function reportItems(): Promise<string> {
  const items = (await scanTable())
    .filter((i) => /^(AGG#|FACTS#|REPORTING)/.test(String(i.pk)))
    .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`));
  return JSON.stringify(items);
}

function request(who: Who, routeKey: string, options: { body?: unknown; erasureId?: string } = {}) {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const path = template.replace('{erasureId}', options.erasureId ?? '');
  const event = apiRequest(method, path, options.body ?? '', {
    'content-type': 'application/json',
    ...(who === 'customerToken' ? { authorization: 'Bearer not-a-jwt' } : {}),
  });
  const claims = CLAIMS[who];
  return {
    ...event,
    routeKey,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    pathParameters: options.erasureId === undefined ? undefined : { erasureId: options.erasureId },
    requestContext: {
      ...event.requestContext,
      routeKey,
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

async function call(event: APIGatewayProxyEventV2) {
  const response = await privacyApi(event, lambdaContext('privacy-api'));
  return { status: response.statusCode ?? 0, body: JSON.parse(String(response.body ?? 'null')) };
}

const erase = (customerId: string, who: Who = 'admin') =>
  call(request(who, 'POST /privacy/erasures', { body: { customerId, reason: 'customer_request' } }));
const status = (erasureId: string, who: Who = 'admin') =>
  call(request(who, 'GET /privacy/erasures/{erasureId}', { erasureId }));

function toRecord(message: Message): SQSRecord {
  return {
    messageId: String(message.MessageId),
    receiptHandle: String(message.ReceiptHandle),
    body: String(message.Body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:erasure',
    awsRegion: 'us-east-1',
  };
}

async function receiveOne(): Promise<Message | undefined> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }),
  );
  return Messages?.[0];
}

/**
 * Delivers the queue's messages to the worker one at a time, as the event source mapping would
 * (batch size 1): a handled message is deleted, a failed one becomes visible again. Returns the rounds.
 */
async function drainQueue(maxRounds = 200): Promise<number> {
  for (let rounds = 0; rounds < maxRounds; rounds++) {
    const message = await receiveOne();
    if (message === undefined) return rounds;
    const response = await worker({ Records: [toRecord(message)] }, lambdaContext('erasure-worker'));
    if (response.batchItemFailures.length === 0) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } else {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
  }
  throw new Error(`The erasure queue was not empty after ${maxRounds} rounds`);
}

const erasedEvents = () =>
  toEvents(published).filter((e) => e.detailType === DETAIL_TYPES.customerDataErased);

/** What an erasure of these complaints must count, from the table before it ran. */
async function expectedCounts(seeded: readonly Seeded[]) {
  let timelineEntries = 0;
  for (const s of seeded) {
    const entries = await ctx.store.timeline(s.id);
    timelineEntries += entries.filter((e) => redactTimelineEntry(e) !== undefined).length;
  }
  return {
    complaints: seeded.length,
    timelineEntries,
    idempotencyClaims: seeded.length,
    trackingPointers: seeded.length,
    customerDirectoryEntries: 0,
  };
}

// ---------------------------------------------------------------------------

describe('erasure: POST /privacy/erasures, the worker, then a table-wide search', () => {
  it('leaves none of the customer’s personal data anywhere, keeps the figures and the other customers', async () => {
    const customer = `cust-erase-${randomUUID()}`;
    const closed = await seed(customer, 'closed');
    const open = await seed(customer, 'open');
    const bystander = await seed(`cust-keep-${randomUUID()}`, 'closed');
    const counts = await expectedCounts([closed, open]);
    const before = await reportItems();
    // The search works: before the erasure it finds every secret.
    const wanted = [...new Set([...closed.secrets, ...open.secrets, hashToken(closed.token)])];
    expect(Object.keys(await findInTable(wanted)).sort()).toEqual([...wanted].sort());

    const accepted = await erase(customer);
    expect(accepted).toMatchObject({ status: 202, body: { erasureId: expect.any(String) } });
    const { erasureId } = accepted.body;
    expect(await status(erasureId)).toMatchObject({ status: 200, body: { status: 'running' } });

    const rounds = await drainQueue();

    const done = await status(erasureId);
    expect(done).toMatchObject({
      status: 200,
      body: {
        erasureId,
        status: 'completed',
        trigger: 'request',
        reason: 'customer_request',
        requestedBy: 'admin:admin_1',
        erased: counts,
      },
    });
    expect(done.body.completedAt).toEqual(expect.any(String));
    expect(JSON.stringify(done.body)).not.toContain(customer);

    // Nothing personal left in any item or index attribute; the token hash is gone too.
    expect(await findInTable(allSecrets([closed, open]))).toEqual({});
    // The bystander's data is still there (the search would find an erased customer's too).
    expect(Object.keys(await findInTable(bystander.secrets))).toHaveLength(bystander.secrets.length);

    expect(rounds, 'several bounded rounds (7 items each)').toBeGreaterThan(2);
    // Not found by the customer's key, nor by the old tracking link.
    expect(await ctx.store.recentByCustomer(customer, '2000-01-01T00:00:00.000Z', 'verified')).toEqual([]);
    expect(await ctx.store.recentByCustomer(customer, '2000-01-01T00:00:00.000Z', 'anonymous')).toEqual([]);
    expect(await ctx.store.getByTrackingTokenHash(hashToken(closed.token))).toBeUndefined();
    expect(
      await ctx.store.recentByCustomer(bystander.customerId, '2000-01-01T00:00:00.000Z', 'verified'),
    ).toHaveLength(1);

    // The complaints themselves stay, anonymous: status, category, channel, times, score.
    const kept = await ctx.store.get(closed.id);
    expect(kept).toMatchObject({ status: 'closed', erasure: { erasureId }, survey: { score: 5 } });
    expect(kept?.submission.customer.id).toMatch(/^erased:/);
    expect(kept?.classification?.category).toEqual(expect.any(String));

    // Report figures (facts, day and month buckets) unchanged.
    expect(await reportItems()).toBe(before);

    // The audit event carries the erasure id and counts only.
    const events = erasedEvents();
    expect(events).toHaveLength(1);
    expect(events[0]?.source).toBe('complaints.privacy');
    expect(events[0]?.detail.data).toMatchObject({ erasureId, erased: counts });
    expect(JSON.stringify(events[0])).not.toContain(customer);
  });

  it('answers a second request for the same customer with the same erasure, and erases nothing twice', async () => {
    const customer = `cust-twice-${randomUUID()}`;
    const seeded = await seed(customer, 'closed');
    const counts = await expectedCounts([seeded]);
    const first = await erase(customer);
    const again = await erase(customer);
    expect(again).toEqual(first);
    await drainQueue();
    const after = await status(first.body.erasureId);
    expect(after.body).toMatchObject({ status: 'completed', erased: counts });
    // After completion: still the same erasure, no new work, same counts.
    expect(await erase(customer)).toEqual(first);
    expect(await drainQueue()).toBe(0);
    expect((await status(first.body.erasureId)).body.erased).toEqual(counts);
    // A redelivered message of a completed erasure changes nothing either.
    const redelivered = await worker(
      {
        Records: [
          toRecord({
            MessageId: 'again',
            ReceiptHandle: 'rh',
            Body: JSON.stringify({ erasureId: first.body.erasureId }),
          }),
        ],
      },
      lambdaContext('erasure-worker'),
    );
    expect(redelivered.batchItemFailures).toEqual([]);
    expect((await status(first.body.erasureId)).body.erased).toEqual(counts);
  });

  it('resumes an erasure that crashed in the middle of a complaint, and counts everything once', async () => {
    const customer = `cust-crash-${randomUUID()}`;
    const seeded = [await seed(customer, 'closed'), await seed(customer, 'closed')];
    const counts = await expectedCounts(seeded);
    const accepted = await erase(customer);
    const message = await receiveOne();
    expect(message).toBeDefined();

    // The first round dies after the first chunk of writes: before the complaint record is redacted
    // and before any continuation is sent. The message is not deleted (the invocation failed).
    const { continueErasure } = await import('../../shared/services/privacy');
    const crashing: PrivacyContext = {
      ...ctx,
      chunkItems: 7,
      privacy: Object.assign(Object.create(Object.getPrototypeOf(ctx.privacy)), ctx.privacy, {
        redactComplaint: async () => {
          throw new Error('simulated crash');
        },
      }),
      erasureQueue: {
        send: async () => {
          throw new Error('simulated crash');
        },
      },
    };
    await expect(continueErasure(crashing, { erasureId: accepted.body.erasureId })).rejects.toThrow(
      'simulated crash',
    );
    const partial = await status(accepted.body.erasureId);
    expect(partial.body.status).toBe('running');
    expect(partial.body.erased.timelineEntries).toBeGreaterThan(0);
    expect(partial.body.erased.complaints).toBe(0);

    // SQS delivers the message again; the real worker resumes and completes.
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await drainQueue();
    const done = await status(accepted.body.erasureId);
    expect(done.body).toMatchObject({ status: 'completed', erased: counts });
    expect(await findInTable(allSecrets(seeded))).toEqual({});
  });
});

describe('POST /privacy/erasures: who may, and what is refused', () => {
  const WHO: Who[] = ['anonymous', 'customerToken', 'otherAgent', 'agent', 'supervisor', 'admin'];
  const expected: Record<Who, number> = {
    anonymous: 401,
    customerToken: 401,
    otherAgent: 403,
    agent: 403,
    supervisor: 403,
    admin: 202,
  };

  it.each(WHO)('POST as %s', async (who) => {
    const customer = `cust-matrix-${who}-${randomUUID()}`;
    const seeded = await seed(customer, 'open');
    const response = await erase(customer, who);
    expect(response.status).toBe(expected[who]);
    await drainQueue();
    // Refused callers erased nothing.
    const left = await findInTable(seeded.secrets);
    expect(Object.keys(left).length).toBe(who === 'admin' ? 0 : seeded.secrets.length);
  });

  it.each(WHO)('GET as %s', async (who) => {
    const { body } = await erase(`cust-get-${randomUUID()}`);
    await drainQueue();
    expect((await status(body.erasureId, who)).status).toBe(expected[who] === 202 ? 200 : expected[who]);
  });

  it('answers bad bodies and ids with 400 naming the field, and an unknown erasure with 404', async () => {
    const post = (body: unknown) => call(request('admin', 'POST /privacy/erasures', { body }));
    expect(await post({ reason: 'customer_request' })).toMatchObject({
      status: 400,
      body: { errors: [{ field: 'customerId' }] },
    });
    expect(await post({ customerId: 'c-1', reason: 'because he called me' })).toMatchObject({
      status: 400,
      body: { errors: [{ field: 'reason' }] },
    });
    // `retention` is the schedule's own reason, not one an admin states.
    expect((await post({ customerId: 'c-1', reason: 'retention' })).status).toBe(400);
    expect((await post({ customerId: 'c-1', reason: 'other', note: 'x' })).status).toBe(400);
    expect((await post({ customerId: 'x'.repeat(129), reason: 'other' })).body.errors[0].field).toBe(
      'customerId',
    );
    expect((await status('not-an-id')).status).toBe(400);
    expect((await status('01KAVZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
    expect(await drainQueue()).toBe(0);
  });
});

describe('retention: the daily run erases what closed long enough ago, and nothing younger', () => {
  it('erases a closed complaint past the retention period and keeps one inside it', async () => {
    const days = ctx.policy.privacy.retentionDays;
    setNow(T0);
    const old = await seed(`cust-old-${randomUUID()}`, 'closed');
    // Closed 200 days later: inside the period at the run below.
    setNow(new Date(Date.parse(T0) + 200 * 86_400_000).toISOString());
    const young = await seed(`cust-young-${randomUUID()}`, 'closed');
    const openOne = await seed(`cust-open-${randomUUID()}`, 'open');
    const before = await reportItems();

    setNow(new Date(Date.parse(T0) + (days + 1) * 86_400_000).toISOString());
    const run = await retention({}, lambdaContext('retention'));
    expect(run.started).toBe(true);
    // Twice on the same day is the same run.
    expect(await retention({}, lambdaContext('retention'))).toEqual({ ...run, started: false });
    await drainQueue();

    const done = await status(run.erasureId);
    expect(done.body).toMatchObject({
      status: 'completed',
      trigger: 'retention',
      reason: 'retention',
      requestedBy: 'system:retention',
    });
    expect(done.body.erased.complaints).toBeGreaterThanOrEqual(1);
    expect(await findInTable(allSecrets([old]))).toEqual({});
    expect((await ctx.store.get(old.id))?.erasure?.erasureId).toBe(run.erasureId);
    // Closed inside the period, or still open: untouched.
    expect(Object.keys(await findInTable(young.secrets))).toHaveLength(young.secrets.length);
    expect(Object.keys(await findInTable(openOne.secrets))).toHaveLength(openOne.secrets.length);
    expect((await ctx.store.get(young.id))?.erasure).toBeUndefined();
    expect(await reportItems()).toBe(before);
    setNow(T0);
  });
});
