import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../infra/local/dynamodb-local';
import type { AcceptedEvent } from '../../infra/local/eventbridge-server';
import { createLocalIssuer } from '../../infra/local/jwt';
import { createUsageMeter } from '../../infra/local/metering/usage-meter';
import { accessKeyOf, type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime';
import { runScenario, SCENARIO_STEP_COUNT, type ScenarioSummary } from '../../infra/local/scenario';
import { functionOfAccessKey } from '../../infra/local/wiring/iam';
import type { Report } from '../../shared/domain/reporting/report';
import { DETAIL_TYPES } from '../../shared/events/names';
import { KmsServiceKeys } from '../../shared/security/service-keys';
import { CASE_FILES, expectCaseThroughSdk } from '../support/conformance';
import { eventually } from '../support/eventually';

/**
 * End to end through the local runtime: the app synthesized as `npm start` synthesizes it, run by
 * `startLocalRuntime` — template tables, queues, rules, event source mappings, schedule groups,
 * HTTP API routes and the Lambda bundles — and driven only through its endpoints with real clients.
 */

type Json = Record<string, any>;

let runtime: LocalRuntime;
const accepted: AcceptedEvent[] = [];
/** Counts what the run uses where AWS bills it (`npm run cost` reads the same meter). */
const meter = createUsageMeter({ callerOf: functionOfAccessKey });
const clientConfig = () => ({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS });

beforeAll(async () => {
  runtime = await startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    tableNameSuffix: `-${Date.now()}`,
    issuer: createLocalIssuer({ dir: mkdtempSync(join(tmpdir(), 'e2e-jwt-')) }),
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    asyncRetryDelayMs: 50,
    log: () => undefined,
    meter,
  });
  runtime.onEvent((e) => accepted.push(e));
});

afterAll(async () => {
  await runtime?.close();
});

const eventsOf = (complaintId: string, type?: string) =>
  accepted.filter(
    (a) =>
      (a.event.detail as { data?: { complaintId?: string } }).data?.complaintId === complaintId &&
      (type === undefined || a.event['detail-type'] === type),
  );
const dataOf = (a: AcceptedEvent | undefined) => {
  expect(a, 'the event was published').toBeDefined();
  return (a?.event.detail as { data: Record<string, any> } | undefined)?.data ?? {};
};

