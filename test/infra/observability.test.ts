import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../infra/constructs/base-function';
import { businessSections, by, operationsQueries } from '../../infra/constructs/dashboard-queries';
import { BREACH_RATE_DEFAULTS, Observability } from '../../infra/constructs/observability';
import { customMetrics, METRICS, type MetricDefinition } from '../../shared/metrics/lifecycle-metrics';
import { OPERATIONAL_COUNTERS } from '../../shared/metrics/operational-counters';
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
  testApp,
} from './template-helpers';

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:complaint-alarms';
let synthesized: SynthesizedStack;
let alarms: Map<string, CfnResource>;
let widgets: Widget[];

interface Widget {
  type: string;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    alarms?: unknown[];
    query?: string;
    view?: string;
  };
}

/**
 * The dashboard body is a `Fn::Join` of JSON text and CloudFormation references; each reference is
 * put back in place of a placeholder, so widgets can be inspected as objects. A reference inside a
 * string (a log group in a Logs Insights query) stays a placeholder `@@i@@`: {@link sources} resolves
 * those.
 */
let tokens: Map<string, unknown>;
function dashboardWidgets(dashboard: CfnResource): Widget[] {
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  tokens = new Map<string, unknown>();
  const text = body['Fn::Join'][1]
    .map((part, i) => {
      if (typeof part === 'string') return part;
      tokens.set(`@@${i}@@`, part);
      return `@@${i}@@`;
    })
    .join('');
  const restore = (value: unknown): unknown => {
    if (typeof value === 'string') return tokens.has(value) ? tokens.get(value) : value;
    if (Array.isArray(value)) return value.map(restore);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restore(v)]));
    }
    return value;
  };
  return (restore(JSON.parse(text)) as { widgets: Widget[] }).widgets;
}

/** The logical ids of the log groups a Logs Insights widget queries (`SOURCE '<log group>'`). */
function sources(w: Widget): string[] {
  return [...(w.properties.query ?? '').matchAll(/SOURCE '(@@\d+@@)'/g)].map((m) => {
    const id = refId(tokens.get(m[1] as string));
    if (id === undefined)
      throw new Error(`${w.properties.title}: a source that is not a log group reference`);
    return id;
  });
}

const widget = (title: string): Widget => {
  const found = widgets.filter((w) => w.properties.title === title);
  if (found.length !== 1) throw new Error(`expected one widget "${title}", found ${found.length}`);
  return found[0] as Widget;
};
const json = (value: unknown) => JSON.stringify(value);
const logWidgets = () => widgets.filter((w) => w.type === 'log');
const metricWidgets = () => widgets.filter((w) => w.type === 'metric');

/** Metric rows of the dashboard: `[namespace, name, …]` (an expression row starts with an object). */
function metricRows(): unknown[][] {
  return metricWidgets().flatMap((w) =>
    (w.properties.metrics ?? []).filter((row) => typeof row[0] === 'string'),
  );
}

/** The stack's functions, queues and dead-letter queues, and the alarms on them. */
let functions: Map<string, CfnResource>;
let queues: Map<string, CfnResource>;
let dlqIds: Set<string>;
const workQueueIds = () => [...queues.keys()].filter((id) => !dlqIds.has(id));

/** The function consuming a queue, through its event source mapping. */
const consumerOf = (queueId: string) => consumerOfQueue(synthesized.template, queueId);

