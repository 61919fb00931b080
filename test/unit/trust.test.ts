import { describe, expect, it } from 'vitest';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { applyTrust, type Submitter, statedPriorityFields } from '../../shared/domain/trust';
import { defaultPolicy, submission } from '../support/fixtures';

const policy = { ...defaultPolicy, trust: { producers: ['partner.trusted'], customerDirectorySources: [] } };
const claiming = ComplaintSubmissionSchema.parse(
  submission({ customer: { id: 'c-1', tier: 'vip' }, affectedUsers: 1_000_000_000 }),
);

const ANONYMOUS: Submitter = { kind: 'anonymous' };
const TRUSTED: Submitter = { kind: 'producer', source: 'partner.trusted' };
const UNTRUSTED: Submitter = { kind: 'producer', source: 'social.monitor' };
const AGENT: Submitter = { kind: 'agent', agentId: 'cs_wang' };
const IMPORT: Submitter = { kind: 'import', system: 'legacy' };

describe('who may state what (shared/domain/trust.ts)', () => {
  it('names the priority-raising fields a submission states', () => {
    expect(statedPriorityFields(claiming)).toEqual(['customer.tier', 'affectedUsers']);
    expect(
      statedPriorityFields(ComplaintSubmissionSchema.parse(submission({ customer: { id: 'x' } }))),
    ).toEqual([]);
  });

  it.each([
    {
      who: 'anonymous',
      submitter: ANONYMOUS,
      ignored: ['customer.tier', 'affectedUsers'],
      namespace: 'anonymous',
    },
    {
      who: 'untrusted producer',
      submitter: UNTRUSTED,
      ignored: ['customer.tier', 'affectedUsers'],
      namespace: 'verified',
    },
    { who: 'agent', submitter: AGENT, ignored: ['customer.tier'], namespace: 'verified' },
    { who: 'trusted producer', submitter: TRUSTED, ignored: [], namespace: 'verified' },
    { who: 'history import', submitter: IMPORT, ignored: [], namespace: 'verified' },
  ] as const)(
    '$who: ignores $ignored, customer id $namespace',
    ({ submitter, ignored: expected, namespace }) => {
      const ignored: readonly string[] = expected;
      const trusted = applyTrust(policy, claiming, submitter, undefined);
      expect(trusted.ignored).toEqual(ignored);
      expect(trusted.customerNamespace).toBe(namespace);
      expect(trusted.submission.customer.tier).toBe(ignored.includes('customer.tier') ? undefined : 'vip');
      expect(trusted.submission.affectedUsers).toBe(
        ignored.includes('affectedUsers') ? undefined : 1_000_000_000,
      );
      expect(trusted.submission.description).toBe(claiming.description);
    },
  );

  it('resolves the tier: trusted producer > directory > default; anonymous never reads the directory', () => {
    const plain = ComplaintSubmissionSchema.parse(submission({ customer: { id: 'c-2' } }));
    const standard = ComplaintSubmissionSchema.parse(
      submission({ customer: { id: 'c-2', tier: 'standard' } }),
    );
    expect(applyTrust(policy, standard, TRUSTED, 'vip')).toMatchObject({
      tier: 'standard',
      tierSource: 'producer',
    });
    expect(applyTrust(policy, plain, TRUSTED, 'vip')).toMatchObject({ tier: 'vip', tierSource: 'directory' });
    expect(applyTrust(policy, claiming, UNTRUSTED, undefined)).toMatchObject({
      tier: 'standard',
      tierSource: 'default',
    });
    expect(applyTrust(policy, claiming, AGENT, 'vip')).toMatchObject({
      tier: 'vip',
      tierSource: 'directory',
    });
    expect(applyTrust(policy, plain, ANONYMOUS, 'vip')).toMatchObject({
      tier: 'standard',
      tierSource: 'default',
    });
  });

  it('falls back past a tier the policy does not know, and says so only for a trusted statement', () => {
    const gold = ComplaintSubmissionSchema.parse(submission({ customer: { id: 'c-3', tier: 'gold' } }));
    expect(applyTrust(policy, gold, TRUSTED, 'vip')).toMatchObject({
      tier: 'vip',
      tierSource: 'directory',
      unknownTier: true,
    });
    expect(applyTrust(policy, gold, TRUSTED, 'platinum')).toMatchObject({
      tier: 'standard',
      tierSource: 'default',
    });
    expect(applyTrust(policy, gold, UNTRUSTED, undefined)).toMatchObject({
      unknownTier: false,
      ignored: ['customer.tier'],
    });
  });
});
