import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ComplaintSubmissionInput } from '../../shared/domain/complaint';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { DETAIL_TYPES } from '../../shared/events/names';
import type { ServiceContext } from '../../shared/services/context';
import { bundledPolicyEnv, DEFAULT_POLICY_PATH } from '../support/fixtures';
import { apiRequest, lambdaContext, sqsRecordForEvent, toEvents } from '../support/lambda';
import { CLAIMS, type Who } from './support/callers';
import { createTestTable } from './support/dynamodb';
import { setHandlerEnvironment } from './support/handler-env';

/**
 * Attacks on the trust boundary (#10, point 4), through the real handlers and services against
 * DynamoDB Local, with EventBridge, SQS and Scheduler replaced at the SDK boundary. The policy is the
 * default one plus a `trust` section: `partner.trusted` may state tier and affected users,
 * `crm.profiles` feeds the customer directory.
 */

const TRUSTED = 'partner.trusted';
const UNTRUSTED = 'social.monitor';
const CRM = 'crm.profiles';
const DLQ_URL = 'http://127.0.0.1:9324/000000000000/intake-inbound-dlq';

const published: PutEventsRequestEntry[] = [];
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);
const scheduler = mockClient(SchedulerClient);

type Api = (e: APIGatewayProxyEventV2, c: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
let intakeApi: Api;
let agentApi: Api;
let intakeQueue: (e: SQSEvent, c: unknown) => Promise<SQSBatchResponse>;
let ctx: ServiceContext;
let services: {
  receive: typeof import('../../shared/services/intake').receiveComplaint;
  classify: typeof import('../../shared/services/classification').classifyComplaint;
  assign: typeof import('../../shared/services/assignment').assignComplaint;
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trust-policy-'));
  const policyFile = join(dir, 'policy.json');
  const policy = JSON.parse(readFileSync(DEFAULT_POLICY_PATH, 'utf8'));
  policy.trust = { producers: [TRUSTED], customerDirectorySources: [CRM] };
  writeFileSync(policyFile, JSON.stringify(policy));
  const tableName = await createTestTable('trust');
  setHandlerEnvironment(tableName, { ...bundledPolicyEnv(policyFile), DEAD_LETTER_QUEUE_URL: DLQ_URL });
  intakeApi = (await import('../../functions/intake/api-handler')).handler as never;
  agentApi = (await import('../../functions/agent-api/handler')).handler as never;
  intakeQueue = (await import('../../functions/intake/queue-handler')).handler as never;
  ctx = (await import('../support/handler-runtime')).handlerRuntime().ctx;
  services = {
    receive: (await import('../../shared/services/intake')).receiveComplaint,
    classify: (await import('../../shared/services/classification')).classifyComplaint,
    assign: (await import('../../shared/services/assignment')).assignComplaint,
  };
});

beforeEach(() => {
  published.length = 0;
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    published.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) };
  });
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
  scheduler.on(DeleteScheduleCommand).resolves({});
});

afterEach(() => {
  published.length = 0;
});

const eventsOf = (type: string) => toEvents(published).filter((e) => e.detailType === type);

async function submitAnonymously(body: unknown): Promise<{ status: number; body: any }> {
  const response = await intakeApi(apiRequest('POST', '/complaints', body), lambdaContext('intake-api'));
  return { status: response.statusCode ?? 0, body: JSON.parse(String(response.body)) };
}

/** A `Complaint Reported` event from `source` through the inbound queue handler; the new complaint id. */
async function report(source: string, messageId: string, data: ComplaintSubmissionInput): Promise<string> {
  published.length = 0;
  const record = sqsRecordForEvent({
    source,
    detailType: DETAIL_TYPES.complaintReported,
    detail: { metadata: { version: 1, messageId }, data },
  });
  const response = await intakeQueue({ Records: [record] }, lambdaContext('intake-inbound'));
  expect(response.batchItemFailures).toEqual([]);
  const received = eventsOf(DETAIL_TYPES.complaintReceived)[0];
  expect(received, 'Complaint Received').toBeDefined();
  return String(received?.detail.data.complaintId);
}

/** A `Customer Profile Updated` event from `source`; the batch response. */
async function profile(source: string, data: { customerId: string; tier: string; updatedAt: string }) {
  const record = sqsRecordForEvent({
    source,
    detailType: DETAIL_TYPES.customerProfileUpdated,
    detail: { metadata: { version: 1, messageId: `p-${data.updatedAt}` }, data },
  });
  return intakeQueue({ Records: [record] }, lambdaContext('intake-inbound'));
}

