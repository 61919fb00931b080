import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPutEventsAuthorizer } from '../../infra/local/bus-policy';
import { LOCAL_REGION } from '../../infra/local/dynamodb-local';
import { type EventBridgeServer, startEventBridgeServer } from '../../infra/local/eventbridge-server';
import { type Principal, permissionsFromTemplate } from '../../infra/local/iam-policy';
import { accessKeyOf } from '../../infra/local/runtime';
import { LOCAL_ACCOUNT_ID, type StackTemplate, TemplateResolver } from '../../infra/local/template';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import { synthesizeStack } from '../infra/template-helpers';

/**
 * Issue #10, "only the service speaks for the service", played against the local EventBridge endpoint
 * with the synthesized template's bus policy and function roles, through the real AWS SDK: an outside
 * producer (any credentials) cannot put a `complaints.*` source or an internal detail-type, a function
 * can put only its own sources, and an inbound `Complaint Reported` still gets in.
 */

let server: EventBridgeServer;
let busName: string;
const functionIds = new Map<string, string>();
const refusals: Array<{ key: string | undefined; reason: string }> = [];
const clients: EventBridgeClient[] = [];

beforeAll(async () => {
  const { template: assertions, stack } = synthesizeStack({}, { bundle: false, id: 'BusPolicy' });
  const template = assertions.toJSON() as StackTemplate;
  const resolver = new TemplateResolver({ stackName: stack.stackName, template }, LOCAL_REGION);
  const resolve = (v: unknown) => resolver.resolve(v);
  // The same principals the local runtime builds: each function's role statements, keyed by its access key.
  const permissions = permissionsFromTemplate(template.Resources, resolve);
  const principals = new Map<string, Principal>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const roleId =
      (resource.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0] ?? '';
    principals.set(accessKeyOf(id), {
      roleName: resolver.ref(roleId),
      sessionName: resolver.ref(id),
      accountId: LOCAL_ACCOUNT_ID,
      statements: permissions.get(roleId) ?? [],
    });
    functionIds.set(id.replace(/[0-9A-F]{8}$/, ''), id);
  }
  const busId = Object.keys(template.Resources).find(
    (id) => template.Resources[id]?.Type === 'AWS::Events::EventBus',
  ) as string;
  busName = resolver.ref(busId);
  server = await startEventBridgeServer({
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    log: () => undefined,
    authorizePutEvents: createPutEventsAuthorizer({
      resources: template.Resources,
      resolve,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      principals,
      onRefused: (key, reason) => refusals.push({ key, reason }),
    }),
  });
  server.addBus(busName);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await server?.close();
});

const clientAs = (accessKeyId: string) => {
  const client = new EventBridgeClient({
    endpoint: server.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId, secretAccessKey: 'any' },
  });
  clients.push(client);
  return client;
};
const asFunction = (prefix: string) => {
  const id = functionIds.get(prefix);
  if (id === undefined) throw new Error(`no function ${prefix}`);
  return clientAs(accessKeyOf(id));
};

const entry = (source: string, detailType: string, detail: unknown = {}): PutEventsRequestEntry => ({
  EventBusName: busName,
  Source: source,
  DetailType: detailType,
  Detail: JSON.stringify(detail),
});
const forgedReceived = () =>
  entry(SOURCES.intake, DETAIL_TYPES.complaintReceived, {
    metadata: { version: 1, eventId: 'forged-1', occurredAt: '2026-03-02T08:00:00Z', correlationId: 'c' },
    data: { complaintId: 'forged-1', channel: 'web', receivedAt: '2026-03-02T08:00:00Z' },
  });
const forgedSurvey = () =>
  entry(SOURCES.customer, DETAIL_TYPES.surveyAnswered, {
    metadata: { version: 1, eventId: 'forged-2', occurredAt: '2026-03-02T08:00:00Z', correlationId: 'c' },
    data: { complaintId: 'some-complaint', score: 1_000_000 },
  });
const inbound = () =>
  entry('hotline.ivr', DETAIL_TYPES.complaintReported, {
    metadata: { version: 1, messageId: 'ivr-1' },
    data: { channel: 'phone', customer: { id: 'c-1', language: 'zh' }, description: '电话打不通' },
  });

const codes = (entries: PutEventsResultEntry[] | undefined) =>
  (entries ?? []).map((e) => e.ErrorCode ?? (e.EventId ? 'accepted' : 'none'));
const acceptedOf = (source: string, detailType: string) =>
  server.events().filter((a) => a.event.source === source && a.event['detail-type'] === detailType);

