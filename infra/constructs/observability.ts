import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type DimensionKey, METRICS, type MetricDefinition } from '../../shared/metrics/lifecycle-metrics';
import { type ComplaintFunction, METRICS_NAMESPACE } from './base-function';
import { MAX_RECEIVE_COUNT, type QueueConsumer } from './queue-consumer';

export interface NamedFunction {
  readonly label: string;
  readonly fn: ComplaintFunction;
  /**
   * How a failure of this function reaches an alarm without an errors alarm of its own (each such
   * alarm is one more alarm metric, $0.10 a month):
   * - `api`: it answers HTTP API routes; a failure or a timeout is a 5xx of the API (the 5xx alarm);
   * - `deadLetterQueue`: a failed record or asynchronous invocation is retried, then lands in an
   *   alarmed dead-letter queue (queue consumers, timer targets, the report generator).
   * @default - an errors alarm of its own (≥ 1 error in 5 minutes)
   */
  readonly failuresReach?: 'api' | 'deadLetterQueue';
}

export interface NamedQueueConsumer {
  readonly label: string;
  readonly consumer: QueueConsumer;
}

export interface NamedQueue {
  readonly label: string;
  readonly queue: sqs.IQueue;
  /**
   * What a message in this queue means and how to redrive it (the alarm description).
   * @default - an EventBridge rule target's delivery DLQ
   */
  readonly description?: string;
}

/**
 * The SLA breach-rate alarm: `SlaBreaches` (any clock) per 100 `ComplaintsClassified` within one
 * period. It is a live proxy — a breach belongs to a complaint classified earlier — so it is taken
 * over a period long enough to smooth that out, and only once a few breaches happened (one late
 * complaint in a quiet hour is not an incident). A period without classified complaints has no rate.
 */
export interface BreachRateAlarmOptions {
  /** Alarm when the rate is above this many breaches per 100 classified complaints. @default 10 */
  readonly thresholdPercent?: number;
  /** @default 1 hour */
  readonly period?: Duration;
  /** A period with fewer breaches than this never alarms. @default 3 */
  readonly minimumBreaches?: number;
}

/** Defaults of {@link BreachRateAlarmOptions}. */
export const BREACH_RATE_DEFAULTS = { thresholdPercent: 10, period: Duration.hours(1), minimumBreaches: 3 };

export interface ObservabilityProps {
  readonly functions: readonly NamedFunction[];
  readonly consumers: readonly NamedQueueConsumer[];
  /** Dead-letter queues that do not belong to a consumer (the EventBridge delivery DLQ, the timer DLQ). */
  readonly otherDeadLetterQueues: readonly NamedQueue[];
  readonly api?: apigw.HttpApi;
  /**
   * Alarm when the oldest message of a work queue is older than this. The default sits below the time
   * a poison message needs to reach its DLQ (5 receives × visibility timeout), so a stuck consumer
   * is noticed before messages start piling into the DLQ.
   * @default 10 minutes
   */
  readonly oldestMessageAgeThreshold?: Duration;
  /** Existing SNS topic that receives alarm and OK notifications. @default - alarms only change state */
  readonly alarmTopicArn?: string;
  /** @default - {@link BREACH_RATE_DEFAULTS} */
  readonly breachRate?: BreachRateAlarmOptions;
  /** Namespace of the business metrics the functions emit. @default {@link METRICS_NAMESPACE} */
  readonly metricsNamespace?: string;
}

/** Business graphs: 5-minute points (most events are rarer than one a minute). */
const BUSINESS_PERIOD = Duration.minutes(5);
const HOURS = 'hours';

