import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DETAIL_TYPES, OWN_SOURCE_PREFIX, SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { LATENCY_PATH_BATCHING_WINDOW, QueueConsumer } from './queue-consumer';
import { TABLE_ACCESS } from './table-access';

/** The public route customers submit complaints to. */
export const COMPLAINTS_ROUTE = { method: apigw.HttpMethod.POST, path: '/complaints' } as const;

export interface IntakeServiceProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly deliveryDeadLetterQueue: sqs.IQueue;
  readonly policyFile: string;
  /** The service's HTTP API (see `ServiceApi`), which gets the `POST /complaints` route. */
  readonly api: apigw.HttpApi;
  /** The service's HMAC key (see `Keys`): tracking tokens and idempotency keys derive from it. */
  readonly serviceKey: kms.IKey;
  /**
   * Reserved concurrency of the `POST /complaints` function: at most this many run at once, so an
   * anonymous flood cannot take the account's concurrent executions from the other functions
   * (and those keep the rest). Reserving takes it from the account's unreserved pool.
   * @default - unreserved
   */
  readonly apiReservedConcurrency?: number;
}

/**
 * Intake: the anonymous `POST /complaints` route of the service API and the consumer of
 * `Complaint Reported` events other services put on the bus, and of the CRM's `Customer Profile
 * Updated` events that feed the customer directory.
 *
 * The route has no authorizer on purpose: customers complain without an account. It is protected by
 * its own (lowest) route throttle, the function's reserved concurrency, the handler's field
 * validation and its 64 KB body limit (HTTP APIs cannot cap a payload below 10 MB themselves).
 */
export class IntakeService extends Construct {
  readonly apiFunction: ComplaintFunction;
  readonly inboundFunction: ComplaintFunction;
  readonly inbound: QueueConsumer;

  constructor(scope: Construct, id: string, props: IntakeServiceProps) {
    super(scope, id);

    this.apiFunction = new ComplaintFunction(this, 'ApiFunction', {
      entry: 'functions/intake/api-handler.ts',
      serviceName: 'intake',
      description: 'Complaint intake: POST /complaints',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.intake)
      .useEventBus(props.bus, { sources: [SOURCES.intake] })
      .useServiceKey(props.serviceKey);

    if (props.apiReservedConcurrency !== undefined) {
      const cfn = this.apiFunction.function.node.defaultChild as lambda.CfnFunction;
      cfn.reservedConcurrentExecutions = props.apiReservedConcurrency;
    }

    const routes = props.api.addRoutes({
      path: COMPLAINTS_ROUTE.path,
      methods: [COMPLAINTS_ROUTE.method],
      integration: new HttpLambdaIntegration('ComplaintsIntegration', this.apiFunction.function),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'POST /complaints is public by design: customers submit complaints without an account. ' +
          "It is protected by its own route throttle, the function's reserved concurrency and field-level validation with a body size limit.",
      });
    }

    this.inboundFunction = new ComplaintFunction(this, 'InboundFunction', {
      entry: 'functions/intake/queue-handler.ts',
      serviceName: 'intake',
      description: 'Complaint intake: inbound Complaint Reported and Customer Profile Updated events',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.intakeInbound)
      .useEventBus(props.bus, { sources: [SOURCES.intake] })
      .useServiceKey(props.serviceKey);

    this.inbound = new QueueConsumer(this, 'Inbound', {
      maxBatchingWindow: LATENCY_PATH_BATCHING_WINDOW,
      consumer: this.inboundFunction,
      bus: props.bus,
      deliveryDeadLetterQueue: props.deliveryDeadLetterQueue,
      ruleDescription:
        'Complaint Reported and Customer Profile Updated by other services (never by this service itself)',
      // Every non-service source: the function decides whom to trust (policy `trust`), and a profile
      // update from a source it does not trust lands in the DLQ with the reason instead of vanishing.
      eventPattern: {
        source: events.Match.anythingButPrefix(OWN_SOURCE_PREFIX),
        detailType: [DETAIL_TYPES.complaintReported, DETAIL_TYPES.customerProfileUpdated],
      },
    });
  }
}
