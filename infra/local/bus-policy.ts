/**
 * `events:PutEvents` authorization for the local EventBridge endpoint: the caller's identity policy
 * (a function's role, from the template) and the bus's resource policy (`AWS::Events::EventBusPolicy`
 * statements, or the bus's `Policy`), evaluated for every entry with the entry's `events:source` and
 * `events:detail-type`, as AWS does.
 *
 * Pure (no I/O). AWS's behaviour it reproduces (API reference, `PutEventsResultEntry`):
 * - a caller that may not put events on the bus at all (no statement allows the action on the bus,
 *   whatever its conditions, or an explicit deny that does not depend on the entry) gets
 *   `AccessDeniedException` for the whole call, with IAM's "User: … is not authorized to perform:
 *   events:PutEvents on resource: …" message (checked before any entry);
 * - an entry refused because of its source gets `ErrorCode: NotAuthorizedForSourceException`
 *   (`Not authorized for the source.`), because of its detail-type
 *   `NotAuthorizedForDetailTypeException`, in its result entry; it counts in `FailedEntryCount` and
 *   the other entries of the call are still accepted.
 * Which code an entry gets is read from the statement that refused it: an explicit Deny whose
 * condition tests `events:source` (resp. `events:detail-type`), or — when nothing allowed it — an
 * Allow on the action and bus whose condition on that key did not hold.
 *
 * Callers: a function of the template is known by its access key and evaluated with its role's
 * statements; any other caller (a producer, a person's CLI: an unknown access key) is a principal of
 * the account whose own identity policy the local runtime cannot see, so it is assumed to allow
 * PutEvents — only the bus policy can refuse it (as in AWS, where a same-account producer granted
 * `events:PutEvents` is stopped only by an explicit Deny of the bus policy). An unsigned request has
 * no principal ARN, so a `…Not…` condition on `aws:PrincipalArn` holds for it.
 *
 * Known limits: `NotPrincipal` is not supported (such a statement is ignored, with a warning); a
 * statement's `Principal` matches `*`, the account (id or root ARN) and exact principal ARNs only.
 */
import {
  type AccessCheck,
  accessDeniedMessage,
  assumedRoleArn,
  type ConditionBlock,
  type Evaluation,
  evaluate,
  type PolicyStatement,
  type Principal,
  type RequestContext,
  type TemplateResource,
} from './iam-policy';

export const PUT_EVENTS = 'events:PutEvents';

/** A statement of a resource-based policy: an identity statement plus its `Principal`. */
export interface ResourcePolicyStatement extends PolicyStatement {
  Principal?: unknown;
}

/** Who calls PutEvents. */
export interface PutEventsCaller {
  accountId: string;
  /** `aws:PrincipalArn` (a role ARN for a function); absent for an unsigned request. */
  principalArn?: string;
  /** The ARN AWS names the caller by in messages (`arn:aws:sts::…:assumed-role/R/fn`). */
  displayArn: string;
  /** The caller's identity statements; undefined when they are unknown (assumed to allow PutEvents). */
  identity?: readonly PolicyStatement[];
  /** For {@link accessDeniedMessage}: a function's role and session names. */
  roleName?: string;
  sessionName?: string;
  /** Extra context keys (e.g. `aws:RequestedRegion`). */
  context?: RequestContext;
}

export interface PutEventsEntryRequest {
  busArn: string;
  source: string;
  detailType: string;
}

export interface EntryRefusal {
  ErrorCode:
    | 'NotAuthorizedForSourceException'
    | 'NotAuthorizedForDetailTypeException'
    | 'AccessDeniedException';
  ErrorMessage: string;
}

export interface PutEventsAuthorization {
  /** Set when the whole call is refused (`AccessDeniedException`), with AWS's message. */
  callDenied?: string;
  /** Per entry (same order): the refusal, or undefined when the entry is accepted. */
  entries: Array<EntryRefusal | undefined>;
}

