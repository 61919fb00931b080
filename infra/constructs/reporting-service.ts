import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config';
import { REPORTED_DETAIL_TYPES } from '../../shared/domain/reporting/facts';
import type { PeriodKind } from '../../shared/domain/reporting/report';
import { OWN_SOURCE_PREFIX, SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { QueueConsumer } from './queue-consumer';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

/** The reports route (behind the JWT authorizer). */
export const REPORTS_ROUTE = { method: apigw.HttpMethod.GET, path: '/reports/{period}/{id}' } as const;

/** When each report is generated, in the business time zone: shortly after its period ended. */
export const REPORT_SCHEDULES: ReadonlyArray<{ kind: PeriodKind; cron: string }> = [
  { kind: 'daily', cron: 'cron(10 0 * * ? *)' },
  { kind: 'weekly', cron: 'cron(20 0 ? * MON *)' },
  { kind: 'monthly', cron: 'cron(30 0 1 * ? *)' },
];

export interface ReportingServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  readonly policyFile: string;
  /** The business time zone (policy calendar): the schedules run there. */
  readonly timeZone: string;
  /** Its Scheduler role invokes the generator; its DLQ takes failed generations. */
  readonly timers: Timers;
  readonly api: apigw.HttpApi;
  readonly authorizer: apigw.IHttpRouteAuthorizer;
  /** The one claim roles are read from (`Auth.roleClaim`), set on the reports API as `ROLE_CLAIM`. */
  readonly roleClaim: string;
}

/**
 * Reports: the **aggregator** folds every lifecycle event into per-complaint report facts and
 * day/month aggregates (exact under duplicates and reordering, see `shared/domain/reporting`); the
 * **generator** computes the daily, weekly and monthly reports from the aggregates on EventBridge
 * Scheduler schedules in the business time zone, stores them and publishes `Complaint Report
 * Generated`; the **reports API** serves them at `GET /reports/{period}/{id}` (supervisors and admins)
 * as JSON or HTML.
 */
/** How long the aggregator's queue gathers events before a batch (`QueueConsumer`). */
export const AGGREGATION_BATCHING_WINDOW = Duration.seconds(5);
/** Records per aggregator batch: handled one complaint after another, well inside the timeout. */
export const AGGREGATION_BATCH_SIZE = 50;

export class ReportingService extends Construct {
  readonly aggregator: ComplaintFunction;
  readonly consumer: QueueConsumer;
  readonly generator: ComplaintFunction;
  readonly apiFunction: ComplaintFunction;
  readonly schedules: scheduler.CfnSchedule[];

  constructor(scope: Construct, id: string, props: ReportingServiceProps) {
    super(scope, id);
    this.aggregator = new ComplaintFunction(this, 'AggregatorFunction', {
      entry: 'functions/reporting/aggregator.ts',
      serviceName: 'reporting',
      description: 'Report aggregates: lifecycle events into complaint facts and day/month counters',
      // Batches of up to AGGREGATION_BATCH_SIZE records, one complaint after another.
      timeout: Duration.seconds(30),
      policyFile: props.policyFile,
    }).useTable(props.table, TABLE_ACCESS.reportAggregator);
    // It reads the bus name from its configuration but never publishes: no PutEvents grant.
    this.aggregator.function.addEnvironment(ENV.eventBusName, props.bus.eventBusName);
    this.consumer = new QueueConsumer(this, 'Lifecycle', {
      consumer: this.aggregator,
      bus: props.bus,
      deliveryDeadLetterQueue: props.deliveryDeadLetterQueue,
      ruleDescription: 'Lifecycle events of this service, for the report aggregates',
      // Reports are exact figures read per period (the live dashboard reads the logs), so latency is
      // traded for writes: the events of one complaint that arrive within the window (receipt,
      // classification and assignment come within a second) are one facts write instead of several.
      maxBatchingWindow: AGGREGATION_BATCHING_WINDOW,
      batchSize: AGGREGATION_BATCH_SIZE,
      eventPattern: {
        source: events.Match.prefix(OWN_SOURCE_PREFIX),
        detailType: [...REPORTED_DETAIL_TYPES],
      },
    });

    this.generator = new ComplaintFunction(this, 'GeneratorFunction', {
      entry: 'functions/reporting/generator.ts',
      serviceName: 'reporting',
      description: 'Periodic reports (daily, ISO weekly, monthly) from the aggregates',
      policyFile: props.policyFile,
      timeout: Duration.minutes(1),
    })
      .useTable(props.table, TABLE_ACCESS.reportGenerator)
      .useEventBus(props.bus, { sources: [SOURCES.reporting] });
    this.generator.function.grantInvokeLatestVersion(props.timers.schedulerRole);
    props.timers.sendFailuresToDeadLetterQueue(this.generator);
    this.schedules = REPORT_SCHEDULES.map(
      ({ kind, cron }) =>
        new scheduler.CfnSchedule(this, `${kind[0]?.toUpperCase()}${kind.slice(1)}Report`, {
          description: `The ${kind} complaint report, after the period ended (${props.timeZone})`,
          groupName: props.timers.recurringScheduleGroup.scheduleGroupName,
          scheduleExpression: cron,
          scheduleExpressionTimezone: props.timeZone,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: this.generator.function.functionArn,
            roleArn: props.timers.schedulerRole.roleArn,
            input: JSON.stringify({ kind }),
            retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
            deadLetterConfig: { arn: props.timers.deadLetterQueue.queueArn },
          },
        }),
    );

    // The group's name is a literal: the dependency makes CloudFormation create the group first.
    for (const schedule of this.schedules) schedule.node.addDependency(props.timers.recurringScheduleGroup);

    this.apiFunction = new ComplaintFunction(this, 'ApiFunction', {
      entry: 'functions/reporting/api-handler.ts',
      serviceName: 'reports-api',
      description:
        'Reports API: a period report as JSON or HTML (generated on demand once the period is over)',
      policyFile: props.policyFile,
      timeout: Duration.seconds(29),
    })
      .useTable(props.table, TABLE_ACCESS.reportsApi)
      .useEventBus(props.bus, { sources: [SOURCES.reporting] });
    this.apiFunction.function.addEnvironment(ENV.roleClaim, props.roleClaim);
    props.api.addRoutes({
      path: REPORTS_ROUTE.path,
      methods: [REPORTS_ROUTE.method],
      integration: new HttpLambdaIntegration('ReportsIntegration', this.apiFunction.function),
      authorizer: props.authorizer,
    });
  }
}
