import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

/** The customer's routes, addressed by the unguessable token intake handed out: no login. */
export const CUSTOMER_ROUTES = [
  { method: apigw.HttpMethod.GET, path: '/track/{token}' },
  { method: apigw.HttpMethod.POST, path: '/track/{token}/replies' },
  { method: apigw.HttpMethod.POST, path: '/surveys/{token}' },
] as const;

export interface CustomerApiProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly policyFile: string;
  readonly timers: Timers;
  /** The service's HTTP API (see `ServiceApi`). */
  readonly api: apigw.HttpApi;
}

/**
 * The customer endpoints: follow a complaint (status, steps, expected times — never internal notes),
 * reply to it, answer the survey. Customers have no account: the tracking token in the path is the
 * credential, as unguessable as a password and only ever sent to the customer.
 *
 * A reply resumes paused clocks or reopens a resolved complaint, and a low survey score reopens it:
 * both reschedule timers, so the function manages timers.
 */
export class CustomerApi extends Construct {
  readonly function: ComplaintFunction;
  readonly routes: apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: CustomerApiProps) {
    super(scope, id);
    this.function = new ComplaintFunction(this, 'Function', {
      entry: 'functions/customer-api/handler.ts',
      serviceName: 'customer-api',
      description: 'Customer API: tracking, replies and survey answers by token',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.customerApi)
      .useEventBus(props.bus, { sources: [SOURCES.customer] })
      .useTimers(props.timers);

    const integration = new HttpLambdaIntegration('CustomerIntegration', this.function.function);
    this.routes = CUSTOMER_ROUTES.flatMap((route) =>
      props.api.addRoutes({ path: route.path, methods: [route.method], integration }),
    );
    for (const route of this.routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Customer routes are public by design: customers have no account, the unguessable tracking ' +
          'token in the path is their credential. They are protected by stage throttling, token ' +
          'lookup without enumeration, and field-level validation with a body size limit.',
      });
    }
  }
}
