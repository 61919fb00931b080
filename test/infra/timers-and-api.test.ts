import { Validations } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { AGENT_ROUTES } from '../../infra/constructs/agent-api';
import { COGNITO_CLAIMS, CUSTOM_ATTRIBUTES, STAFF_ROLES } from '../../infra/constructs/auth';
import { CUSTOMER_ROUTES } from '../../infra/constructs/customer-api';
import { COMPLAINTS_ROUTE } from '../../infra/constructs/intake-service';
import { PRIVACY_ROUTES } from '../../infra/constructs/privacy-service';
import { REPORTS_ROUTE } from '../../infra/constructs/reporting-service';
import { SWEEP_INTERVAL } from '../../infra/constructs/sla-service';
import {
  recurringScheduleGroupName,
  SCHEDULER_SERVICE_PRINCIPAL,
  scheduleGroupName,
  TARGET_ASYNC_RETRIES,
} from '../../infra/constructs/timers';
import {
  asArray,
  type CfnResource,
  getAttId,
  iamStatements,
  refId,
  resourcesOfType,
  type SynthesizedStack,
  single,
  synthesizeStack,
} from './template-helpers';

let synthesized: SynthesizedStack;
let stack: ComplaintServiceStack;
let functions: Map<string, CfnResource>;
/** POWERTOOLS service name + description → function logical id. */
let ids: {
  slaTimer: string;
  sweep: string;
  survey: string;
  classification: string;
  agentApi: string;
  customerApi: string;
  intakeApi: string;
  reportGenerator: string;
  reportsApi: string;
};
let schedulerRoleId: string;
let timerDlqId: string;

const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false });
  stack = synthesized.stack;
  functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
  ids = {
    slaTimer: logicalId(stack.sla.timerFunction.function),
    sweep: logicalId(stack.sla.sweepFunction.function),
    survey: logicalId(stack.survey.function.function),
    classification: logicalId(stack.classification.function.function),
    agentApi: logicalId(stack.agentApi.function.function),
    customerApi: logicalId(stack.customerApi.function.function),
    intakeApi: logicalId(stack.intake.apiFunction.function),
    reportGenerator: logicalId(stack.reporting.generator.function),
    reportsApi: logicalId(stack.reporting.apiFunction.function),
  };
  schedulerRoleId = logicalId(stack.timers.schedulerRole);
  timerDlqId = logicalId(stack.timers.deadLetterQueue);
}, 60_000);

const envOf = (functionId: string): Record<string, unknown> =>
  ((functions.get(functionId)?.Properties.Environment as { Variables?: Record<string, unknown> })
    ?.Variables ?? {}) as Record<string, unknown>;
const roleOf = (functionId: string): string => getAttId(functions.get(functionId)?.Properties.Role) as string;
const timerUsers = () => [
  ids.classification,
  ids.slaTimer,
  ids.sweep,
  ids.survey,
  ids.agentApi,
  ids.customerApi,
];
const scheduleArnPattern = () => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':scheduler:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:schedule/${scheduleGroupName(stack.stackName)}/*`,
    ],
  ],
});

