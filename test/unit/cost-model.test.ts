import { describe, expect, it } from 'vitest';
import { emfMetricIdentities, runsPerMonth, templateFixedCounts } from '../../infra/local/metering/collect';
import {
  emptyUsage,
  priceFixed,
  priceUsage,
  recurringUsage,
  totalOf,
} from '../../infra/local/metering/cost-model';
import { itemBytes } from '../../infra/local/metering/cost-run';
import { ASSUMPTIONS, PRICES } from '../../infra/local/metering/prices';
import {
  chunksOf,
  createUsageMeter,
  EVENT_CHUNK_BYTES,
  eventEntryBytes,
} from '../../infra/local/metering/usage-meter';
import type { StackTemplate } from '../../infra/local/template';

describe('cost model: usage × list price', () => {
  it('prices each figure at its own price, hand-computed', () => {
    const rows = priceUsage({
      ...emptyUsage(),
      dynamodbWrites: 100,
      dynamodbReads: 40,
      lambdaRequests: 10,
      lambdaArmGbSeconds: 0.5,
      logBytes: 1024 ** 3 / 1000,
    });
    const usd = (service: string) => rows.find((r) => r.service === service)?.usd;
    expect(usd('DynamoDB writes')).toBeCloseTo(100 * 0.625e-6, 12);
    expect(usd('DynamoDB reads')).toBeCloseTo(40 * 0.125e-6, 12);
    expect(usd('Lambda requests')).toBeCloseTo(10 * 0.2e-6, 12);
    expect(usd('Lambda duration')).toBeCloseTo(0.5 * 0.0000133334, 12);
    expect(usd('CloudWatch Logs')).toBeCloseTo(0.5 / 1000, 12);
    expect(totalOf(rows)).toBeCloseTo(6.25e-5 + 5e-6 + 2e-6 + 6.6667e-6 + 5e-4, 9);
  });

  it('prices the fixed month from counts, idle polling included', () => {
    const rows = priceFixed({
      alarmMetrics: 17,
      dashboards: 1,
      kmsKeys: 2,
      customMetrics: 2,
      eventSourceMappings: 5,
    });
    const idle = 5 * ASSUMPTIONS.idleReceivesPerMappingMonth;
    expect(totalOf(rows)).toBeCloseTo(1.7 + 3 + 2 + 0.6 + (idle / 1e6) * PRICES.sqsRequests.usd, 9);
  });

  it('turns recurring runs into a month', () => {
    const monthly = recurringUsage([
      {
        name: 'sweep',
        runsPerMonth: 8640,
        perRun: { ...emptyUsage(), dynamodbReads: 10, lambdaRequests: 1 },
      },
      { name: 'daily', runsPerMonth: 30, perRun: { ...emptyUsage(), dynamodbWrites: 3, lambdaRequests: 1 } },
    ]);
    expect(monthly).toMatchObject({ dynamodbReads: 86_400, dynamodbWrites: 90, lambdaRequests: 8670 });
  });

  it('counts runs of schedule expressions in an average month (a year of 2027 / 12)', () => {
    expect(runsPerMonth('rate(5 minutes)')).toBe(8760);
    expect(runsPerMonth('rate(1 hour)')).toBe(730);
    expect(runsPerMonth('cron(10 0 * * ? *)')).toBeCloseTo(365 / 12, 9);
    // 2027 has 52 Mondays; a monthly report at 00:30 in Shanghai still runs 12 times a year.
    expect(runsPerMonth('cron(20 0 ? * MON *)')).toBeCloseTo(52 / 12, 9);
    expect(runsPerMonth('cron(30 0 1 * ? *)', 'Asia/Shanghai')).toBe(1);
  });
});

