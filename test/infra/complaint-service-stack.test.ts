import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/base-function';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../infra/constructs/queue-consumer';
import { AGGREGATION_BATCHING_WINDOW } from '../../infra/constructs/reporting-service';
import { REPORTED_DETAIL_TYPES } from '../../shared/domain/reporting/facts';
import { DETAIL_TYPES, OWN_SOURCE_PREFIX, SOURCES } from '../../shared/events/names';
import { policyDigest } from '../../shared/policy/bundled';
import { loadPolicyFile, parsePolicy } from '../../shared/policy/load';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/storage/table-schema';
import {
  asArray,
  type CfnResource,
  consumerOfQueue,
  deadLetterQueueIds,
  getAttId,
  iamStatements,
  refId,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

let synthesized: SynthesizedStack;
let functions: Map<string, CfnResource>;
let queues: Map<string, CfnResource>;
let dlqIds: Set<string>;
let tableId: string;
let busId: string;

beforeAll(() => {
  synthesized = synthesizeStack();
  const { template } = synthesized;
  functions = resourcesOfType(template, 'AWS::Lambda::Function');
  queues = resourcesOfType(template, 'AWS::SQS::Queue');
  dlqIds = deadLetterQueueIds(template);
  tableId = single(resourcesOfType(template, 'AWS::DynamoDB::Table').keys(), 'table');
  busId = single(resourcesOfType(template, 'AWS::Events::EventBus').keys(), 'event bus');
}, 90_000);

const workQueueIds = () => [...queues.keys()].filter((id) => !dlqIds.has(id));

/** The function consuming a queue, through its event source mapping. */
const consumerOf = (queueId: string) => consumerOfQueue(synthesized.template, queueId);

function envOf(functionId: string): Record<string, unknown> {
  const fn = functions.get(functionId);
  return ((fn?.Properties.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {}) as Record<
    string,
    unknown
  >;
}

describe('functions', () => {
  const newestNodeRuntime = Runtime.ALL.map((r) => /^nodejs(\d+)\.x$/.exec(r.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .reduce((a, b) => Math.max(a, b));

  it('defines the fifteen handlers: intake (API, inbound), classification, assignment, SLA (timer, sweep), survey, agent and customer APIs, reporting (aggregator, generator, API), privacy (API, erasure worker, retention)', () => {
    const services = [...functions.keys()].map((id) => envOf(id).POWERTOOLS_SERVICE_NAME).sort();
    expect(services).toEqual([
      'agent-api',
      'assignment',
      'classification',
      'customer-api',
      'intake',
      'intake',
      'privacy',
      'privacy',
      'privacy-api',
      'reporting',
      'reporting',
      'reports-api',
      'sla',
      'sla',
      'survey',
    ]);
  });

  it('runs every function on arm64, the newest Node runtime and pass-through tracing (active costs per invocation)', () => {
    expect(newestNodeRuntime).toBeGreaterThanOrEqual(24);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.Runtime, id).toBe(`nodejs${newestNodeRuntime}.x`);
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'PassThrough' });
      expect(fn.Properties.Handler, id).toBe('index.handler');
      const memory = fn.Properties.MemorySize as number;
      expect(memory, id).toBeGreaterThanOrEqual(256);
      expect(memory, id).toBeLessThanOrEqual(512);
    }
  });

  it('gives every function the table, the bus, the bundled policy and the Powertools settings', () => {
    for (const id of functions.keys()) {
      expect(envOf(id), id).toMatchObject({
        TABLE_NAME: { Ref: tableId },
        EVENT_BUS_NAME: { Ref: busId },
        POLICY_FILE: 'policy.json',
        POLICY_SHA256: expect.stringMatching(/^[0-9a-f]{64}$/),
        DEADLINE_SHARDS: '8',
        POWERTOOLS_METRICS_NAMESPACE: 'ComplaintService',
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('logs to an explicit log group with retention, writable only by the function', () => {
    const logGroups = resourcesOfType(synthesized.template, 'AWS::Logs::LogGroup');
    const statements = iamStatements(synthesized.template);
    for (const [id, fn] of functions) {
      const logGroupId = refId((fn.Properties.LoggingConfig as { LogGroup?: unknown })?.LogGroup);
      expect(logGroupId, id).toBeDefined();
      expect(logGroups.get(logGroupId as string)?.Properties.RetentionInDays, id).toBeGreaterThan(0);

      const roleId = getAttId(fn.Properties.Role);
      const logStatements = statements.filter(
        (s) =>
          s.roles.includes(roleId as string) &&
          asArray(s.statement.Action).some((a) => a.startsWith('logs:')),
      );
      expect(
        logStatements.map((s) => getAttId(s.statement.Resource)),
        id,
      ).toEqual([logGroupId]);
    }
  });

  it('uses no managed policy (no AWSLambdaBasicExecutionRole on logs:*)', () => {
    for (const [id, role] of resourcesOfType(synthesized.template, 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('ships ESM bundles with the require banner, source maps and the validated policy, normalised, with its digest', () => {
    const policy = JSON.parse(JSON.stringify(loadPolicyFile(DEFAULT_POLICY_FILE)));
    for (const [id, fn] of functions) {
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const dir = join(synthesized.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(dir, 'index.mjs')), id).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), id).toBe(true);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER), id).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')), id).toEqual(policy);
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.POLICY_SHA256, id).toBe(policyDigest(readFileSync(join(dir, 'policy.json'))));
    }
  });

  it('bundles credentials from the environment only, not the SDK default chain (SSO, STS, INI, IMDS)', () => {
    for (const [id, fn] of functions) {
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const map = join(synthesized.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs.map');
      const sources = (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources;
      expect(
        sources.some((s) => s.endsWith('shared/clients/lambda-credentials.ts')),
        id,
      ).toBe(true);
      expect(
        sources.some((s) => s.includes('credential-provider-env/')),
        id,
      ).toBe(true);
      const chain = sources.filter((s) =>
        /credential-provider-(node|sso|ini|process|web-identity|http|login)\/|nested-clients\/|credential-provider-imds\//.test(
          s,
        ),
      );
      expect(chain, id).toEqual([]);
    }
  });
});

describe('queues', () => {
  it('has five work queues, each with a dead-letter queue after five receives', () => {
    expect(workQueueIds()).toHaveLength(5);
    for (const id of workQueueIds()) {
      const redrive = queues.get(id)?.Properties.RedrivePolicy as
        | { deadLetterTargetArn: unknown; maxReceiveCount: number }
        | undefined;
      expect(redrive, id).toBeDefined();
      expect(redrive?.maxReceiveCount, id).toBe(MAX_RECEIVE_COUNT);
      const dlq = getAttId(redrive?.deadLetterTargetArn);
      expect(dlq && queues.has(dlq), id).toBe(true);
    }
  });

  it('gives every work queue its own DLQ and leaves DLQs without a redrive of their own', () => {
    const targets = workQueueIds().map((id) => {
      const redrive = queues.get(id)?.Properties.RedrivePolicy as
        | { deadLetterTargetArn?: unknown }
        | undefined;
      return getAttId(redrive?.deadLetterTargetArn);
    });
    expect(new Set(targets).size).toBe(targets.length);
    for (const id of dlqIds) {
      expect(queues.get(id)?.Properties.RedrivePolicy, id).toBeUndefined();
      expect(queues.get(id)?.Properties.MessageRetentionPeriod, id).toBe(Duration.days(14).toSeconds());
    }
  });

  it('encrypts every queue (with the data key, see encryption.test.ts) and denies requests without TLS', () => {
    const policies = [...resourcesOfType(synthesized.template, 'AWS::SQS::QueuePolicy').values()];
    for (const [id, queue] of queues) {
      expect(queue.Properties.KmsMasterKeyId, id).toBeDefined();
      const denies = policies
        .filter((p) => asArray(p.Properties.Queues as unknown[]).some((q) => refId(q) === id))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
        .filter(
          (s) =>
            s.Effect === 'Deny' &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        );
      expect(denies, id).toHaveLength(1);
    }
  });

  it('consumes every work queue with partial batch responses, a batch size and a batching window', () => {
    const mappings = resourcesOfType(synthesized.template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.size).toBeGreaterThan(0);
    // The queues from intake to assigned wait for nothing (latency); the report aggregator's gathers a
    // complaint's events into one write; the others batch for a second.
    const latencyPath = /^(IntakeInbound|ClassificationReceived|AssignmentClassified)Queue/;
    const aggregation = /^ReportingLifecycleQueue/;
    const queueOf = (mapping: CfnResource) => getAttId(mapping.Properties.EventSourceArn) ?? '';
    expect([...mappings.values()].filter((m) => latencyPath.test(queueOf(m)))).toHaveLength(3);
    for (const [id, mapping] of mappings) {
      expect(mapping.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
      expect(mapping.Properties.BatchSize, id).toBeGreaterThan(0);
      expect(mapping.Properties.MaximumBatchingWindowInSeconds, id).toBe(
        latencyPath.test(queueOf(mapping))
          ? 0
          : aggregation.test(queueOf(mapping))
            ? AGGREGATION_BATCHING_WINDOW.toSeconds()
            : 1,
      );
      const queueId = getAttId(mapping.Properties.EventSourceArn);
      expect(queueId && workQueueIds().includes(queueId), `${id} reads a work queue, not a DLQ`).toBe(true);
    }
    for (const queueId of workQueueIds()) expect(() => consumerOf(queueId)).not.toThrow();
  });

  it('sets each visibility timeout to at least 6x the consumer timeout plus the batching window', () => {
    for (const queueId of workQueueIds()) {
      const { functionId, mapping } = consumerOf(queueId);
      const timeout = functions.get(functionId)?.Properties.Timeout as number;
      const window = mapping.Properties.MaximumBatchingWindowInSeconds as number;
      const visibility = queues.get(queueId)?.Properties.VisibilityTimeout as number;
      expect(timeout, functionId).toBeGreaterThan(0);
      expect(visibility, queueId).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * timeout + window);
    }
  });
});

describe('table', () => {
  it('is on-demand, point-in-time recoverable, encrypted, with TTL and the key schema', () => {
    synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: Match.objectLike({ SSEEnabled: true }),
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('is retained when the stack or the resource is deleted', () => {
    synthesized.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('has exactly the indexes of table-schema.ts, with their keys and INCLUDE projections', () => {
    const table = single(resourcesOfType(synthesized.template, 'AWS::DynamoDB::Table').values(), 'table');
    const expected = Object.values(INDEXES).map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] },
    }));
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(expected);
    for (const index of Object.values(INDEXES)) {
      for (const key of [index.partitionKey, index.sortKey]) {
        expect(table.Properties.AttributeDefinitions).toContainEqual({
          AttributeName: key,
          AttributeType: 'S',
        });
      }
    }
  });
});

describe('event bus and rules', () => {
  it('archives the events of the project bus for a year (exclusions: bus-policy.test.ts)', () => {
    synthesized.template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      RetentionDays: 365,
      EventPattern: { source: [{ prefix: '' }], 'detail-type': [{ 'anything-but': Match.anyValue() }] },
    });
  });

  /** rule pattern → target queue → consuming function's service name (event rules; the scheduled sweep rule has its own test). */
  const subscriptions = () =>
    [...resourcesOfType(synthesized.template, 'AWS::Events::Rule').values()]
      .filter((rule) => rule.Properties.EventPattern !== undefined)
      .map((rule) => {
        const target = single(
          asArray(rule.Properties.Targets as { Arn: unknown; DeadLetterConfig?: { Arn: unknown } }[]),
          'target',
        );
        const queueId = getAttId(target.Arn) as string;
        return {
          rule,
          pattern: rule.Properties.EventPattern,
          target,
          queueId,
          service: envOf(consumerOf(queueId).functionId).POWERTOOLS_SERVICE_NAME,
        };
      });

  it('routes events by the names of shared/events/names.ts to the right consumers', () => {
    const byService = Object.fromEntries(subscriptions().map((s) => [s.service, s.pattern]));
    expect(byService).toEqual({
      intake: {
        source: [{ 'anything-but': { prefix: OWN_SOURCE_PREFIX } }],
        'detail-type': [DETAIL_TYPES.complaintReported, DETAIL_TYPES.customerProfileUpdated],
      },
      classification: { source: [SOURCES.intake], 'detail-type': [DETAIL_TYPES.complaintReceived] },
      assignment: { source: [SOURCES.classification], 'detail-type': [DETAIL_TYPES.complaintClassified] },
      reporting: { source: [{ prefix: OWN_SOURCE_PREFIX }], 'detail-type': [...REPORTED_DETAIL_TYPES] },
    });
  });

  it('keeps the inbound rule from matching the service own sources', () => {
    for (const source of Object.values(SOURCES)) expect(source.startsWith(OWN_SOURCE_PREFIX)).toBe(true);
  });

  it('listens on the project bus only, with a retry policy and a delivery DLQ on every target', () => {
    for (const { rule, target, queueId } of subscriptions()) {
      expect(rule.Properties.EventBusName, queueId).toEqual({ Ref: busId });
      const dlq = getAttId(target.DeadLetterConfig?.Arn);
      expect(dlq && queues.has(dlq), queueId).toBe(true);
      expect(dlq, queueId).not.toBe(queueId);
    }
    synthesized.template.allResourcesProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }) }),
      ],
    });
  });
});

