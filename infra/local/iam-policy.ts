/**
 * IAM policy evaluation for the local runtime's IAM enforcement: when a function calls an AWS API
 * that its role in the template does not allow, the local endpoints reject the call with
 * AccessDenied, naming the missing action and resource, as AWS would.
 *
 * Pure (no I/O). It provides:
 * - {@link permissionsFromTemplate}: the identity-based statements of every role of a template
 *   (`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and `AWS::IAM::RolePolicy` resources, inline
 *   `Policies` of `AWS::IAM::Role`), intrinsics resolved by the caller's `resolve`;
 * - {@link evaluate}: AWS's decision for one action on one resource — an explicit deny wins over
 *   any allow, and nothing allowed is an implicit deny. Actions match case-insensitively, resources
 *   case-sensitively, both with `*` and `?` wildcards; in a resource, a `*` inside an ARN segment
 *   stays within that segment and a `*` ending a segment may span colons (IAM's documented rule);
 * - {@link accessDeniedMessage} and {@link denialOf}: AWS's wording of the denial, e.g.
 *   `User: arn:aws:sts::123456789012:assumed-role/R/fn is not authorized to perform:
 *   dynamodb:PutItem on resource: arn:aws:dynamodb:…:table/T because no identity-based policy
 *   allows the dynamodb:PutItem action` (or `… with an explicit deny in an identity-based policy`).
 *   SQS writes the action in lower case in these messages (`sqs:sendmessage`), and so do we.
 *
 * Conditions are evaluated against the request context the caller supplies (the request mapper in
 * `aws-request-actions.ts` adds keys such as `iam:PassedToService` and `dynamodb:EnclosingOperation`;
 * {@link denialOf} adds `aws:PrincipalArn`, `aws:PrincipalAccount` and `aws:PrincipalType`), with
 * AWS's rules: a key missing from the context makes a condition false, except for negated operators
 * (`StringNotEquals`, …) and `ForAllValues:` (true), `…IfExists` (true) and `Null`. Supported
 * operators: String*, Arn*, Bool, Null, Numeric*, Date*, each with `IfExists` and the `ForAnyValue:` /
 * `ForAllValues:` qualifiers. A condition the local runtime cannot evaluate (IpAddress, Binary, an
 * unknown operator) is handled conservatively, failing towards denial: an Allow statement carrying it
 * does not apply, a Deny statement carrying it applies.
 *
 * Known limits: only identity-based policies of the role are evaluated — no resource-based policies
 * (queue policies, …), permissions boundaries, session policies or SCPs; managed policies that are
 * not resources of the template (AWS-managed ARNs) cannot be read and are reported through `warn`
 * (the project's roles have none); policy variables (`${aws:username}`) are not substituted, so they
 * only match themselves; `Principal` elements (trust policies) are ignored.
 */

/** A condition block: operator → context key → value(s). */
export type ConditionBlock = Record<string, Record<string, unknown>>;

/** An identity-based policy statement, intrinsics already resolved. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

/** Request context keys (case-insensitive names, as in IAM) and their value(s). */
export type RequestContext = Readonly<Record<string, string | readonly string[]>>;

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface Evaluation {
  decision: Decision;
  /** The statement that decided: the first applicable Deny, or the first applicable Allow. */
  statement?: PolicyStatement;
}

/** One action on one resource that a request needs, as `aws-request-actions.ts` computes it. */
export interface AccessCheck {
  /** `service:Action`, e.g. `dynamodb:PutItem`. */
  action: string;
  /** The resource ARN, or `*` for actions that take no resource. */
  resource: string;
  /** Request context keys for conditions (e.g. `iam:PassedToService`). */
  context?: RequestContext;
  /**
   * Set when the request could not be mapped to IAM actions (unknown operation, unreadable body):
   * the reason. Such a check is always denied ({@link denialOf}): enforcement is deny-by-default.
   */
  unmapped?: string;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const escapeRegExp = (text: string): string => text.replace(/[.+^${}()|[\]\\/]/g, '\\$&');

/** `*` and `?` glob → anchored regular expression; `star` is what `*` stands for. */
function globRegExp(pattern: string, flags: string, star: (index: number) => string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    source += c === '*' ? star(i) : c === '?' ? '.' : escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, flags);
}

