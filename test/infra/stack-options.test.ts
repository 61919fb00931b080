import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { Auth, AuthConfigurationError } from '../../infra/constructs/auth';
import {
  NO_BUNDLING,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
  testApp,
} from './template-helpers';

const topicArn = 'arn:aws:sns:eu-west-1:123456789012:complaint-alarms';
const issuer = 'https://login.example.com/realms/complaints';
let synthesized: SynthesizedStack;

beforeAll(() => {
  synthesized = synthesizeStack(
    {
      alarmTopicArn: topicArn,
      corsAllowOrigins: ['https://complaints.example.com'],
      apiThrottle: { rateLimit: 5, burstLimit: 10 },
      jwtIssuer: issuer,
      jwtAudience: ['complaint-console', 'complaint-cli'],
    },
    { bundle: false },
  );
}, 60_000);

describe('stack options', () => {
  it('notifies the given SNS topic on alarm and on recovery', () => {
    const alarms = [...resourcesOfType(synthesized.template, 'AWS::CloudWatch::Alarm').values()];
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
      expect(alarm.Properties.OKActions).toEqual([topicArn]);
    }
  });

  it('enables CORS for the given origins only, for GET and POST with the Authorization header', () => {
    const api = single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Api').values(), 'API');
    expect(api.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://complaints.example.com'],
      AllowMethods: ['GET', 'POST', 'PUT'],
    });
    expect((api.Properties.CorsConfiguration as { AllowHeaders: string[] }).AllowHeaders).toContain(
      'authorization',
    );
  });

  it('applies the given throttle to the stage', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });

  it('stays free of unacknowledged cdk-nag findings', () => {
    expect(new AwsSolutionsChecks().validateScope(synthesized.stack).violations).toEqual([]);
  });
});

describe('external JWT issuer', () => {
  it('creates no user pool and authorizes the agent routes with the given issuer and audiences', () => {
    expect(resourcesOfType(synthesized.template, 'AWS::Cognito::UserPool').size).toBe(0);
    expect(resourcesOfType(synthesized.template, 'AWS::Cognito::UserPoolClient').size).toBe(0);
    const authorizer = single(
      resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Authorizer').values(),
      'authorizer',
    );
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: issuer, Audience: ['complaint-console', 'complaint-cli'] },
    });
    const jwtRoutes = [...resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Route').values()]
      .filter((r) => r.Properties.AuthorizationType === 'JWT')
      .map((r) => r.Properties.RouteKey)
      .sort();
    expect(jwtRoutes).toEqual([
      'GET /complaints',
      'GET /complaints/{id}',
      'GET /privacy/erasures/{erasureId}',
      'GET /reports/{period}/{id}',
      'POST /agent/complaints',
      'POST /complaints/{id}/actions',
      'POST /privacy/erasures',
      'PUT /admin/customers/{customerId}',
    ]);
  });

  it('outputs the issuer and no user pool', () => {
    const outputs = synthesized.template.findOutputs('*');
    expect(outputs.JwtIssuer?.Value).toBe(issuer);
    expect(outputs.UserPoolId).toBeUndefined();
    expect(outputs.UserPoolClientId).toBeUndefined();
  });

  it('reads the issuer and the comma-separated audiences from the context', () => {
    const app = testApp({
      ...NO_BUNDLING,
      jwtIssuer: issuer,
      jwtAudience: 'complaint-console, complaint-cli',
    });
    const stack = new ComplaintServiceStack(app, 'FromContext');
    expect(stack.auth.userPool).toBeUndefined();
    expect(stack.auth.issuer).toBe(issuer);
    expect(stack.auth.audience).toEqual(['complaint-console', 'complaint-cli']);
  });

  it('reads roles from the `role` claim of an external issuer unless the deployer names another', () => {
    expect(synthesized.stack.auth.roleClaim).toBe('role');
    const apis = [synthesized.stack.agentApi.function, synthesized.stack.reporting.apiFunction];
    for (const fn of apis) {
      const id = synthesized.stack.getLogicalId(fn.function.node.defaultChild as never);
      const resource = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').get(id);
      expect(
        (resource?.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.ROLE_CLAIM,
      ).toBe('role');
    }
    const app = testApp({
      ...NO_BUNDLING,
      jwtIssuer: issuer,
      jwtAudience: 'complaint-console',
      roleClaim: 'https://example.com/roles',
    });
    expect(new ComplaintServiceStack(app, 'RoleClaimFromContext').auth.roleClaim).toBe(
      'https://example.com/roles',
    );
  });

  it('refuses a role claim other than cognito:groups with the stack’s user pool, and a claim that is no name', () => {
    const stack = new Stack(testApp(), 'RoleClaims');
    expect(new Auth(stack, 'Pool', { roleClaim: 'cognito:groups' }).roleClaim).toBe('cognito:groups');
    expect(() => new Auth(stack, 'PoolCustom', { roleClaim: 'custom:role' })).toThrow(AuthConfigurationError);
    expect(
      () => new Auth(stack, 'Spaces', { jwtIssuer: issuer, jwtAudience: ['x'], roleClaim: 'my roles' }),
    ).toThrow(AuthConfigurationError);
    expect(() => new Auth(stack, 'Empty', { jwtIssuer: issuer, jwtAudience: ['x'], roleClaim: '' })).toThrow(
      AuthConfigurationError,
    );
  });

  it('refuses an issuer without an audience (or the reverse) and a non-https issuer', () => {
    const stack = new Stack(testApp(), 'AuthOnly');
    expect(() => new Auth(stack, 'A', { jwtIssuer: issuer })).toThrow(AuthConfigurationError);
    expect(() => new Auth(stack, 'B', { jwtAudience: ['x'] })).toThrow(AuthConfigurationError);
    expect(() => new Auth(stack, 'C', { jwtIssuer: issuer, jwtAudience: [] })).toThrow(
      AuthConfigurationError,
    );
    expect(() => new Auth(stack, 'D', { jwtIssuer: 'http://login.example.com', jwtAudience: ['x'] })).toThrow(
      /https/,
    );
  });
});

