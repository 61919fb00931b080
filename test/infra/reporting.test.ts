import { beforeAll, describe, expect, it } from 'vitest';
import { REPORT_SCHEDULES } from '../../infra/constructs/reporting-service';
import { REPORTED_DETAIL_TYPES } from '../../shared/domain/reporting/facts';
import {
  asArray,
  type CfnResource,
  getAttId,
  iamStatements,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

let synthesized: SynthesizedStack;
let functions: Map<string, CfnResource>;
const idOf = (prefix: string) =>
  single(
    [...functions.keys()].filter((id) => id.startsWith(prefix)),
    prefix,
  );
const roleOf = (fnId: string) => getAttId(functions.get(fnId)?.Properties.Role) as string;
const actionsOf = (fnId: string) =>
  iamStatements(synthesized.template)
    .filter((s) => s.roles.includes(roleOf(fnId)))
    .flatMap((s) => asArray(s.statement.Action as string | string[]));

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, id: 'ReportingTest' });
  functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
}, 60_000);

describe('reporting infrastructure', () => {
  it('feeds every reported lifecycle event of this service (and nothing from outside) to the aggregator queue', () => {
    const rule = single(
      [...resourcesOfType(synthesized.template, 'AWS::Events::Rule').values()].filter(
        (r) => r.Properties.Description === 'Lifecycle events of this service, for the report aggregates',
      ),
      'aggregator rule',
    );
    expect(rule.Properties.EventPattern).toEqual({
      source: [{ prefix: 'complaints.' }],
      'detail-type': [...REPORTED_DETAIL_TYPES],
    });
    const mapping = single(
      [...resourcesOfType(synthesized.template, 'AWS::Lambda::EventSourceMapping').values()].filter((m) =>
        JSON.stringify(m.Properties.FunctionName).includes('ReportingAggregator'),
      ),
      'aggregator event source mapping',
    );
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('generates the daily, weekly and monthly reports on Scheduler schedules in the business time zone', () => {
    const schedules = [...resourcesOfType(synthesized.template, 'AWS::Scheduler::Schedule').values()];
    const generator = idOf('ReportingGeneratorFunction');
    expect(
      schedules
        .map((s) => [
          s.Properties.ScheduleExpression,
          JSON.parse(String((s.Properties.Target as any).Input)).kind,
        ])
        .sort(),
    ).toEqual(REPORT_SCHEDULES.map((r) => [r.cron, r.kind]).sort());
    for (const s of schedules) {
      expect(s.Properties.ScheduleExpressionTimezone).toBe('Asia/Shanghai');
      const target = s.Properties.Target as any;
      expect(getAttId(target.Arn)).toBe(generator);
      expect(getAttId(target.DeadLetterConfig.Arn)).toMatch(/^TimersDeadLetterQueue/);
      // In the recurring group, which the Scheduler role trusts and no function may write to.
      expect(s.Properties.GroupName).toBe('ReportingTest-recurring');
      expect(asArray(s.DependsOn)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^TimersRecurringScheduleGroup/)]),
      );
    }
  });

  it('grants least privilege: the aggregator never publishes, the generator and the API do', () => {
    expect(actionsOf(idOf('ReportingAggregatorFunction'))).not.toContain('events:PutEvents');
    expect(actionsOf(idOf('ReportingGeneratorFunction'))).toContain('events:PutEvents');
    expect(actionsOf(idOf('ReportingApiFunction'))).toContain('events:PutEvents');
  });

  it('serves GET /reports/{period}/{id} behind the JWT authorizer', () => {
    const route = single(
      [...resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Route').values()].filter(
        (r) => r.Properties.RouteKey === 'GET /reports/{period}/{id}',
      ),
      'reports route',
    );
    expect(route.Properties.AuthorizationType).toBe('JWT');
  });
});
