/**
 * The template's HTTP API (payload format 2.0) on the project's local API: routes whose integration is
 * a local function, JWT routes checked against the local issuer, the template's throttles.
 */
import { type HttpApi, type HttpApiRoute, startHttpApi } from '../http-api';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_URL, LOCAL_ROLE_CLAIM, type LocalIssuer } from '../jwt';
import { resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';
import { throttlesFromTemplate } from '../throttle';
import { errorText, unqualified } from './async-invoke';
import type { LocalFunction } from './functions';

/** Starts the HTTP API, or resolves to `undefined` when the template has no route to a local function. */
export async function startLocalHttpApi(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  functionByArn: ReadonlyMap<string, LocalFunction>;
  issuer: LocalIssuer;
  port?: number;
  log: (message: string) => void;
  /** Each request a route admitted, with its body size (the cost meter). */
  onAdmitted?: (routeKey: string, bodyBytes: number) => void;
}): Promise<HttpApi | undefined> {
  const { template, resolver, log } = options;
  const routes: HttpApiRoute[] = [];
  const integrations = new Map(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
  for (const [, authorizer] of resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')) {
    const jwt = authorizer.Properties?.JwtConfiguration;
    const issuerUrl = jwt?.Issuer === undefined ? undefined : resolver.resolve(jwt.Issuer);
    if (issuerUrl !== LOCAL_ISSUER_URL) {
      log(
        `local runtime: the template's JWT authorizer trusts ${String(issuerUrl)}; locally the routes trust the ` +
          `local issuer (${LOCAL_ISSUER_URL}, audience ${LOCAL_AUDIENCE}) — synthesize with ` +
          `-c jwtIssuer=${LOCAL_ISSUER_URL} -c jwtAudience=${LOCAL_AUDIENCE} -c roleClaim=${LOCAL_ROLE_CLAIM} to match`,
      );
    }
  }
  for (const [, route] of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
    const p = route.Properties ?? {};
    const target = String(resolver.resolve(p.Target ?? ''));
    const integration = integrations.get(target.replace(/^integrations\//, ''));
    const uri = integration ? String(resolver.resolve(integration.Properties?.IntegrationUri)) : '';
    const fn = options.functionByArn.get(unqualified(uri));
    if (fn === undefined) {
      log(`local runtime: route ${p.RouteKey} skipped (its integration is not a local function)`);
      continue;
    }
    routes.push({
      routeKey: String(p.RouteKey),
      ...(p.AuthorizationType === 'JWT' ? { authorizer: 'jwt' as const } : {}),
      functionName: fn.name,
      handler: async (event) => {
        const result = await fn.lambda.invoke(event);
        if (result.error !== undefined) {
          throw Object.assign(new Error(result.error.errorMessage), { name: result.error.errorType });
        }
        return result.result as never;
      },
    });
  }
  if (routes.length === 0) return undefined;
  return startHttpApi({
    port: options.port ?? 0,
    routes,
    issuer: options.issuer,
    throttle: throttlesFromTemplate(template, resolver),
    onHandlerError: (routeKey, error) => log(`local runtime: ${routeKey} failed: ${errorText(error)}`),
    ...(options.onAdmitted !== undefined && { onAdmitted: options.onAdmitted }),
  });
}