async function supervisorView(id: string): Promise<any> {
  const token = runtime.issuer.tokenFor({ role: 'admin' });
  const response = await fetch(`${runtime.endpoints.httpApi}/complaints/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return response.json();
}

describe('the local runtime, end to end', () => {
  let summary: ScenarioSummary;

  it('plays the full lifecycle: HTTP and event intake, classification, assignment, escalation at the deadline, pause and resume, approval, resolution, survey, reopen, close', async () => {
    summary = await runScenario(runtime, { stepTimeoutMs: 45_000 });
    expect(summary.steps).toHaveLength(SCENARIO_STEP_COUNT);
    const stepsOf = (c: 'A' | 'B') => summary.steps.filter((s) => s.complaint === c).map((s) => s.step);
    expect(stepsOf('A')).toEqual([
      'received',
      'classified',
      'assigned',
      'warned',
      'escalated',
      'acknowledged',
      'info requested',
      'customer replied',
      'solution proposed',
      'approved',
      'resolved',
      'surveyed',
      'reopened',
      'resolved again',
      'surveyed again',
      'closed',
    ]);
    expect(stepsOf('B')).toEqual(['received', 'classified', 'assigned']);
    expect(summary.eventCounts).toMatchObject({
      [DETAIL_TYPES.complaintReceived]: 2,
      [DETAIL_TYPES.complaintClassified]: 2,
      [DETAIL_TYPES.complaintAssigned]: 2,
      [DETAIL_TYPES.resolved]: 2,
      [DETAIL_TYPES.surveyRequested]: 2,
      [DETAIL_TYPES.surveyAnswered]: 2,
      [DETAIL_TYPES.reopened]: 1,
      [DETAIL_TYPES.closed]: 1,
    });
  });

  it('metered the lifecycle where AWS bills it: DynamoDB units per function, events, queue and HTTP requests', async () => {
    await meter.settled();
    expect(meter.replayFailures()).toBe(0);
    const usage = meter.snapshot();
    const intake = runtime.functionNamed('IntakeApiFunction').logicalId;
    // The HTTP intake wrote the complaint in one transaction, billed 2 units per item at least.
    expect(usage.calls[intake]?.['dynamodb:TransactWriteItems']).toBeGreaterThanOrEqual(1);
    for (const [fn, units] of Object.entries(usage.dynamodb)) {
      const transactions = usage.calls[fn]?.['dynamodb:TransactWriteItems'] ?? 0;
      expect(units.writeUnits, fn).toBeGreaterThanOrEqual(2 * transactions);
    }
    expect(usage.dynamodb[intake]?.writeUnits).toBeGreaterThan(0);
    // Every complaint was announced on the bus, in chunks of 64 KB (each well under one).
    const received = usage.events['complaints.intake'];
    expect(received?.entries).toBeGreaterThanOrEqual(2);
    expect(received?.chunks).toBe(received?.entries);
    // The HTTP calls of the scenario, the rule deliveries to queues, the pollers' receives and deletes.
    expect(usage.http.requests).toBeGreaterThanOrEqual(10);
    expect(usage.queueDeliveries).toBeGreaterThanOrEqual(6);
    const sources = runtime.eventSourceStats();
    expect(sources.reduce((n, s) => n + s.receivesWithMessages, 0)).toBeGreaterThanOrEqual(6);
    expect(sources.reduce((n, s) => n + s.batchCalls, 0)).toBeGreaterThanOrEqual(6);
    // Each empty poll is not a billed receive here (Lambda's long polls are priced as a fixed cost).
    for (const s of sources) expect(s.receivesWithMessages).toBeLessThanOrEqual(s.polls);
  });

  it('escalated the missed acknowledgement at its deadline, through a Scheduler timer', () => {
    const { id } = summary.complaints.A;
    const breach = dataOf(
      eventsOf(id, DETAIL_TYPES.slaBreached).find((e) => dataOf(e).clock === 'acknowledge'),
    );
    const escalation = eventsOf(id, DETAIL_TYPES.escalated).map(dataOf);
    expect(escalation[0]).toMatchObject({
      clock: 'acknowledge',
      level: 1,
      reason: 'deadline_missed',
      detectedBy: 'timer',
    });
    expect(escalation.at(-1)).toMatchObject({ reason: 'reopened' });
    // The timer fired within two seconds of the deadline (one-second precision locally, plus a tick).
    const firing = runtime.scheduler.fired().find((f) => f.name === `${id}-ack-due`);
    expect(firing?.outcome).toBe('succeeded');
    const late = (firing?.at.getTime() ?? 0) - Date.parse(breach.dueAt);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(2_000);
  });

  it('stored the closed complaint with its paused and resumed clocks, the approval and the survey answers', async () => {
    const view = await supervisorView(summary.complaints.A.id);
    expect(view.status).toBe('closed');
    expect(view.reopenCount).toBe(1);
    const log = view.clockLog.map((e: { clock: string; event: string }) => `${e.clock}:${e.event}`);
    expect(log).toContain('acknowledge:breached');
    expect(log).toContain('resolution:paused');
    expect(log).toContain('resolution:resumed');
    expect(log.indexOf('resolution:paused')).toBeLessThan(log.indexOf('resolution:resumed'));
    const types = view.timeline.map((t: { type: string }) => t.type);
    expect(types).toEqual(expect.arrayContaining(['solution_approved', 'reopened', 'closed']));
    const b = await supervisorView(summary.complaints.B.id);
    expect(b.status).toBe('assigned');
    expect(b.submission.channel).toBe('web');
    expect(b.source.system).toBe('shop.orders');
  });

  it("serves the report of the scenario's day from the aggregates: JSON and HTML for supervisors, not for agents", async () => {
    // The business days (Asia/Shanghai) the two complaints' events fell on: usually one.
    const ids = [summary.complaints.A.id, summary.complaints.B.id];
    const days = new Set(
      accepted
        .filter((a) =>
          ids.includes((a.event.detail as { data?: { complaintId?: string } }).data?.complaintId ?? ''),
        )
        .map((a) => DateTime.fromISO(a.event.time).setZone('Asia/Shanghai').toISODate() as string),
    );
    const supervisor = runtime.issuer.tokenFor({
      role: 'supervisor',
      department: 'billing',
      agentId: 'lead.billing',
    });
    const get = (day: string, accept = 'application/json', token = supervisor) =>
      fetch(`${runtime.endpoints.httpApi}/reports/daily/${day}`, {
        headers: { authorization: `Bearer ${token}`, accept },
      });
    // The aggregator consumes the events asynchronously: poll until both complaints' stories are counted.
    const figures = await eventually(
      async () => {
        const all = await Promise.all(
          [...days].map(async (day) => ((await (await get(day)).json()) as Report).figures),
        );
        const sum = (f: (r: Report['figures']) => number) => all.reduce((n, r) => n + f(r), 0);
        return {
          received: sum((r) => r.volume.received),
          resolved: sum((r) => r.reopen.resolved),
          reopened: sum((r) => r.reopen.reopened),
          closed: sum((r) => r.closed),
          answers: sum((r) => r.satisfaction.answers),
          scoreSum: sum((r) => (r.satisfaction.average ?? 0) * r.satisfaction.answers),
          ackBreached: sum((r) => r.sla.acknowledge.breached),
          escalations: sum((r) => r.escalations.total),
        };
      },
      (f) => f.received === 2 && f.closed === 1 && f.answers === 2 && f.resolved === 2,
    );
    expect(figures).toMatchObject({
      received: 2,
      resolved: 2,
      reopened: 1,
      closed: 1,
      answers: 2,
      scoreSum: 6,
    });
    expect(figures.ackBreached).toBeGreaterThanOrEqual(1);
    expect(figures.escalations).toBe(summary.eventCounts[DETAIL_TYPES.escalated]);
    const day = [...days][0] as string;
    const json = (await (await get(day)).json()) as Report;
    expect(json.partial).toBe(true);
    const html = await get(day, 'text/html');
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(await html.text()).toMatch(/<svg[^>]+data-chart=/);
    const agent = runtime.issuer.tokenFor({ role: 'agent', department: 'billing', agentId: 'bill_wu' });
    expect((await get(day, 'application/json', agent)).status).toBe(403);
    expect((await get('2026-13-01')).status).toBe(400);
  });

  it("erases customer A's personal data through POST /privacy/erasures and the worker queue; the complaint stays, anonymous", async () => {
    const admin = runtime.issuer.tokenFor({ role: 'admin' });
    const api = (method: string, path: string, token: string, body?: unknown) =>
      fetch(`${runtime.endpoints.httpApi}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const agent = runtime.issuer.tokenFor({ role: 'agent', department: 'billing', agentId: 'bill_wu' });
    const request = { customerId: 'demo-customer-a', reason: 'customer_request' };
    expect((await api('POST', '/privacy/erasures', agent, request)).status).toBe(403);
    const posted = await api('POST', '/privacy/erasures', admin, request);
    expect(posted.status).toBe(202);
    const { erasureId } = (await posted.json()) as { erasureId: string };
    const done = await eventually(
      async () => (await api('GET', `/privacy/erasures/${erasureId}`, admin)).json() as Promise<Json>,
      (e) => e.status === 'completed',
      30_000,
    );
    expect(done.erased).toMatchObject({ complaints: 1, trackingPointers: 1, idempotencyClaims: 1 });
    expect(JSON.stringify(done)).not.toContain('demo-customer-a');
    const a = await supervisorView(summary.complaints.A.id);
    expect(a.status).toBe('closed');
    expect(a.submission.customer.id).toMatch(/^erased:/);
    expect(JSON.stringify(a)).not.toMatch(/demo-customer-a|重复扣费/);
    // The erasure event went out with the id and counts only.
    const erased = accepted.find((e) => e.event['detail-type'] === DETAIL_TYPES.customerDataErased);
    expect((erased?.event.detail as { data: Json } | undefined)?.data).toMatchObject({ erasureId });
    // The daily retention rule runs against its function (nothing has been closed long enough).
    await runtime.fireScheduledRule('PrivacyRetentionRule');
  });

  it("throttles a flood on POST /complaints with API Gateway's 429 while the agent routes still answer", async () => {
    const base = runtime.endpoints.httpApi;
    // Invalid bodies: whatever passes the throttle is refused by the function without a write.
    const flood = await Promise.all(
      Array.from({ length: 80 }, () =>
        fetch(`${base}/complaints`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
      ),
    );
    const admin = runtime.issuer.tokenFor({ role: 'admin' });
    const queue = await fetch(`${base}/complaints?limit=1`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const statuses = flood.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(40);
    expect(statuses.every((s) => s === 429 || s === 400)).toBe(true);
    const throttled = flood.find((r) => r.status === 429);
    expect(await throttled?.json()).toEqual({ message: 'Too Many Requests' });
    expect(queue.status).toBe(200);
    expect(queue.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends a poison inbound event to the intake DLQ with the reason, and loses nothing else of the batch', async () => {
    const client = new EventBridgeClient({ endpoint: runtime.endpoints.eventBridge, ...clientConfig() });
    const entry = (messageId: string, data: unknown) => ({
      EventBusName: runtime.endpoints.eventBusName,
      Source: 'shop.poison-test',
      DetailType: DETAIL_TYPES.complaintReported,
      Detail: JSON.stringify({ metadata: { version: 1, messageId }, data }),
    });
    const put = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('poison-1', { channel: 'carrier-pigeon', customer: { id: 'p1' }, description: 'x' }),
          entry('good-1', {
            channel: 'web',
            customer: { id: 'p2', language: 'en' },
            description: 'My order never arrived',
          }),
        ],
      }),
    );
    client.destroy();
    expect(put.FailedEntryCount).toBe(0);
    const dlq = runtime.queueNamed('IntakeInboundDeadLetterQueue');
    const messages = await eventually(
      async () =>
        (
          await runtime.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: dlq.url,
              MessageAttributeNames: ['All'],
              MaxNumberOfMessages: 10,
            }),
          )
        ).Messages ?? [],
      (m) => m.length > 0,
    );
    expect(messages).toHaveLength(1);
    expect(JSON.parse(String(messages[0]?.Body)).detail.metadata.messageId).toBe('poison-1');
    expect(messages[0]?.MessageAttributes?.ErrorReason?.StringValue).toMatch(/channel/);
    // The good record of the same batch went on: received, classified and assigned.
    const good = await eventually(
      async () =>
        accepted.find(
          (a) =>
            a.event['detail-type'] === DETAIL_TYPES.complaintReceived &&
            dataOf(a).sourceSystem === 'shop.poison-test',
        ),
      (a) => a !== undefined,
    );
    const id = dataOf(good).complaintId;
    await eventually(
      async () => eventsOf(id, DETAIL_TYPES.complaintAssigned).length,
      (n) => n === 1,
    );
  });

  it('sends a timer invocation that keeps failing to the timer DLQ, as Lambda does after its async retries', async () => {
    const sla = runtime.functionNamed('SlaTimerFunction');
    await runtime.invokeAsync(sla.arn, { kind: 'bogus' });
    const dlq = runtime.queueNamed('TimersDeadLetterQueue');
    const messages = await eventually(
      async () => (await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url }))).Messages ?? [],
      (m) => m.length > 0,
    );
    const record = JSON.parse(String(messages[0]?.Body));
    expect(record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { kind: 'bogus' },
      responsePayload: { errorMessage: expect.stringMatching(/Invalid timer payload/) },
    });
  });

  it('runs the scheduled sweep rule from the template against the function it targets', async () => {
    const sweep = runtime.functionNamed('SlaSweepFunction');
    const before = accepted.length;
    await runtime.fireScheduledRule('SlaSweepRule');
    // A direct invocation with the same event succeeds: the sweep found nothing overdue to repair.
    const result = await sweep.lambda.invoke({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      detail: {},
    });
    expect(result.error).toBeUndefined();
    // Timers of earlier complaints may still fire meanwhile; the sweep itself repaired nothing.
    const bySweep = accepted
      .slice(before)
      .filter((a) => (a.event.detail as { data?: { detectedBy?: string } }).data?.detectedBy === 'sweep');
    expect(bySweep).toEqual([]);
  });

  it('played the whole scenario within the permissions the template grants each function', () => {
    expect(runtime.denials()).toEqual([]);
  });

  it("refuses a function's call that its role does not allow, with AWS's AccessDenied naming action and resource", async () => {
    const intake = runtime.functionNamed('IntakeApiFunction');
    const asIntake = {
      region: 'us-east-1',
      credentials: { accessKeyId: accessKeyOf(intake.logicalId), secretAccessKey: 'x' },
    };
    const events = new EventBridgeClient({ endpoint: runtime.functionEndpoints.eventBridge, ...asIntake });
    const entry = { Source: 'complaints.intake', DetailType: 'Probe', Detail: '{}' };
    // Its own bus: allowed. The default bus: not in its policy.
    const allowed = await events.send(
      new PutEventsCommand({ Entries: [{ ...entry, EventBusName: runtime.endpoints.eventBusName }] }),
    );
    expect(allowed.FailedEntryCount).toBe(0);
    await expect(
      events.send(new PutEventsCommand({ Entries: [{ ...entry, EventBusName: 'default' }] })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /assumed-role\/.+\/.*IntakeApiFunction.* is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:123456789012:event-bus\/default/,
      ),
    });
    events.destroy();
    // Intake never schedules timers: Scheduler refuses it.
    const scheduler = new SchedulerClient({ endpoint: runtime.functionEndpoints.scheduler, ...asIntake });
    await expect(
      scheduler.send(
        new CreateScheduleCommand({
          Name: 'intake-probe',
          GroupName: runtime.endpoints.scheduleGroups[0],
          ScheduleExpression: 'rate(1 hour)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: runtime.functionNamed('SurveyFunction').arn,
            RoleArn: 'arn:aws:iam::123456789012:role/x',
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('scheduler:CreateSchedule'),
    });
    scheduler.destroy();
    expect(runtime.denials().map((d) => d.function)).toEqual([intake.logicalId, intake.logicalId]);
  });

  it('lets only the functions granted the service key derive from it (kms:GenerateMac through the IAM proxy)', async () => {
    // The service's HMAC key (the template's other key is the customer-managed data key).
    const [keyArn, ...others] = Object.entries(runtime.endpoints.kmsKeys)
      .filter(([logicalId]) => logicalId.startsWith('KeysServiceKey'))
      .map(([, arn]) => arn);
    expect(others).toEqual([]);
    const kmsAs = (prefix: string) =>
      new KMSClient({
        endpoint: runtime.functionEndpoints.kms,
        region: 'us-east-1',
        credentials: {
          accessKeyId: accessKeyOf(runtime.functionNamed(prefix).logicalId),
          secretAccessKey: 'x',
        },
        maxAttempts: 1,
      });
    const intake = kmsAs('IntakeApiFunction');
    expect(await new KmsServiceKeys(intake, String(keyArn)).key('tracking-token')).toHaveLength(32);
    const survey = kmsAs('SurveyFunction');
    await expect(new KmsServiceKeys(survey, String(keyArn)).key('tracking-token')).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        `is not authorized to perform: kms:GenerateMac on resource: ${keyArn}`,
      ),
    });
    intake.destroy();
    survey.destroy();
  });

  it('keeps each function to the table items it owns (dynamodb:LeadingKeys of the template grants)', async () => {
    const intake = runtime.functionNamed('IntakeApiFunction');
    const aggregator = runtime.functionNamed('ReportingAggregatorFunction');
    const table = Object.values(runtime.endpoints.tables)[0] as string;
    const as = (fn: { logicalId: string }) =>
      new DynamoDBClient({
        endpoint: runtime.functionEndpoints.dynamodb,
        region: 'us-east-1',
        credentials: { accessKeyId: accessKeyOf(fn.logicalId), secretAccessKey: 'x' },
        maxAttempts: 1,
      });
    const bucket = { pk: { S: 'AGG#DAY#2026-11-24#0' }, sk: { S: 'AGG' } };
    const forge = {
      Key: bucket,
      UpdateExpression: 'ADD #c :n',
      ExpressionAttributeNames: { '#c': 'c:received|channel=app' },
      ExpressionAttributeValues: { ':n': { N: '20' } },
    };
    const denied = (fn: string, action: string) => ({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        new RegExp(
          `assumed-role/.+/.*${fn}.* is not authorized to perform: dynamodb:${action} on resource: arn:aws:dynamodb:`,
        ),
      ),
    });
    const before = runtime.denials().length;
    const asIntake = as(intake);
    // The intake may write complaints, not report buckets: alone, or hidden in a transaction.
    await expect(asIntake.send(new UpdateItemCommand({ TableName: table, ...forge }))).rejects.toMatchObject(
      denied('IntakeApiFunction', 'UpdateItem'),
    );
    await expect(
      asIntake.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { pk: { S: 'C#e2e-forged' }, sk: { S: 'META' } } } },
            { Update: { TableName: table, ...forge } },
          ],
        }),
      ),
    ).rejects.toMatchObject(denied('IntakeApiFunction', 'UpdateItem'));
    // Nor read another function's items.
    await expect(
      asIntake.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: 'FACTS#x' }, sk: { S: 'FACTS' } } }),
      ),
    ).rejects.toMatchObject(denied('IntakeApiFunction', 'GetItem'));
    asIntake.destroy();
    // The aggregator, which owns the buckets, may read its facts (and complaints, to check an event
    // against the store) but never an idempotency claim, nor write a complaint.
    const asAggregator = as(aggregator);
    await asAggregator.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'FACTS#x' }, sk: { S: 'FACTS' } } }),
    );
    await expect(
      asAggregator.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: 'IDEMP#x' }, sk: { S: 'IDEMP' } } }),
      ),
    ).rejects.toMatchObject(denied('ReportingAggregatorFunction', 'GetItem'));
    asAggregator.destroy();
    const admin = new DynamoDBClient({
      endpoint: runtime.endpoints.dynamodb,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    expect((await admin.send(new GetItemCommand({ TableName: table, Key: bucket }))).Item).toBeUndefined();
    expect(
      (
        await admin.send(
          new GetItemCommand({ TableName: table, Key: { pk: { S: 'C#e2e-forged' }, sk: { S: 'META' } } }),
        )
      ).Item,
    ).toBeUndefined();
    admin.destroy();
    expect(runtime.denials().length - before).toBe(4);
  });

  it('answers TestEventPattern for every conformance case like AWS', async () => {
    const client = new EventBridgeClient({ endpoint: runtime.endpoints.eventBridge, ...clientConfig() });
    let checked = 0;
    for (const name of CASE_FILES) {
      await expectCaseThroughSdk(client, name);
      checked++;
    }
    client.destroy();
    expect(checked).toBe(CASE_FILES.length);
  });

  it('validates schedule expressions on its Scheduler endpoint like AWS', async () => {
    const client = new SchedulerClient({ endpoint: runtime.endpoints.scheduler, ...clientConfig() });
    const create = (expression: string) =>
      client.send(
        new CreateScheduleCommand({
          Name: `e2e-${expression.length}-${Math.random().toString(36).slice(2, 8)}`,
          GroupName: runtime.endpoints.scheduleGroups[0],
          ScheduleExpression: expression,
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: runtime.functionNamed('SurveyFunction').arn,
            RoleArn: 'arn:aws:iam::123456789012:role/x',
          },
        }),
      );
    await expect(create('rate(0 minutes)')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(create('cron(0 9 * * * *)')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(create('at(2026-02-30T10:00:00)')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(create('cron(0 9 ? * MON-FRI *)')).resolves.toMatchObject({
      ScheduleArn: expect.any(String),
    });
    client.destroy();
  });
});
