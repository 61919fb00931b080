import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign as rsaSign,
  verify as rsaVerify,
} from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A local JWT issuer for the local runtime's HTTP API.
 *
 * Why it exists: the agent API sits behind an API Gateway JWT authorizer in AWS (Cognito or an
 * external issuer). Locally there is neither, yet the handlers must receive the same verified
 * claims (`cognito:groups`, `custom:department`, `custom:agent_id`, see shared/auth/principal.ts)
 * and a request without a valid token must be refused before any handler runs. This module is
 * that issuer: an RS256 key pair kept in `.local/jwt-key.json` (so tokens printed by
 * `scripts/local-token.ts` stay valid across restarts of `npm start`), a signer, and a verifier
 * that applies the checks API Gateway's JWT authorizer applies — signature against the issuer's
 * JWKS, `iss`, `aud` (or `client_id`), `exp` and `nbf`.
 *
 * Only `node:crypto` is used on purpose: no JWT library is a dependency of this project.
 *
 * Known gaps: one key, never rotated; no OIDC discovery document is served; scopes are not
 * checked (the routes of this project declare no authorization scopes).
 */

/** The issuer URL put in `iss`. `.invalid` so no one can mistake it for a reachable host. */
export const LOCAL_ISSUER_URL = 'https://local.complaints.invalid/issuer';
/** The audience put in `aud`, and the only one the local authorizer accepts. */
export const LOCAL_AUDIENCE = 'complaints-local';
/** The local tokens are shaped like Cognito's: roles in `cognito:groups` (synthesize with `-c roleClaim=` this). */
export const LOCAL_ROLE_CLAIM = 'cognito:groups';
/** Environment variable naming the key directory, so a CLI and a test can share a temporary key. */
export const LOCAL_JWT_DIR_ENV = 'COMPLAINTS_LOCAL_JWT_DIR';

const KEY_FILE = 'jwt-key.json';
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The default key directory: `.local/` under the repository root (git-ignored). */
export function defaultJwtDir(): string {
  return process.env[LOCAL_JWT_DIR_ENV] ?? join(REPO_ROOT, '.local');
}

export type JwtClaimSet = Record<string, unknown>;

/**
 * Why a token was refused. The messages follow the wording API Gateway puts in
 * `$context.authorizer.error`, so logs read the same locally and in AWS.
 */
export type JwtErrorReason =
  | 'malformed'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience';

const REASON_MESSAGES: Record<JwtErrorReason, string> = {
  malformed: 'Invalid JWT: the token is malformed',
  'unsupported-algorithm': 'Invalid JWT: signing method is not supported',
  'unknown-key': 'Invalid JWT: no key in the JWKS matches the token kid',
  'bad-signature': 'Invalid JWT: signature is invalid',
  expired: 'the token has expired',
  'not-yet-valid': 'the token is not valid yet',
  'wrong-issuer': 'the token does not have a valid issuer',
  'wrong-audience': 'the token does not have a valid audience',
};

/** A token the local authorizer refuses; `reason` says which check failed. */
export class LocalJwtError extends Error {
  override readonly name = 'LocalJwtError';
  constructor(
    readonly reason: JwtErrorReason,
    detail?: string,
  ) {
    super(detail === undefined ? REASON_MESSAGES[reason] : `${REASON_MESSAGES[reason]}: ${detail}`);
  }
}

export const LOCAL_ROLES = ['agent', 'supervisor', 'admin'] as const;
export type LocalRole = (typeof LOCAL_ROLES)[number];

export interface TokenForOptions {
  role: LocalRole;
  /** `custom:department`; the agent API refuses agents and supervisors without one (403). */
  department?: string;
  /** `custom:agent_id`, the id on assignments and the timeline; defaults to `sub`. */
  agentId?: string;
  /** Defaults to `local-<role>[-<department>]`. */
  sub?: string;
  expiresInSeconds?: number;
}

export interface SignOptions {
  /** Lifetime; negative values produce an already-expired token (for tests of the refusal). */
  expiresInSeconds?: number;
  /** The signing instant, for deterministic tests; defaults to now. */
  now?: Date;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** The `kid` in every token header and in the JWKS. */
  readonly keyId: string;
  /** The key file used (created if it did not exist). */
  readonly keyFile: string;
  /** The public key set, as an issuer serves it at its `jwks_uri`. */
  jwks(): { keys: JsonWebKey[] };
  /**
   * A compact RS256 JWT. `iss`, `aud`, `iat`, `exp` and `sub` are filled in; entries in `claims`
   * override them, which is how tests build tokens with a wrong issuer or audience.
   */
  sign(claims?: JwtClaimSet, options?: SignOptions): string;
  /** The token's claims if API Gateway's JWT authorizer would accept it; else a {@link LocalJwtError}. */
  verify(token: string, options?: { now?: Date }): JwtClaimSet;
  /** A token for a role, shaped like a Cognito ID token (the claims shared/auth/principal.ts reads). */
  tokenFor(options: TokenForOptions): string;
}

