import { ConfigurationError } from '../config';

/**
 * Who is calling the agent API, read from the claims of the JWT that API Gateway's
 * JWT authorizer already verified (signature, issuer, audience, expiry). This module
 * only interprets those claims; it never sees or checks a token itself.
 *
 * Roles come from exactly one claim, the one the deployer names (`ROLE_CLAIM`, set by
 * the stack: `cognito:groups` with the stack's user pool, `role` by default with an
 * external issuer). No other claim is ever consulted for a role, so a claim the user
 * can influence (a writable `custom:role` attribute, a profile field) cannot elevate
 * anyone. Department and agent id come from `custom:*` attributes (Cognito, which only
 * administrators can write) or plain `department` / `username` claims (an external
 * issuer), so a deployment can switch issuers without code changes.
 */

export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Higher rank wins when a user is in several groups (a supervisor is also an agent). */
const RANK: Record<Role, number> = { agent: 1, supervisor: 2, admin: 3 };

export interface Principal {
  /** The agent id used in assignments and on the timeline (`agent:<id>`). */
  id: string;
  role: Role;
  /** The department the caller works for; always set for agents and supervisors, optional for admins. */
  department?: string;
}

export type JwtClaims = Readonly<Record<string, unknown>>;

export type PrincipalResult =
  | { ok: true; principal: Principal }
  /** 401: no verified claims at all (no token, or not through the JWT authorizer). 403: a token, but no usable role. */
  | { ok: false; status: 401 | 403; reason: string };

/**
 * The claims API Gateway attached to an HTTP API (payload v2) request, if any.
 * Typed loosely on purpose: the plain `APIGatewayProxyEventV2` type has no authorizer,
 * and a request that did not pass the JWT authorizer simply has none.
 */
export function jwtClaims(event: unknown): JwtClaims | undefined {
  const claims = (event as { requestContext?: { authorizer?: { jwt?: { claims?: unknown } } } } | undefined)
    ?.requestContext?.authorizer?.jwt?.claims;
  return claims !== null && typeof claims === 'object' && !Array.isArray(claims)
    ? (claims as JwtClaims)
    : undefined;
}

/**
 * Splits a groups claim into names. HTTP APIs flatten array claims into a string
 * such as `[agent supervisor]`; other issuers send a real array, a JSON array string
 * or a comma-separated list. All of them are accepted.
 */
export function claimValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => claimValues(v));
  if (typeof value !== 'string') return [];
  const trimmed = value.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return claimValues(parsed);
    } catch {
      // Not JSON: the HTTP API form `[a b]`, handled below.
    }
  }
  return trimmed
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((v) => v.replace(/^"|"$/g, '').trim())
    .filter((v) => v.length > 0);
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * The role in the one role claim, if it names a known role (case-insensitive). Several
 * roles in that claim (a supervisor is usually also in the `agent` group) give the
 * highest: they come from the same authority, the one the deployer trusts for roles, so
 * taking the highest grants nothing that authority did not grant. Other claims are not
 * read.
 */
export function roleFromClaim(claims: JwtClaims, roleClaim: string): Role | undefined {
  const candidates = claimValues(claims[roleClaim])
    .map((v) => v.toLowerCase())
    .filter(isRole);
  return candidates.sort((a, b) => RANK[b] - RANK[a])[0];
}

/**
 * The role claim this function was deployed with (`ROLE_CLAIM`). An API function without
 * it fails its cold start rather than guess which claim to trust.
 */
export function roleClaimOf(config: { ROLE_CLAIM?: string | undefined }): string {
  if (config.ROLE_CLAIM === undefined) {
    throw new ConfigurationError(
      'This API function has no ROLE_CLAIM: the stack names the claim roles come from',
    );
  }
  return config.ROLE_CLAIM;
}

function firstString(claims: JwtClaims, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim().length > 0) return value.trim();
  }
  return undefined;
}

/**
 * Builds the principal from verified claims:
 * - role: from `roleClaim` only, the highest of admin > supervisor > agent it names;
 * - department: `custom:department`, else `department`;
 * - id: `custom:agent_id`, else `cognito:username` / `username`, else `sub`.
 *
 * No claims → 401. No known role, or an agent/supervisor without a department (they
 * could see nothing and their actions could not be attributed to a team) → 403.
 */
export function principalFromClaims(claims: JwtClaims | undefined, roleClaim: string): PrincipalResult {
  if (claims === undefined || Object.keys(claims).length === 0) {
    return { ok: false, status: 401, reason: 'A bearer token from the configured issuer is required' };
  }
  const role = roleFromClaim(claims, roleClaim);
  if (role === undefined) {
    return {
      ok: false,
      status: 403,
      reason: `The token's ${roleClaim} claim names no agent, supervisor or admin role`,
    };
  }
  const id = firstString(claims, ['custom:agent_id', 'cognito:username', 'username', 'sub']);
  if (id === undefined) return { ok: false, status: 403, reason: 'The token names no user' };
  const department = firstString(claims, ['custom:department', 'department']);
  if (department === undefined && role !== 'admin') {
    return { ok: false, status: 403, reason: `A ${role} token must carry a department claim` };
  }
  return { ok: true, principal: department === undefined ? { id, role } : { id, role, department } };
}
