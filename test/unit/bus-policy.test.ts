import { describe, expect, it } from 'vitest';
import {
  authorizePutEvents,
  busPoliciesFromTemplate,
  type PutEventsCaller,
  type ResourcePolicyStatement,
} from '../../infra/local/bus-policy';

const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/complaints';
const ROLE = 'arn:aws:iam::123456789012:role/intake';
const denyOwnSources: ResourcePolicyStatement = {
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'events:PutEvents',
  Resource: BUS,
  Condition: {
    StringLike: { 'events:source': ['complaints.*'] },
    ArnNotEquals: { 'aws:PrincipalArn': [ROLE] },
  },
};
const policies = new Map([[BUS, [denyOwnSources]]]);
const outsider = (principalArn?: string): PutEventsCaller => ({
  accountId: '123456789012',
  ...(principalArn !== undefined && { principalArn }),
  displayArn: principalArn ?? 'anonymous',
});
const entry = (source: string) => ({ busArn: BUS, source, detailType: 'Anything' });

describe('PutEvents authorization of the local EventBridge endpoint', () => {
  it('refuses an unsigned caller the own sources too (no principal ARN: the ArnNotEquals condition holds)', () => {
    expect(authorizePutEvents(outsider(), [entry('complaints.intake')], policies).entries).toEqual([
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
    ]);
  });

  it('lets the exempted role through the bus policy, but not past its own identity policy', () => {
    const role: PutEventsCaller = {
      ...outsider(ROLE),
      identity: [
        {
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: BUS,
          Condition: { StringEquals: { 'events:source': 'complaints.intake' } },
        },
      ],
    };
    const result = authorizePutEvents(
      role,
      [entry('complaints.intake'), entry('complaints.agent')],
      policies,
    );
    expect(result.entries.map((e) => e?.ErrorCode)).toEqual([undefined, 'NotAuthorizedForSourceException']);
  });

  it('refuses the whole call for a deny that does not depend on the entry', () => {
    const denyAll = new Map([[BUS, [{ ...denyOwnSources, Condition: undefined }]]]);
    const result = authorizePutEvents(
      outsider('arn:aws:iam::123456789012:user/p'),
      [entry('shop.web')],
      denyAll,
    );
    expect(result.callDenied).toMatch(
      /is not authorized to perform: events:PutEvents on resource: .* with an explicit deny in a resource-based policy/,
    );
  });

  it("reads a bus's Policy property as well as EventBusPolicy resources, and reports NotPrincipal as not enforced", () => {
    const warnings: string[] = [];
    const read = busPoliciesFromTemplate(
      {
        Bus: {
          Type: 'AWS::Events::EventBus',
          Properties: { Name: 'complaints', Policy: { Statement: [denyOwnSources] } },
        },
        Odd: {
          Type: 'AWS::Events::EventBusPolicy',
          Properties: {
            EventBusName: 'complaints',
            Statement: { ...denyOwnSources, Principal: undefined, NotPrincipal: { AWS: ROLE } },
          },
        },
      },
      (v) => ((v as { Ref?: string })?.Ref === 'Bus' ? 'complaints' : v),
      (name) => `arn:aws:events:us-east-1:123456789012:event-bus/${name}`,
      { warn: (m) => warnings.push(m) },
    );
    expect(read.get(BUS)).toEqual([denyOwnSources]);
    expect(warnings).toEqual([expect.stringMatching(/Odd: NotPrincipal is not supported/)]);
  });
});
