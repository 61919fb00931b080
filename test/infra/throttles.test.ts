import { beforeAll, describe, expect, it } from 'vitest';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { DEFAULT_ROUTE_THROTTLES } from '../../infra/constructs/http-api';
import { throttlesFromTemplate } from '../../infra/local/throttle';
import { API_ROUTES } from '../../shared/api/schemas';
import {
  type CfnResource,
  NO_BUNDLING,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
  testApp,
} from './template-helpers';

/**
 * Issue #10, point 8: an anonymous flood on `POST /complaints` must not starve agents and
 * customers. Each route has its own throttle (intake the lowest), and the intake function its
 * reserved concurrency.
 */

let synthesized: SynthesizedStack;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false });
}, 120_000);

const stageOf = (s: SynthesizedStack) =>
  single(
    Object.values(
      s.template.toJSON().Resources as Record<string, CfnResource & { DependsOn?: string[] }>,
    ).filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage'),
    'stage',
  );
const intakeFunction = (s: SynthesizedStack) =>
  single(
    [...resourcesOfType(s.template, 'AWS::Lambda::Function').values()].filter(
      (f) => f.Properties.Description === 'Complaint intake: POST /complaints',
    ),
    'intake API function',
  );

describe('per-route throttles', () => {
  it('gives every route its own throttle: intake lowest, then customer, then agent', () => {
    const settings = stageOf(synthesized).Properties.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    expect(Object.keys(settings).sort()).toEqual(API_ROUTES.map((r) => r.key).sort());
    expect(settings['POST /complaints']).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    for (const key of ['GET /track/{token}', 'POST /track/{token}/replies', 'POST /surveys/{token}']) {
      expect(settings[key], key).toEqual({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });
    }
    for (const key of [
      'GET /complaints',
      'GET /complaints/{id}',
      'POST /complaints/{id}/actions',
      'GET /reports/{period}/{id}',
    ]) {
      expect(settings[key], key).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    }
    const intake = DEFAULT_ROUTE_THROTTLES.intake;
    expect(intake.rateLimit).toBeLessThan(Number(DEFAULT_ROUTE_THROTTLES.customer.rateLimit));
    expect(intake.burstLimit).toBeLessThan(Number(DEFAULT_ROUTE_THROTTLES.agent.burstLimit));
  });

  it('creates the stage after every route (CloudFormation refuses settings for a route that does not exist yet)', () => {
    const routes = [...resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Route').keys()];
    expect(routes.length).toBe(API_ROUTES.length);
    expect(stageOf(synthesized).DependsOn).toEqual(expect.arrayContaining(routes));
  });

  it('is what the local HTTP API enforces (throttlesFromTemplate)', () => {
    const local = throttlesFromTemplate(synthesized.template.toJSON() as never);
    expect(local.default).toEqual({ rate: 50, burst: 100 });
    expect(local.routes?.['POST /complaints']).toEqual({ rate: 10, burst: 20 });
    expect(local.routes?.['GET /complaints/{id}']).toEqual({ rate: 50, burst: 100 });
  });

  it('reserves concurrency for the intake API function only (20 by default)', () => {
    expect(intakeFunction(synthesized).Properties.ReservedConcurrentExecutions).toBe(20);
    const reserved = [...resourcesOfType(synthesized.template, 'AWS::Lambda::Function').values()].filter(
      (f) => f.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved).toHaveLength(1);
  });
});

describe('throttle options', () => {
  it('takes per-group overrides from props, field by field over the defaults', () => {
    const s = synthesizeStack(
      { routeThrottles: { intake: { rateLimit: 2 } }, intakeReservedConcurrency: 5 },
      { bundle: false, id: 'Props' },
    );
    const settings = stageOf(s).Properties.RouteSettings as Record<string, unknown>;
    expect(settings['POST /complaints']).toEqual({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 20 });
    expect(intakeFunction(s).Properties.ReservedConcurrentExecutions).toBe(5);
  }, 120_000);

  it('takes them from context too (JSON), and "none" leaves the intake function unreserved', () => {
    const app = testApp({
      ...NO_BUNDLING,
      routeThrottles: '{"intake":{"rateLimit":1,"burstLimit":3},"agent":{"burstLimit":500}}',
      intakeReservedConcurrency: 'none',
    });
    const stack = new ComplaintServiceStack(app, 'Context');
    const template = app.synth().getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, CfnResource>;
    };
    const resources = Object.values(template.Resources);
    const stage = single(
      resources.filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage'),
      'stage',
    );
    const settings = stage.Properties.RouteSettings as Record<string, unknown>;
    expect(settings['POST /complaints']).toEqual({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 3 });
    expect(settings['GET /complaints']).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 500 });
    const reserved = resources.filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reserved).toHaveLength(0);
  }, 120_000);

  it('refuses an unknown group or a non-number', () => {
    const build = (context: Record<string, unknown>) => () =>
      new ComplaintServiceStack(testApp({ ...NO_BUNDLING, ...context }), 'Bad');
    expect(build({ routeThrottles: '{"public":{"rateLimit":1}}' })).toThrow(/unknown group "public"/);
    expect(build({ routeThrottles: '{"intake":{"rateLimit":"fast"}}' })).toThrow(/non-negative number/);
    expect(build({ intakeReservedConcurrency: '0' })).toThrow(/positive integer or "none"/);
  });
});
