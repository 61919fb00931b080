import type { Policy } from '../policy/schema';
import type { ComplaintSubmission, TierSource } from './complaint';
import type { CustomerNamespace } from './identifiers';

/**
 * Who may state what (#10, architecture "Trust boundaries"): pure decisions about a submission's
 * priority-raising facts, by who submitted it. docs/security.md ("Who may state what") is the prose
 * version of this module.
 *
 * - An anonymous caller (public `POST /complaints`) states a grievance, never its own importance: the
 *   route refuses {@link PRIORITY_FIELDS} with 400, and the service drops them anyway. Its customer id
 *   is an unverified claim: it lives in the `anonymous` namespace, and the customer directory is not
 *   consulted for it (anyone could type a VIP's id).
 * - An event producer is authenticated by the bus (IAM), so its customer ids are verified. Its
 *   priority-raising facts count only when its source is in `policy.trust.producers`; from any other
 *   source they are dropped and the timeline notes which fields (never their values).
 * - A hotline agent's authenticated submission is trusted like an allowed producer for the impact
 *   (affected users), but the tier comes from the directory: an agent does not grade customers (an
 *   admin does, through the directory).
 * - The deployer's history import states everything (it is the company's own export).
 *
 * Money at stake (`amount`) is not a priority-raising field here: it is part of the grievance, and the
 * classifier reads amounts from the text too, so refusing the field would change nothing.
 */

/** Fields of a submission that raise its priority and must come from a trusted party. */
export const PRIORITY_FIELDS = ['customer.tier', 'affectedUsers'] as const;
export type PriorityField = (typeof PRIORITY_FIELDS)[number];

export type Submitter =
  /** The public route: no account, nothing verified. */
  | { kind: 'anonymous' }
  /** An inbound event; `source` is the EventBridge source the bus authenticated. */
  | { kind: 'producer'; source: string }
  /** An agent's authenticated submission on behalf of a caller (hotline). */
  | { kind: 'agent'; agentId: string }
  /** The deployer's history import (`npm run import`): the company's own records, fully trusted. */
  | { kind: 'import'; system: string };

/** Which priority-raising fields a submission states. */
export function statedPriorityFields(submission: ComplaintSubmission): PriorityField[] {
  const stated: PriorityField[] = [];
  if (submission.customer.tier !== undefined) stated.push('customer.tier');
  if (submission.affectedUsers !== undefined) stated.push('affectedUsers');
  return stated;
}

export function isTrustedProducer(policy: Policy, source: string): boolean {
  return policy.trust.producers.includes(source);
}

/** The fields this submitter may state (the others are dropped). */
export function allowedPriorityFields(policy: Policy, submitter: Submitter): readonly PriorityField[] {
  switch (submitter.kind) {
    case 'anonymous':
      return [];
    case 'agent':
      return ['affectedUsers'];
    case 'import':
      return PRIORITY_FIELDS;
    case 'producer':
      return isTrustedProducer(policy, submitter.source) ? PRIORITY_FIELDS : [];
  }
}

export function customerNamespaceOf(submitter: Submitter): CustomerNamespace {
  return submitter.kind === 'anonymous' ? 'anonymous' : 'verified';
}

/** Whether the customer directory may be asked about this submitter's customer id. */
export function consultsDirectory(submitter: Submitter): boolean {
  return submitter.kind !== 'anonymous';
}

export interface TrustedSubmission {
  /** The submission as stored: fields the submitter may not state are removed. */
  submission: ComplaintSubmission;
  tier: string;
  tierSource: TierSource;
  customerNamespace: CustomerNamespace;
  /** Fields the submitter stated but may not (dropped; the timeline names them). */
  ignored: PriorityField[];
  /** A trusted producer named a tier the policy does not know (the fallback was used). */
  unknownTier: boolean;
}

/**
 * Applies the trust rules: drops what the submitter may not state, then resolves the tier — a trusted
 * producer's stated tier (when the policy knows it) > the directory's tier (when the submitter may
 * consult it and the policy still knows it) > the policy's default tier.
 */
export function applyTrust(
  policy: Policy,
  submission: ComplaintSubmission,
  submitter: Submitter,
  directoryTier: string | undefined,
): TrustedSubmission {
  const allowed = allowedPriorityFields(policy, submitter);
  const ignored = statedPriorityFields(submission).filter((f) => !allowed.includes(f));
  const { tier: statedTier, ...customer } = submission.customer;
  const { affectedUsers, ...rest } = submission;
  const kept: ComplaintSubmission = {
    ...rest,
    customer: ignored.includes('customer.tier') ? customer : submission.customer,
    ...(affectedUsers !== undefined && !ignored.includes('affectedUsers') ? { affectedUsers } : {}),
  };
  const known = (tier: string | undefined): tier is string =>
    tier !== undefined && policy.tiers.some((t) => t.id === tier);
  const mayStateTier = allowed.includes('customer.tier');
  const fromDirectory = consultsDirectory(submitter) ? directoryTier : undefined;
  let tier = policy.defaultTier;
  let tierSource: TierSource = 'default';
  if (mayStateTier && known(statedTier)) {
    tier = statedTier;
    tierSource = 'producer';
  } else if (known(fromDirectory)) {
    tier = fromDirectory;
    tierSource = 'directory';
  }
  return {
    submission: kept,
    tier,
    tierSource,
    customerNamespace: customerNamespaceOf(submitter),
    ignored,
    unknownTier: mayStateTier && statedTier !== undefined && !known(statedTier),
  };
}
