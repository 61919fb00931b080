/**
 * The callers of the authorization matrix, as the HTTP API's JWT authorizer would
 * hand their verified claims to a handler. `customerToken` carries no claims: it is
 * the tracking token presented where a JWT is expected. The matrix runs over every
 * route: the agent and intake routes in agent-api.test.ts, the customer routes in
 * customer-api.test.ts, the privacy routes (admins only) in privacy.test.ts.
 */
export type Who = 'anonymous' | 'customerToken' | 'otherAgent' | 'agent' | 'supervisor' | 'admin';

export const CLAIMS: Record<Who, Record<string, unknown> | undefined> = {
  anonymous: undefined,
  customerToken: undefined,
  otherAgent: {
    sub: 'u-bill',
    'cognito:username': 'bill_wu',
    'cognito:groups': '[agent]',
    'custom:department': 'billing',
  },
  agent: {
    sub: 'u-wang',
    'cognito:username': 'cs_wang',
    'cognito:groups': '[agent]',
    'custom:department': 'customer_service',
  },
  supervisor: {
    sub: 'u-sup',
    'cognito:username': 'sup_cs',
    'cognito:groups': '[agent supervisor]',
    'custom:department': 'customer_service',
  },
  admin: { sub: 'u-admin', 'cognito:username': 'admin_1', 'cognito:groups': '[admin]' },
};
