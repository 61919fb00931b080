import { describe, expect, it } from 'vitest';
import { type AwsRequest, actionsOfRequest } from '../../infra/local/aws-request-actions';
import { TemplateResolver } from '../../infra/local/template';

/** The IAM checks of KMS requests as the AWS SDK v3 sends them (AWS JSON 1.1, `TrentService.<Op>`). */

const ctx = { region: 'us-east-1', accountId: '123456789012' };
const KEY_ID = '0b1c2d3e-4f50-4a61-b728-394a5b6c7d8e';
const KEY_ARN = `arn:aws:kms:us-east-1:123456789012:key/${KEY_ID}`;

const kms = (operation: string, body: unknown, target = `TrentService.${operation}`): AwsRequest => ({
  method: 'POST',
  path: '/',
  headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('KMS request actions', () => {
  it.each(['GenerateMac', 'VerifyMac', 'DescribeKey', 'Encrypt'])('%s needs kms:%s on the key ARN', (op) => {
    expect(actionsOfRequest('kms', kms(op, { KeyId: KEY_ARN, MacAlgorithm: 'HMAC_SHA_256' }), ctx)).toEqual([
      { action: `kms:${op}`, resource: KEY_ARN },
    ]);
  });

  it('turns a bare key id into the key ARN of the local region and account', () => {
    expect(actionsOfRequest('kms', kms('GenerateMac', { KeyId: KEY_ID }), ctx)).toEqual([
      { action: 'kms:GenerateMac', resource: KEY_ARN },
    ]);
  });

  it('authorizes account-level operations on *', () => {
    expect(actionsOfRequest('kms', kms('ListKeys', {}), ctx)).toEqual([
      { action: 'kms:ListKeys', resource: '*' },
    ]);
  });

  it('marks aliases, a missing KeyId, a bad body and an unknown target as unmapped (denied)', () => {
    const unmapped = (request: AwsRequest) => actionsOfRequest('kms', request, ctx)[0]?.unmapped;
    expect(unmapped(kms('GenerateMac', { KeyId: 'alias/service' }))).toMatch(/alias/);
    expect(
      unmapped(kms('GenerateMac', { KeyId: 'arn:aws:kms:us-east-1:123456789012:alias/service' })),
    ).toMatch(/alias/);
    expect(unmapped(kms('GenerateMac', {}))).toMatch(/no KeyId/);
    expect(unmapped(kms('GenerateMac', '{not json'))).toMatch(/not a JSON object/);
    expect(unmapped(kms('GenerateMac', {}, 'AWSEvents.PutEvents'))).toMatch(/unknown X-Amz-Target/);
  });
});

describe('template resolver: AWS::KMS::Key', () => {
  const stack = {
    stackName: 'Local',
    template: {
      Resources: { KeysServiceKey1A2B: { Type: 'AWS::KMS::Key', Properties: { KeySpec: 'HMAC_256' } } },
    },
  };

  it('resolves Ref to a key id and Arn/KeyId to the key ARN and id, stable for the stack and logical id', () => {
    const resolver = new TemplateResolver(stack, 'us-east-1', '123456789012');
    const keyId = resolver.ref('KeysServiceKey1A2B');
    expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(resolver.resolve({ 'Fn::GetAtt': ['KeysServiceKey1A2B', 'Arn'] })).toBe(
      `arn:aws:kms:us-east-1:123456789012:key/${keyId}`,
    );
    expect(resolver.getAtt('KeysServiceKey1A2B', 'KeyId')).toBe(keyId);
    expect(new TemplateResolver(stack, 'us-east-1').ref('KeysServiceKey1A2B')).toBe(keyId);
    expect(
      new TemplateResolver({ ...stack, stackName: 'Other' }, 'us-east-1').ref('KeysServiceKey1A2B'),
    ).not.toBe(keyId);
  });
});