describe('usage meter', () => {
  it('bills a PutEvents entry per started 64 KB of source, detail-type, detail and resources', () => {
    const event = { source: 'a.b', 'detail-type': 'X Y', detail: { k: 'v' }, resources: ['arn:1'] };
    expect(eventEntryBytes(event)).toBe(3 + 3 + JSON.stringify({ k: 'v' }).length + 5);
    expect(chunksOf(1, EVENT_CHUNK_BYTES)).toBe(1);
    expect(chunksOf(EVENT_CHUNK_BYTES + 1, EVENT_CHUNK_BYTES)).toBe(2);
  });

  it('adds up per caller what the proxies and the bus report, and forgets it on reset', () => {
    const meter = createUsageMeter({ callerOf: (key) => (key === 'LOCALFNFn1' ? 'Fn1' : undefined) });
    const signed = {
      authorization: 'AWS4-HMAC-SHA256 Credential=LOCALFNFn1/20261207/us-east-1/dynamodb/aws4_request',
    };
    const observer = meter.proxyObserver('dynamodb');
    const put = {
      method: 'POST',
      path: '/',
      headers: { ...signed, 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: '{"TableName":"t"}',
    };
    expect(JSON.parse(observer.requestBody?.(put) ?? '{}')).toEqual({
      TableName: 't',
      ReturnConsumedCapacity: 'INDEXES',
    });
    observer.answered(
      put,
      200,
      Buffer.from(JSON.stringify({ ConsumedCapacity: { CapacityUnits: 3, WriteCapacityUnits: 3 } })),
    );
    observer.answered(
      put,
      400,
      Buffer.from(
        JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException' }),
      ),
    );
    meter.eventAccepted({ source: 's', 'detail-type': 'd', detail: {} });
    meter.queueDelivery();
    meter.httpRequest(10);
    const snapshot = meter.snapshot();
    expect(snapshot.dynamodb.Fn1).toEqual({ readUnits: 0, writeUnits: 4, refusedWrites: 1, requests: 2 });
    expect(snapshot.calls.Fn1).toEqual({ 'dynamodb:PutItem': 2 });
    expect(snapshot.events.s).toMatchObject({ entries: 1, chunks: 1 });
    expect(snapshot).toMatchObject({ queueDeliveries: 1, http: { requests: 1, chunks: 1 } });
    meter.reset();
    expect(meter.snapshot()).toEqual({
      calls: {},
      dynamodb: {},
      events: {},
      queueDeliveries: 0,
      http: { requests: 0, chunks: 0 },
    });
  });
});

describe('template and logs', () => {
  it('counts alarm metrics (metric math per metric read), dashboards, keys and mappings', () => {
    const template = {
      Resources: {
        A: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
        B: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Metrics: [
              { Id: 'a', MetricStat: {} },
              { Id: 'b', MetricStat: {} },
              { Id: 'e', Expression: 'a/b' },
            ],
          },
        },
        D: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
        K: { Type: 'AWS::KMS::Key', Properties: {} },
        M: { Type: 'AWS::Lambda::EventSourceMapping', Properties: {} },
      },
    } as unknown as StackTemplate;
    expect(templateFixedCounts(template)).toEqual({
      alarmMetrics: 3,
      dashboards: 1,
      kmsKeys: 1,
      eventSourceMappings: 1,
    });
  });

  it('counts each distinct metric of EMF documents once, per dimension values', () => {
    const doc = (value: string) =>
      JSON.stringify({
        _aws: {
          CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['service'], []], Metrics: [{ Name: 'M' }] }],
        },
        service: value,
        M: 1,
      });
    expect(emfMetricIdentities([doc('a'), doc('a'), doc('b'), '{"plain":1}', 'not json'])).toEqual(
      new Set(['N|M|service=a', 'N|M|', 'N|M|service=b']),
    );
  });

  it('sizes items by DynamoDB rules: names and values, maps and lists with their overhead', () => {
    expect(itemBytes({ pk: { S: 'C#1' }, n: { N: '12345' }, b: { BOOL: true } })).toBe(2 + 3 + 1 + 4 + 1 + 1);
    expect(itemBytes({ m: { M: { a: { S: 'xy' } } } })).toBe(1 + 3 + 1 + (1 + 2));
  });
});
