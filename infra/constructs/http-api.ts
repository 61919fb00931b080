import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES } from '../../shared/api/schemas';

/**
 * Who calls a route, for its throttle: the anonymous intake route, the token-addressed customer
 * routes, the JWT-authorized agent and report routes. Each route gets its own token bucket with
 * its group's limits, so a flood on one group cannot use up another's.
 */
export type RouteGroup = 'intake' | 'customer' | 'agent';

export const ROUTE_GROUP_OF: Readonly<Record<(typeof API_ROUTES)[number]['function'], RouteGroup>> = {
  intake: 'intake',
  customer: 'customer',
  agent: 'agent',
  reports: 'agent',
  // Admins only (JWT): the authenticated staff's budget.
  privacy: 'agent',
};

/**
 * Default per-route throttles. Intake is public and cheap to flood, so it is the lowest; agents
 * (few, authenticated) the highest. With the intake function's reserved concurrency these bound
 * what an anonymous flood can take.
 */
export const DEFAULT_ROUTE_THROTTLES: Readonly<Record<RouteGroup, apigw.ThrottleSettings>> = {
  intake: { rateLimit: 10, burstLimit: 20 },
  customer: { rateLimit: 20, burstLimit: 40 },
  agent: { rateLimit: 50, burstLimit: 100 },
};

export interface ServiceApiProps {
  /** The stage default, for any route without its own throttle. @default 50 requests/s, bursts of 100 */
  readonly throttle?: apigw.ThrottleSettings;
  /** Per-route throttles by route group (merged over {@link DEFAULT_ROUTE_THROTTLES}). */
  readonly routeThrottles?: Partial<Record<RouteGroup, apigw.ThrottleSettings>>;
  /**
   * Origins allowed to call the API from a browser (the agent console, a tracking page). CORS stays
   * off unless set: the API is meant for backends and same-origin pages.
   * @default - CORS disabled
   */
  readonly corsAllowOrigins?: string[];
}

/**
 * The one HTTP API of the service: the anonymous intake route, the token-addressed customer routes
 * and the JWT-authorized agent routes share a base URL, a `$default` stage and one access log.
 * Each service area adds its own routes and integrations; {@link ServiceApi.throttleRoutes} then
 * gives every route its group's throttle (the stage's `RouteSettings`: the L2 `HttpStage` only
 * knows the stage-wide default, so this goes through the `CfnStage` escape hatch).
 *
 * HTTP APIs cannot cap a payload below 10 MB: every handler enforces its own body size limit.
 * HTTP APIs cannot have AWS WAF attached either: docs/security.md describes CloudFront + WAF in
 * front as the production option.
 */
export class ServiceApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;

  private readonly routeThrottles: Record<RouteGroup, apigw.ThrottleSettings>;

  constructor(scope: Construct, id: string, props: ServiceApiProps = {}) {
    super(scope, id);
    const override = props.routeThrottles ?? {};
    this.routeThrottles = {
      intake: { ...DEFAULT_ROUTE_THROTTLES.intake, ...override.intake },
      customer: { ...DEFAULT_ROUTE_THROTTLES.customer, ...override.customer },
      agent: { ...DEFAULT_ROUTE_THROTTLES.agent, ...override.agent },
    };
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Complaint service API: intake, customer tracking and surveys, agent console',
      createDefaultStage: false,
      ...(props.corsAllowOrigins
        ? {
            corsPreflight: {
              allowOrigins: props.corsAllowOrigins,
              allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.PUT],
              allowHeaders: ['content-type', 'idempotency-key', 'authorization'],
            },
          }
        : {}),
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
    });
    this.stage = new apigw.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        // No request body, headers, query string or path: those may carry personal data or a
        // customer's tracking token. The route key (the template, e.g. GET /track/{token}) says which
        // route was called; the source IP stays, because public endpoints need it to investigate abuse.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sourceIp: '$context.identity.sourceIp',
          }),
        ),
      },
    });
  }

  /**
   * Gives every route of the API its group's throttle. Call once, after every area added its
   * routes: the stage then depends on them (CloudFormation refuses settings for a route key that
   * does not exist yet).
   */
  throttleRoutes(): void {
    const routes = this.api.node.findAll().filter((c): c is apigw.CfnRoute => c instanceof apigw.CfnRoute);
    const keys = new Set(routes.map((r) => r.routeKey));
    const settings: Record<string, { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }> = {};
    for (const route of API_ROUTES) {
      if (!keys.has(route.key)) continue;
      const limit = this.routeThrottles[ROUTE_GROUP_OF[route.function]];
      settings[route.key] = {
        ...(limit.rateLimit === undefined ? {} : { ThrottlingRateLimit: limit.rateLimit }),
        ...(limit.burstLimit === undefined ? {} : { ThrottlingBurstLimit: limit.burstLimit }),
      };
    }
    const stage = this.stage.node.defaultChild as apigw.CfnStage;
    stage.addPropertyOverride('RouteSettings', settings);
    for (const route of routes) stage.addDependency(route);
  }
}