const serviceOf = (functionId: string) =>
  (functions.get(functionId)?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables?.POWERTOOLS_SERVICE_NAME;

beforeAll(() => {
  synthesized = synthesizeStack({ alarmTopicArn: topicArn }, { bundle: false });
  alarms = resourcesOfType(synthesized.template, 'AWS::CloudWatch::Alarm');
  functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
  queues = resourcesOfType(synthesized.template, 'AWS::SQS::Queue');
  dlqIds = deadLetterQueueIds(synthesized.template);
  widgets = dashboardWidgets(
    single(resourcesOfType(synthesized.template, 'AWS::CloudWatch::Dashboard').values(), 'dashboard'),
  );
}, 90_000);

describe('dashboard: the live complaint figures', () => {
  it('has the sections volume, SLA compliance, backlog and ageing, flow, satisfaction and operations', () => {
    const sections = widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown);
    expect(sections).toEqual(
      expect.arrayContaining([
        '## Volume',
        '## SLA compliance',
        '## Backlog and ageing',
        '## Flow and escalations',
        '## Satisfaction',
        '## Operations',
      ]),
    );
  });

  it('shows every figure of the catalogue and every operational counter in a Logs Insights widget', () => {
    const queries = json(logWidgets().map((w) => w.properties.query));
    const figures = [
      ...(Object.values(METRICS) as MetricDefinition[]).map((d) => d.name),
      ...Object.keys(OPERATIONAL_COUNTERS),
    ];
    for (const name of figures) expect(queries, name).toContain(`ispresent(${name})`);
  });

  it('graphs only the metrics the functions extract: the two totals of the breach rate, without dimensions', () => {
    const own = metricRows().filter((row) => row[0] === METRICS_NAMESPACE);
    expect(new Set(own.map((row) => row[1]))).toEqual(new Set(customMetrics().map((d) => d.name)));
    // [namespace, name, options]: no dimension name/value pairs between the name and the options.
    for (const row of own) expect(row.length, json(row)).toBe(3);
  });

  it('queries the figures in the log groups of the functions that publish lifecycle events', () => {
    const { template } = synthesized;
    const logGroupOf = new Map(
      [...resourcesOfType(template, 'AWS::Lambda::Function')].map(([id, fn]) => [
        id,
        refId((fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup),
      ]),
    );
    const roleOf = new Map(
      [...resourcesOfType(template, 'AWS::Lambda::Function')].map(([id, fn]) => [
        id,
        (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      ]),
    );
    const publishingRoles = new Set(
      iamStatements(template)
        .filter(({ statement }) => asArray(statement.Action).includes('events:PutEvents'))
        .flatMap(({ roles }) => roles),
    );
    const publishers = [...roleOf]
      .filter(([, role]) => publishingRoles.has(role))
      .map(([id]) => logGroupOf.get(id));
    expect(publishers.length).toBeGreaterThanOrEqual(8);
    expect(publishers.length).toBeLessThan(logGroupOf.size);
    const sections = new Set(businessSections().flatMap((s) => s.queries.map((q) => q.title)));
    for (const w of logWidgets()) {
      const expected = sections.has(w.properties.title ?? '') ? publishers : [...logGroupOf.values()];
      expect(sources(w).sort(), w.properties.title).toEqual([...expected].sort());
    }
  });

  it('writes every query as a Logs Insights pipeline: its commands, balanced parentheses, a bin() for each line chart', () => {
    const queries = [...businessSections().flatMap((s) => s.queries), ...operationsQueries()];
    expect(logWidgets()).toHaveLength(queries.length);
    for (const q of queries) {
      for (const line of q.lines) {
        expect(line, q.title).toMatch(/^(filter|fields|stats|sort|limit) /);
        let depth = 0;
        for (const c of line) {
          depth += c === '(' ? 1 : c === ')' ? -1 : 0;
          expect(depth, `${q.title}: ${line}`).toBeGreaterThanOrEqual(0);
        }
        expect(depth, `${q.title}: ${line}`).toBe(0);
      }
      // A line chart needs time bins, and only them; a bar chart groups by fields.
      const stats = q.lines.filter((l) => l.startsWith('stats '));
      expect(stats.length, q.title).toBeLessThanOrEqual(1);
      if (q.view !== 'table') expect(stats, q.title).toHaveLength(1);
      expect(/ by bin\(\w+\)$/.test(stats[0] ?? ''), q.title).toBe(q.view === 'line');
    }
    expect(widget('Received per channel').properties.query).toContain(
      '| filter ispresent(ComplaintsReceived)\n| stats sum(ComplaintsReceived) as received by channel',
    );
    expect(widget('Received per channel').properties.view).toBe('bar');
    expect(widget('Open complaints (all)').properties.view).toBe('timeSeries');
  });

  it('refuses at synth a breakdown by a field the figure never carries', () => {
    expect(by('department', METRICS.breaches, METRICS.resolved)).toBe('department');
    expect(() => by('department', METRICS.breaches, METRICS.metOnTime)).toThrow(
      'SlaMetOnTime documents never carry the field department',
    );
  });

  it('puts the breach rate near the top, with the alarm threshold', () => {
    const rate = widget('Breach rate (per 100 classified; the alarm)');
    expect(json(rate)).toContain('IF(breaches >= 3, 100 * breaches / classified, 0)');
    expect(json(rate)).toContain(`"value":${BREACH_RATE_DEFAULTS.thresholdPercent}`);
    expect(widgets.indexOf(rate)).toBeLessThan(
      widgets.findIndex((w) => w.properties.markdown === '## Volume'),
    );
  });
});

describe('dashboard: operations', () => {
  it('graphs the depth of every dead-letter queue in one widget', () => {
    const dlqIds = deadLetterQueueIds(synthesized.template);
    expect(dlqIds.size).toBeGreaterThanOrEqual(5);
    const graph = json(widget('Dead-letter queues: messages (any is an alarm)').properties.metrics);
    for (const id of dlqIds) expect(graph, id).toContain(json({ 'Fn::GetAtt': [id, 'QueueName'] }));
  });

  it('graphs the errors of every function in one widget', () => {
    const graph = json(widget('Function errors (all functions)').properties.metrics);
    for (const id of resourcesOfType(synthesized.template, 'AWS::Lambda::Function').keys()) {
      expect(graph, id).toContain(json({ Ref: id }));
    }
    expect(graph).toContain('"AWS/Lambda","Errors"');
  });

  it('reads invocations, cold starts and durations from the REPORT lines of every function', () => {
    const report = widget('Functions: invocations, cold starts, duration (ms), memory used (MB)');
    expect(report.properties.query).toContain('filter @type = "REPORT"');
    expect(report.properties.query).toContain('count(@initDuration) as coldStarts');
  });

  it('stays within the free tier’s 50 metrics per dashboard', () => {
    expect(metricRows().length).toBeLessThanOrEqual(50);
  });

  it('opens with the state of every alarm', () => {
    const status = widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    expect(widgets.indexOf(status[0] as Widget)).toBe(1);
    const listed = json(status[0]?.properties.alarms);
    for (const id of alarms.keys()) expect(listed, id).toContain(json({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(status[0]?.properties.alarms).toHaveLength(alarms.size);
  });
});

describe('alarms', () => {
  const breachRateAlarms = () =>
    [...alarms.values()].filter((a) =>
      (json(a.Properties.Metrics) ?? '').includes('"MetricName":"SlaBreaches"'),
    );

  it('alarms when SLA breaches per 100 classified complaints exceed the threshold within an hour', () => {
    const alarm = single(breachRateAlarms(), 'breach-rate alarm');
    expect(alarm.Properties).toMatchObject({
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const metrics = alarm.Properties.Metrics as {
      Id: string;
      Expression?: string;
      ReturnData: boolean;
      MetricStat?: {
        Metric: { MetricName: string; Namespace: string; Dimensions?: unknown };
        Period: number;
        Stat: string;
      };
    }[];
    expect(metrics.find((m) => m.ReturnData)?.Expression).toBe(
      'IF(breaches >= 3, 100 * breaches / classified, 0)',
    );
    const stat = (id: string) => metrics.find((m) => m.Id === id)?.MetricStat;
    // Totals (no dimensions), as the functions emit them, summed over the hour.
    expect(stat('breaches')).toEqual({
      Metric: { MetricName: 'SlaBreaches', Namespace: METRICS_NAMESPACE },
      Period: 3600,
      Stat: 'Sum',
    });
    expect(stat('classified')).toEqual({
      Metric: { MetricName: 'ComplaintsClassified', Namespace: METRICS_NAMESPACE },
      Period: 3600,
      Stat: 'Sum',
    });
  });

  it('alarms on any 5xx of the HTTP API, once for every API function', () => {
    const apiId = single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Api').keys(), 'HTTP API');
    const alarm = single(
      [...alarms.values()].filter((a) => a.Properties.Namespace === 'AWS/ApiGateway'),
      '5xx alarm',
    );
    expect(alarm.Properties).toMatchObject({
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const label of ['IntakeApi', 'AgentApi', 'CustomerApi', 'ReportsApi', 'PrivacyApi']) {
      expect(alarm.Properties.AlarmDescription, label).toContain(label);
    }
  });

  it('notifies the SNS topic on alarm and on recovery, like every alarm', () => {
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicArn]);
      expect(alarm.Properties.OKActions, id).toEqual([topicArn]);
    }
    expect(breachRateAlarms()).toHaveLength(1);
  });
});

describe('alarms and dashboard', () => {
  const alarms = () => [...resourcesOfType(synthesized.template, 'AWS::CloudWatch::Alarm').values()];

  it('alarms on any message in any dead-letter queue', () => {
    // Five consumer DLQs, the EventBridge delivery DLQ and the timer DLQ.
    expect(dlqIds.size).toBe(7);
    for (const dlqId of dlqIds) {
      const matching = alarms().filter(
        (a) =>
          a.Properties.Namespace === 'AWS/SQS' &&
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]),
      );
      expect(matching, dlqId).toHaveLength(1);
      expect(matching[0]?.Properties, dlqId).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on every function’s failures: through its API’s 5xx, an alarmed DLQ, or its own errors alarm', () => {
    const { template } = synthesized;
    const alarmedQueues = new Set(
      alarms()
        .filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map((a) => getAttId((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value, 'QueueName')),
    );
    const apiAlarmed = new Set(
      alarms()
        .filter((a) => a.Properties.Namespace === 'AWS/ApiGateway' && a.Properties.MetricName === '5xx')
        .map((a) => refId((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value)),
    );
    const ownAlarm = new Set(
      alarms()
        .filter((a) => a.Properties.Namespace === 'AWS/Lambda' && a.Properties.MetricName === 'Errors')
        .map((a) => refId((a.Properties.Dimensions as { Value: unknown }[])[0]?.Value)),
    );
    const dlqOf = (queueId: string) =>
      getAttId(
        (queues.get(queueId)?.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown })
          ?.deadLetterTargetArn,
      );
    const how = new Map<string, string[]>();
    const add = (functionId: string | undefined, way: string) => {
      if (functionId !== undefined) how.set(functionId, [...(how.get(functionId) ?? []), way]);
    };
    // Behind an HTTP API route: a failure or a timeout is a 5xx.
    for (const integration of resourcesOfType(template, 'AWS::ApiGatewayV2::Integration').values()) {
      if (apiAlarmed.has(refId(integration.Properties.ApiId)))
        add(getAttId(integration.Properties.IntegrationUri), 'api');
    }
    // A queue consumer: a failing record is retried, then lands in the queue's DLQ.
    for (const queueId of workQueueIds()) {
      const dlq = dlqOf(queueId);
      if (dlq !== undefined && alarmedQueues.has(dlq)) add(consumerOf(queueId).functionId, 'queue DLQ');
    }
    // Asynchronous invocations (timers, schedules): after the retries, the on-failure destination.
    for (const config of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').values()) {
      const destination = (config.Properties.DestinationConfig as { OnFailure?: { Destination?: unknown } })
        ?.OnFailure?.Destination;
      if (alarmedQueues.has(getAttId(destination)))
        add(refId(config.Properties.FunctionName), 'on-failure DLQ');
    }
    for (const id of functions.keys()) if (ownAlarm.has(id)) add(id, 'own');

    const uncovered = [...functions.keys()].filter((id) => !how.has(id));
    expect(uncovered).toEqual([]);
    // An errors alarm of its own only where nothing else catches the failure: the sweep (not
    // retried, no destination: the next tick is the retry) and the retention run (no destination).
    const own = [...how].filter(([, ways]) => ways.includes('own')).map(([id]) => serviceOf(id));
    expect(own.sort()).toEqual(['privacy', 'sla']);
    for (const [id, ways] of how) expect(ways, id).toHaveLength(1);
    for (const alarm of alarms().filter(
      (a) => a.Properties.MetricName === 'Errors' || a.Properties.MetricName === '5xx',
    )) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('alarms when the oldest message of a work queue gets too old', () => {
    for (const queueId of workQueueIds()) {
      const matching = alarms().filter(
        (a) =>
          a.Properties.MetricName === 'ApproximateAgeOfOldestMessage' &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
      );
      expect(matching, queueId).toHaveLength(1);
      expect(matching[0]?.Properties.Threshold as number, queueId).toBeGreaterThan(0);
    }
  });

  it('puts every function and every queue on the dashboard', () => {
    const dashboard = single(
      resourcesOfType(synthesized.template, 'AWS::CloudWatch::Dashboard').values(),
      'dashboard',
    );
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const functionId of functions.keys()) expect(body, functionId).toContain(`{"Ref":"${functionId}"}`);
    for (const queueId of queues.keys()) {
      expect(body, queueId).toContain(`{"Fn::GetAtt":["${queueId}","QueueName"]}`);
    }
  });
});

describe('the construct on its own', () => {
  const alone = (props: Partial<ConstructorParameters<typeof Observability>[2]> = {}) => {
    const stack = new Stack(testApp(), 'Alone');
    const observability = new Observability(stack, 'Observability', {
      functions: [],
      consumers: [],
      otherDeadLetterQueues: [],
      ...props,
    });
    return { observability, template: Template.fromStack(stack) };
  };

  it('takes the breach-rate threshold, period and minimum from its props', () => {
    const { template, observability } = alone({
      breachRate: { thresholdPercent: 25, period: Duration.minutes(30), minimumBreaches: 5 },
      metricsNamespace: 'Complaints/Staging',
    });
    const alarm = single(resourcesOfType(template, 'AWS::CloudWatch::Alarm').values(), 'alarm');
    expect(alarm.Properties.Threshold).toBe(25);
    expect(json(alarm.Properties.Metrics)).toContain('IF(breaches >= 5, 100 * breaches / classified, 0)');
    expect(json(alarm.Properties.Metrics)).toContain('"Period":1800');
    expect(json(alarm.Properties.Metrics)).toContain('"Namespace":"Complaints/Staging"');
    // Without a topic, the alarm only changes state.
    expect(alarm.Properties.AlarmActions).toBeUndefined();
    expect(observability.alarms).toEqual([observability.breachRateAlarm]);
  });

  it('refuses a breach-rate threshold or minimum that cannot work', () => {
    expect(() => alone({ breachRate: { thresholdPercent: 0 } })).toThrow(/thresholdPercent/);
    expect(() => alone({ breachRate: { minimumBreaches: 0.5 } })).toThrow(/minimumBreaches/);
  });

  it('refuses a function whose failures should reach the API’s alarm when there is no API', () => {
    const stack = new Stack(testApp(), 'NoApi');
    const fn = synthesized.stack.intake.apiFunction;
    expect(
      () =>
        new Observability(stack, 'Observability', {
          functions: [{ label: 'IntakeApi', fn, failuresReach: 'api' }],
          consumers: [],
          otherDeadLetterQueues: [],
        }),
    ).toThrow(/IntakeApi: failures reach the API's 5xx alarm, but no api was given/);
  });
});