/** An agent API request as `who` (verified claims as the JWT authorizer hands them over). */
function agentRequest(
  who: Who,
  routeKey: string,
  path: string,
  body: unknown,
  pathParameters?: Record<string, string>,
): APIGatewayProxyEventV2 {
  const [method = 'GET'] = routeKey.split(' ');
  const event = apiRequest(method, path, body);
  const claims = CLAIMS[who];
  return {
    ...event,
    routeKey,
    body: JSON.stringify(body),
    pathParameters,
    requestContext: {
      ...event.requestContext,
      routeKey,
      ...(claims === undefined ? {} : { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

async function callAgentApi(event: APIGatewayProxyEventV2): Promise<{ status: number; body: any }> {
  const response = await agentApi(event, lambdaContext('agent-api'));
  return { status: response.statusCode ?? 0, body: JSON.parse(String(response.body)) };
}

const setTier = (who: Who, customerId: string, tier: string) =>
  callAgentApi(
    agentRequest(
      who,
      'PUT /admin/customers/{customerId}',
      `/admin/customers/${customerId}`,
      { tier },
      { customerId },
    ),
  );

const NEUTRAL = 'The settings page of the app loads slowly since this morning';

describe('anonymous callers cannot raise their own priority', () => {
  it('refuses customer.tier and affectedUsers on POST /complaints with 400 naming each field', async () => {
    const { status, body } = await submitAnonymously({
      channel: 'web',
      customer: { id: 'anon-elevate-1', tier: 'vip' },
      description: NEUTRAL,
      affectedUsers: 1_000_000_000,
    });
    expect(status).toBe(400);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { field: 'customer.tier', reason: expect.stringContaining('set by trusted producers only') },
        { field: 'affectedUsers', reason: expect.stringContaining('set by trusted producers only') },
      ]),
    );
    expect(published).toHaveLength(0);
    expect(await ctx.store.recentByCustomer('anon-elevate-1', '2000-01-01T00:00:00Z', 'anonymous')).toEqual(
      [],
    );
  });

  it('accepts money at stake from anonymous callers (part of the grievance)', async () => {
    const { status } = await submitAnonymously({
      channel: 'web',
      customer: { id: 'anon-amount-1' },
      description: NEUTRAL,
      amount: 120,
    });
    expect(status).toBe(202);
  });

  it('never makes an anonymous submission vip, major, P1 or an executive alert, even past the route', async () => {
    const { complaintId } = await services.receive(ctx, {
      submission: ComplaintSubmissionSchema.parse({
        channel: 'web',
        customer: { id: 'anon-elevate-2', tier: 'vip' },
        description: NEUTRAL,
        affectedUsers: 1_000_000_000,
      }),
      sourceSystem: 'api',
      messageId: 'anon-elevate-2',
      idempotency: { kind: 'http', key: 'anon-elevate-2' },
      submitter: { kind: 'anonymous' },
    });
    await services.classify(ctx, complaintId);
    await services.assign(ctx, complaintId);
    const stored = await ctx.store.get(complaintId);
    // The attack's effects first (these fail where the service honours the claims) …
    expect(stored?.tier).toBe('standard');
    expect(stored?.classification?.severity).not.toBe('major');
    expect(stored?.classification?.priority).toBeGreaterThan(1);
    const assigned = eventsOf(DETAIL_TYPES.complaintAssigned)[0]?.detail.data;
    expect(assigned).toBeDefined();
    expect(assigned?.alerted.map((a: { role: string }) => a.role)).not.toContain('executive_on_duty');
    // … then how the record says so.
    expect(stored).toMatchObject({ tierSource: 'default', customerNamespace: 'anonymous' });
    expect(stored?.submission.affectedUsers).toBeUndefined();
    expect(stored?.submission.customer.tier).toBeUndefined();
  });
});

describe('trust by producer (inbound events)', () => {
  const claims = (id: string): ComplaintSubmissionInput => ({
    channel: 'social_media',
    customer: { id, tier: 'vip' },
    description: NEUTRAL,
    affectedUsers: 5000,
  });

  it("ignores an untrusted producer's tier and affected users and notes which fields, without customer text", async () => {
    const id = await report(UNTRUSTED, 'untrusted-1', claims('producer-cust-1'));
    const stored = await ctx.store.get(id);
    expect(stored?.tier).toBe('standard');
    expect(stored?.submission.affectedUsers).toBeUndefined();
    expect(stored).toMatchObject({ tierSource: 'default', customerNamespace: 'verified' });
    const [received] = await ctx.store.timeline(id);
    expect(received?.data?.ignoredFields).toEqual(['customer.tier', 'affectedUsers']);
    expect(received?.summary).toContain('ignored customer.tier, affectedUsers');
    const entry = JSON.stringify(received);
    for (const text of [NEUTRAL, 'vip', '5000', 'producer-cust-1']) expect(entry).not.toContain(text);
    await services.classify(ctx, id);
    expect((await ctx.store.get(id))?.classification?.severity).not.toBe('major');
  });

  it("honours a trusted producer's tier and affected users", async () => {
    const id = await report(TRUSTED, 'trusted-1', claims('producer-cust-2'));
    const stored = await ctx.store.get(id);
    expect(stored).toMatchObject({ tier: 'vip', tierSource: 'producer', customerNamespace: 'verified' });
    expect(stored?.submission.affectedUsers).toBe(5000);
    await services.classify(ctx, id);
    expect((await ctx.store.get(id))?.classification?.severity).toBe('major');
  });
});

describe("anonymous customer ids never merge with a known customer's history", () => {
  const TEXT = '我的订单被重复扣款两次，一共扣了两百元，请尽快退款处理';

  it('an anonymous claim of a known customer id is neither a repeat nor a duplicate, and marks nothing', async () => {
    const known = await report(TRUSTED, 'merge-1', {
      channel: 'app',
      customer: { id: 'known-cust-x' },
      description: TEXT,
    });
    await services.classify(ctx, known);
    expect((await ctx.store.get(known))?.classification?.validity).toBe('valid');

    const { status, body } = await submitAnonymously({
      channel: 'web',
      customer: { id: 'known-cust-x' },
      description: TEXT,
    });
    expect(status).toBe(202);
    await services.classify(ctx, body.complaintId);
    const anonymous = await ctx.store.get(body.complaintId);
    expect(anonymous?.classification).toMatchObject({
      validity: 'valid',
      repeat: { isRepeat: false, previous: [] },
    });
    expect(anonymous?.classification?.duplicateOf).toBeUndefined();
    const knownTimeline = (await ctx.store.timeline(known)).map((e) => e.type);
    expect(knownTimeline).not.toContain('duplicate_submission');
    expect(anonymous?.customerNamespace).toBe('anonymous');

    // Control: the same text from a trusted producer for the same customer is a duplicate of the known one.
    const again = await report(TRUSTED, 'merge-2', {
      channel: 'app',
      customer: { id: 'known-cust-x' },
      description: TEXT,
    });
    await services.classify(ctx, again);
    expect((await ctx.store.get(again))?.classification).toMatchObject({
      validity: 'duplicate',
      duplicateOf: known,
    });
  });

  it('a known customer does not see an earlier anonymous claim of its id either', async () => {
    const { body } = await submitAnonymously({
      channel: 'web',
      customer: { id: 'known-cust-y' },
      description: TEXT,
    });
    await services.classify(ctx, body.complaintId);
    const known = await report(TRUSTED, 'merge-3', {
      channel: 'app',
      customer: { id: 'known-cust-y' },
      description: TEXT,
    });
    await services.classify(ctx, known);
    expect((await ctx.store.get(known))?.classification).toMatchObject({
      validity: 'valid',
      repeat: { isRepeat: false },
    });
    expect((await ctx.store.timeline(body.complaintId)).map((e) => e.type)).not.toContain(
      'duplicate_submission',
    );
  });
});

describe('the customer directory', () => {
  it('accepts profile updates from the CRM only; others go to the DLQ with the reason', async () => {
    const response = await profile(UNTRUSTED, {
      customerId: 'dir-cust-1',
      tier: 'vip',
      updatedAt: '2026-11-20T00:00:00Z',
    });
    expect(response.batchItemFailures).toEqual([]);
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.QueueUrl).toBe(DLQ_URL);
    expect(String(sent[0]?.MessageAttributes?.ErrorReason?.StringValue)).toContain(
      'may not update the customer directory',
    );
    expect(await ctx.store.customerDirectoryEntry('dir-cust-1')).toBeUndefined();
  });

  it('sends an unknown tier to the DLQ with the reason', async () => {
    await profile(CRM, { customerId: 'dir-cust-2', tier: 'gold', updatedAt: '2026-11-20T00:00:00Z' });
    const sent = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(String(sent[0]?.MessageAttributes?.ErrorReason?.StringValue)).toContain('"gold" is not a tier');
    expect(await ctx.store.customerDirectoryEntry('dir-cust-2')).toBeUndefined();
  });

  it('never lets an older update overwrite a newer one; a redelivery changes nothing', async () => {
    const newer = { customerId: 'dir-cust-3', tier: 'vip', updatedAt: '2026-11-22T08:00:00+08:00' };
    const older = { customerId: 'dir-cust-3', tier: 'standard', updatedAt: '2026-11-21T00:00:00Z' };
    for (const update of [newer, older, newer]) {
      expect((await profile(CRM, update)).batchItemFailures).toEqual([]);
    }
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(await ctx.store.customerDirectoryEntry('dir-cust-3')).toEqual({
      tier: 'vip',
      updatedAt: '2026-11-22T00:00:00.000Z',
      source: CRM,
    });
    await profile(CRM, { ...older, updatedAt: '2026-11-23T00:00:00Z' });
    expect((await ctx.store.customerDirectoryEntry('dir-cust-3'))?.tier).toBe('standard');
  });

  it('resolves tiers: trusted producer > directory > default; anonymous never reads the directory', async () => {
    await profile(CRM, { customerId: 'dir-cust-4', tier: 'vip', updatedAt: '2026-11-20T00:00:00Z' });
    const base = { channel: 'app' as const, description: NEUTRAL };
    const fromDirectory = await report(UNTRUSTED, 'tier-1', { ...base, customer: { id: 'dir-cust-4' } });
    expect(await ctx.store.get(fromDirectory)).toMatchObject({ tier: 'vip', tierSource: 'directory' });
    const stated = await report(TRUSTED, 'tier-2', {
      ...base,
      customer: { id: 'dir-cust-4', tier: 'standard' },
    });
    expect(await ctx.store.get(stated)).toMatchObject({ tier: 'standard', tierSource: 'producer' });
    const unknown = await report(UNTRUSTED, 'tier-3', { ...base, customer: { id: 'dir-cust-unknown' } });
    expect(await ctx.store.get(unknown)).toMatchObject({ tier: 'standard', tierSource: 'default' });
    const { body } = await submitAnonymously({ ...base, customer: { id: 'dir-cust-4' } });
    expect(await ctx.store.get(body.complaintId)).toMatchObject({ tier: 'standard', tierSource: 'default' });
  });

  it('lets an admin set a tier (PUT /admin/customers/{customerId}); agents and supervisors get 403', async () => {
    for (const who of ['agent', 'supervisor', 'otherAgent'] as const) {
      expect((await setTier(who, 'dir-cust-5', 'vip')).status, who).toBe(403);
    }
    expect((await setTier('anonymous', 'dir-cust-5', 'vip')).status).toBe(401);
    expect(await ctx.store.customerDirectoryEntry('dir-cust-5')).toBeUndefined();
    const unknown = await setTier('admin', 'dir-cust-5', 'gold');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'tier', reason: expect.stringContaining('"gold"') }]);
    const done = await setTier('admin', 'dir-cust-5', 'vip');
    expect(done).toMatchObject({
      status: 200,
      body: { tier: 'vip', source: 'admin:admin_1', outcome: 'applied' },
    });
    const id = await report(UNTRUSTED, 'tier-admin-1', {
      channel: 'app',
      description: NEUTRAL,
      customer: { id: 'dir-cust-5' },
    });
    expect(await ctx.store.get(id)).toMatchObject({ tier: 'vip', tierSource: 'directory' });
  });
});

