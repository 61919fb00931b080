import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { DETAIL_TYPES } from '../../shared/events/names';
import { type CfnResource, resourcesOfType } from '../infra/template-helpers';
import { apiRequest, lambdaContext, sqsRecord, sqsRecordForEvent } from '../support/lambda';
import { createTestTable } from './support/dynamodb';

/**
 * The synthesized Lambda bundles (the `index.mjs` files `cdk deploy` would upload,
 * with the SDK and the policy inside) run against DynamoDB Local and a real
 * SQS-protocol server (local-aws-sqs), each with the environment its template
 * gives it — Refs resolved to the local table, bus and queues. EventBridge has no
 * local emulator yet (the local runtime will bring one), so a small endpoint
 * records PutEvents calls; the test feeds them to the next bundle as a rule would.
 */

interface PutEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
}

const published: PutEntry[] = [];
/** Schedule calls the bundles made: `<METHOD> <name>` and the body. */
const scheduleCalls: Array<{ method: string; name: string; body: Record<string, any> }> = [];
let schedulerServer: Server;
let eventsServer: Server;
let sqsServer: Server;
let sqs: SQSClient;
let tableName: string;
const handlers = new Map<string, (event: unknown, context: unknown) => Promise<unknown>>();
const dlqUrls = new Map<string, string>();

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Resolves a template value for the local run: Refs to the table, bus and queues, ARNs of other resources; plain strings as they are. */
function resolveValue(
  value: unknown,
  resources: Record<string, CfnResource>,
  refs: Map<string, string>,
): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string }).Ref;
  if (ref !== undefined && refs.has(ref)) return refs.get(ref) as string;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt !== undefined && getAtt[1] === 'Arn') {
    const [id] = getAtt;
    const arns: Record<string, string> = {
      'AWS::Lambda::Function': `arn:aws:lambda:${LOCAL_REGION}:123456789012:function:${id}`,
      'AWS::IAM::Role': `arn:aws:iam::123456789012:role/${id}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${LOCAL_REGION}:123456789012:${id}`,
    };
    const arn = arns[resources[id]?.Type ?? ''];
    if (arn !== undefined) return arn;
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value)} (${ref ? resources[ref]?.Type : 'not a Ref'})`);
}

beforeAll(async () => {
  tableName = await createTestTable('bundles');
  eventsServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      if (target !== 'AWSEvents.PutEvents') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      const entries = (JSON.parse(body) as { Entries: PutEntry[] }).Entries;
      published.push(...entries);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `evt-${i}` })) }),
      );
    });
  });
  const eventsEndpoint = await listen(eventsServer);
  // EventBridge Scheduler speaks REST-JSON: POST (create) / PUT (update) / DELETE /schedules/{name}.
  schedulerServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const name = decodeURIComponent(String(req.url).split('?')[0]?.replace('/schedules/', '') ?? '');
      scheduleCalls.push({ method: String(req.method), name, body: body ? JSON.parse(body) : {} });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ ScheduleArn: `arn:aws:scheduler:${LOCAL_REGION}:123456789012:schedule/${name}` }),
      );
    });
  });
  const schedulerEndpoint = await listen(schedulerServer);
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
  sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

  // As `cdk synth` does: asset metadata names each function's bundle directory.
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new ComplaintServiceStack(app, 'BundleTest');
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const refs = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::DynamoDB::Table' || r.Type === 'AWS::DynamoDB::GlobalTable') refs.set(id, tableName);
    if (r.Type === 'AWS::Events::EventBus') refs.set(id, 'complaints-bundle-test');
    if (r.Type === 'AWS::SQS::Queue') {
      const created = await sqs.send(new CreateQueueCommand({ QueueName: id }));
      refs.set(id, String(created.QueueUrl));
    }
  }
  for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const assetPath = (fn as CfnResource & { Metadata?: Record<string, string> }).Metadata?.[
      'aws:asset:path'
    ];
    const name = ['IntakeApi', 'IntakeInbound', 'Classification', 'Assignment', 'SlaTimer', 'Survey'].find(
      (n) => id.startsWith(n),
    );
    if (assetPath === undefined || name === undefined) continue;
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // The function's own environment from the template, plus what Lambda and the local endpoints add.
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveValue(v, resources, refs)])),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventsEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_SCHEDULER: schedulerEndpoint,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    };
    if (variables.DEAD_LETTER_QUEUE_URL !== undefined) dlqUrls.set(name, env.DEAD_LETTER_QUEUE_URL as string);
    Object.assign(process.env, env);
    // The bundle reads its configuration at import (cold start), so import it with its own env in place.
    const bundle = join(assembly.directory, assetPath, 'index.mjs');
    const module = (await import(pathToFileURL(bundle).href)) as {
      handler: (e: unknown, c: unknown) => Promise<unknown>;
    };
    handlers.set(name, module.handler);
  }
}, 120_000);

afterAll(async () => {
  await new Promise((r) => eventsServer?.close(r));
  await new Promise((r) => schedulerServer?.close(r));
  await new Promise((r) => sqsServer?.close(r));
});

const run = <R>(name: string, event: unknown) => {
  const handler = handlers.get(name);
  if (handler === undefined) throw new Error(`no bundle for ${name}`);
  return handler(event, lambdaContext(name)) as Promise<R>;
};
const lastOfType = (type: string) => {
  const entry = published.filter((e) => e.DetailType === type).at(-1);
  expect(entry, `published ${type}`).toBeDefined();
  return { source: String(entry?.Source), detailType: type, detail: JSON.parse(String(entry?.Detail)) };
};

describe('the synthesized bundles', () => {
  it('loads the pipeline and timer bundles, each with its template environment', () => {
    expect([...handlers.keys()].sort()).toEqual([
      'Assignment',
      'Classification',
      'IntakeApi',
      'IntakeInbound',
      'SlaTimer',
      'Survey',
    ]);
    expect([...dlqUrls.keys()].sort()).toEqual(['Assignment', 'Classification', 'IntakeInbound']);
  });

  it('carry a complaint from POST /complaints to an assigned owner', async () => {
    const response = await run<APIGatewayProxyStructuredResultV2>(
      'IntakeApi',
      apiRequest('POST', '/complaints', {
        channel: 'app',
        customer: { id: 'bundle-cust-1', language: 'en' },
        description: 'I was charged twice for my subscription and want a refund',
      }),
    );
    expect(response.statusCode).toBe(202);
    const { complaintId } = JSON.parse(String(response.body));
    const received = lastOfType(DETAIL_TYPES.complaintReceived);
    expect(received.detail.data.complaintId).toBe(complaintId);
    expect(published.every((e) => e.EventBusName === 'complaints-bundle-test')).toBe(true);

    const classified = await run<SQSBatchResponse>('Classification', {
      Records: [sqsRecordForEvent(received)],
    });
    expect(classified.batchItemFailures).toEqual([]);
    const classifiedEvent = lastOfType(DETAIL_TYPES.complaintClassified);
    expect(classifiedEvent.detail.data).toMatchObject({ complaintId, category: 'billing_dispute' });
    // Classification scheduled the SLA timers: one-time schedules aimed at the SLA function.
    const due = scheduleCalls.find((c) => c.method === 'POST' && c.name === `${complaintId}-fr-due`);
    expect(due?.body).toMatchObject({
      GroupName: 'BundleTest-timers',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: expect.stringContaining('SlaTimerFunction') },
    });
    expect(JSON.parse(due?.body.Target.Input)).toMatchObject({
      complaintId,
      kind: 'clock_due',
      clock: 'firstResponse',
    });
    expect(String(due?.body.ScheduleExpression)).toMatch(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\)$/);

    const assigned = await run<SQSBatchResponse>('Assignment', {
      Records: [sqsRecordForEvent(classifiedEvent)],
    });
    expect(assigned.batchItemFailures).toEqual([]);
    expect(lastOfType(DETAIL_TYPES.complaintAssigned).detail.data).toMatchObject({
      complaintId,
      leadDepartment: 'billing',
      assignee: 'bill_zheng',
    });
  });

  it("send a poison message to the consumer's own DLQ on the SQS server, with the reason", async () => {
    const event: SQSEvent = { Records: [sqsRecord('{"detail-type":"Complaint Reported"}', 'poison-1')] };
    const response = await run<SQSBatchResponse>('IntakeInbound', event);
    expect(response.batchItemFailures).toEqual([]);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrls.get('IntakeInbound'),
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    const message = received.Messages?.[0];
    expect(message?.Body).toBe('{"detail-type":"Complaint Reported"}');
    expect(message?.MessageAttributes?.ErrorReason?.StringValue).toContain('Not an EventBridge event');
    expect(message?.MessageAttributes?.OriginalMessageId?.StringValue).toBe('poison-1');
  });

  it('run the SLA timer target: a bad payload fails loudly, a timer not yet due does nothing', async () => {
    const timer = scheduleCalls.find((c) => c.method === 'POST' && c.name.endsWith('-res-due'));
    expect(timer).toBeDefined();
    const payload = JSON.parse(String(timer?.body.Target.Input));
    await expect(run('SlaTimer', { ...payload, kind: 'bogus' })).rejects.toThrow(/Invalid timer payload/);
    await expect(run('SlaTimer', { ...payload, kind: 'survey_send' })).rejects.toThrow(/does not belong/);
    await expect(run('SlaTimer', payload)).resolves.toEqual({ applied: [] });
  });
});
