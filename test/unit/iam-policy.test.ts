import { describe, expect, it } from 'vitest';
import {
  accessDeniedMessage,
  denialOf,
  evaluate,
  matchesAction,
  matchesResource,
  type PolicyStatement,
  permissionsFromTemplate,
  type TemplateResource,
} from '../../infra/local/iam-policy';

/**
 * IAM evaluation as the local runtime's enforcement uses it: AWS's matching rules, the decision
 * order (explicit deny > allow > implicit deny), conditions, AWS's denial wording, and reading the
 * role policies out of a CloudFormation template.
 */

const ACCOUNT = '123456789012';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Store`;

describe('matchesAction', () => {
  it.each([
    ['dynamodb:GetItem', 'dynamodb:GetItem', true],
    ['DynamoDB:getitem', 'dynamodb:GetItem', true],
    ['dynamodb:Get*', 'dynamodb:GetItem', true],
    ['dynamodb:?etItem', 'dynamodb:GetItem', true],
    ['dynamodb:*', 'dynamodb:PutItem', true],
    ['*', 'sqs:SendMessage', true],
    ['dynamodb:Get', 'dynamodb:GetItem', false],
    ['dynamodb:GetItem', 'dynamodb:GetItems', false],
    ['s3:*', 'dynamodb:GetItem', false],
    ['dynamodb:Get.tem', 'dynamodb:GetItem', false],
  ])('%s covers %s: %s', (pattern, action, expected) => {
    expect(matchesAction(pattern, action)).toBe(expected);
  });
});

describe('matchesResource', () => {
  it.each([
    [TABLE, TABLE, true],
    ['*', TABLE, true],
    ['*', '*', true],
    [`${TABLE}/index/*`, `${TABLE}/index/gsi1`, true],
    [`${TABLE}/index/*`, TABLE, false],
    // Case-sensitive, unlike actions.
    [TABLE.replace('Store', 'store'), TABLE, false],
    ['arn:aws:sqs:us-east-1:123456789012:q?', 'arn:aws:sqs:us-east-1:123456789012:q1', true],
    ['arn:aws:sqs:us-east-1:123456789012:q?', 'arn:aws:sqs:us-east-1:123456789012:q12', false],
    // A `*` ending a segment may span colons…
    ['arn:aws:sqs:*', 'arn:aws:sqs:us-east-1:123456789012:q', true],
    ['arn:aws:sqs:us-*:123456789012:q', 'arn:aws:sqs:us-east-1:123456789012:q', true],
    // …one inside a segment stays within it.
    ['arn:aws:sqs:us-*1:123456789012:q', 'arn:aws:sqs:us-east-1:123456789012:q', true],
    ['arn:aws:sqs:us-*1:123456789012:q', 'arn:aws:sqs:us-east-1:999:x1:123456789012:q', false],
    // A pattern is not a prefix.
    ['arn:aws:sqs:us-east-1:123456789012:q', 'arn:aws:sqs:us-east-1:123456789012:q-dlq', false],
    // A specific ARN does not cover the `*` of actions without resources.
    ['arn:aws:scheduler:us-east-1:123456789012:schedule/g/*', '*', false],
  ])('%s covers %s: %s', (pattern, resource, expected) => {
    expect(matchesResource(pattern, resource)).toBe(expected);
  });
});

describe('evaluate', () => {
  const allowItems: PolicyStatement = {
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
    Resource: [TABLE, `${TABLE}/index/*`],
  };

  it('allows an action a statement allows, on a resource it names', () => {
    expect(evaluate([allowItems], 'dynamodb:PutItem', TABLE)).toEqual({
      decision: 'allow',
      statement: allowItems,
    });
    expect(evaluate([allowItems], 'dynamodb:Query', `${TABLE}/index/gsi2`).decision).toBe('allow');
  });

  it('denies implicitly what no statement allows', () => {
    expect(evaluate([allowItems], 'dynamodb:DeleteItem', TABLE)).toEqual({ decision: 'implicit-deny' });
    expect(evaluate([allowItems], 'dynamodb:GetItem', `${TABLE}2`).decision).toBe('implicit-deny');
    expect(evaluate([], 'dynamodb:GetItem', TABLE).decision).toBe('implicit-deny');
  });

  it('lets an explicit deny win over any allow, wherever it stands', () => {
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'dynamodb:Put*', Resource: '*' };
    expect(evaluate([allowItems, deny], 'dynamodb:PutItem', TABLE)).toEqual({
      decision: 'explicit-deny',
      statement: deny,
    });
    expect(evaluate([deny, allowItems], 'dynamodb:PutItem', TABLE).decision).toBe('explicit-deny');
    expect(evaluate([deny, allowItems], 'dynamodb:GetItem', TABLE).decision).toBe('allow');
  });

  it('reads NotAction and NotResource as "everything but"', () => {
    const allButDelete: PolicyStatement = { Effect: 'Allow', NotAction: 'dynamodb:Delete*', Resource: TABLE };
    expect(evaluate([allButDelete], 'dynamodb:UpdateItem', TABLE).decision).toBe('allow');
    expect(evaluate([allButDelete], 'dynamodb:DeleteItem', TABLE).decision).toBe('implicit-deny');
    const denyElsewhere: PolicyStatement = { Effect: 'Deny', Action: '*', NotResource: [TABLE] };
    const all: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
    expect(evaluate([all, denyElsewhere], 'dynamodb:GetItem', TABLE).decision).toBe('allow');
    expect(evaluate([all, denyElsewhere], 'dynamodb:GetItem', `${TABLE}-other`).decision).toBe(
      'explicit-deny',
    );
  });

  it('ignores a statement without Resource or NotResource (invalid in an identity policy)', () => {
    expect(evaluate([{ Effect: 'Allow', Action: '*' }], 'dynamodb:GetItem', TABLE).decision).toBe(
      'implicit-deny',
    );
  });
});

describe('evaluate: conditions', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/SchedulerRole`;
  /** The PassRole statement CDK writes for the timers (from the synthesized template). */
  const passRole: PolicyStatement = {
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: ROLE,
    Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
  };

  it('applies an Allow only when its condition holds against the request context', () => {
    expect(
      evaluate([passRole], 'iam:PassRole', ROLE, { 'iam:PassedToService': 'scheduler.amazonaws.com' })
        .decision,
    ).toBe('allow');
    expect(
      evaluate([passRole], 'iam:PassRole', ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' }).decision,
    ).toBe('implicit-deny');
    // A key missing from the context makes the condition false.
    expect(evaluate([passRole], 'iam:PassRole', ROLE).decision).toBe('implicit-deny');
  });

  it('reads condition key names case-insensitively, values case-sensitively', () => {
    expect(
      evaluate([passRole], 'iam:PassRole', ROLE, { 'IAM:passedtoservice': 'scheduler.amazonaws.com' })
        .decision,
    ).toBe('allow');
    expect(
      evaluate([passRole], 'iam:PassRole', ROLE, { 'iam:PassedToService': 'Scheduler.amazonaws.com' })
        .decision,
    ).toBe('implicit-deny');
  });

  const allowIf = (Condition: PolicyStatement['Condition']): PolicyStatement[] => [
    { Effect: 'Allow', Action: '*', Resource: '*', Condition },
  ];
  const decide = (statements: PolicyStatement[], context: Record<string, string | string[]> = {}) =>
    evaluate(statements, 'dynamodb:GetItem', TABLE, context).decision;

  it('ORs the values of one key, ANDs keys and operators', () => {
    const either = allowIf({ StringEquals: { k: ['a', 'b'] } });
    expect(decide(either, { k: 'b' })).toBe('allow');
    expect(decide(either, { k: 'c' })).toBe('implicit-deny');
    const both = allowIf({ StringEquals: { k: 'a' }, StringLike: { m: 'x*' } });
    expect(decide(both, { k: 'a', m: 'xyz' })).toBe('allow');
    expect(decide(both, { k: 'a', m: 'yz' })).toBe('implicit-deny');
  });

  it('makes negated operators true for a missing key and a NOR of their values', () => {
    const notAOrB = allowIf({ StringNotEquals: { k: ['a', 'b'] } });
    expect(decide(notAOrB)).toBe('allow');
    expect(decide(notAOrB, { k: 'c' })).toBe('allow');
    expect(decide(notAOrB, { k: 'b' })).toBe('implicit-deny');
    // So a Deny with a negated operator applies when the key is absent, as in AWS.
    const deny: PolicyStatement = {
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    };
    const all: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
    expect(decide([all, deny])).toBe('explicit-deny');
    expect(decide([all, deny], { 'aws:RequestedRegion': 'us-east-1' })).toBe('allow');
  });

  it('supports IfExists, Null, Bool, ArnLike, Numeric and Date operators', () => {
    expect(decide(allowIf({ StringEqualsIfExists: { k: 'a' } }))).toBe('allow');
    expect(decide(allowIf({ StringEqualsIfExists: { k: 'a' } }), { k: 'b' })).toBe('implicit-deny');
    expect(decide(allowIf({ Null: { k: 'true' } }))).toBe('allow');
    expect(decide(allowIf({ Null: { k: 'true' } }), { k: 'a' })).toBe('implicit-deny');
    expect(decide(allowIf({ Null: { k: 'false' } }), { k: 'a' })).toBe('allow');
    expect(
      decide(allowIf({ Bool: { 'aws:SecureTransport': true } }), { 'aws:SecureTransport': 'true' }),
    ).toBe('allow');
    expect(
      decide(allowIf({ Bool: { 'aws:SecureTransport': true } }), { 'aws:SecureTransport': 'false' }),
    ).toBe('implicit-deny');
    expect(
      decide(allowIf({ ArnLike: { 'aws:SourceArn': 'arn:aws:events:*:*:rule/*' } }), {
        'aws:SourceArn': 'arn:aws:events:us-east-1:1:rule/r',
      }),
    ).toBe('allow');
    expect(decide(allowIf({ NumericLessThan: { n: '10' } }), { n: '9' })).toBe('allow');
    expect(decide(allowIf({ NumericLessThan: { n: '10' } }), { n: '10' })).toBe('implicit-deny');
    expect(decide(allowIf({ NumericLessThan: { n: '10' } }), { n: 'ten' })).toBe('implicit-deny');
    expect(
      decide(allowIf({ DateGreaterThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' } }), {
        'aws:CurrentTime': '2026-11-24T10:00:00Z',
      }),
    ).toBe('allow');
    expect(
      decide(allowIf({ DateGreaterThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }), {
        'aws:CurrentTime': '2026-11-24T10:00:00Z',
      }),
    ).toBe('implicit-deny');
  });

  it('supports the ForAnyValue and ForAllValues qualifiers on multi-valued keys', () => {
    // DynamoDB's documented "only inside transactions" example.
    const inTransaction = allowIf({
      'ForAnyValue:StringEquals': {
        'dynamodb:EnclosingOperation': ['TransactWriteItems', 'TransactGetItems'],
      },
    });
    expect(decide(inTransaction, { 'dynamodb:EnclosingOperation': 'TransactWriteItems' })).toBe('allow');
    expect(decide(inTransaction)).toBe('implicit-deny');
    const onlyAttributes = allowIf({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'status'] },
    });
    expect(decide(onlyAttributes, { 'dynamodb:Attributes': ['pk', 'status'] })).toBe('allow');
    expect(decide(onlyAttributes, { 'dynamodb:Attributes': ['pk', 'secret'] })).toBe('implicit-deny');
    // ForAllValues is true for a missing key (AWS's documented pitfall).
    expect(decide(onlyAttributes)).toBe('allow');
  });

  it('fails towards denial on a condition it cannot evaluate', () => {
    const ip = { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } };
    expect(decide(allowIf(ip), { 'aws:SourceIp': '10.1.2.3' })).toBe('implicit-deny');
    const all: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
    expect(
      decide([all, { Effect: 'Deny', Action: '*', Resource: '*', Condition: ip }], {
        'aws:SourceIp': '192.0.2.1',
      }),
    ).toBe('explicit-deny');
    // …unless another key of the same block is already false: then the statement does not apply.
    const unmet = { ...ip, StringEquals: { k: 'a' } };
    expect(decide([all, { Effect: 'Deny', Action: '*', Resource: '*', Condition: unmet }], { k: 'b' })).toBe(
      'allow',
    );
  });
});

