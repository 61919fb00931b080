/**
 * A local AWS KMS endpoint for the local runtime: the HMAC operations the service's functions use.
 *
 * Why it exists: the functions derive their own keys with `GenerateMac` on the stack's HMAC key
 * (`shared/security/service-keys.ts`), through the real AWS SDK (`AWS_ENDPOINT_URL_KMS`). This speaks
 * the AWS JSON 1.1 protocol as the SDK sends it (`POST /`, `X-Amz-Target: TrentService.<Op>`, blobs
 * as base64) for the `AWS::KMS::Key` resources of the template, and answers AWS's error shapes
 * (`{"__type": …, "message": …}`, status 400) so the SDK raises the same named exceptions:
 * `NotFoundException` for an unknown key, `InvalidKeyUsageException` for a key whose usage or spec does
 * not fit the operation or algorithm, `DisabledException`, `KMSInvalidMacException` when a MAC does not
 * verify, `ValidationException` for a malformed request.
 *
 * Operations: GenerateMac, VerifyMac (HMAC_SHA_224/256/384/512 on HMAC keys of the matching spec),
 * DescribeKey, ListKeys. Key material is random per start and only ever in memory: everything derived
 * from it (tracking tokens, sealed cursors, idempotency keys) is valid for one run of the runtime.
 *
 * Known gaps (deliberate): no encryption, signing or key-agreement operations, no aliases, grants, key
 * policies (IAM is checked by the authorizing proxy in front, `iam-proxy.ts`), rotation or
 * multi-Region keys; `GrantTokens` and `DryRun` are accepted and ignored.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenWithBody } from './listen';

/** Key specs this endpoint holds; only the HMAC ones have operations here. */
export type LocalKeySpec = 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512' | 'SYMMETRIC_DEFAULT' | string;

export interface LocalKmsKeyInput {
  /** Key id (a UUID; the runtime passes the template resolver's, stable across restarts). @default random */
  keyId?: string;
  /** @default 'SYMMETRIC_DEFAULT' (as in AWS::KMS::Key) */
  keySpec?: LocalKeySpec;
  /** @default 'ENCRYPT_DECRYPT' */
  keyUsage?: string;
  description?: string;
  /** @default true */
  enabled?: boolean;
  /** HMAC key material (its spec's length), e.g. kept in the runtime's state directory. @default random */
  material?: Buffer;
}

export interface LocalKmsKey {
  readonly keyId: string;
  readonly arn: string;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly description: string;
  readonly enabled: boolean;
}

export interface StartKmsServerOptions {
  region: string;
  accountId: string;
  /** Keys present from the start. */
  keys?: LocalKmsKeyInput[];
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  hostname?: string;
  /** Where unexpected failures are reported. @default console.warn */
  log?: (message: string) => void;
}

export interface KmsServer {
  /** `http://<host>:<port>` for `AWS_ENDPOINT_URL_KMS`. */
  readonly endpoint: string;
  /** Adds a key (random material) and returns it. */
  addKey(input: LocalKmsKeyInput): LocalKmsKey;
  keys(): readonly LocalKmsKey[];
  close(): Promise<void>;
}

/** HMAC key spec → its one MAC algorithm, the hash and the key length in bytes. */
const HMAC_SPECS: Record<string, { algorithm: string; hash: string; bytes: number }> = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', hash: 'sha224', bytes: 28 },
  HMAC_256: { algorithm: 'HMAC_SHA_256', hash: 'sha256', bytes: 32 },
  HMAC_384: { algorithm: 'HMAC_SHA_384', hash: 'sha384', bytes: 48 },
  HMAC_512: { algorithm: 'HMAC_SHA_512', hash: 'sha512', bytes: 64 },
};
const MAC_ALGORITHMS = new Set(Object.values(HMAC_SPECS).map((s) => s.algorithm));
/** GenerateMac/VerifyMac accept messages of 1 to 4096 bytes. */
const MAX_MESSAGE_BYTES = 4096;

/** An AWS error, answered as `{ __type, message }` with status 400. */
class KmsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function startKmsServer(options: StartKmsServerOptions): Promise<KmsServer> {
  const log = options.log ?? ((message: string) => console.warn(message));
  const arnPrefix = `arn:aws:kms:${options.region}:${options.accountId}:key/`;
  const keys = new Map<string, { key: LocalKmsKey; material?: Buffer }>();

  const addKey = (input: LocalKmsKeyInput): LocalKmsKey => {
    const keyId = input.keyId ?? randomUUID();
    const keySpec = input.keySpec ?? 'SYMMETRIC_DEFAULT';
    const hmac = HMAC_SPECS[keySpec];
    const key: LocalKmsKey = {
      keyId,
      arn: `${arnPrefix}${keyId}`,
      keySpec,
      keyUsage: input.keyUsage ?? 'ENCRYPT_DECRYPT',
      description: input.description ?? '',
      enabled: input.enabled ?? true,
    };
    if (hmac !== undefined && input.material !== undefined && input.material.length !== hmac.bytes)
      throw new Error(`Key ${keyId}: ${keySpec} material must be ${hmac.bytes} bytes`);
    keys.set(keyId, {
      key,
      ...(hmac !== undefined ? { material: input.material ?? randomBytes(hmac.bytes) } : {}),
    });
    return key;
  };
  for (const input of options.keys ?? []) addKey(input);