const patternCache = new Map<string, RegExp>();
function cached(key: string, build: () => RegExp): RegExp {
  let regExp = patternCache.get(key);
  if (regExp === undefined) {
    regExp = build();
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(key, regExp);
  }
  return regExp;
}

/** Whether an `Action` pattern (`dynamodb:Get*`, `*`) covers an action; case-insensitive, as in IAM. */
export function matchesAction(pattern: string, action: string): boolean {
  return cached(`a\u0000${pattern}`, () => globRegExp(pattern, 'i', () => '.*')).test(action);
}

/**
 * Whether a `Resource` pattern covers a resource ARN; case-sensitive. A `*` that ends an ARN segment
 * (followed by `:` or the end) may span colons; one inside a segment matches within it only.
 */
export function matchesResource(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  return cached(`r\u0000${pattern}`, () =>
    globRegExp(pattern, '', (i) =>
      i + 1 === pattern.length || pattern.charAt(i + 1) === ':' ? '.*' : '[^:]*',
    ),
  ).test(resource);
}

// ----------------------------------------------------------------------------- conditions

type Comparator = (contextValue: string, policyValue: string) => boolean;

const toNumber = (v: string): number | undefined => (v.trim() === '' ? undefined : Number(v));
const toTime = (v: string): number | undefined => {
  if (/^\d+$/.test(v)) return Number(v) * 1000; // epoch seconds, as IAM accepts
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
};
const ordered =
  (parse: (v: string) => number | undefined, test: (a: number, b: number) => boolean): Comparator =>
  (c, p) => {
    const a = parse(c);
    const b = parse(p);
    return a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) ? false : test(a, b);
  };

/**
 * The positive form of each supported operator; `negated` ones are the NOT of their positive form
 * (a negated operator with several policy values is a NOR, as in IAM).
 */
const OPERATORS: Record<string, { compare: Comparator; negated: boolean }> = {};
const define = (names: [string, string | undefined], compare: Comparator) => {
  OPERATORS[names[0].toLowerCase()] = { compare, negated: false };
  if (names[1] !== undefined) OPERATORS[names[1].toLowerCase()] = { compare, negated: true };
};
define(['StringEquals', 'StringNotEquals'], (c, p) => c === p);
define(['StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase'], (c, p) =>
  c.toLowerCase() === p.toLowerCase());
define(['StringLike', 'StringNotLike'], (c, p) =>
  cached(`s\u0000${p}`, () => globRegExp(p, '', () => '.*')).test(c));
define(['ArnEquals', 'ArnNotEquals'], (c, p) => matchesResource(p, c)); // ArnEquals accepts wildcards too
define(['ArnLike', 'ArnNotLike'], (c, p) => matchesResource(p, c));
define(['Bool', undefined], (c, p) => c.toLowerCase() === p.toLowerCase());
define(['NumericEquals', 'NumericNotEquals'], ordered(toNumber, (a, b) => a === b));
define(['NumericLessThan', undefined], ordered(toNumber, (a, b) => a < b));
define(['NumericLessThanEquals', undefined], ordered(toNumber, (a, b) => a <= b));
define(['NumericGreaterThan', undefined], ordered(toNumber, (a, b) => a > b));
define(['NumericGreaterThanEquals', undefined], ordered(toNumber, (a, b) => a >= b));
define(['DateEquals', 'DateNotEquals'], ordered(toTime, (a, b) => a === b));
define(['DateLessThan', undefined], ordered(toTime, (a, b) => a < b));
define(['DateLessThanEquals', undefined], ordered(toTime, (a, b) => a <= b));
define(['DateGreaterThan', undefined], ordered(toTime, (a, b) => a > b));
define(['DateGreaterThanEquals', undefined], ordered(toTime, (a, b) => a >= b));