describe('accessDeniedMessage', () => {
  const base = { roleName: 'ApiRole', sessionName: 'api-fn', accountId: ACCOUNT };

  it("uses AWS's wording for an implicit deny", () => {
    expect(
      accessDeniedMessage({
        ...base,
        action: 'dynamodb:PutItem',
        resource: `${TABLE}`,
        decision: 'implicit-deny',
      }),
    ).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/ApiRole/api-fn is not authorized to perform: dynamodb:PutItem ' +
        'on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Store because no identity-based policy allows the ' +
        'dynamodb:PutItem action',
    );
  });

  it("uses AWS's wording for an explicit deny", () => {
    expect(
      accessDeniedMessage({
        ...base,
        action: 'events:PutEvents',
        resource: 'arn:aws:events:us-east-1:123456789012:event-bus/default',
        decision: 'explicit-deny',
      }),
    ).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/ApiRole/api-fn is not authorized to perform: events:PutEvents ' +
        'on resource: arn:aws:events:us-east-1:123456789012:event-bus/default with an explicit deny in an identity-based policy',
    );
  });

  it('writes SQS actions in lower case, as SQS does', () => {
    expect(
      accessDeniedMessage({
        ...base,
        action: 'sqs:SendMessage',
        resource: 'arn:aws:sqs:us-east-1:123456789012:q',
        decision: 'implicit-deny',
      }),
    ).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/ApiRole/api-fn is not authorized to perform: sqs:sendmessage ' +
        'on resource: arn:aws:sqs:us-east-1:123456789012:q because no identity-based policy allows the sqs:sendmessage action',
    );
  });
});

