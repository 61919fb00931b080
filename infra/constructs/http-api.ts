import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ServiceApiProps {
  /** Stage-wide throttling. @default 50 requests/s, bursts of 100 */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * Origins allowed to call the API from a browser (the agent console, a tracking page). CORS stays
   * off unless set: the API is meant for backends and same-origin pages.
   * @default - CORS disabled
   */
  readonly corsAllowOrigins?: string[];
}

/**
 * The one HTTP API of the service: the anonymous intake route, the token-addressed customer routes
 * and the JWT-authorized agent routes share a base URL, a throttled `$default` stage and one
 * access log. Each service area adds its own routes and integrations.
 *
 * HTTP APIs cannot cap a payload below 10 MB: every handler enforces its own body size limit.
 */
export class ServiceApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceApiProps = {}) {
    super(scope, id);
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
}