  const find = (keyIdOrArn: unknown) => {
    if (typeof keyIdOrArn !== 'string' || keyIdOrArn === '') {
      throw new KmsError('ValidationException', '1 validation error detected: KeyId must not be empty');
    }
    const id = keyIdOrArn.startsWith(arnPrefix) ? keyIdOrArn.slice(arnPrefix.length) : keyIdOrArn;
    const found =
      keyIdOrArn.startsWith('arn:') && !keyIdOrArn.startsWith(arnPrefix) ? undefined : keys.get(id);
    if (found === undefined) {
      throw new KmsError(
        'NotFoundException',
        keyIdOrArn.startsWith('alias/') || keyIdOrArn.includes(':alias/')
          ? `Alias ${keyIdOrArn} is not found.`
          : `Key '${keyIdOrArn.startsWith('arn:') ? keyIdOrArn : `${arnPrefix}${keyIdOrArn}`}' does not exist`,
      );
    }
    return found;
  };

  /** The HMAC key and algorithm of a MAC request, with AWS's errors for a key that does not fit. */
  const macInput = (input: Json, operation: string) => {
    const { key, material } = find(input.KeyId);
    const algorithm = input.MacAlgorithm;
    if (typeof algorithm !== 'string' || !MAC_ALGORITHMS.has(algorithm)) {
      throw new KmsError(
        'ValidationException',
        `1 validation error detected: Value '${String(algorithm)}' at 'macAlgorithm' failed to satisfy constraint: ` +
          `Member must satisfy enum value set: [${[...MAC_ALGORITHMS].join(', ')}]`,
      );
    }
    if (!key.enabled) throw new KmsError('DisabledException', `${key.arn} is disabled.`);
    if (key.keyUsage !== 'GENERATE_VERIFY_MAC') {
      throw new KmsError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`,
      );
    }
    const spec = HMAC_SPECS[key.keySpec];
    if (spec === undefined || material === undefined || spec.algorithm !== algorithm) {
      throw new KmsError(
        'InvalidKeyUsageException',
        `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
      );
    }
    const message = blob(input.Message, 'message');
    if (message.length < 1 || message.length > MAX_MESSAGE_BYTES) {
      throw new KmsError(
        'ValidationException',
        `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length between 1 and ${MAX_MESSAGE_BYTES}`,
      );
    }
    return { key, mac: createHmac(spec.hash, material).update(message).digest(), algorithm };
  };

  const metadata = (key: LocalKmsKey) => {
    const hmac = HMAC_SPECS[key.keySpec];
    return {
      AWSAccountId: options.accountId,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: 0,
      Enabled: key.enabled,
      Description: key.description,
      KeyUsage: key.keyUsage,
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      KeySpec: key.keySpec,
      CustomerMasterKeySpec: key.keySpec,
      MultiRegion: false,
      ...(hmac !== undefined ? { MacAlgorithms: [hmac.algorithm] } : {}),
      ...(key.keySpec === 'SYMMETRIC_DEFAULT' ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : {}),
    };
  };

  const operations: Record<string, (input: Json) => Json> = {
    GenerateMac: (input) => {
      const { key, mac, algorithm } = macInput(input, 'GenerateMac');
      return { KeyId: key.arn, Mac: mac.toString('base64'), MacAlgorithm: algorithm };
    },
    VerifyMac: (input) => {
      const { key, mac, algorithm } = macInput(input, 'VerifyMac');
      const given = blob(input.Mac, 'mac');
      if (given.length !== mac.length || !timingSafeEqual(given, mac)) {
        throw new KmsError('KMSInvalidMacException', 'The MAC does not match the message and the KMS key.');
      }
      return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
    },
    DescribeKey: (input) => ({ KeyMetadata: metadata(find(input.KeyId).key) }),
    ListKeys: () => ({
      Keys: [...keys.values()].map(({ key }) => ({ KeyId: key.keyId, KeyArn: key.arn })),
      Truncated: false,
    }),
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
    });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.')
      ? operations[target.slice('TrentService.'.length)]
      : undefined;
    try {
      if (req.method !== 'POST' || operation === undefined) {
        throw new KmsError('UnknownOperationException', `Unknown operation ${target || '(none)'}`);
      }
      let input: unknown;
      try {
        input = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new KmsError('SerializationException', 'Request body is not valid JSON.');
      }
      send(res, 200, operation(isObject(input) ? input : {}));
    } catch (error) {
      if (error instanceof KmsError) {
        send(res, 400, { __type: error.code, message: error.message });
      } else {
        log(`KMS: ${target} failed: ${error instanceof Error ? error.stack : String(error)}`);
        send(res, 500, { __type: 'KMSInternalException', message: String(error) });
      }
    }
  };

  const { server, hostname, port } = await listenWithBody(handle, options);

  return {
    endpoint: `http://${hostname}:${port}`,
    addKey,
    keys: () => [...keys.values()].map(({ key }) => key),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** A base64 blob member, decoded; a missing or malformed one is a ValidationException. */
function blob(value: unknown, member: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: '${member}' must be a base64 blob`,
    );
  }
  return Buffer.from(value, 'base64');
}