/** Context lookup by case-insensitive key name. */
function contextValues(context: RequestContext, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) {
    if (k.toLowerCase() === lower) return typeof v === 'string' ? [v] : [...v];
  }
  return undefined;
}

const policyValues = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map(String);

/** One operator on one key: true/false, or undefined when the local runtime cannot evaluate it. */
function conditionHolds(
  rawOperator: string,
  key: string,
  value: unknown,
  context: RequestContext,
): boolean | undefined {
  const values = contextValues(context, key);
  const present = values !== undefined && values.length > 0;
  let operator = rawOperator.toLowerCase();
  if (operator === 'null') {
    const wantsAbsent = policyValues(value).some((v) => v.toLowerCase() === 'true');
    return wantsAbsent ? !present : present;
  }
  const set = operator.startsWith('foranyvalue:')
    ? 'any'
    : operator.startsWith('forallvalues:')
      ? 'all'
      : undefined;
  if (set !== undefined) operator = operator.slice(operator.indexOf(':') + 1);
  const ifExists = operator.endsWith('ifexists');
  if (ifExists) operator = operator.slice(0, -'ifexists'.length);
  const definition = OPERATORS[operator];
  if (definition === undefined) return undefined;
  if (!present) return ifExists || set === 'all' || (set === undefined && definition.negated);
  const wanted = policyValues(value);
  /** Whether one context value satisfies the operator (negated: it matches none of the values). */
  const results = values.map((contextValue) => {
    const any = wanted.some((p) => definition.compare(contextValue, p));
    return definition.negated ? !any : any;
  });
  if (set === 'all') return results.every(Boolean);
  if (set === 'any' || !definition.negated) return results.some(Boolean);
  // A negated single-valued operator: NOT(some context value matches some policy value).
  return results.every(Boolean);
}

/** All operators and keys of a block (AND); undefined when any part cannot be evaluated. */
function conditionsHold(block: ConditionBlock | undefined, context: RequestContext): boolean | undefined {
  let unknown = false;
  for (const [operator, keys] of Object.entries(block ?? {})) {
    for (const [key, value] of Object.entries(keys ?? {})) {
      const holds = conditionHolds(operator, key, value, context);
      if (holds === false) return false;
      if (holds === undefined) unknown = true;
    }
  }
  return unknown ? undefined : true;
}

// ----------------------------------------------------------------------------- evaluation

function applies(statement: PolicyStatement, action: string, resource: string): boolean {
  const actionMatch =
    statement.Action !== undefined
      ? list(statement.Action).some((p) => matchesAction(p, action))
      : statement.NotAction !== undefined && !list(statement.NotAction).some((p) => matchesAction(p, action));
  if (!actionMatch) return false;
  return statement.Resource !== undefined
    ? list(statement.Resource).some((p) => matchesResource(p, resource))
    : statement.NotResource !== undefined &&
        !list(statement.NotResource).some((p) => matchesResource(p, resource));
}

/**
 * IAM's decision for `action` on `resource` under identity-based `statements`: an applicable Deny
 * wins, else an applicable Allow allows, else the request is implicitly denied.
 */
export function evaluate(
  statements: readonly PolicyStatement[],
  action: string,
  resource: string,
  context: RequestContext = {},
): Evaluation {
  let allow: PolicyStatement | undefined;
  for (const statement of statements) {
    if (!applies(statement, action, resource)) continue;
    const holds = conditionsHold(statement.Condition, context);
    // Unevaluable conditions fail towards denial: a Deny applies, an Allow does not.
    if (statement.Effect === 'Deny' && holds !== false) return { decision: 'explicit-deny', statement };
    if (statement.Effect === 'Allow' && holds === true) allow ??= statement;
  }
  return allow !== undefined ? { decision: 'allow', statement: allow } : { decision: 'implicit-deny' };
}