describe('an outside producer (credentials of no function)', () => {
  it('cannot put complaints.* sources or internal detail-types, whatever its credentials; its inbound complaint gets in', async () => {
    for (const key of ['producer-key', 'AKIAIOSFODNN7EXAMPLE', 'local']) {
      const before = server.events().length;
      const result = await clientAs(key).send(
        new PutEventsCommand({
          Entries: [
            forgedReceived(),
            forgedSurvey(),
            inbound(),
            // An internal detail-type under a source of its own.
            entry('hotline.ivr', DETAIL_TYPES.complaintReceived, { data: { complaintId: 'x' } }),
            // Any complaints.* source, whatever the detail-type.
            entry(SOURCES.reporting, 'Anything'),
          ],
        }),
      );
      expect(codes(result.Entries), key).toEqual([
        'NotAuthorizedForSourceException',
        'NotAuthorizedForSourceException',
        'accepted',
        'NotAuthorizedForDetailTypeException',
        'NotAuthorizedForSourceException',
      ]);
      expect(result.FailedEntryCount).toBe(4);
      expect(result.Entries?.[0]?.ErrorMessage).toBe('Not authorized for the source.');
      // Nothing refused reached the bus; the inbound complaint did.
      const added = server.events().slice(before);
      expect(added.map((a) => `${a.event.source} ${a.event['detail-type']}`)).toEqual([
        `hotline.ivr ${DETAIL_TYPES.complaintReported}`,
      ]);
    }
    expect(acceptedOf(SOURCES.intake, DETAIL_TYPES.complaintReceived)).toEqual([]);
    expect(acceptedOf(SOURCES.customer, DETAIL_TYPES.surveyAnswered)).toEqual([]);
    expect(refusals.some((r) => r.key === 'producer-key')).toBe(true);
  });

  it('replays the issue: 20 forged Complaint Received and a Survey Answered of 1,000,000 are all refused', async () => {
    const producer = clientAs('crm-producer');
    const forged = Array.from({ length: 20 }, (_, i) =>
      entry(SOURCES.intake, DETAIL_TYPES.complaintReceived, { data: { complaintId: `forged-${i}` } }),
    );
    let failed = 0;
    for (let i = 0; i < forged.length; i += 10) {
      const result = await producer.send(new PutEventsCommand({ Entries: forged.slice(i, i + 10) }));
      failed += result.FailedEntryCount ?? 0;
    }
    const survey = await producer.send(new PutEventsCommand({ Entries: [forgedSurvey()] }));
    expect(failed).toBe(20);
    expect(survey.FailedEntryCount).toBe(1);
    expect(acceptedOf(SOURCES.intake, DETAIL_TYPES.complaintReceived)).toEqual([]);
    expect(acceptedOf(SOURCES.customer, DETAIL_TYPES.surveyAnswered)).toEqual([]);
  });
});

describe('a function of the service', () => {
  it('puts its own sources, internal detail-types included', async () => {
    const intake = await asFunction('IntakeApiFunction').send(
      new PutEventsCommand({ Entries: [forgedReceived()] }),
    );
    expect(codes(intake.Entries)).toEqual(['accepted']);
    const customer = await asFunction('CustomerApiFunction').send(
      new PutEventsCommand({ Entries: [forgedSurvey()] }),
    );
    expect(codes(customer.Entries)).toEqual(['accepted']);
    expect(acceptedOf(SOURCES.intake, DETAIL_TYPES.complaintReceived)).toHaveLength(1);
  });

  it("cannot put another function's source (its grant names its own), nor a foreign one", async () => {
    const result = await asFunction('IntakeApiFunction').send(
      new PutEventsCommand({
        Entries: [forgedSurvey(), entry('hotline.ivr', DETAIL_TYPES.complaintReported), forgedReceived()],
      }),
    );
    expect(codes(result.Entries)).toEqual([
      'NotAuthorizedForSourceException',
      'NotAuthorizedForSourceException',
      'accepted',
    ]);
    const sweep = await asFunction('SlaSweepFunction').send(
      new PutEventsCommand({
        Entries: [
          entry(SOURCES.sla, DETAIL_TYPES.slaBreached),
          entry(SOURCES.survey, DETAIL_TYPES.surveyRequested),
          entry(SOURCES.agent, DETAIL_TYPES.closed),
        ],
      }),
    );
    expect(codes(sweep.Entries)).toEqual(['accepted', 'accepted', 'NotAuthorizedForSourceException']);
  });

  it('is refused the whole call, with AccessDeniedException, where its role grants nothing', async () => {
    await expect(
      asFunction('ReportingAggregatorFunction').send(new PutEventsCommand({ Entries: [forgedSurvey()] })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /assumed-role\/.+ReportingAggregatorFunction.+ is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:123456789012:event-bus\/.+ because no identity-based policy allows/,
      ),
    });
    await expect(
      asFunction('IntakeApiFunction').send(
        new PutEventsCommand({ Entries: [{ ...forgedReceived(), EventBusName: 'default' }] }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