/**
 * One dashboard and the alarms an operator needs — each alarm metric costs $0.10 a month, so each one
 * watches a place where work can be lost or stuck, once:
 * - any message in any dead-letter queue (every async path ends in one: queue consumers, timer
 *   targets, EventBridge deliveries);
 * - a work queue whose oldest message is too old (a consumer stuck or falling behind, before its
 *   messages expire);
 * - any 5xx of the HTTP API (a failure or timeout of any API function, in one alarm);
 * - errors of each function no DLQ and no API answer covers ({@link NamedFunction.failuresReach});
 * - an SLA breach rate above its threshold.
 * All go to the optional SNS topic.
 *
 * The dashboard opens with the state of every alarm, then the live complaint metrics the functions
 * emit (volume, SLA compliance, backlog and ageing, satisfaction, escalations; names and dimensions
 * from shared/metrics/lifecycle-metrics.ts), then operations: DLQ depth and errors of everything at a
 * glance, the HTTP API, and each function and queue.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly breachRateAlarm: cloudwatch.Alarm;
  /** The alarm on the HTTP API's 5xx answers, when there is an API. */
  readonly apiServerErrorAlarm?: cloudwatch.Alarm;
  private readonly alarmAction?: cloudwatch.IAlarmAction;
  private readonly namespace: string;
  /** Ids of the metrics inside math expressions: unique on the whole dashboard. */
  private expressionIds = 0;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (props.alarmTopicArn) {
      this.alarmAction = new actions.SnsAction(
        sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn),
      );
    }
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const ageThreshold = props.oldestMessageAgeThreshold ?? Duration.minutes(10);
    const period = Duration.minutes(1);
    /** Dashboard rows, added after the alarm overview once every alarm exists. */
    const rows: cloudwatch.IWidget[][] = [];
    const row = (...widgets: cloudwatch.IWidget[]) => rows.push(widgets);

    const breachRate = this.breachRate(props.breachRate ?? {});
    this.breachRateAlarm = this.addAlarm('SlaBreachRate', {
      alarmDescription:
        `More than ${breachRate.threshold} SLA breaches per 100 classified complaints within ${breachRate.period.toHumanString()} ` +
        `(at least ${breachRate.minimumBreaches} breaches). See the dashboard's SLA rows: which clock, severity and department; ` +
        'check staffing and the routing rules.',
      metric: breachRate.metric,
      threshold: breachRate.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.businessRows(row, breachRate);

    const apiLabels = props.functions.filter((f) => f.failuresReach === 'api').map((f) => f.label);
    if (props.api) {
      this.apiServerErrorAlarm = this.addAlarm('ApiServerErrors', {
        alarmDescription:
          `The HTTP API answered with a 5xx: a function behind it (${apiLabels.join(', ') || 'any'}) failed, timed out or ` +
          'answered 503 (the caller may retry). Its log group says which.',
        metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
    } else if (apiLabels.length > 0) {
      throw new Error(`${apiLabels.join(', ')}: failures reach the API's 5xx alarm, but no api was given`);
    }

    // Operations at a glance: every DLQ and every function in one graph each.
    const deadLetterQueues = [
      ...props.consumers.map(({ label, consumer }) => ({ label, queue: consumer.deadLetterQueue })),
      ...props.otherDeadLetterQueues.map(({ label, queue }) => ({ label, queue })),
    ];
    row(
      new cloudwatch.TextWidget({ markdown: '## Operations', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues: messages (any is an alarm)',
        left: deadLetterQueues.map(({ label, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label }),
        ),
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors (all functions)',
        left: props.functions.map(({ label, fn }) =>
          fn.function.metricErrors({ period, statistic: 'Sum', label }),
        ),
        leftYAxis: { min: 0 },
        width: 12,
      }),
    );

    if (props.api) {
      row(
        new cloudwatch.GraphWidget({
          title: 'HTTP API requests and errors (5xx: the alarm)',
          left: [props.api.metricCount({ period }), props.api.metricClientError({ period })],
          right: [props.api.metricServerError({ period })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'HTTP API latency (p90)',
          left: [props.api.metricLatency({ period, statistic: 'p90' })],
          width: 12,
        }),
      );
    }

    for (const { label, fn, failuresReach } of props.functions) {
      const lambdaFn = fn.function;
      row(
        new cloudwatch.GraphWidget({
          title: `${label}: invocations and errors`,
          left: [lambdaFn.metricInvocations({ period })],
          right: [lambdaFn.metricErrors({ period }), lambdaFn.metricThrottles({ period })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: `${label}: duration`,
          left: [
            lambdaFn.metricDuration({ period, statistic: 'p50' }),
            lambdaFn.metricDuration({ period, statistic: 'p99' }),
            lambdaFn.metricDuration({ period, statistic: 'Maximum' }),
          ],
          width: 12,
        }),
      );
      if (failuresReach !== undefined) continue;
      this.addAlarm(`${label}Errors`, {
        alarmDescription: `${label} (${fn.node.path}) reported errors, and nothing else catches them (no DLQ, no API answer). Check its log group.`,
        metric: lambdaFn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
    }

    for (const { label, consumer } of props.consumers) {
      row(
        new cloudwatch.GraphWidget({
          title: `${label} queue: visible messages and DLQ depth`,
          left: [consumer.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' })],
          right: [
            consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period,
              statistic: 'Maximum',
            }),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: `${label} queue: oldest message age (s)`,
          left: [consumer.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' })],
          leftAnnotations: [{ value: ageThreshold.toSeconds(), label: 'alarm' }],
          width: 12,
        }),
      );
      this.addAlarm(`${label}OldestMessageAge`, {
        alarmDescription: `The oldest message of the ${label} queue is older than ${ageThreshold.toHumanString()}: its consumer is failing or falling behind.`,
        metric: consumer.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: ageThreshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
      this.addDeadLetterAlarm(
        `${label}DeadLetters`,
        consumer.deadLetterQueue,
        `Messages of the ${label} queue that failed ${MAX_RECEIVE_COUNT} receives. Fix the cause, then redrive with "aws sqs start-message-move-task --source-arn <this DLQ ARN>" (messages return to their source queue).`,
      );
    }

    for (const { label, queue, description } of props.otherDeadLetterQueues) {
      row(
        new cloudwatch.GraphWidget({
          title: `${label}: depth`,
          left: [queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' })],
          width: 12,
        }),
      );
      this.addDeadLetterAlarm(
        `${label}Depth`,
        queue,
        description ??
          `EventBridge could not deliver events to a target (${label}). The RULE_ARN and TARGET_ARN message attributes say which; fix the cause, then put the events back on the bus (or replay them from the archive).`,
      );
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Complaint service (${Stack.of(this).stackName})\nAlarms, the live complaint metrics, then functions, queues and dead-letter queues. A message in a DLQ means a complaint is stuck: fix the cause, then redrive (see README). Live metrics are approximate (a republished event may count twice); the periodic reports are exact.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.alarms],
        width: 24,
        height: Math.min(12, 2 + Math.ceil(this.alarms.length / 4)),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
    for (const widgets of rows) this.dashboard.addWidgets(...widgets);
  }

  /** A business metric of this service, summed/averaged over `period`, under one dimension set. */
  private metric(
    definition: MetricDefinition,
    statistic: string,
    options: { dimensions?: Partial<Record<DimensionKey, string>>; label?: string; period?: Duration } = {},
  ): cloudwatch.Metric {
    const dimensionsMap = options.dimensions as Record<string, string> | undefined;
    const keys = Object.keys(dimensionsMap ?? {}).sort();
    if (!definition.dimensionSets.some((set) => [...set].sort().join() === keys.join())) {
      // A graph of a dimension set the functions never emit would stay empty forever.
      throw new Error(`${definition.name} is not emitted with the dimensions [${keys.join(', ')}]`);
    }
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: definition.name,
      statistic,
      period: options.period ?? BUSINESS_PERIOD,
      ...(dimensionsMap === undefined ? {} : { dimensionsMap }),
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  }

  /**
   * Every series of a metric under a one-dimension set (one line per channel, category, level…),
   * whatever values the policy defines: a search expression (graphs only, never alarms).
   */
  private search(
    definition: MetricDefinition,
    dimension: DimensionKey,
    statistic: string,
    options: { scale?: string; labelPrefix?: string } = {},
  ): cloudwatch.IMetric {
    if (!definition.dimensionSets.some((set) => set.length === 1 && set[0] === dimension)) {
      throw new Error(`${definition.name} is not emitted with the dimension [${dimension}]`);
    }
    const seconds = BUSINESS_PERIOD.toSeconds();
    const search = `SEARCH('{${this.namespace},${dimension}} MetricName="${definition.name}"', '${statistic}', ${seconds})`;
    const label = `${options.labelPrefix ?? ''}\${PROP('Dim.${dimension}')}`;
    return options.scale === undefined
      ? new cloudwatch.SearchExpression({ expression: search, label, period: BUSINESS_PERIOD })
      : new cloudwatch.MathExpression({
          expression: `${search} ${options.scale}`,
          label,
          period: BUSINESS_PERIOD,
        });
  }

  private expressionId(): string {
    this.expressionIds += 1;
    return `m${this.expressionIds}`;
  }

  private breachRate(options: BreachRateAlarmOptions): {
    metric: cloudwatch.MathExpression;
    threshold: number;
    period: Duration;
    minimumBreaches: number;
  } {
    const threshold = options.thresholdPercent ?? BREACH_RATE_DEFAULTS.thresholdPercent;
    const period = options.period ?? BREACH_RATE_DEFAULTS.period;
    const minimumBreaches = options.minimumBreaches ?? BREACH_RATE_DEFAULTS.minimumBreaches;
    if (!(threshold > 0) || !(minimumBreaches >= 1) || !Number.isInteger(minimumBreaches)) {
      throw new Error('breachRate: thresholdPercent must be > 0 and minimumBreaches a whole number ≥ 1');
    }
    const metric = new cloudwatch.MathExpression({
      expression: `IF(breaches >= ${minimumBreaches}, 100 * breaches / classified, 0)`,
      usingMetrics: {
        breaches: this.metric(METRICS.breaches, 'Sum', { period }),
        classified: this.metric(METRICS.classified, 'Sum', { period }),
      },
      period,
      label: 'SLA breaches per 100 classified complaints',
    });
    return { metric, threshold, period, minimumBreaches };
  }

  /** Volume, SLA compliance, backlog and ageing, satisfaction, escalations. */
  private businessRows(
    row: (...widgets: cloudwatch.IWidget[]) => void,
    breachRate: { metric: cloudwatch.MathExpression; threshold: number },
  ): void {
    const m = METRICS;
    const clocks = [
      ['acknowledge', 'Acknowledgement'],
      ['firstResponse', 'First response'],
      ['resolution', 'Resolution'],
    ] as const;
    const hours = (definition: MetricDefinition, statistic: string, label: string) => {
      const id = this.expressionId();
      return new cloudwatch.MathExpression({
        expression: `${id} / 3600`,
        usingMetrics: { [id]: this.metric(definition, statistic) },
        label,
        period: BUSINESS_PERIOD,
      });
    };
    const percent = (
      definition: MetricDefinition,
      dimensions: Partial<Record<DimensionKey, string>>,
      label: string,
    ) => {
      const id = this.expressionId();
      return new cloudwatch.MathExpression({
        expression: `100 * ${id}`,
        usingMetrics: { [id]: this.metric(definition, 'Average', { dimensions }) },
        label,
        period: BUSINESS_PERIOD,
      });
    };

    row(
      new cloudwatch.TextWidget({ markdown: '## Volume', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Complaints received per channel',
        left: [this.search(m.received, 'channel', 'Sum')],
        stacked: true,
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Intake: received, classified, rejected, assigned; repeat share (%)',
        left: [
          this.metric(m.received, 'Sum', { label: 'received' }),
          this.metric(m.classified, 'Sum', { label: 'classified' }),
          this.metric(m.rejected, 'Sum', { label: 'rejected' }),
          this.metric(m.assigned, 'Sum', { label: 'assigned' }),
        ],
        right: [
          new cloudwatch.MathExpression({
            expression: 'IF(allClassified > 0, 100 * repeats / allClassified, 0)',
            usingMetrics: {
              repeats: this.metric(m.repeat, 'Sum'),
              allClassified: this.metric(m.classified, 'Sum'),
            },
            label: 'repeat complaints (%)',
            period: BUSINESS_PERIOD,
          }),
        ],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0, max: 100, label: '%' },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Classified per category',
        left: [this.search(m.classified, 'category', 'Sum')],
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Classified per severity',
        left: [this.search(m.classified, 'severity', 'Sum')],
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Rejected per verdict',
        left: [this.search(m.rejected, 'verdict', 'Sum')],
        stacked: true,
        width: 8,
      }),
    );

    row(
      new cloudwatch.TextWidget({ markdown: '## SLA compliance', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Clocks met on time (%)',
        left: clocks.map(([clock, label]) => percent(m.metOnTime, { clock }, label)),
        leftYAxis: { min: 0, max: 100, label: '%' },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'SLA warnings and breaches per clock',
        left: clocks.map(([clock, label]) =>
          this.metric(m.breaches, 'Sum', { dimensions: { clock }, label: `${label} breached` }),
        ),
        right: clocks.map(([clock, label]) =>
          this.metric(m.warnings, 'Sum', { dimensions: { clock }, label: `${label} warned` }),
        ),
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Breach rate (per 100 classified; the alarm)',
        left: [breachRate.metric],
        leftAnnotations: [{ value: breachRate.threshold, label: 'alarm' }],
        leftYAxis: { min: 0 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to acknowledge, first response, resolution (hours: p50, p90)',
        left: [
          hours(m.timeToAcknowledge, 'p50', 'acknowledge p50'),
          hours(m.timeToAcknowledge, 'p90', 'acknowledge p90'),
          hours(m.timeToFirstResponse, 'p50', 'first response p50'),
          hours(m.timeToFirstResponse, 'p90', 'first response p90'),
        ],
        right: [
          hours(m.timeToResolution, 'p50', 'resolution p50'),
          hours(m.timeToResolution, 'p90', 'resolution p90'),
        ],
        leftYAxis: { min: 0, label: HOURS },
        rightYAxis: { min: 0, label: HOURS },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'SLA breaches per department',
        left: [this.search(m.breaches, 'department', 'Sum')],
        stacked: true,
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'SLA breaches per severity',
        left: [this.search(m.breaches, 'severity', 'Sum')],
        stacked: true,
        width: 6,
      }),
    );

    row(
      new cloudwatch.TextWidget({ markdown: '## Backlog and ageing', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Open complaints per status',
        left: [this.search(m.openComplaints, 'status', 'Maximum')],
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Open complaints per department',
        left: [this.search(m.openComplaints, 'department', 'Maximum')],
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest open complaint (hours)',
        left: [hours(m.oldestOpenAge, 'Maximum', 'all departments')],
        right: [this.search(m.oldestOpenAge, 'department', 'Maximum', { scale: '/ 3600' })],
        leftYAxis: { min: 0, label: HOURS },
        rightYAxis: { min: 0, label: HOURS },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Flow: received, resolved, reopened, closed',
        left: [
          this.metric(m.received, 'Sum', { label: 'received' }),
          this.metric(m.resolved, 'Sum', { label: 'resolved' }),
          this.metric(m.reopened, 'Sum', { label: 'reopened' }),
          this.metric(m.closed, 'Sum', { label: 'closed' }),
        ],
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Acknowledged and resolved per department',
        left: [this.search(m.acknowledged, 'department', 'Sum', { labelPrefix: 'acknowledged: ' })],
        right: [this.search(m.resolved, 'department', 'Sum', { labelPrefix: 'resolved: ' })],
        width: 12,
      }),
    );

    row(
      new cloudwatch.TextWidget({ markdown: '## Satisfaction', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Survey score (average, 1–5) and satisfied (%)',
        left: [this.metric(m.surveyScore, 'Average', { label: 'average score' })],
        right: [percent(m.surveySatisfied, {}, 'satisfied (%)')],
        leftYAxis: { min: 1, max: 5 },
        rightYAxis: { min: 0, max: 100, label: '%' },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Surveys: requested, answered, unanswered',
        left: [
          this.metric(m.surveysRequested, 'Sum', { label: 'requested' }),
          this.metric(m.surveyScore, 'SampleCount', { label: 'answered' }),
          this.metric(m.surveysUnanswered, 'Sum', { label: 'unanswered (closed)' }),
        ],
        leftYAxis: { min: 0 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Average survey score per department',
        left: [this.search(m.surveyScore, 'department', 'Average')],
        leftYAxis: { min: 1, max: 5 },
        width: 8,
      }),
    );

    row(
      new cloudwatch.TextWidget({ markdown: '## Escalations', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: 'Escalations per level of the chain (team lead → department head → executive on duty)',
        left: [this.search(m.escalations, 'level', 'Sum')],
        stacked: true,
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Escalations, reopenings and customer replies',
        left: [
          this.metric(m.escalations, 'Sum', { label: 'escalations' }),
          this.metric(m.reopened, 'Sum', { label: 'reopened' }),
          this.metric(m.customerReplies, 'Sum', { label: 'customer replies' }),
        ],
        leftYAxis: { min: 0 },
        width: 12,
      }),
    );
  }

  private addDeadLetterAlarm(id: string, queue: sqs.IQueue, description: string): void {
    this.addAlarm(id, {
      alarmDescription: description,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
  }

  private addAlarm(
    id: string,
    options: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold' | 'comparisonOperator'>,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...options,
    });
    if (this.alarmAction) {
      alarm.addAlarmAction(this.alarmAction);
      alarm.addOkAction(this.alarmAction);
    }
    this.alarms.push(alarm);
    return alarm;
  }
}