describe('timers: schedule group and Scheduler role', () => {
  it('creates the timer group and the recurring group, named after the stack', () => {
    const groups = [...resourcesOfType(synthesized.template, 'AWS::Scheduler::ScheduleGroup').values()];
    expect(groups.map((g) => g.Properties.Name).sort()).toEqual(['Test-recurring', 'Test-timers']);
    expect(scheduleGroupName('x'.repeat(128)).length).toBeLessThanOrEqual(64);
    expect(recurringScheduleGroupName('x'.repeat(128)).length).toBeLessThanOrEqual(64);
  });

  it('lets only scheduler.amazonaws.com assume the Scheduler role, for this account and the two groups only', () => {
    const role = resourcesOfType(synthesized.template, 'AWS::IAM::Role').get(schedulerRoleId) as CfnResource;
    const trust = role.Properties.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] };
    expect(trust.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: SCHEDULER_SERVICE_PRINCIPAL },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            // Scheduler sends the schedule *group* ARN as aws:SourceArn (its confused-deputy guide).
            'aws:SourceArn': [
              { 'Fn::GetAtt': [logicalId(stack.timers.scheduleGroup), 'Arn'] },
              { 'Fn::GetAtt': [logicalId(stack.timers.recurringScheduleGroup), 'Arn'] },
            ],
          },
        },
      },
    ]);
    // No other role trusts Scheduler.
    const trustingScheduler = [...resourcesOfType(synthesized.template, 'AWS::IAM::Role')].filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(SCHEDULER_SERVICE_PRINCIPAL),
    );
    expect(trustingScheduler.map(([id]) => id)).toEqual([schedulerRoleId]);
  });

  it('allows the Scheduler role to invoke the SLA, survey and report generator functions and nothing else', () => {
    const statements = iamStatements(synthesized.template).filter((s) => s.roles.includes(schedulerRoleId));
    const invoke = statements.filter((s) => asArray(s.statement.Action).includes('lambda:InvokeFunction'));
    const resources = invoke.flatMap((s) => asArray(s.statement.Resource as unknown[]));
    const expected = [ids.slaTimer, ids.survey, ids.reportGenerator].flatMap((id) => [
      { 'Fn::GetAtt': [id, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, ':$LATEST']] },
    ]);
    expect(resources).toHaveLength(expected.length);
    expect(resources).toEqual(expect.arrayContaining(expected));
    for (const s of invoke) expect(asArray(s.statement.Action)).toEqual(['lambda:InvokeFunction']);

    // Its only other permissions: sending to the timer DLQ, and the data key it is encrypted with.
    const others = statements.filter((s) => !asArray(s.statement.Action).includes('lambda:InvokeFunction'));
    const dataKeyId = logicalId(stack.dataKey?.key as never);
    expect(others.map((s) => getAttId(s.statement.Resource)).sort()).toEqual([dataKeyId, timerDlqId].sort());
    const byResource = new Map(
      others.map((s) => [getAttId(s.statement.Resource), asArray(s.statement.Action)]),
    );
    expect(byResource.get(timerDlqId)).toContain('sqs:SendMessage');
    expect(byResource.get(dataKeyId)?.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('lets no other role invoke a function', () => {
    const invokers = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).some((a) => a.startsWith('lambda:')),
    );
    expect(new Set(invokers.flatMap((s) => s.roles))).toEqual(new Set([schedulerRoleId]));
  });

  it("sends the targets' failed asynchronous invocations to the timer DLQ", () => {
    const configs = [...resourcesOfType(synthesized.template, 'AWS::Lambda::EventInvokeConfig').values()];
    const byFunction = new Map(configs.map((c) => [refId(c.Properties.FunctionName), c.Properties]));
    for (const id of [ids.slaTimer, ids.survey]) {
      expect(byFunction.get(id), id).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: TARGET_ASYNC_RETRIES,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [timerDlqId, 'Arn'] } } },
      });
    }
    // The sweep is not retried: the next tick is the retry.
    expect(byFunction.get(ids.sweep)).toMatchObject({ MaximumRetryAttempts: 0 });
    expect(byFunction.get(ids.sweep)?.DestinationConfig).toBeUndefined();
  });
});

describe('timers: what scheduling functions may do', () => {
  it('passes only the Scheduler role, only to Scheduler, and only from the timer-using functions', () => {
    const passRole = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).includes('iam:PassRole'),
    );
    expect(passRole.length).toBeGreaterThan(0);
    for (const { policyId, statement } of passRole) {
      expect(asArray(statement.Action), policyId).toEqual(['iam:PassRole']);
      expect(statement.Resource, policyId).toEqual({ 'Fn::GetAtt': [schedulerRoleId, 'Arn'] });
      expect((statement as unknown as { Condition: unknown }).Condition, policyId).toEqual({
        StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE_PRINCIPAL },
      });
    }
    expect(new Set(passRole.flatMap((s) => s.roles))).toEqual(new Set(timerUsers().map(roleOf)));
  });

  it('limits schedule actions to the schedules of the group, and grants them to the timer-using functions only', () => {
    const scheduling = iamStatements(synthesized.template).filter((s) =>
      asArray(s.statement.Action).some((a) => a.startsWith('scheduler:')),
    );
    for (const { policyId, statement } of scheduling) {
      expect(statement.Resource, policyId).toEqual(scheduleArnPattern());
    }
    expect(new Set(scheduling.flatMap((s) => s.roles))).toEqual(new Set(timerUsers().map(roleOf)));
    for (const functionId of timerUsers()) {
      const actions = scheduling
        .filter((s) => s.roles.includes(roleOf(functionId)))
        .flatMap((s) => asArray(s.statement.Action));
      expect(actions, functionId).toEqual(
        expect.arrayContaining([
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
        ]),
      );
      expect(
        actions.filter((a) => /Group|Tag/.test(a)),
        functionId,
      ).toEqual([]);
    }
  });

  it('sets the timer variables together with the grants, and target ARNs without a cycle', () => {
    const common = {
      SCHEDULE_GROUP_NAME: 'Test-timers',
      SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [schedulerRoleId, 'Arn'] },
      TIMER_DLQ_ARN: { 'Fn::GetAtt': [timerDlqId, 'Arn'] },
    };
    const sla = { 'Fn::GetAtt': [ids.slaTimer, 'Arn'] };
    const survey = { 'Fn::GetAtt': [ids.survey, 'Arn'] };
    for (const id of [ids.classification, ids.sweep, ids.agentApi, ids.customerApi]) {
      expect(envOf(id), id).toMatchObject({ ...common, SLA_FUNCTION_ARN: sla, SURVEY_FUNCTION_ARN: survey });
    }
    // Targets learn their own ARN from the Lambda context; the survey function cannot also hold the
    // SLA function's ARN (the SLA function holds its ARN: that would be a cycle).
    expect(envOf(ids.slaTimer)).toMatchObject({ ...common, SURVEY_FUNCTION_ARN: survey });
    expect(envOf(ids.slaTimer).SLA_FUNCTION_ARN).toBeUndefined();
    expect(envOf(ids.survey)).toMatchObject(common);
    expect(envOf(ids.survey).SLA_FUNCTION_ARN).toBeUndefined();
    expect(envOf(ids.survey).SURVEY_FUNCTION_ARN).toBeUndefined();

    // Functions that do not schedule timers hold none of these variables.
    const timerVars =
      /^(SCHEDULE_GROUP_NAME|SCHEDULER_ROLE_ARN|TIMER_DLQ_ARN|SLA_FUNCTION_ARN|SURVEY_FUNCTION_ARN)$/;
    for (const id of functions.keys()) {
      if (timerUsers().includes(id)) continue;
      expect(
        Object.keys(envOf(id)).filter((k) => timerVars.test(k)),
        id,
      ).toEqual([]);
    }
  });
});

