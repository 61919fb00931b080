import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../../shared/config';
import { SOURCES } from '../../shared/events/names';
import { ComplaintFunction } from './base-function';
import { TABLE_ACCESS } from './table-access';
import type { Timers } from './timers';

/** The agent console's routes: every one behind the JWT authorizer. */
export const AGENT_ROUTES = [
  { method: apigw.HttpMethod.GET, path: '/complaints' },
  { method: apigw.HttpMethod.GET, path: '/complaints/{id}' },
  { method: apigw.HttpMethod.POST, path: '/complaints/{id}/actions' },
  /** Hotline: an agent submits on behalf of a caller (a trusted producer). */
  { method: apigw.HttpMethod.POST, path: '/agent/complaints' },
  /** The customer directory: admins set a customer's tier. */
  { method: apigw.HttpMethod.PUT, path: '/admin/customers/{customerId}' },
] as const;

export interface AgentApiProps {
  readonly table: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly policyFile: string;
  readonly timers: Timers;
  /** The service's HTTP API (see `ServiceApi`). */
  readonly api: apigw.HttpApi;
  /** Validates the caller's JWT before the function runs (see `Auth`). */
  readonly authorizer: apigw.IHttpRouteAuthorizer;
  /** The one claim roles are read from (`Auth.roleClaim`), set as `ROLE_CLAIM`. */
  readonly roleClaim: string;
  /** The service's HMAC key (see `Keys`): cursors are sealed and hotline tokens derived with keys from it. */
  readonly serviceKey: kms.IKey;
}

/**
 * The agent API: complaint queues, one complaint with its timeline and clocks, and the actions
 * (acknowledge, respond, request info, propose, approve/reject, resolve, reassign, add collaborator,
 * close), hotline submissions on behalf of a caller and the customer directory (admins). One function
 * serves these routes; API Gateway authenticates every request with the JWT
 * authorizer, the function authorizes it by the role and department claims.
 *
 * Actions move the SLA clocks (pause on request-info, stop on resolve, recompute on reassign), so the
 * function manages timers.
 */
export class AgentApi extends Construct {
  readonly function: ComplaintFunction;
  readonly routes: apigw.HttpRoute[];

  constructor(scope: Construct, id: string, props: AgentApiProps) {
    super(scope, id);
    this.function = new ComplaintFunction(this, 'Function', {
      entry: 'functions/agent-api/handler.ts',
      serviceName: 'agent-api',
      description: 'Agent API: queues, complaint detail, lifecycle actions',
      policyFile: props.policyFile,
    })
      .useTable(props.table, TABLE_ACCESS.agentApi)
      // complaints.intake too: hotline agents submit complaints on a caller's behalf (POST /agent/complaints).
      .useEventBus(props.bus, { sources: [SOURCES.agent, SOURCES.intake] })
      .useTimers(props.timers)
      .useServiceKey(props.serviceKey);
    this.function.function.addEnvironment(ENV.roleClaim, props.roleClaim);

    const integration = new HttpLambdaIntegration('AgentIntegration', this.function.function);
    this.routes = AGENT_ROUTES.flatMap((route) =>
      props.api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration,
        authorizer: props.authorizer,
      }),
    );
  }
}