describe('hotline: an agent submits on behalf of a caller (POST /agent/complaints)', () => {
  const hotline = (who: Who, body: unknown) =>
    callAgentApi(agentRequest(who, 'POST /agent/complaints', '/agent/complaints', body));

  it('is trusted like an allowed producer: affected users count, the tier comes from the directory', async () => {
    expect((await setTier('admin', 'hotline-cust-1', 'vip')).status).toBe(200);
    const { status, body } = await hotline('agent', {
      channel: 'hotline',
      customer: { id: 'hotline-cust-1' },
      description: NEUTRAL,
      affectedUsers: 500,
    });
    expect(status).toBe(202);
    const stored = await ctx.store.get(body.complaintId);
    expect(stored).toMatchObject({
      tier: 'vip',
      tierSource: 'directory',
      customerNamespace: 'verified',
      source: { system: 'agent:cs_wang' },
    });
    expect(stored?.submission.affectedUsers).toBe(500);
    await services.classify(ctx, body.complaintId);
    expect((await ctx.store.get(body.complaintId))?.classification?.severity).toBe('major');
  });

  it('refuses a stated tier (400) and anonymous callers (401)', async () => {
    const stated = await hotline('agent', {
      channel: 'hotline',
      customer: { id: 'hotline-cust-2', tier: 'vip' },
      description: NEUTRAL,
    });
    expect(stated.status).toBe(400);
    expect(stated.body.errors).toEqual([
      { field: 'customer.tier', reason: expect.stringContaining('customer directory') },
    ]);
    const anonymous = await hotline('anonymous', {
      channel: 'hotline',
      customer: { id: 'hotline-cust-2' },
      description: NEUTRAL,
    });
    expect(anonymous.status).toBe(401);
  });
});
