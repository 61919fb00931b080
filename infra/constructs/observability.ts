import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ComplaintFunction } from './base-function';
import { MAX_RECEIVE_COUNT, type QueueConsumer } from './queue-consumer';

export interface NamedFunction {
  readonly label: string;
  readonly fn: ComplaintFunction;
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
}

/**
 * One dashboard and the alarms an operator needs: any message in any dead-letter queue, any function
 * error, and a work queue whose oldest message is too old. Every async path ends in a DLQ, so these
 * alarms cover every way a complaint can get stuck.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmAction?: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (props.alarmTopicArn) {
      this.alarmAction = new actions.SnsAction(
        sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn),
      );
    }
    const ageThreshold = props.oldestMessageAgeThreshold ?? Duration.minutes(10);
    const period = Duration.minutes(1);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Complaint service (${Stack.of(this).stackName})\nFunctions, queues and dead-letter queues. A message in a DLQ means a complaint is stuck: fix the cause, then redrive (see README).`,
        width: 24,
        height: 2,
      }),
    );

    if (props.api) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'HTTP API requests and errors',
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

    for (const { label, fn } of props.functions) {
      const lambdaFn = fn.function;
      this.dashboard.addWidgets(
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
      this.addAlarm(`${label}Errors`, {
        alarmDescription: `${label} (${fn.node.path}) reported errors. Check its log group; failed queue records are retried and end in a DLQ.`,
        metric: lambdaFn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
      });
    }

    for (const { label, consumer } of props.consumers) {
      this.dashboard.addWidgets(
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
      this.dashboard.addWidgets(
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
  ): void {
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
  }
}
