import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import { type SchedulerServer, startSchedulerServer } from '../../infra/local/scheduler-server';
import { DETAIL_TYPES } from '../../shared/events/names';
import { type CfnResource, resourcesOfType, testApp } from '../infra/template-helpers';
import { apiRequest, lambdaContext, sqsRecord } from '../support/lambda';
import { createTestTable } from './support/dynamodb';

/**
 * The synthesized Lambda bundles (the `index.mjs` files `cdk deploy` would upload,
 * with the SDK and the policy inside) run against DynamoDB Local and a real
 * SQS-protocol server (local-aws-sqs), each with the environment its template
 * gives it — Refs resolved to the local table, bus and queues — and the project's
 * local EventBridge and EventBridge Scheduler endpoints. The template's own rules
 * are loaded into the local bus, so an event a bundle publishes reaches the next
 * bundle's queue on the SQS server exactly as the rule routes it; the test pulls
 * the queue and invokes the consumer bundle with what it received.
 */

let events: EventBridgeServer;
let scheduler: SchedulerServer;
let sqsServer: Server;
let sqs: SQSClient;
let tableName: string;
const handlers = new Map<string, (event: unknown, context: unknown) => Promise<unknown>>();
const dlqUrls = new Map<string, string>();
/** Queue logical id → URL on the SQS server, and queue ARN (as resolved) → URL. */
const queueUrls = new Map<string, string>();
const queueUrlByArn = new Map<string, string>();

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
      'AWS::KMS::Key': `arn:aws:kms:${LOCAL_REGION}:123456789012:key/${id}`,
    };
    const arn = arns[resources[id]?.Type ?? ''];
    if (arn !== undefined) return arn;
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value)} (${ref ? resources[ref]?.Type : 'not a Ref'})`);
}

beforeAll(async () => {
  tableName = await createTestTable('bundles');
  sqsServer = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const sqsEndpoint = `http://127.0.0.1:${(sqsServer.address() as AddressInfo).port}`;
  sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  // Rule targets that are queues: EventBridge sends the event body to the queue.
  events = await startEventBridgeServer({
    log: () => undefined,
    deliver: async (target, _event, body) => {
      const url = queueUrlByArn.get(target.arn);
      if (url !== undefined) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    },
  });
  events.addBus('complaints-bundle-test');
  scheduler = await startSchedulerServer({ invoke: async () => undefined, tickMs: 0 });
  const schedulerClient = new SchedulerClient({
    endpoint: scheduler.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await schedulerClient.send(new CreateScheduleGroupCommand({ Name: 'BundleTest-timers' }));

  // As `cdk synth` does: cdk.json's context, and asset metadata naming each function's bundle directory.
  const app = testApp({ 'aws:cdk:enable-asset-metadata': true });
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
      queueUrls.set(id, String(created.QueueUrl));
      queueUrlByArn.set(
        resolveValue({ 'Fn::GetAtt': [id, 'Arn'] }, resources, refs),
        String(created.QueueUrl),
      );
    }
  }
  // The template's rules on the project bus, with their patterns and queue targets.
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Events::Rule' || r.Properties.EventPattern === undefined) continue;
    events.putRule({ bus: 'complaints-bundle-test', name: id, eventPattern: r.Properties.EventPattern });
    const targets = r.Properties.Targets as Array<{ Id: string; Arn: unknown }>;
    events.putTargets(
      'complaints-bundle-test',
      id,
      targets.map((t) => ({ id: t.Id, arn: resolveValue(t.Arn, resources, refs) })),
    );
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
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
      // The integration setup's local KMS endpoint and HMAC key stand in for the stack's service key.
      AWS_ENDPOINT_URL_KMS: inject('kmsEndpoint'),
      ...(variables.SERVICE_KEY_ARN === undefined ? {} : { SERVICE_KEY_ARN: inject('serviceKeyArn') }),
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
  await events?.close();
  await scheduler?.close();
  await new Promise((r) => sqsServer?.close(r));
});

const run = <R>(name: string, event: unknown) => {
  const handler = handlers.get(name);
  if (handler === undefined) throw new Error(`no bundle for ${name}`);
  return handler(event, lambdaContext(name)) as Promise<R>;
};
/** The logical id of a queue, from the start of its construct path (ids end in a hash). */
function queueIdOf(prefix: string): string {
  const id = [...queueUrls.keys()].find((k) => k.startsWith(prefix));
  if (id === undefined) throw new Error(`no queue ${prefix}* in the template`);
  return id;
}

const lastOfType = (type: string) => {
  const accepted = events
    .events()
    .filter((e) => e.event['detail-type'] === type)
    .at(-1);
  expect(accepted, `published ${type}`).toBeDefined();
  return { source: String(accepted?.event.source), detailType: type, detail: accepted?.event.detail as any };
};

/** Pulls the queue a rule fed (with a deadline) and runs the consumer bundle on what arrived, as Lambda's poller would. */
async function consume(queueId: string, bundle: string): Promise<SQSBatchResponse> {
  const url = queueUrls.get(queueId);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = received.Messages ?? [];
    if (messages.length > 0) {
      const response = await run<SQSBatchResponse>(bundle, {
        Records: messages.map((m) => ({
          ...sqsRecord(String(m.Body), String(m.MessageId)),
          receiptHandle: String(m.ReceiptHandle),
        })),
      });
      for (const m of messages) {
        if (!response.batchItemFailures.some((f) => f.itemIdentifier === m.MessageId)) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
        }
      }
      return response;
    }
    if (Date.now() > deadline) throw new Error(`nothing arrived in ${queueId}`);
  }
}

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
    // The template's rule routed it to the classification queue on the SQS server.
    const classified = await consume(queueIdOf('ClassificationReceivedQueue'), 'Classification');
    expect(classified.batchItemFailures).toEqual([]);
    const classifiedEvent = lastOfType(DETAIL_TYPES.complaintClassified);
    expect(classifiedEvent.detail.data).toMatchObject({ complaintId, category: 'billing_dispute' });
    // Classification scheduled the SLA timers on the Scheduler endpoint: one-time
    // schedules in the stack's group, aimed at the SLA function.
    const due = scheduler.schedules().find((t) => t.name === `${complaintId}-fr-due`);
    expect(due).toMatchObject({
      group: 'BundleTest-timers',
      actionAfterCompletion: 'DELETE',
      flexibleTimeWindow: { Mode: 'OFF' },
      target: { Arn: expect.stringContaining('SlaTimerFunction') },
    });
    expect(JSON.parse(String(due?.target.Input))).toMatchObject({
      complaintId,
      kind: 'clock_due',
      clock: 'firstResponse',
    });
    expect(due?.expression).toMatch(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\)$/);
    expect(due?.nextFireAt?.getTime()).toBeGreaterThan(Date.now());

    const assigned = await consume(queueIdOf('AssignmentClassifiedQueue'), 'Assignment');
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
    const timer = scheduler.schedules().find((t) => t.name.endsWith('-res-due'));
    expect(timer).toBeDefined();
    const payload = JSON.parse(String(timer?.target.Input));
    await expect(run('SlaTimer', { ...payload, kind: 'bogus' })).rejects.toThrow(/Invalid timer payload/);
    await expect(run('SlaTimer', { ...payload, kind: 'survey_send' })).rejects.toThrow(/does not belong/);
    await expect(run('SlaTimer', payload)).resolves.toEqual({ applied: [] });
  });
});