export interface DeniedRequest {
  roleName: string;
  /** The role session name; Lambda uses the function name. */
  sessionName: string;
  accountId: string;
  action: string;
  resource: string;
  decision: 'explicit-deny' | 'implicit-deny';
}

/** The ARN AWS names a Lambda function's caller by: `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
export const assumedRoleArn = (accountId: string, roleName: string, sessionName: string): string =>
  `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;

/** AWS's wording of an identity-based denial (SQS writes the action in lower case, as AWS's SQS does). */
export function accessDeniedMessage(denied: DeniedRequest): string {
  const action = denied.action.toLowerCase().startsWith('sqs:') ? denied.action.toLowerCase() : denied.action;
  const user = assumedRoleArn(denied.accountId, denied.roleName, denied.sessionName);
  const head = `User: ${user} is not authorized to perform: ${action} on resource: ${denied.resource}`;
  return denied.decision === 'explicit-deny'
    ? `${head} with an explicit deny in an identity-based policy`
    : `${head} because no identity-based policy allows the ${action} action`;
}

/** A function's identity as the enforcement sees it. */
export interface Principal {
  roleName: string;
  sessionName: string;
  accountId: string;
  statements: readonly PolicyStatement[];
  /** Extra global context keys for every check (e.g. `aws:RequestedRegion`). */
  context?: RequestContext;
}

/**
 * The denial message for the first check `principal` may not perform, or undefined when all are
 * allowed. Checks marked `unmapped` are always denied, with a message saying why.
 */
export function denialOf(principal: Principal, checks: readonly AccessCheck[]): string | undefined {
  const base: RequestContext = {
    'aws:PrincipalArn': `arn:aws:iam::${principal.accountId}:role/${principal.roleName}`,
    'aws:PrincipalAccount': principal.accountId,
    'aws:PrincipalType': 'AssumedRole',
    ...principal.context,
  };
  for (const check of checks) {
    if (check.unmapped !== undefined) {
      const user = assumedRoleArn(principal.accountId, principal.roleName, principal.sessionName);
      return (
        `User: ${user} is not authorized to perform: ${check.action} on resource: ${check.resource} because ` +
        `the local runtime cannot map this request to IAM actions (${check.unmapped}); IAM enforcement denies ` +
        'what it cannot check (see infra/local/aws-request-actions.ts)'
      );
    }
    const { decision } = evaluate(principal.statements, check.action, check.resource, {
      ...base,
      ...check.context,
    });
    if (decision !== 'allow') {
      return accessDeniedMessage({ ...principal, action: check.action, resource: check.resource, decision });
    }
  }
  return undefined;
}

// ----------------------------------------------------------------------------- template

