import type { Policy } from '../policy/schema';
import type { CustomerDirectoryEntry, DirectoryWriteOutcome } from '../storage/ports';
import type { ServiceContext } from './context';

/**
 * The customer directory the service keeps: the tier of each known customer, from a trusted source
 * only — the CRM's `Customer Profile Updated` events (sources in `policy.trust.customerDirectorySources`)
 * or an admin (`PUT /admin/customers/{customerId}`). Intake reads it for every submission whose customer
 * id is verified (never for anonymous ones: shared/domain/trust.ts).
 */

export interface ProfileUpdate {
  customerId: string;
  tier: string;
  /** When the profile changed at its source; orders the updates. */
  updatedAt: string;
  /** The CRM's event source, or `admin:<id>`. */
  source: string;
}

/** The tier is not one of the policy's. */
export class UnknownTierError extends Error {
  override name = 'UnknownTierError';
  constructor(
    readonly tier: string,
    readonly known: readonly string[],
  ) {
    super(`"${tier}" is not a tier of the policy (${known.join(', ')})`);
  }
}

/** The source may not feed the directory. */
export class UntrustedDirectorySourceError extends Error {
  override name = 'UntrustedDirectorySourceError';
  constructor(readonly source: string) {
    super(`Source "${source}" may not update the customer directory (policy trust.customerDirectorySources)`);
  }
}

export function mayFeedDirectory(policy: Policy, source: string): boolean {
  return policy.trust.customerDirectorySources.includes(source);
}

/**
 * Applies one profile update: known tiers only, conditional on `updatedAt` (idempotent and
 * order-safe: an older update never overwrites a newer one). The caller checks who is asking.
 */
export async function updateCustomerTier(
  ctx: ServiceContext,
  update: ProfileUpdate,
): Promise<{ outcome: DirectoryWriteOutcome; current: CustomerDirectoryEntry }> {
  const known = ctx.policy.tiers.map((t) => t.id);
  if (!known.includes(update.tier)) throw new UnknownTierError(update.tier, known);
  // One format (UTC, milliseconds), so the store's string comparison is time order.
  const updatedAt = new Date(update.updatedAt).toISOString();
  return ctx.store.putCustomerDirectoryEntry(update.customerId, {
    tier: update.tier,
    updatedAt,
    source: update.source,
  });
}