describe('denialOf', () => {
  const principal = {
    roleName: 'ApiRole',
    sessionName: 'api-fn',
    accountId: ACCOUNT,
    statements: [
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: TABLE },
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: `${TABLE}/index/*`,
        Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT } },
      },
    ] satisfies PolicyStatement[],
  };

  it('is undefined when every check is allowed (principal keys are in the context)', () => {
    expect(
      denialOf(principal, [
        { action: 'dynamodb:PutItem', resource: TABLE },
        { action: 'dynamodb:Query', resource: `${TABLE}/index/gsi1` },
      ]),
    ).toBeUndefined();
  });

  it('names the first check that is not allowed', () => {
    const message = denialOf(principal, [
      { action: 'dynamodb:GetItem', resource: TABLE },
      { action: 'dynamodb:DeleteItem', resource: TABLE },
      { action: 'dynamodb:Scan', resource: TABLE },
    ]);
    expect(message).toContain(`not authorized to perform: dynamodb:DeleteItem on resource: ${TABLE}`);
    expect(message).toContain('because no identity-based policy allows the dynamodb:DeleteItem action');
  });

  it('denies an unmapped request and says why', () => {
    const message = denialOf(principal, [
      { action: 'dynamodb:ExecuteStatement', resource: '*', unmapped: 'PartiQL is not mapped' },
    ]);
    expect(message).toMatch(
      /^User: arn:aws:sts::123456789012:assumed-role\/ApiRole\/api-fn is not authorized to perform: dynamodb:ExecuteStatement/,
    );
    expect(message).toContain('cannot map this request to IAM actions (PartiQL is not mapped)');
  });
});