describe('SLA backstop sweep', () => {
  it('runs on a scheduled rule every five minutes, targeting the sweep function with retries and a DLQ', () => {
    const scheduled = [...resourcesOfType(synthesized.template, 'AWS::Events::Rule').entries()].filter(
      ([id, r]) =>
        r.Properties.ScheduleExpression !== undefined && id !== logicalId(stack.privacy.retentionRule),
    );
    // The other scheduled rule is the daily retention run (test/infra/privacy.test.ts).
    const [, rule] = single(scheduled, 'scheduled rule besides the retention run');
    expect(SWEEP_INTERVAL.toMinutes()).toBe(5);
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.State).toBe('ENABLED');
    const target = single(
      asArray(
        rule.Properties.Targets as {
          Arn: unknown;
          RetryPolicy?: unknown;
          DeadLetterConfig?: { Arn: unknown };
        }[],
      ),
      'sweep target',
    );
    expect(getAttId(target.Arn)).toBe(ids.sweep);
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 2 });
    expect(getAttId(target.DeadLetterConfig?.Arn)).toBe(
      logicalId(stack.messaging.deliveryDeadLetterQueue as never),
    );
    const permissions = [...resourcesOfType(synthesized.template, 'AWS::Lambda::Permission').values()].filter(
      (p) => getAttId(p.Properties.FunctionName) === ids.sweep,
    );
    expect(permissions.map((p) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
  });
});

describe('HTTP API routes and the JWT authorizer', () => {
  const routes = () => [...resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Route').values()];
  const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
  const integrationFunction = (route: CfnResource): string => {
    const parts = (route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const integrationId = parts.map(refId).find((id) => id !== undefined) as string;
    const integration = resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Integration').get(
      integrationId,
    ) as CfnResource;
    return getAttId(integration.Properties.IntegrationUri) as string;
  };

  it('serves exactly the intake, customer, agent, reports and privacy routes, each on its function, on one API', () => {
    single(resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Api').values(), 'API');
    const byKey = new Map(routes().map((r) => [r.Properties.RouteKey as string, integrationFunction(r)]));
    expect([...byKey.keys()].sort()).toEqual(
      [COMPLAINTS_ROUTE, ...AGENT_ROUTES, ...CUSTOMER_ROUTES, REPORTS_ROUTE, ...PRIVACY_ROUTES]
        .map(routeKey)
        .sort(),
    );
    expect(byKey.get(routeKey(REPORTS_ROUTE))).toBe(ids.reportsApi);
    for (const r of PRIVACY_ROUTES) {
      expect(byKey.get(routeKey(r)), routeKey(r)).toBe(logicalId(stack.privacy.apiFunction.function));
    }
    expect(byKey.get(routeKey(COMPLAINTS_ROUTE))).toBe(ids.intakeApi);
    for (const r of AGENT_ROUTES) expect(byKey.get(routeKey(r)), routeKey(r)).toBe(ids.agentApi);
    for (const r of CUSTOMER_ROUTES) expect(byKey.get(routeKey(r)), routeKey(r)).toBe(ids.customerApi);
  });

  it('puts the JWT authorizer on exactly the three agent routes, the reports route and the privacy routes', () => {
    const authorizer = single(
      resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Authorizer'),
      'authorizer',
    );
    const authorized = routes().filter((r) => r.Properties.AuthorizationType === 'JWT');
    expect(authorized.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [...AGENT_ROUTES, REPORTS_ROUTE, ...PRIVACY_ROUTES].map(routeKey).sort(),
    );
    for (const r of authorized) expect(r.Properties.AuthorizerId).toEqual({ Ref: authorizer[0] });
    for (const r of routes().filter((x) => x.Properties.AuthorizationType !== 'JWT')) {
      expect(r.Properties.AuthorizationType ?? 'NONE', r.Properties.RouteKey as string).toBe('NONE');
      expect(r.Properties.AuthorizerId).toBeUndefined();
    }
  });

  it('validates tokens of the stack user pool: issuer and app-client audience', () => {
    const [, authorizer] = single(
      resourcesOfType(synthesized.template, 'AWS::ApiGatewayV2::Authorizer'),
      'authorizer',
    );
    const poolId = logicalId(stack.auth.userPool as never);
    const clientId = logicalId(stack.auth.userPoolClient as never);
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: clientId }],
        Issuer: {
          'Fn::Join': [
            '',
            [
              'https://cognito-idp.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/',
              { Ref: poolId },
            ],
          ],
        },
      },
    });
  });

  it('acknowledges AwsSolutions-APIG4 on the public routes only', () => {
    const acknowledged = stack.httpApi.api.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) =>
            m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
            Object.keys(m.data as object).some((k) => k.endsWith('AwsSolutions-APIG4')),
        ),
      )
      .map((c) => (c.node.defaultChild as { routeKey?: string } | undefined)?.routeKey)
      .sort();
    expect(acknowledged).toEqual([COMPLAINTS_ROUTE, ...CUSTOMER_ROUTES].map(routeKey).sort());
  });
});