interface StoredKey {
  kid: string;
  privateKeyPem: string;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * Reads the key file, or creates it. The write goes through a temporary file and a rename so two
 * processes starting at once (the runtime and the token CLI) never read a half-written key; if
 * both generate one, the last rename wins and the loser re-reads it.
 */
function loadOrCreateKey(dir: string): { stored: StoredKey; file: string } {
  const file = join(dir, KEY_FILE);
  const read = (): StoredKey | undefined => {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredKey>;
      if (typeof parsed.kid === 'string' && typeof parsed.privateKeyPem === 'string') {
        return { kid: parsed.kid, privateKeyPem: parsed.privateKeyPem };
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`Cannot read the local JWT key ${file}: ${(error as Error).message}`);
      }
    }
    return undefined;
  };
  const existing = read();
  if (existing !== undefined) return { stored: existing, file };

  mkdirSync(dir, { recursive: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stored: StoredKey = {
    kid: `local-${randomUUID()}`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { stored: read() ?? stored, file };
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new LocalJwtError('malformed', `the ${what} is not base64url-encoded JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new LocalJwtError('malformed', `the ${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Creates (or reuses, from `<dir>/jwt-key.json`) the local issuer. `dir` defaults to
 * `$COMPLAINTS_LOCAL_JWT_DIR`, else `.local/` under the repository root.
 */
export function createLocalIssuer(options: { dir?: string } = {}): LocalIssuer {
  const { stored, file } = loadOrCreateKey(options.dir ?? defaultJwtDir());
  const privateKey: KeyObject = createPrivateKey(stored.privateKeyPem);
  const publicKey: KeyObject = createPublicKey(privateKey);
  const publicJwk: JsonWebKey = {
    ...publicKey.export({ format: 'jwk' }),
    kid: stored.kid,
    alg: 'RS256',
    use: 'sig',
  };

  const sign = (claims: JwtClaimSet = {}, signOptions: SignOptions = {}): string => {
    const iat = Math.floor((signOptions.now ?? new Date()).getTime() / 1000);
    const payload: JwtClaimSet = {
      iss: LOCAL_ISSUER_URL,
      aud: LOCAL_AUDIENCE,
      sub: randomUUID(),
      iat,
      exp: iat + (signOptions.expiresInSeconds ?? 3600),
      ...claims,
    };
    const header = { alg: 'RS256', typ: 'JWT', kid: stored.kid };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = rsaSign('sha256', Buffer.from(input), privateKey);
    return `${input}.${base64url(signature)}`;
  };

  const verify = (token: string, verifyOptions: { now?: Date } = {}): JwtClaimSet => {
    const parts = token.split('.');
    const [headerPart, payloadPart, signaturePart] = parts;
    if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || !signaturePart) {
      throw new LocalJwtError('malformed', 'expected three dot-separated segments');
    }
    const header = decodeSegment(headerPart, 'header');
    const claims = decodeSegment(payloadPart, 'payload');
    // Only RS256: accepting `none` or HS256 with the public key as secret is the classic JWT hole.
    if (header.alg !== 'RS256') throw new LocalJwtError('unsupported-algorithm', String(header.alg));
    if (header.kid !== undefined && header.kid !== stored.kid) throw new LocalJwtError('unknown-key');
    const valid = rsaVerify(
      'sha256',
      Buffer.from(`${headerPart}.${payloadPart}`),
      publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
    if (!valid) throw new LocalJwtError('bad-signature');

    const now = Math.floor((verifyOptions.now ?? new Date()).getTime() / 1000);
    // API Gateway requires `exp` and refuses a token at or after it; `nbf` is honoured when present.
    if (typeof claims.exp !== 'number') throw new LocalJwtError('malformed', 'no numeric exp claim');
    if (now >= claims.exp) throw new LocalJwtError('expired');
    if (typeof claims.nbf === 'number' && now < claims.nbf) throw new LocalJwtError('not-yet-valid');
    if (claims.iss !== LOCAL_ISSUER_URL) throw new LocalJwtError('wrong-issuer');
    // Like API Gateway: an ID token names the audience in `aud`, an access token in `client_id`.
    const audiences = [...(Array.isArray(claims.aud) ? claims.aud : [claims.aud]), claims.client_id].filter(
      (a): a is string => typeof a === 'string',
    );
    if (!audiences.includes(LOCAL_AUDIENCE)) throw new LocalJwtError('wrong-audience');
    return claims;
  };

  const tokenFor = (request: TokenForOptions): string => {
    if (!(LOCAL_ROLES as readonly string[]).includes(request.role)) {
      throw new Error(`role must be one of ${LOCAL_ROLES.join(', ')}, got "${request.role}"`);
    }
    const sub =
      request.sub ?? ['local', request.role, request.department].filter((s) => s !== undefined).join('-');
    const claims: JwtClaimSet = {
      sub,
      token_use: 'id',
      'cognito:groups': [request.role],
      'custom:agent_id': request.agentId ?? sub,
    };
    if (request.department !== undefined) claims['custom:department'] = request.department;
    return sign(
      claims,
      request.expiresInSeconds === undefined ? {} : { expiresInSeconds: request.expiresInSeconds },
    );
  };

  return {
    issuer: LOCAL_ISSUER_URL,
    audience: LOCAL_AUDIENCE,
    keyId: stored.kid,
    keyFile: file,
    jwks: () => ({ keys: [{ ...publicJwk }] }),
    sign,
    verify,
    tokenFor,
  };
}
