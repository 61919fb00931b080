import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPEN_STATUSES } from '../../shared/domain/lifecycle';
import { captureEmf } from '../support/emf';
import { bundledPolicyEnv, defaultPolicy } from '../support/fixtures';
import { apiRequest, lambdaContext } from '../support/lambda';

/**
 * The metric documents as deployed functions write them, through the handlers with the AWS clients
 * mocked and stdout captured: the intake API (lifecycle figures measured by the runtime's
 * publisher, its operational counters) and the SLA sweep (the backlog gauge, its counters). None of
 * them is a CloudWatch metric: only the breach-rate alarm's totals are (test/unit/metered-publisher).
 */

const dynamo = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
// Intake derives its keys from the service key (one MAC per purpose).
const kms = mockClient(KMSClient);
const lines: string[] = [];
let restoreStdout: (() => void) | undefined;

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
let intakeApi: Handler;
let sweep: Handler;

/** A metric document: log-only, or EMF with an `_aws` directive. */
type MetricDocument = Record<string, unknown> & { _aws?: unknown };
const documents = (): MetricDocument[] => lines.map((l) => JSON.parse(l) as MetricDocument);
const named = (name: string) => documents().filter((d) => typeof d[name] === 'number');
/** The documents CloudWatch would turn into metrics. */
const emf = () => documents().filter((d) => d._aws !== undefined);

beforeAll(async () => {
  vi.stubEnv('TABLE_NAME', 'complaints');
  vi.stubEnv('EVENT_BUS_NAME', 'complaints-bus');
  for (const [name, value] of Object.entries(bundledPolicyEnv())) vi.stubEnv(name, value);
  vi.stubEnv(
    'SERVICE_KEY_ARN',
    'arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-4a61-b728-394a5b6c7d8e',
  );
  kms.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(32).fill(9) });
  vi.stubEnv('DEADLINE_SHARDS', '2');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'intake');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'ComplaintService');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
  restoreStdout = captureEmf(lines).restore;
  intakeApi = (await import('../../functions/intake/api-handler')).handler as never;
  sweep = (await import('../../functions/sla/sweep-handler')).handler as never;
});

afterAll(() => {
  restoreStdout?.();
  vi.unstubAllEnvs();
});

beforeEach(() => {
  lines.length = 0;
  dynamo.reset();
  events.reset();
});

describe('intake API: lifecycle metrics from what the runtime publishes', () => {
  it('writes ComplaintsReceived with its channel as a log-only document, once published: no metric, no ColdStart', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{}, {}] });
    const response = (await intakeApi(
      apiRequest('POST', '/complaints', {
        channel: 'hotline',
        customer: { id: 'cust-m1' },
        description: 'The page fails to load after login',
      }),
      lambdaContext(),
    )) as { statusCode: number };
    expect(response.statusCode).toBe(202);
    expect(named('ComplaintsReceived')).toEqual([{ ComplaintsReceived: 1, channel: 'hotline' }]);
    // The first invocation of the handler was a cold start: no ColdStart metric, no metric at all.
    expect(named('ColdStart')).toEqual([]);
    expect(emf()).toEqual([]);
  });

  it('emits nothing when the events could not be published (the retry measures)', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    events.on(PutEventsCommand).rejects(new Error('EventBridge unavailable'));
    const response = (await intakeApi(
      apiRequest('POST', '/complaints', {
        channel: 'web',
        customer: { id: 'cust-m2' },
        description: 'The page fails to load after login',
      }),
      lambdaContext(),
    )) as { statusCode: number };
    expect(response.statusCode).toBe(503);
    expect(named('ComplaintsReceived')).toEqual([]);
    // The failure itself is an operational counter of the function, with its service, log-only.
    expect(named('IntakeFailures')).toEqual([{ IntakeFailures: 1, service: 'intake' }]);
    expect(emf()).toEqual([]);
  });
});

describe('SLA sweep: the backlog gauge', () => {
  const departments = defaultPolicy.routing.departments.map((d) => d.id);
  // The counters name the function's service when they count (the stack sets it per function).
  beforeAll(() => vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'sla'));

  /** A backlog query reads only `receivedAt`; the sweep's own queries of the same index find nothing due. */
  const isBacklogQuery = (input: { ProjectionExpression?: string }) =>
    input.ProjectionExpression === '#receivedAt';

  function backlogQueries(items: Record<string, { receivedAt: string }[]>) {
    dynamo
      .on(QueryCommand)
      .callsFake(
        (input: { ProjectionExpression?: string; ExpressionAttributeValues?: Record<string, string> }) => {
          if (!isBacklogQuery(input)) return { Items: [] };
          const pk = input.ExpressionAttributeValues?.[':pk'] ?? '';
          return { Items: items[pk] ?? [] };
        },
      );
  }

  it('queries every (department, open status) of the department index and emits the gauges', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-24T12:00:00.000Z'));
    try {
      backlogQueries({
        'DEPT#billing#in_progress': [
          { receivedAt: '2026-11-24T10:00:00.000Z' },
          { receivedAt: '2026-11-23T12:00:00.000Z' },
        ],
        'DEPT#_unrouted#received': [{ receivedAt: '2026-11-24T11:59:00.000Z' }],
      });
      await sweep({}, lambdaContext('sweep'));
    } finally {
      vi.useRealTimers();
    }
    const queries = dynamo.commandCalls(QueryCommand).map((c) => c.args[0].input);
    // Every query is on the department index: the backlog's, then the sweep's due entries.
    expect(queries.every((i) => i.IndexName === 'gsi1')).toBe(true);
    expect(queries.filter(isBacklogQuery)).toHaveLength((departments.length + 1) * OPEN_STATUSES.length);

    const open = named('OpenComplaints');
    const value = (fields: Record<string, string>) =>
      open.find((d) => JSON.stringify({ ...d, OpenComplaints: undefined }) === JSON.stringify(fields))
        ?.OpenComplaints;
    expect(value({})).toBe(3);
    expect(value({ status: 'in_progress' })).toBe(2);
    expect(value({ status: 'received' })).toBe(1);
    expect(value({ department: 'billing' })).toBe(2);
    expect(value({ department: 'security' })).toBe(0);
    expect(open).toHaveLength(1 + OPEN_STATUSES.length + departments.length);
    expect(open.every((d) => !('service' in d))).toBe(true);
    expect(named('OldestOpenComplaintAge')).toEqual([
      { OldestOpenComplaintAge: 24 * 3600 },
      { OldestOpenComplaintAge: 24 * 3600, department: 'billing' },
    ]);
    expect(named('SweepRecoveredDeadlines')).toEqual([{ SweepRecoveredDeadlines: 0, service: 'sla' }]);
    expect(named('IntakeHandoffsRepaired')).toEqual([{ IntakeHandoffsRepaired: 0, service: 'sla' }]);
    // A sweep of an idle deployment publishes no CloudWatch metric: nothing fixed to pay.
    expect(emf()).toEqual([]);
  });

  it('still sweeps, without the gauge, when the backlog cannot be read', async () => {
    dynamo.on(QueryCommand).callsFake((input: { ProjectionExpression?: string }) => {
      if (!isBacklogQuery(input)) return { Items: [] };
      throw new Error('ProvisionedThroughputExceededException');
    });
    await expect(sweep({}, lambdaContext('sweep'))).resolves.toMatchObject({ applied: 0 });
    expect(named('OpenComplaints')).toEqual([]);
    expect(named('SweepRecoveredDeadlines')).toHaveLength(1);
  });
});