describe('intake HTTP API', () => {
  it('exposes POST /complaints without an authorizer, integrated with the intake API function', () => {
    const route = single(
      [...resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Route').values()].filter(
        (r) => r.Properties.RouteKey === 'POST /complaints',
      ),
      'POST /complaints route',
    );
    expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    const integrationId = (route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .map(refId)
      .find((id) => id !== undefined) as string;
    const integration = resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Integration').get(
      integrationId,
    ) as CfnResource;
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    const functionId = getAttId(integration.Properties.IntegrationUri) as string;
    expect(envOf(functionId).POWERTOOLS_SERVICE_NAME).toBe('intake');
    const mappings = resourcesOfType(synthesized.template, 'AWS::Lambda::EventSourceMapping');
    expect([...mappings.values()].some((m) => refId(m.Properties.FunctionName) === functionId)).toBe(false);
  });

  it('throttles the stage and writes access logs without request bodies', () => {
    const stage = single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Stage').values(), 'stage');
    expect(stage.Properties.StageName).toBe('$default');
    expect(stage.Properties.AutoDeploy).toBe(true);
    const throttle = stage.Properties.DefaultRouteSettings as Record<string, number>;
    expect(throttle.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(throttle.ThrottlingBurstLimit).toBeGreaterThan(0);
    const logs = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    const logGroupId = getAttId(logs.DestinationArn) as string;
    expect(resourcesOfType(synthesized.template, 'AWS::Logs::LogGroup').get(logGroupId)).toBeDefined();
    expect(JSON.parse(logs.Format)).toMatchObject({ requestId: '$context.requestId' });
    expect(logs.Format).not.toMatch(/requestBody|\$input|header/i);
  });

  it('has CORS off by default', () => {
    const api = single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Api').values(), 'API');
    expect(api.Properties.ProtocolType).toBe('HTTP');
    expect(api.Properties.CorsConfiguration).toBeUndefined();
  });
});

describe('IAM', () => {
  const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

  it('grants "*" resources to nothing but X-Ray', () => {
    for (const { policyId, statement } of iamStatements(synthesized.template)) {
      if (asArray(statement.Resource).includes('*')) {
        expect(asArray(statement.Action).sort(), policyId).toEqual(xray);
      }
      for (const action of asArray(statement.Action)) expect(action, policyId).not.toMatch(/\*/);
    }
  });

  it('lets functions put events on the project bus only (all but the report aggregator, the privacy API and the retention run)', () => {
    const statements = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).some((a) => a.startsWith('events:')),
    );
    expect(statements.length).toBe(functions.size - 3);
    for (const { policyId, statement } of statements) {
      expect(asArray(statement.Action), policyId).toEqual(['events:PutEvents']);
      expect(statement.Resource, policyId).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
      // Each grant names the sources its function owns (bus-policy.test.ts checks which).
      expect(Object.keys((statement as { Condition?: object }).Condition ?? {}), policyId).toEqual([
        'StringEquals',
      ]);
    }
  });

  it('limits DynamoDB actions to the table and its named indexes, without Scan (per-function grants: table-access.test.ts)', () => {
    const statements = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).some((a) => a.startsWith('dynamodb:')),
    );
    const rolesWithTable = new Set(statements.flatMap((s) => s.roles));
    expect(rolesWithTable.size).toBe(functions.size);
    for (const { policyId, statement } of statements) {
      expect(asArray(statement.Action), policyId).not.toContain('dynamodb:Scan');
      for (const resource of asArray(statement.Resource)) {
        const onTable = getAttId(resource) === tableId;
        const onIndex = JSON.stringify(resource).startsWith(
          JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }]] }).slice(0, -4),
        );
        expect(onTable || onIndex, `${policyId}: ${JSON.stringify(resource)}`).toBe(true);
      }
    }
  });

  it('lets each queue consumer read its own queue and send only to its own DLQ (the erasure worker: and its own queue)', () => {
    for (const queueId of workQueueIds()) {
      const { functionId } = consumerOf(queueId);
      const fn = functions.get(functionId);
      const roleId = getAttId(fn?.Properties.Role) as string;
      const redrive = queues.get(queueId)?.Properties.RedrivePolicy as { deadLetterTargetArn: unknown };
      const dlqId = getAttId(redrive.deadLetterTargetArn) as string;
      const sqsStatements = iamStatements(synthesized.template)
        .filter(
          (s) => s.roles.includes(roleId) && asArray(s.statement.Action).some((a) => a.startsWith('sqs:')),
        )
        .map((s) => s.statement);
      // cdk.json's `@aws-cdk/aws-iam:minimizePolicies` merges statements with the same actions: one
      // statement may name several queues (the erasure worker sends to its queue and to its DLQ).
      const byResource = new Map<string | undefined, string[]>();
      for (const st of sqsStatements) {
        for (const resource of asArray(st.Resource)) {
          const id = getAttId(resource);
          byResource.set(id, [...(byResource.get(id) ?? []), ...asArray(st.Action)]);
        }
      }
      expect([...byResource.keys()].sort(), functionId).toEqual([queueId, dlqId].sort());
      expect(byResource.get(queueId), functionId).toContain('sqs:ReceiveMessage');
      expect(byResource.get(dlqId), functionId).toEqual(expect.arrayContaining(['sqs:SendMessage']));
      expect(byResource.get(dlqId), functionId).not.toContain('sqs:ReceiveMessage');
      const env = fn?.Properties.Environment as { Variables: Record<string, unknown> };
      expect(env.Variables.DEAD_LETTER_QUEUE_URL, functionId).toEqual({ Ref: dlqId });
    }
  });
});

