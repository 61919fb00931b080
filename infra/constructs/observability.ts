import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, type MetricDefinition } from '../../shared/metrics/lifecycle-metrics';
import { type ComplaintFunction, METRICS_NAMESPACE } from './base-function';
import {
  businessSections,
  type DashboardQuery,
  operationsQueries,
  type QueryView,
} from './dashboard-queries';
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

/** Graphs of the alarm's metrics: 5-minute points (most events are rarer than one a minute). */
const BUSINESS_PERIOD = Duration.minutes(5);
/** The dashboard's log widgets: the height of a row. */
const LOG_WIDGET_HEIGHT = 6;

/**
 * One dashboard and the alarms an operator needs — each alarm metric costs $0.10 a month, so each one
 * watches a place where work can be lost or stuck, once:
 * - any message in any dead-letter queue (every async path ends in one: queue consumers, timer
 *   targets, EventBridge deliveries);
 * - a work queue whose oldest message is too old (a consumer stuck or falling behind, before its
 *   messages expire);
 * - any 5xx of the HTTP API (a failure or timeout of any API function, in one alarm);
 * - errors of each function no DLQ and no API answer covers ({@link NamedFunction.failuresReach});
 * - an SLA breach rate above its threshold (two custom metrics, the only ones the service publishes).
 * All go to the optional SNS topic.
 *
 * The dashboard opens with the state of every alarm and the breach rate, then the live complaint
 * figures as CloudWatch Logs Insights widgets over the functions' metric documents (volume, SLA
 * compliance, backlog and ageing, flow and escalations, satisfaction: shared/metrics/lifecycle-metrics.ts,
 * ./dashboard-queries.ts), then operations: DLQ depth, work queues, function errors and the HTTP API
 * as metrics, and the functions' REPORT lines, operational counters and latest errors from their logs.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly breachRateAlarm: cloudwatch.Alarm;
  /** The alarm on the HTTP API's 5xx answers, when there is an API. */
  readonly apiServerErrorAlarm?: cloudwatch.Alarm;
  private readonly alarmAction?: cloudwatch.IAlarmAction;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (props.alarmTopicArn) {
      this.alarmAction = new actions.SnsAction(
        sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn),
      );
    }
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const ageThreshold = props.oldestMessageAgeThreshold ?? Duration.minutes(10);
    const fiveMinutes = Duration.minutes(5);

    const breachRate = this.breachRate(props.breachRate ?? {});
    this.breachRateAlarm = this.addAlarm('SlaBreachRate', {
      alarmDescription:
        `More than ${breachRate.threshold} SLA breaches per 100 classified complaints within ${breachRate.period.toHumanString()} ` +
        `(at least ${breachRate.minimumBreaches} breaches). The dashboard's SLA widgets say which clock, severity and department; ` +
        'check staffing and the routing rules.',
      metric: breachRate.metric,
      threshold: breachRate.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const apiLabels = props.functions.filter((f) => f.failuresReach === 'api').map((f) => f.label);
    if (props.api) {
      this.apiServerErrorAlarm = this.addAlarm('ApiServerErrors', {
        alarmDescription:
          `The HTTP API answered with a 5xx: a function behind it (${apiLabels.join(', ') || 'any'}) failed, timed out or ` +
          'answered 503 (the caller may retry). The dashboard\'s "Latest errors and timeouts" and "Operational counters" say which.',
        metric: props.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 1,
      });
    } else if (apiLabels.length > 0) {
      throw new Error(`${apiLabels.join(', ')}: failures reach the API's 5xx alarm, but no api was given`);
    }

    for (const { label, fn, failuresReach } of props.functions) {
      if (failuresReach !== undefined) continue;
      this.addAlarm(`${label}Errors`, {
        alarmDescription: `${label} (${fn.node.path}) reported errors, and nothing else catches them (no DLQ, no API answer). Check its log group.`,
        metric: fn.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 1,
      });
    }

    for (const { label, consumer } of props.consumers) {
      this.addAlarm(`${label}OldestMessageAge`, {
        alarmDescription: `The oldest message of the ${label} queue is older than ${ageThreshold.toHumanString()}: its consumer is failing or falling behind.`,
        metric: consumer.queue.metricApproximateAgeOfOldestMessage({
          period: fiveMinutes,
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
      this.addDeadLetterAlarm(
        `${label}Depth`,
        queue,
        description ??
          `EventBridge could not deliver events to a target (${label}). The RULE_ARN and TARGET_ARN message attributes say which; fix the cause, then put the events back on the bus (or replay them from the archive).`,
      );
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# Complaint service (${Stack.of(this).stackName})\n` +
          "Alarms and the breach rate, the live complaint figures (Logs Insights over the functions' logs: each widget is a query, " +
          'billed by the bytes it scans, so keep auto-refresh slow), then operations. A message in a DLQ means a complaint is stuck: ' +
          'fix the cause, then redrive (see README). Live figures are approximate (a republished event may count twice); the periodic reports are exact.',
        width: 24,
        height: 2,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.alarms],
        width: 24,
        height: Math.min(12, 2 + Math.ceil(this.alarms.length / 4)),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
    this.dashboard.addWidgets(...this.breachRateWidgets(breachRate));

    const publishers = props.functions.filter(({ fn }) => fn.publishedSources.length > 0);
    const logGroups = {
      publishers: publishers.map(({ fn }) => fn.logGroup.logGroupName),
      all: props.functions.map(({ fn }) => fn.logGroup.logGroupName),
    };
    for (const section of businessSections()) {
      if (logGroups.publishers.length === 0) break;
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${section.heading}`, width: 24, height: 1 }),
        ...section.queries.map((q) => logWidget(q, logGroups[q.source])),
      );
    }
    this.dashboard.addWidgets(...this.operationsWidgets(props, logGroups.all, ageThreshold));
  }

  /** A metric of this service that CloudWatch extracts (a total: no dimension), summed over `period`. */
  private metric(
    definition: MetricDefinition,
    statistic: string,
    options: { label?: string; period?: Duration } = {},
  ): cloudwatch.Metric {
    if (!definition.metric) {
      // A graph or an alarm on a log-only figure would stay empty for ever.
      throw new Error(`${definition.name} is written to the logs only, not extracted as a metric`);
    }
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: definition.name,
      statistic,
      period: options.period ?? BUSINESS_PERIOD,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
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

  /** The two custom metrics: classified complaints and breaches, and the rate the alarm watches. */
  private breachRateWidgets(breachRate: { metric: cloudwatch.MathExpression; threshold: number }) {
    return [
      new cloudwatch.GraphWidget({
        title: 'Classified complaints and SLA breaches (every 5 minutes)',
        left: [
          this.metric(METRICS.classified, 'Sum', { label: 'classified' }),
          this.metric(METRICS.breaches, 'Sum', { label: 'SLA breaches' }),
        ],
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Breach rate (per 100 classified; the alarm)',
        left: [breachRate.metric],
        leftAnnotations: [{ value: breachRate.threshold, label: 'alarm' }],
        leftYAxis: { min: 0 },
        width: 12,
      }),
    ];
  }

  /**
   * Operations: what every alarm watches, as metrics (one graph per kind, every queue or function a
   * line: the dashboard stays under the free tier's 50 metrics), then the functions' own logs.
   */
  private operationsWidgets(
    props: ObservabilityProps,
    logGroups: readonly string[],
    ageThreshold: Duration,
  ): cloudwatch.IWidget[] {
    const period = Duration.minutes(1);
    const deadLetterQueues = [
      ...props.consumers.map(({ label, consumer }) => ({ label, queue: consumer.deadLetterQueue })),
      ...props.otherDeadLetterQueues.map(({ label, queue }) => ({ label, queue })),
    ];
    const widgets: cloudwatch.IWidget[] = [
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
      new cloudwatch.GraphWidget({
        title: 'Work queues: visible messages',
        left: props.consumers.map(({ label, consumer }) =>
          consumer.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label }),
        ),
        leftYAxis: { min: 0 },
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Work queues: oldest message age (s)',
        left: props.consumers.map(({ label, consumer }) =>
          consumer.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label }),
        ),
        leftAnnotations: [{ value: ageThreshold.toSeconds(), label: 'alarm' }],
        leftYAxis: { min: 0 },
        width: 12,
      }),
    ];
    if (props.api) {
      widgets.push(
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
    if (logGroups.length > 0) widgets.push(...operationsQueries().map((q) => logWidget(q, logGroups)));
    return widgets;
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

const VIEWS: Record<QueryView, cloudwatch.LogQueryVisualizationType> = {
  line: cloudwatch.LogQueryVisualizationType.LINE,
  bar: cloudwatch.LogQueryVisualizationType.BAR,
  table: cloudwatch.LogQueryVisualizationType.TABLE,
};

function logWidget(q: DashboardQuery, logGroupNames: readonly string[]): cloudwatch.LogQueryWidget {
  return new cloudwatch.LogQueryWidget({
    title: q.title,
    logGroupNames: [...logGroupNames],
    queryLines: [...q.lines],
    view: VIEWS[q.view],
    width: q.width,
    height: LOG_WIDGET_HEIGHT,
  });
}
