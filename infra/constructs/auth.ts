import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { ROLE_CLAIM_PATTERN } from '../../shared/config';

/** Staff roles, as user-pool groups (the `cognito:groups` claim); the lowest precedence number wins. */
export const STAFF_ROLES = ['admin', 'supervisor', 'agent'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Custom user attributes; in Cognito ID tokens they appear as `custom:<name>` claims. */
export const CUSTOM_ATTRIBUTES = { department: 'department', agentId: 'agent_id' } as const;

/** Claims the agent API reads when the stack creates the user pool. */
export const COGNITO_CLAIMS = {
  roles: 'cognito:groups',
  department: `custom:${CUSTOM_ATTRIBUTES.department}`,
  agentId: `custom:${CUSTOM_ATTRIBUTES.agentId}`,
} as const;

export interface AuthProps {
  /**
   * Issuer (`iss`) of an external identity provider, an `https://` URL serving
   * `/.well-known/openid-configuration`. Set together with {@link jwtAudience}; then no user pool is
   * created.
   * @default - a Cognito user pool created by the stack
   */
  readonly jwtIssuer?: string;
  /** Accepted audiences (`aud` or `client_id`) of the external issuer's tokens. */
  readonly jwtAudience?: string[];
  /**
   * The one claim the API functions read roles from (`ROLE_CLAIM`); no other claim is consulted.
   * With the stack's user pool it can only be `cognito:groups` (groups are set by administrators;
   * attributes are not an authority for roles). With an external issuer, name the claim its
   * administrators control, e.g. `roles` or `https://example.com/roles`.
   * @default - `cognito:groups` with the stack's user pool, `role` with an external issuer
   */
  readonly roleClaim?: string;
}

/** The role claim with the stack's user pool, and the default one with an external issuer. */
export const DEFAULT_ROLE_CLAIMS = { cognito: COGNITO_CLAIMS.roles, external: 'role' } as const;

/** The JWT settings are inconsistent (one without the other, or an issuer that is not https). */
export class AuthConfigurationError extends Error {
  override name = 'AuthConfigurationError';
}

/**
 * Who may call the agent API: a JWT authorizer (API Gateway validates signature, expiry, issuer and
 * audience before any function runs), backed either by
 *
 * - a **Cognito user pool created here** (default): administrators create the staff accounts (no
 *   self sign-up), put each in a group `agent`, `supervisor` or `admin`, and set the `department` and
 *   `agent_id` attributes, which only administrators can change (the app client cannot write them);
 *   TOTP MFA is required, passwords are strong, and the Plus feature plan enforces threat protection
 *   (compromised credentials, risky sign-ins) — worth its per-user price for staff accounts that see
 *   customers' personal data; or
 * - an **external OIDC issuer** (`jwtIssuer` + `jwtAudience`), e.g. the company's SSO; its tokens
 *   must carry the role in the claim named by `roleClaim` (default `role`) and a department claim.
 *
 * Roles are read from exactly one claim ({@link Auth.roleClaim}), never the highest of several, so a
 * claim a user can influence cannot elevate them.
 *
 * The authorizer only authenticates; the agent API function authorizes each action by role and
 * department from the claims.
 */
export class Auth extends Construct {
  readonly authorizer: HttpJwtAuthorizer;
  readonly issuer: string;
  readonly audience: string[];
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  /** The claim roles are read from, passed to the API functions as `ROLE_CLAIM`. */
  readonly roleClaim: string;

  constructor(scope: Construct, id: string, props: AuthProps = {}) {
    super(scope, id);
    const external = props.jwtIssuer !== undefined || props.jwtAudience !== undefined;
    this.roleClaim = roleClaimFor(external, props.roleClaim);

    if (external) {
      if (!props.jwtIssuer || !props.jwtAudience || props.jwtAudience.length === 0) {
        throw new AuthConfigurationError('jwtIssuer and jwtAudience must be set together');
      }
      if (!/^https:\/\/[^\s/]+/.test(props.jwtIssuer)) {
        throw new AuthConfigurationError(`jwtIssuer must be an https:// URL, got "${props.jwtIssuer}"`);
      }
      this.issuer = props.jwtIssuer;
      this.audience = [...props.jwtAudience];
    } else {
      const userPool = new cognito.UserPool(this, 'UserPool', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        signInCaseSensitive: false,
        autoVerify: { email: true },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        passwordPolicy: {
          minLength: 12,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        featurePlan: cognito.FeaturePlan.PLUS,
        standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
        standardAttributes: { email: { required: true, mutable: true } },
        customAttributes: {
          [CUSTOM_ATTRIBUTES.department]: new cognito.StringAttribute({
            minLen: 1,
            maxLen: 64,
            mutable: true,
          }),
          [CUSTOM_ATTRIBUTES.agentId]: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: true }),
        },
        deletionProtection: true,
        // Staff accounts outlive a stack: deleting the stack must not delete them.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      STAFF_ROLES.forEach((role, precedence) => {
        userPool.addGroup(`${capitalize(role)}Group`, {
          groupName: role,
          precedence,
          description: GROUP_DESCRIPTIONS[role],
        });
      });

      const userPoolClient = userPool.addClient('AgentConsoleClient', {
        authFlows: { userSrp: true },
        generateSecret: false,
        preventUserExistenceErrors: true,
        enableTokenRevocation: true,
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.hours(12),
        readAttributes: new cognito.ClientAttributes()
          .withStandardAttributes({ email: true, emailVerified: true, fullname: true })
          .withCustomAttributes(CUSTOM_ATTRIBUTES.department, CUSTOM_ATTRIBUTES.agentId),
        // Users may not change their own department or agent id, nor any attribute that could carry a
        // role: only administrators can (AdminUpdateUserAttributes). Set explicitly: without
        // WriteAttributes, Cognito lets the client write every attribute.
        writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ fullname: true }),
      });
      this.userPool = userPool;
      this.userPoolClient = userPoolClient;
      // The `iss` of the pool's tokens (what HttpUserPoolAuthorizer builds), partition-aware.
      this.issuer = `https://cognito-idp.${Stack.of(this).region}.${Aws.URL_SUFFIX}/${userPool.userPoolId}`;
      this.audience = [userPoolClient.userPoolClientId];
    }

    this.authorizer = new HttpJwtAuthorizer('AgentAuthorizer', this.issuer, {
      jwtAudience: this.audience,
      identitySource: ['$request.header.Authorization'],
    });
  }
}

const GROUP_DESCRIPTIONS: Record<StaffRole, string> = {
  admin: 'Administrators: every complaint of every department',
  supervisor: 'Supervisors: complaints of their department, approvals and rejections',
  agent: 'Agents: complaints of their department',
};

function roleClaimFor(external: boolean, wanted: string | undefined): string {
  if (!external) {
    if (wanted !== undefined && wanted !== DEFAULT_ROLE_CLAIMS.cognito) {
      throw new AuthConfigurationError(
        `With the stack's user pool, roles are its groups: roleClaim must be "${DEFAULT_ROLE_CLAIMS.cognito}", got "${wanted}"`,
      );
    }
    return DEFAULT_ROLE_CLAIMS.cognito;
  }
  const claim = wanted ?? DEFAULT_ROLE_CLAIMS.external;
  if (!ROLE_CLAIM_PATTERN.test(claim)) {
    throw new AuthConfigurationError(
      `roleClaim must be a claim name (${ROLE_CLAIM_PATTERN.source}), got "${claim}"`,
    );
  }
  return claim;
}

function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}