/** Function description → S3 key of its bundle. */
function bundleKeys(stack: SynthesizedStack): Map<string, string> {
  return new Map(
    [...resourcesOfType(stack.template, 'AWS::Lambda::Function').values()].map((fn) => [
      fn.Properties.Description as string,
      (fn.Properties.Code as { S3Key: string }).S3Key,
    ]),
  );
}

function writeCustomPolicy(document: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'complaint-policy-')), 'custom.json');
  writeFileSync(file, JSON.stringify(document, null, 2));
  return file;
}

describe('policy in the bundles', () => {
  // The default deployment is this file's `synthesized`: one bundled synth fewer.
  let custom: SynthesizedStack;
  let customPolicy: unknown;

  beforeAll(() => {
    const policy = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    customPolicy = { ...policy, name: 'custom-deployer-policy' };
    custom = synthesizeStack({ policyFile: writeCustomPolicy(customPolicy) }, { id: 'Custom' });
  }, 240_000);

  it('changes every function asset when the policy changes', () => {
    const before = bundleKeys(synthesized);
    const after = bundleKeys(custom);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [description, key] of after) expect(key, description).not.toBe(before.get(description));
  });

  it('bundles the deployer policy as policy.json', () => {
    for (const key of bundleKeys(custom).values()) {
      const dir = join(custom.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      // Validated and normalised at synth: the deployer's document with the schema's defaults filled in.
      expect(JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8'))).toEqual(
        JSON.parse(JSON.stringify(parsePolicy(customPolicy))),
      );
    }
  });
});
