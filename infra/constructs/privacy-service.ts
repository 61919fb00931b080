import { Duration, type IAspect } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../../shared/config';
import { SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { QueueConsumer } from './queue-consumer';
import { grantQueueKey } from './queues';
import { TABLE_ACCESS } from './table-access';

/** The privacy routes (behind the JWT authorizer; the function admits admins only). */
export const PRIVACY_ROUTES = [
  { method: apigw.HttpMethod.POST, path: '/privacy/erasures' },
  { method: apigw.HttpMethod.GET, path: '/privacy/erasures/{erasureId}' },
] as const;

/** When the retention run starts each day (UTC): a quiet hour in the Asia/Shanghai business day. */
export const RETENTION_SCHEDULE = 'cron(30 18 * * ? *)';

/** SQS keeps a message at most 14 days. */
const SQS_MAX_RETENTION_DAYS = 14;

export interface PrivacyServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly policyFile: string;
  /** `policy.privacy.retentionDays`: bounds how long the privacy queues keep a message. */
  readonly retentionDays: number;
  /** Where EventBridge puts a retention trigger it could not deliver. */
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  readonly api: apigw.HttpApi;
  readonly authorizer: apigw.IHttpRouteAuthorizer;
  /** The one claim roles are read from (`Auth.roleClaim`), set as `ROLE_CLAIM` on the API function. */
  readonly roleClaim: string;
}

/**
 * Erasure and retention of personal data (docs/privacy.md).
 *
 * - The **API function** serves `POST /privacy/erasures` and `GET /privacy/erasures/{erasureId}`
 *   (admins): it writes the erasure's audit record and claim, and sends `{ erasureId }` to the queue.
 * - The **worker** consumes the queue one message at a time: a bounded round of erasure, then a
 *   continuation message to its own queue, until the scope is empty; then it completes the record and
 *   publishes `Customer Data Erased`. A failed round returns to the queue (partial batch response) and
 *   resumes; after five receives the message goes to the DLQ (a {@link QueueConsumer}), and the next
 *   request for the same customer (or the next day's retention run) sends it again.
 * - The **retention function** runs daily on a scheduled rule and starts the erasure of complaints
 *   closed or rejected more than `policy.privacy.retentionDays` ago.
 */
export class PrivacyService extends Construct {
  readonly apiFunction: ComplaintFunction;
  readonly worker: ComplaintFunction;
  readonly retentionFunction: ComplaintFunction;
  readonly consumer: QueueConsumer;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly retentionRule: events.Rule;
  readonly routes: apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: PrivacyServiceProps) {
    super(scope, id);

    this.worker = new ComplaintFunction(this, 'WorkerFunction', {
      entry: 'functions/privacy/worker.ts',
      serviceName: 'privacy',
      description: 'Erasure worker: erases personal data in bounded, resumable rounds',
      policyFile: props.policyFile,
      timeout: Duration.minutes(1),
    })
      .useTable(props.table, TABLE_ACCESS.privacyWorker)
      .useEventBus(props.bus, { sources: [SOURCES.privacy] });
    // Fed by the API, the retention run and the worker's own continuations; one round per message.
    this.consumer = new QueueConsumer(this, 'Erasure', { consumer: this.worker, batchSize: 1 });
    this.queue = this.consumer.queue;
    this.deadLetterQueue = this.consumer.deadLetterQueue;
    this.useQueue(this.worker);

    this.apiFunction = new ComplaintFunction(this, 'ApiFunction', {
      entry: 'functions/privacy/api-handler.ts',
      serviceName: 'privacy-api',
      description: 'Privacy API: erasure requests and their status (admins)',
      policyFile: props.policyFile,
    }).useTable(props.table, TABLE_ACCESS.privacyApi);
    this.apiFunction.function.addEnvironment(ENV.roleClaim, props.roleClaim);
    this.useQueue(this.apiFunction);
    const integration = new HttpLambdaIntegration('PrivacyIntegration', this.apiFunction.function);
    this.routes = PRIVACY_ROUTES.flatMap((route) =>
      props.api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration,
        authorizer: props.authorizer,
      }),
    );

    this.retentionFunction = new ComplaintFunction(this, 'RetentionFunction', {
      entry: 'functions/privacy/retention-handler.ts',
      serviceName: 'privacy',
      description: 'Daily retention run: erases complaints closed longer than the retention period',
      policyFile: props.policyFile,
    }).useTable(props.table, TABLE_ACCESS.privacyRetention);
    this.useQueue(this.retentionFunction);
    // The API and the retention run read the bus name from their configuration but never publish.
    for (const fn of [this.apiFunction, this.retentionFunction]) {
      fn.function.addEnvironment(ENV.eventBusName, props.bus.eventBusName);
    }
    this.retentionFunction.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.retentionRule = new events.Rule(this, 'RetentionRule', {
      description: `Daily retention run: personal data of complaints closed over ${props.retentionDays} days ago`,
      schedule: events.Schedule.expression(RETENTION_SCHEDULE),
      targets: [
        new targets.LambdaFunction(this.retentionFunction.function, {
          deadLetterQueue: props.deliveryDeadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }

  /** May send to the erasure queue; `ERASURE_QUEUE_URL` names it. */
  private useQueue(fn: ComplaintFunction): void {
    this.queue.grantSendMessages(fn.function);
    grantQueueKey(this.queue, fn, 'send');
    fn.function.addEnvironment(ENV.erasureQueueUrl, this.queue.queueUrl);
  }
}

/**
 * Caps how long every queue of the scope keeps a message at `retentionDays` (SQS allows at most 14
 * days): a dead-lettered submission or event cannot outlive the retention period of the personal data
 * it may carry. Queues without an explicit period keep SQS's default of 4 days, capped the same way.
 */
export class BoundMessageRetention implements IAspect {
  constructor(private readonly retentionDays: number) {}

  visit(node: IConstruct): void {
    if (!(node instanceof sqs.CfnQueue)) return;
    const cap = Math.min(this.retentionDays, SQS_MAX_RETENTION_DAYS) * 24 * 3600;
    const current =
      typeof node.messageRetentionPeriod === 'number' ? node.messageRetentionPeriod : 4 * 24 * 3600;
    if (current > cap) node.messageRetentionPeriod = cap;
  }
}