describe('Cognito user pool', () => {
  it('has the staff groups agent, supervisor and admin', () => {
    const groups = [...resourcesOfType(synthesized.template, 'AWS::Cognito::UserPoolGroup').values()];
    expect(groups.map((g) => g.Properties.GroupName).sort()).toEqual(['admin', 'agent', 'supervisor']);
    expect(STAFF_ROLES).toHaveLength(3);
    const precedence = Object.fromEntries(
      groups.map((g) => [g.Properties.GroupName, g.Properties.Precedence]),
    );
    expect(precedence.admin).toBeLessThan(precedence.supervisor as number);
    expect(precedence.supervisor).toBeLessThan(precedence.agent as number);
  });

  it('has the department and agent_id custom attributes, no self sign-up, required MFA and a strong password policy', () => {
    const pool = single(
      resourcesOfType(synthesized.template, 'AWS::Cognito::UserPool').values(),
      'user pool',
    );
    const schema = pool.Properties.Schema as { Name: string; AttributeDataType: string; Mutable: boolean }[];
    for (const name of Object.values(CUSTOM_ATTRIBUTES)) {
      expect(schema, name).toContainEqual(
        expect.objectContaining({ Name: name, AttributeDataType: 'String', Mutable: true }),
      );
    }
    expect(COGNITO_CLAIMS.department).toBe('custom:department');
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
    });
  });

  it('lets the app client read but never write the department and agent id', () => {
    const client = single(
      resourcesOfType(synthesized.template, 'AWS::Cognito::UserPoolClient').values(),
      'user pool client',
    );
    expect(client.Properties.GenerateSecret).toBe(false);
    expect(client.Properties.ReadAttributes).toEqual(
      expect.arrayContaining([COGNITO_CLAIMS.department, COGNITO_CLAIMS.agentId]),
    );
    // Without WriteAttributes Cognito lets users write every attribute: it must be there, and list
    // only the display name — no custom attribute (department, agent id, anything a role could hide in).
    const writable = client.Properties.WriteAttributes as string[] | undefined;
    expect(writable).toEqual(['name']);
    for (const attribute of [
      COGNITO_CLAIMS.department,
      COGNITO_CLAIMS.agentId,
      'custom:role',
      'custom:roles',
    ]) {
      expect(writable).not.toContain(attribute);
    }
  });

  it('tells the API functions, and only them, to read roles from cognito:groups alone', () => {
    expect(stack.auth.roleClaim).toBe('cognito:groups');
    const withRoleClaim = [...functions.entries()]
      .filter(([id]) => envOf(id).ROLE_CLAIM !== undefined)
      .map(([id]) => id)
      .sort();
    expect(withRoleClaim).toEqual(
      [ids.agentApi, ids.reportsApi, logicalId(stack.privacy.apiFunction.function)].sort(),
    );
    for (const id of withRoleClaim) expect(envOf(id).ROLE_CLAIM).toBe(COGNITO_CLAIMS.roles);
  });

  it('outputs the user pool id, the client id and the JWT issuer', () => {
    const outputs = synthesized.template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['UserPoolId', 'UserPoolClientId', 'JwtIssuer']),
    );
  });
});