describe('permissionsFromTemplate', () => {
  const physical: Record<string, string> = {
    ApiRole: 'Stack-ApiRole',
    WorkerRole: 'Stack-WorkerRole',
    Store: 'Stack-Store',
    'AWS::Partition': 'aws',
    'AWS::Region': 'us-east-1',
    'AWS::AccountId': ACCOUNT,
  };
  /** A stub of the runtime's resolver: Ref, Fn::GetAtt Arn of a table or role, Fn::Join. */
  const resolve = (value: unknown): unknown => {
    const v = value as Record<string, any>;
    if ('Ref' in v) return physical[v.Ref] ?? v.Ref;
    if ('Fn::GetAtt' in v) {
      const [id] = v['Fn::GetAtt'] as [string, string];
      return id.endsWith('Role')
        ? `arn:aws:iam::${ACCOUNT}:role/${physical[id]}`
        : `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${physical[id]}`;
    }
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => (typeof p === 'string' ? p : resolve(p))).join(separator);
    }
    throw new Error(`stub cannot resolve ${JSON.stringify(value)}`);
  };

  const resources: Record<string, TemplateResource> = {
    ApiRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    WorkerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyName: 'inline',
            PolicyDocument: { Statement: { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: '*' } },
          },
        ],
        ManagedPolicyArns: [{ Ref: 'SharedPolicy' }, 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
      },
    },
    LonelyRole: { Type: 'AWS::IAM::Role', Properties: {} },
    ApiRoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'ApiRoleDefaultPolicy',
        Roles: [{ Ref: 'ApiRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: ['dynamodb:GetItem', 'dynamodb:Query'],
              Effect: 'Allow',
              Resource: [
                { 'Fn::GetAtt': ['Store', 'Arn'] },
                { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Store', 'Arn'] }, '/index/*']] },
              ],
            },
            {
              Action: 'scheduler:CreateSchedule',
              Effect: 'Allow',
              Resource: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':scheduler:',
                    { Ref: 'AWS::Region' },
                    ':',
                    { Ref: 'AWS::AccountId' },
                    ':schedule/timers/*',
                  ],
                ],
              },
            },
            {
              Action: 'iam:PassRole',
              Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
            },
          ],
        },
      },
    },
    SharedPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        // Attached both ways: counted once.
        Roles: [{ Ref: 'WorkerRole' }],
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] },
      },
    },
    OtherPolicy: {
      Type: 'AWS::IAM::RolePolicy',
      Properties: {
        RoleName: { Ref: 'ApiRole' },
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }] },
      },
    },
    ImportedRolePolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: { Roles: ['SomeImportedRole'], PolicyDocument: { Statement: [] } },
    },
    Store: { Type: 'AWS::DynamoDB::Table' },
  };

  it('collects the resolved statements of every role, keyed by logical id', () => {
    const warnings: string[] = [];
    const permissions = permissionsFromTemplate(resources, resolve, { warn: (m) => warnings.push(m) });
    expect([...permissions.keys()].sort()).toEqual(['ApiRole', 'LonelyRole', 'WorkerRole']);
    expect(permissions.get('LonelyRole')).toEqual([]);
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Stack-Store`;
    expect(permissions.get('ApiRole')).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [table, `${table}/index/*`],
      },
      {
        Effect: 'Allow',
        Action: 'scheduler:CreateSchedule',
        Resource: `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/timers/*`,
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: `arn:aws:iam::${ACCOUNT}:role/Stack-WorkerRole`,
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' },
    ]);
    expect(permissions.get('WorkerRole')).toEqual([
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: '*' },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' },
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings.find((w) => w.includes('ReadOnlyAccess'))).toMatch(
      /^WorkerRole: managed policy .* cannot be read/,
    );
    expect(warnings.find((w) => w.includes('SomeImportedRole'))).toMatch(/^ImportedRolePolicy: role/);
  });

  it('gives statements that evaluate as the deployed role would', () => {
    const statements = permissionsFromTemplate(resources, resolve).get('ApiRole') ?? [];
    const schedule = `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/timers/t-1`;
    expect(evaluate(statements, 'scheduler:CreateSchedule', schedule).decision).toBe('allow');
    expect(
      evaluate(statements, 'scheduler:CreateSchedule', schedule.replace('timers', 'default')).decision,
    ).toBe('implicit-deny');
    expect(
      evaluate(statements, 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/Stack-WorkerRole`, {
        'iam:PassedToService': 'scheduler.amazonaws.com',
      }).decision,
    ).toBe('allow');
  });

  it('reports a statement that does not resolve to strings, naming it', () => {
    const broken: Record<string, TemplateResource> = {
      R: { Type: 'AWS::IAM::Role' },
      P: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'R' }],
          PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: { Ref: 'X' } }] },
        },
      },
    };
    expect(() => permissionsFromTemplate(broken, () => ({ not: 'a string' }))).toThrow(
      /^P statement 0 Resource does not resolve to strings/,
    );
  });
});

describe('dynamodb:LeadingKeys as the stack grants it (ForAllValues:StringLike plus Null false)', () => {
  const complaintsOnly: PolicyStatement = {
    Effect: 'Allow',
    Action: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
    Resource: TABLE,
    Condition: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['C#*', 'REPORTING'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    },
  };
  const decide = (action: string, keys?: string[]) =>
    evaluate([complaintsOnly], action, TABLE, keys === undefined ? {} : { 'dynamodb:LeadingKeys': keys })
      .decision;

  it('allows items whose partition key matches a pattern (wildcard or exact)', () => {
    expect(decide('dynamodb:PutItem', ['C#1'])).toBe('allow');
    expect(decide('dynamodb:PutItem', ['REPORTING'])).toBe('allow');
    expect(decide('dynamodb:BatchGetItem', ['C#1', 'C#2'])).toBe('allow');
  });

  it('denies another prefix, an exact key with a suffix, and a batch with one foreign key', () => {
    expect(decide('dynamodb:PutItem', ['AGG#DAY#2026-11-24#0'])).toBe('implicit-deny');
    expect(decide('dynamodb:PutItem', ['REPORTINGX'])).toBe('implicit-deny');
    expect(decide('dynamodb:BatchGetItem', ['C#1', 'AGG#x'])).toBe('implicit-deny');
  });

  it('denies a request without a leading key (ForAllValues alone would let it through)', () => {
    expect(decide('dynamodb:PutItem')).toBe('implicit-deny');
    expect(
      evaluate(
        [
          {
            ...complaintsOnly,
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['C#*'] } },
          },
        ],
        'dynamodb:PutItem',
        TABLE,
        {},
      ).decision,
    ).toBe('allow');
  });
});