describe('deployment context of the functions and the sweep', () => {
  const stackWith = (context: Record<string, unknown>) =>
    new ComplaintServiceStack(testApp({ ...NO_BUNDLING, ...context }), 'Context');

  it('sweeps every sweepIntervalMinutes, and refuses an interval that is not 1–60 whole minutes', () => {
    const rule = (stack: ComplaintServiceStack) =>
      (stack.sla.sweepRule.node.defaultChild as { scheduleExpression?: string }).scheduleExpression;
    expect(rule(stackWith({}))).toBe('rate(5 minutes)');
    expect(rule(stackWith({ sweepIntervalMinutes: '1' }))).toBe('rate(1 minute)');
    expect(() => stackWith({ sweepIntervalMinutes: '0' })).toThrow(/sweepIntervalMinutes/);
    expect(() => stackWith({ sweepIntervalMinutes: '1.5' })).toThrow(/sweepIntervalMinutes/);
  });

  it('takes tracing as active or pass-through only, and traces actively when asked', () => {
    const modes = (stack: ComplaintServiceStack) =>
      new Set(
        Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
          (fn) =>
            (fn as { Properties: { TracingConfig?: { Mode?: string } } }).Properties.TracingConfig?.Mode,
        ),
      );
    expect(modes(stackWith({ tracing: 'active' }))).toEqual(new Set(['Active']));
    expect(modes(stackWith({ tracing: 'pass-through' }))).toEqual(new Set(['PassThrough']));
    expect(() => stackWith({ tracing: 'always' })).toThrow(/tracing must be active or pass-through/);
  });

  it('takes sdkTracing as true or false only', () => {
    expect(() => stackWith({ sdkTracing: 'true' })).not.toThrow();
    expect(() => stackWith({ sdkTracing: 'yes' })).toThrow(/sdkTracing/);
  });
});
