import {
  DescribeKeyCommand,
  GenerateMacCommand,
  InvalidKeyUsageException,
  KMSClient,
  KMSInvalidMacException,
  NotFoundException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denialOf, type Principal } from '../../infra/local/iam-policy';
import { type AuthorizingProxy, startAuthorizingProxy } from '../../infra/local/iam-proxy';
import { type KmsServer, type LocalKmsKey, startKmsServer } from '../../infra/local/kms-server';
import { KmsServiceKeys } from '../../shared/security/service-keys';

/**
 * The local KMS endpoint driven by the real @aws-sdk/client-kms: MACs that verify, AWS's named errors
 * for an unknown key, a key of another usage, a MAC that does not match; and the authorizing proxy
 * in front of it refusing `kms:GenerateMac` to a role without the grant, as the local runtime does.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ANYONE = { accessKeyId: 'local', secretAccessKey: 'local' };

let server: KmsServer;
let hmacKey: LocalKmsKey;
let encryptionKey: LocalKmsKey;
let client: KMSClient;
const clients: KMSClient[] = [];

const kmsClient = (endpoint: string, credentials = ANYONE) => {
  const c = new KMSClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
};
const message = Buffer.from('complaint-service/tracking-token/v1', 'utf8');

beforeAll(async () => {
  server = await startKmsServer({ region: REGION, accountId: ACCOUNT });
  hmacKey = server.addKey({
    keySpec: 'HMAC_256',
    keyUsage: 'GENERATE_VERIFY_MAC',
    description: 'service key',
  });
  encryptionKey = server.addKey({});
  client = kmsClient(server.endpoint);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

describe('local KMS endpoint (real SDK)', () => {
  it('generates a 32-byte HMAC-SHA-256 that verifies, by key ARN or key id', async () => {
    const byArn = await client.send(
      new GenerateMacCommand({ KeyId: hmacKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
    );
    expect(byArn.KeyId).toBe(hmacKey.arn);
    expect(byArn.MacAlgorithm).toBe('HMAC_SHA_256');
    expect(byArn.Mac).toHaveLength(32);
    const byId = await client.send(
      new GenerateMacCommand({ KeyId: hmacKey.keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
    );
    expect(Buffer.from(byId.Mac ?? [])).toEqual(Buffer.from(byArn.Mac ?? []));
    const verified = await client.send(
      new VerifyMacCommand({
        KeyId: hmacKey.arn,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: message,
        Mac: byArn.Mac,
      }),
    );
    expect(verified.MacValid).toBe(true);
    const other = await client.send(
      new GenerateMacCommand({
        KeyId: hmacKey.arn,
        MacAlgorithm: 'HMAC_SHA_256',
        Message: Buffer.from('other'),
      }),
    );
    expect(Buffer.from(other.Mac ?? [])).not.toEqual(Buffer.from(byArn.Mac ?? []));
  });

  it('refuses a MAC that does not match with KMSInvalidMacException', async () => {
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: hmacKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
    );
    const tampered = Buffer.from(Mac ?? []);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    await expect(
      client.send(
        new VerifyMacCommand({
          KeyId: hmacKey.arn,
          MacAlgorithm: 'HMAC_SHA_256',
          Message: message,
          Mac: tampered,
        }),
      ),
    ).rejects.toBeInstanceOf(KMSInvalidMacException);
  });

  it('describes its keys as KMS does', async () => {
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: hmacKey.keyId }));
    expect(KeyMetadata).toMatchObject({
      KeyId: hmacKey.keyId,
      Arn: hmacKey.arn,
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
      MacAlgorithms: ['HMAC_SHA_256'],
      Enabled: true,
      KeyState: 'Enabled',
      Description: 'service key',
    });
  });

  it('answers NotFoundException for an unknown key', async () => {
    const unknown = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-4000-a000-000000000000`;
    const error = await client
      .send(new GenerateMacCommand({ KeyId: unknown, MacAlgorithm: 'HMAC_SHA_256', Message: message }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as Error).message).toContain(unknown);
    await expect(client.send(new DescribeKeyCommand({ KeyId: 'alias/nothing' }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it('answers InvalidKeyUsageException for an encryption key and for an algorithm the key spec does not have', async () => {
    const error = await client
      .send(
        new GenerateMacCommand({ KeyId: encryptionKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidKeyUsageException);
    expect((error as Error).message).toMatch(/ENCRYPT_DECRYPT/);
    await expect(
      client.send(
        new GenerateMacCommand({ KeyId: hmacKey.arn, MacAlgorithm: 'HMAC_SHA_512', Message: message }),
      ),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
  });

  it('derives the service keys through KmsServiceKeys: 32 bytes per purpose, distinct, stable per key', async () => {
    const keys = new KmsServiceKeys(client, hmacKey.arn);
    const tracking = await keys.key('tracking-token');
    const cursor = await keys.key('cursor');
    expect(tracking).toHaveLength(32);
    expect(cursor).not.toEqual(tracking);
    expect(await new KmsServiceKeys(client, hmacKey.arn).key('tracking-token')).toEqual(tracking);
    const otherKey = server.addKey({ keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });
    expect(await new KmsServiceKeys(client, otherKey.arn).key('tracking-token')).not.toEqual(tracking);
  });
});

describe('behind the authorizing proxy', () => {
  let proxy: AuthorizingProxy;
  const GRANTED = { accessKeyId: 'LOCALFNGRANTED', secretAccessKey: 'local' };
  const UNGRANTED = { accessKeyId: 'LOCALFNUNGRANTED', secretAccessKey: 'local' };
  const principals = new Map<string, Principal>();

  beforeAll(async () => {
    // As the stack grants it: kms:GenerateMac on the service key only; the other role has no KMS statement.
    principals.set(GRANTED.accessKeyId, {
      roleName: 'IntakeRole',
      sessionName: 'IntakeFn',
      accountId: ACCOUNT,
      statements: [{ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: hmacKey.arn }],
    });
    principals.set(UNGRANTED.accessKeyId, {
      roleName: 'SurveyRole',
      sessionName: 'SurveyFn',
      accountId: ACCOUNT,
      statements: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }],
    });
    proxy = await startAuthorizingProxy({
      upstream: server.endpoint,
      service: 'kms',
      region: REGION,
      accountId: ACCOUNT,
      authorize: (accessKeyId, checks) => {
        const principal = accessKeyId === undefined ? undefined : principals.get(accessKeyId);
        return principal === undefined ? `unknown key ${accessKeyId}` : denialOf(principal, checks);
      },
    });
  });

  afterAll(async () => {
    await proxy.close();
  });

  it('lets the granted role derive, and refuses it every other KMS action', async () => {
    const granted = kmsClient(proxy.endpoint, GRANTED);
    expect(await new KmsServiceKeys(granted, hmacKey.arn).key('idempotency')).toHaveLength(32);
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: hmacKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
    );
    const verify = await granted
      .send(new VerifyMacCommand({ KeyId: hmacKey.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message, Mac }))
      .catch((e: unknown) => e as Error);
    expect((verify as Error).name).toBe('AccessDeniedException');
    expect((verify as Error).message).toContain('kms:VerifyMac');
    const other = server.addKey({ keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });
    const elsewhere = await granted
      .send(new GenerateMacCommand({ KeyId: other.arn, MacAlgorithm: 'HMAC_SHA_256', Message: message }))
      .catch((e: unknown) => e as Error);
    expect((elsewhere as Error).name).toBe('AccessDeniedException');
  });

  it('answers AccessDeniedException (kms:GenerateMac on the key ARN) to a function without the grant', async () => {
    const ungranted = kmsClient(proxy.endpoint, UNGRANTED);
    const error = await new KmsServiceKeys(ungranted, hmacKey.arn)
      .key('tracking-token')
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('AccessDeniedException');
    expect((error as Error).message).toContain(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/SurveyRole/SurveyFn is not authorized to perform: kms:GenerateMac on resource: ${hmacKey.arn}`,
    );
    expect(proxy.stats().denied).toBeGreaterThanOrEqual(1);
  });
});