const SOURCE_REFUSAL: EntryRefusal = {
  ErrorCode: 'NotAuthorizedForSourceException',
  ErrorMessage: 'Not authorized for the source.',
};
const DETAIL_TYPE_REFUSAL: EntryRefusal = {
  ErrorCode: 'NotAuthorizedForDetailTypeException',
  ErrorMessage: 'Not authorized for the detail type.',
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a statement's `Principal` names the caller. */
export function principalMatches(principal: unknown, caller: PutEventsCaller): boolean {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  return list(principal.AWS).some((value) => {
    const v = String(value);
    return (
      v === '*' ||
      v === caller.accountId ||
      v === `arn:aws:iam::${caller.accountId}:root` ||
      (caller.principalArn !== undefined && v === caller.principalArn)
    );
  });
}

/** The condition keys a statement tests (lower case). */
const conditionKeys = (condition: ConditionBlock | undefined): Set<string> =>
  new Set(
    Object.values(condition ?? {}).flatMap((keys) => Object.keys(keys ?? {}).map((k) => k.toLowerCase())),
  );

/** The per-entry refusal a statement stands for, or undefined when it does not depend on the entry. */
function refusalOf(statement: PolicyStatement | undefined): EntryRefusal | undefined {
  const keys = conditionKeys(statement?.Condition);
  if (keys.has('events:source')) return SOURCE_REFUSAL;
  if (keys.has('events:detail-type')) return DETAIL_TYPE_REFUSAL;
  return undefined;
}

/** Whether an Allow statement covers PutEvents on the bus, conditions aside. */
function allowsActionOnBus(statement: PolicyStatement, busArn: string): boolean {
  if (statement.Effect !== 'Allow') return false;
  const { Condition: _ignored, ...unconditional } = statement;
  return evaluate([unconditional], PUT_EVENTS, busArn).decision === 'allow';
}

/**
 * Decides a PutEvents call: `busPolicies` maps a bus ARN to its resource policy statements (a bus
 * without an entry has none).
 */
export function authorizePutEvents(
  caller: PutEventsCaller,
  entries: readonly PutEventsEntryRequest[],
  busPolicies: ReadonlyMap<string, readonly ResourcePolicyStatement[]>,
): PutEventsAuthorization {
  const base: RequestContext = {
    ...(caller.principalArn !== undefined && { 'aws:PrincipalArn': caller.principalArn }),
    'aws:PrincipalAccount': caller.accountId,
    ...caller.context,
  };
  const statementsFor = (busArn: string) =>
    (busPolicies.get(busArn) ?? []).filter((s) => principalMatches(s.Principal, caller));
  // First the call: a caller no statement could ever allow on a bus is refused outright.
  for (const busArn of new Set(entries.map((e) => e.busArn))) {
    const mayEver =
      caller.identity === undefined ||
      [...caller.identity, ...statementsFor(busArn)].some((s) => allowsActionOnBus(s, busArn));
    if (!mayEver) return { callDenied: implicitDenial(caller, busArn), entries: [] };
  }
  const results: Array<EntryRefusal | undefined> = [];
  for (const entry of entries) {
    const context: RequestContext = {
      ...base,
      'events:source': entry.source,
      'events:detail-type': entry.detailType,
    };
    const resourceStatements = statementsFor(entry.busArn);
    const resource = evaluate(resourceStatements, PUT_EVENTS, entry.busArn, context);
    const identity: Evaluation =
      caller.identity === undefined
        ? { decision: 'allow' }
        : evaluate(caller.identity, PUT_EVENTS, entry.busArn, context);

    const denial = [resource, identity].find((e) => e.decision === 'explicit-deny');
    if (denial !== undefined) {
      const refusal = refusalOf(denial.statement);
      if (refusal === undefined) {
        const policyKind = denial === resource ? 'a resource-based policy' : 'an identity-based policy';
        return {
          callDenied: `User: ${caller.displayArn} is not authorized to perform: ${PUT_EVENTS} on resource: ${entry.busArn} with an explicit deny in ${policyKind}`,
          entries: [],
        };
      }
      results.push(refusal);
      continue;
    }
    if (identity.decision === 'allow' || resource.decision === 'allow') {
      results.push(undefined);
      continue;
    }
    // Nothing allowed it: an entry-specific refusal when an Allow on the bus failed on the entry's keys.
    const conditional = (caller.identity ?? []).filter((s) => allowsActionOnBus(s, entry.busArn));
    const refusal = conditional.map(refusalOf).find((r) => r !== undefined);
    if (refusal !== undefined) {
      results.push(refusal);
      continue;
    }
    return { callDenied: implicitDenial(caller, entry.busArn), entries: [] };
  }
  return { entries: results };
}

function implicitDenial(caller: PutEventsCaller, busArn: string): string {
  return accessDeniedMessage({
    roleName: caller.roleName ?? 'unknown',
    sessionName: caller.sessionName ?? 'unknown',
    accountId: caller.accountId,
    action: PUT_EVENTS,
    resource: busArn,
    decision: 'implicit-deny',
  });
}

/**
 * The resource policy statements of every event bus of a template, keyed by the bus ARN:
 * `AWS::Events::EventBusPolicy` resources with a `Statement` (CDK's `addToResourcePolicy`), and the
 * `Policy` document of `AWS::Events::EventBus`. `resolve` turns intrinsics into local values. The
 * legacy form of `EventBusPolicy` (`Action`/`Principal`/`StatementId` without `Statement`) is reported
 * through `warn` and left out.
 */
export function busPoliciesFromTemplate(
  resources: Readonly<Record<string, TemplateResource>>,
  resolve: (value: unknown) => unknown,
  busArnOf: (busName: string) => string,
  options: { warn?: (message: string) => void } = {},
): Map<string, ResourcePolicyStatement[]> {
  const warn = options.warn ?? (() => {});
  const policies = new Map<string, ResourcePolicyStatement[]>();
  const add = (busArn: string, statement: unknown, where: string) => {
    if (!isObject(statement) || (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')) {
      warn(`${where}: a statement without a valid Effect is not enforced`);
      return;
    }
    if (statement.NotPrincipal !== undefined) {
      warn(`${where}: NotPrincipal is not supported locally; the statement is not enforced`);
      return;
    }
    const existing = policies.get(busArn) ?? [];
    existing.push(statement as unknown as ResourcePolicyStatement);
    policies.set(busArn, existing);
  };
  const busArn = (nameOrArn: unknown): string => {
    const text = String(nameOrArn ?? 'default');
    return text.startsWith('arn:') ? text : busArnOf(text);
  };
  for (const [id, resource] of Object.entries(resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::Events::EventBusPolicy') {
      if (p.Statement === undefined) {
        warn(`${id}: the legacy EventBusPolicy form (Action/Principal/Condition) is not enforced locally`);
        continue;
      }
      add(busArn(resolve(p.EventBusName)), resolve(p.Statement), id);
    } else if (resource.Type === 'AWS::Events::EventBus' && p.Policy !== undefined) {
      const document = resolve(p.Policy);
      const arn = busArnOf(String(resolve({ Ref: id })));
      for (const statement of list(isObject(document) ? document.Statement : undefined))
        add(arn, statement, id);
    }
  }
  return policies;
}

/** The checks an authorizing proxy must not decide itself: the endpoint decides PutEvents per entry. */
export const isDecidedByEndpoint = (check: AccessCheck): boolean => check.action === PUT_EVENTS;

/**
 * The PutEvents caller behind an access key: a function's role (its principal), or — for an unknown
 * key — an outside principal of the account (`arn:aws:iam::<account>:user/<key>`), whose identity
 * policy is unknown; an unsigned request has no principal ARN.
 */
export function putEventsCaller(
  principal: Principal | undefined,
  accessKeyId: string | undefined,
  accountId: string,
): PutEventsCaller {
  if (principal !== undefined) {
    return {
      accountId: principal.accountId,
      principalArn: `arn:aws:iam::${principal.accountId}:role/${principal.roleName}`,
      displayArn: assumedRoleArn(principal.accountId, principal.roleName, principal.sessionName),
      identity: principal.statements,
      roleName: principal.roleName,
      sessionName: principal.sessionName,
      ...(principal.context !== undefined && { context: principal.context }),
    };
  }
  const arn = accessKeyId === undefined ? undefined : `arn:aws:iam::${accountId}:user/${accessKeyId}`;
  return { accountId, ...(arn !== undefined && { principalArn: arn }), displayArn: arn ?? 'anonymous' };
}

export interface PutEventsAuthorizerOptions {
  /** The template's resources (bus policies are read from them). */
  resources: Readonly<Record<string, TemplateResource>>;
  resolve: (value: unknown) => unknown;
  region: string;
  accountId: string;
  /** The functions' principals by access key. */
  principals: ReadonlyMap<string, Principal>;
  warn?: (message: string) => void;
  /** Called for every call or entry refused (the AccessDenied message, or the entry's error code). */
  onRefused?: (accessKeyId: string | undefined, reason: string) => void;
}

/** The `authorizePutEvents` of the local EventBridge endpoint for one template. */
export function createPutEventsAuthorizer(
  options: PutEventsAuthorizerOptions,
): (accessKeyId: string | undefined, entries: readonly PutEventsEntryRequest[]) => PutEventsAuthorization {
  const busPolicies = busPoliciesFromTemplate(
    options.resources,
    options.resolve,
    (name) => `arn:aws:events:${options.region}:${options.accountId}:event-bus/${name}`,
    options.warn === undefined ? {} : { warn: options.warn },
  );
  return (accessKeyId, entries) => {
    const principal = accessKeyId === undefined ? undefined : options.principals.get(accessKeyId);
    const caller = putEventsCaller(principal, accessKeyId, options.accountId);
    const decision = authorizePutEvents(caller, entries, busPolicies);
    const refused = decision.callDenied ?? decision.entries.find((e) => e !== undefined)?.ErrorCode;
    if (refused !== undefined) options.onRefused?.(accessKeyId, refused);
    return decision;
  };
}