/** A template resource, as far as this module reads it. */
export interface TemplateResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is untyped JSON.
  Properties?: Record<string, any>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ Ref: id }` → id. */
const refOf = (value: unknown): string | undefined =>
  isObject(value) && typeof value.Ref === 'string' && Object.keys(value).length === 1 ? value.Ref : undefined;

/**
 * The identity-based statements of every `AWS::IAM::Role` of a template, keyed by the role's logical
 * id (every role has an entry, possibly empty). `resolve` turns one CloudFormation intrinsic (`Ref`,
 * `Fn::GetAtt`, `Fn::Join`, …) into its local value; it is applied to every intrinsic found in
 * `Action`, `NotAction`, `Resource`, `NotResource` and `Condition` values. What cannot be read —
 * managed policies that are not template resources, permissions boundaries, policies attached to a
 * role by name rather than `Ref` — is reported through `warn` and left out.
 */
export function permissionsFromTemplate(
  resources: Readonly<Record<string, TemplateResource>>,
  resolve: (value: unknown) => unknown,
  options: { warn?: (message: string) => void } = {},
): Map<string, PolicyStatement[]> {
  const warn = options.warn ?? (() => {});
  const permissions = new Map<string, PolicyStatement[]>();
  const attached = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Role') permissions.set(id, []);
  }

  /** Resolves every intrinsic inside a value (an object with one `Ref` or `Fn::*` key). */
  const resolveDeep = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.flatMap((v) => resolveDeep(v));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) return resolve(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v)]));
  };
  const strings = (value: unknown, where: string): string | string[] | undefined => {
    if (value === undefined) return undefined;
    const resolved = resolveDeep(value);
    const items = Array.isArray(resolved) ? resolved : [resolved];
    if (items.some((v) => typeof v !== 'string')) {
      throw new Error(`${where} does not resolve to strings: ${JSON.stringify(resolved)}`);
    }
    return Array.isArray(resolved) ? (items as string[]) : (resolved as string);
  };

  const statementsOf = (document: unknown, where: string): PolicyStatement[] => {
    const raw = isObject(document) ? document.Statement : undefined;
    const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    return items.map((item, index) => {
      const at = `${where} statement ${index}`;
      if (!isObject(item) || (item.Effect !== 'Allow' && item.Effect !== 'Deny')) {
        throw new Error(`${at} has no valid Effect`);
      }
      const statement: PolicyStatement = { Effect: item.Effect };
      if (typeof item.Sid === 'string') statement.Sid = item.Sid;
      for (const field of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
        const value = strings(item[field], `${at} ${field}`);
        if (value !== undefined) statement[field] = value;
      }
      if (item.Condition !== undefined) statement.Condition = resolveDeep(item.Condition) as ConditionBlock;
      return statement;
    });
  };

  const attach = (roleValue: unknown, policyId: string, document: unknown) => {
    const roleId = refOf(roleValue);
    const role = roleId === undefined ? undefined : permissions.get(roleId);
    if (roleId === undefined || role === undefined) {
      warn(
        `${policyId}: role ${JSON.stringify(roleValue)} is not a Ref to a role of the template; not enforced`,
      );
      return;
    }
    const key = `${roleId}\u0000${policyId}`;
    if (attached.has(key)) return;
    attached.add(key);
    role.push(...statementsOf(document, policyId));
  };

  for (const [id, resource] of Object.entries(resources)) {
    const p = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        for (const role of Array.isArray(p.Roles) ? p.Roles : []) attach(role, id, p.PolicyDocument);
        if (p.Users !== undefined || p.Groups !== undefined) warn(`${id}: Users/Groups are not enforced`);
        break;
      case 'AWS::IAM::RolePolicy':
        attach(p.RoleName, id, p.PolicyDocument);
        break;
      case 'AWS::IAM::Role': {
        for (const [index, policy] of (Array.isArray(p.Policies) ? p.Policies : []).entries()) {
          const name = isObject(policy) && typeof policy.PolicyName === 'string' ? policy.PolicyName : index;
          attach({ Ref: id }, `${id}/${name}`, isObject(policy) ? policy.PolicyDocument : undefined);
        }
        for (const arn of Array.isArray(p.ManagedPolicyArns) ? p.ManagedPolicyArns : []) {
          const managedId = refOf(arn);
          const managed = managedId === undefined ? undefined : resources[managedId];
          if (managedId !== undefined && managed?.Type === 'AWS::IAM::ManagedPolicy') {
            attach({ Ref: id }, managedId, managed.Properties?.PolicyDocument);
          } else {
            warn(
              `${id}: managed policy ${JSON.stringify(arn)} is not a resource of the template and cannot be read; ` +
                'calls it would allow are denied locally',
            );
          }
        }
        if (p.PermissionsBoundary !== undefined) warn(`${id}: its permissions boundary is not enforced`);
        break;
      }
    }
  }
  return permissions;
}
