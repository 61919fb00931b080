import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { Principal } from '../auth/principal';
import type { Complaint } from '../domain/complaint';
import { customerKeysFor } from '../domain/identifiers';
import {
  type ErasureRecord,
  type ErasureRequest,
  type ErasureScope,
  emptyCounts,
  erasedCustomerId,
  isDueForRetention,
  isErased,
  redactComplaint,
  redactTimelineEntry,
  retentionCutoff,
} from '../domain/privacy';
import { SOURCES } from '../events/names';
import { buildEvent } from '../events/schemas';
import { ConcurrencyConflictError } from '../storage/ports';
import { MAX_REDACTIONS_PER_TRANSACTION, type PrivacyStore } from '../storage/privacy-store';
import type { ServiceContext } from './context';
import { PoisonMessageError } from './context';

/**
 * Erasure and retention (I/O). The API starts an erasure (audit record + claim, then a message to the
 * worker queue); the worker erases in bounded chunks and sends itself a continuation until the scope
 * is empty; the daily retention run starts an erasure whose scope is "closed or rejected before the
 * cutoff". All three share {@link continueErasure}; the redaction itself is pure
 * (`shared/domain/privacy.ts`).
 */

/** The worker's queue: a message names the erasure to continue (never whose data). */
export interface ErasureQueue {
  send(message: ErasureMessage): Promise<void>;
}

export interface ErasureMessage {
  erasureId: string;
  /** Consecutive rounds that found only already-erased complaints (index lag); bounded. */
  idleRounds?: number;
}

export interface PrivacyContext extends ServiceContext {
  privacy: PrivacyStore;
  erasureQueue: ErasureQueue;
  /** Items one worker round may erase before it hands over to a continuation message. */
  chunkItems: number;
  /** Shards of gsi4 (the retention entries share the deadline index's shards). */
  shards: number;
}

/** How long a request's claim returns the same erasure (a retried or repeated request). */
export const ERASURE_CLAIM_TTL_SECONDS = 7 * 24 * 3600;
/** Complaints looked up per index read of a round. */
const COMPLAINTS_PER_ROUND = 25;
/** Rounds that only met already-erased complaints before the scope counts as empty (index lag). */
export const MAX_IDLE_ROUNDS = 5;
const CONFLICT_ATTEMPTS = 4;

export class ErasureForbiddenError extends Error {
  override name = 'ErasureForbiddenError';
  constructor() {
    super('Only admins may erase personal data or read erasures');
  }
}

/** Only admins erase (and read erasures). Pure; the handler maps it to 403. */
export function mayErase(principal: Principal): boolean {
  return principal.role === 'admin';
}

/**
 * Starts the erasure of a customer's personal data, or returns the one already started for the same
 * customer within {@link ERASURE_CLAIM_TTL_SECONDS} (a repeated request is the same erasure). The
 * message to the worker is sent again while the erasure is running, so a request whose first send
 * failed is completed by its retry.
 */
export async function requestErasure(
  ctx: PrivacyContext,
  principal: Principal,
  request: ErasureRequest,
): Promise<{ erasureId: string; started: boolean }> {
  if (!mayErase(principal)) throw new ErasureForbiddenError();
  const customerKeys = [...new Set(customerKeysFor(request.customerId))].sort();
  const claim = createHash('sha256')
    .update(JSON.stringify(['erasure-request', customerKeys]))
    .digest('base64url');
  return start(ctx, {
    scope: { kind: 'customer', customerKeys },
    claim,
    trigger: 'request',
    reason: request.reason,
    requestedBy: `admin:${principal.id}`,
  });
}

/**
 * The daily retention run: starts (once per UTC day) an erasure of every complaint closed or rejected
 * more than `policy.privacy.retentionDays` ago, found through the retention index.
 */
export async function startRetention(ctx: PrivacyContext): Promise<{ erasureId: string; started: boolean }> {
  const now = ctx.now();
  return start(ctx, {
    scope: { kind: 'retention', closedBefore: retentionCutoff(now, ctx.policy.privacy.retentionDays) },
    claim: `retention:${now.toISOString().slice(0, 10)}`,
    trigger: 'retention',
    reason: 'retention',
    requestedBy: 'system:retention',
  });
}

async function start(
  ctx: PrivacyContext,
  what: Pick<ErasureRecord, 'trigger' | 'reason' | 'requestedBy'> & { scope: ErasureScope; claim: string },
): Promise<{ erasureId: string; started: boolean }> {
  const now = ctx.now();
  const record: ErasureRecord = {
    erasureId: ulid(now.getTime()),
    status: 'running',
    trigger: what.trigger,
    reason: what.reason,
    requestedBy: what.requestedBy,
    requestedAt: now.toISOString(),
    erased: emptyCounts(),
    scope: what.scope,
  };
  const result = await ctx.privacy.startErasure(record, {
    key: what.claim,
    expiresAt: Math.floor(now.getTime() / 1000) + ERASURE_CLAIM_TTL_SECONDS,
  });
  if (!result.started) {
    const existing = await ctx.privacy.getErasure(result.erasureId);
    if (existing?.status !== 'running') return result;
  }
  await ctx.erasureQueue.send({ erasureId: result.erasureId });
  return result;
}

/** The erasure as an admin may see it: status, times, reason category, counts. Never the customer. */
export async function getErasure(ctx: PrivacyContext, principal: Principal, erasureId: string) {
  if (!mayErase(principal)) throw new ErasureForbiddenError();
  const record = await ctx.privacy.getErasure(erasureId);
  if (record === undefined) return undefined;
  return {
    erasureId: record.erasureId,
    status: record.status,
    trigger: record.trigger,
    reason: record.reason,
    requestedBy: record.requestedBy,
    requestedAt: record.requestedAt,
    ...(record.completedAt === undefined ? {} : { completedAt: record.completedAt }),
    erased: record.erased,
  };
}

export type RoundOutcome = 'completed' | 'continued';

/**
 * One bounded round of an erasure: erases up to `ctx.chunkItems` items, then either sends the
 * continuation message (more to do) or completes the erasure and publishes `Customer Data Erased`.
 * Safe to run twice and to interrupt anywhere: every write is conditional on what it erases not
 * being erased yet, and what remains is re-read from the indexes.
 */
export async function continueErasure(ctx: PrivacyContext, message: ErasureMessage): Promise<RoundOutcome> {
  const record = await ctx.privacy.getErasure(message.erasureId);
  if (record === undefined) throw new PoisonMessageError(`No erasure ${message.erasureId}`);
  if (record.status === 'completed') {
    // A redelivery after the completion (e.g. its publish failed): the same event again, same id.
    if (record.completedAt !== undefined)
      await publishErased(ctx, { ...record, completedAt: record.completedAt });
    return 'completed';
  }
  const scope = record.scope;
  if (scope === undefined) throw new PoisonMessageError(`Erasure ${record.erasureId} has no scope`);

  const budget = { left: ctx.chunkItems, wrote: 0 };
  const pending = await ctx.privacy.pendingComplaints(scope, ctx.shards, COMPLAINTS_PER_ROUND);
  for (const complaintId of pending) {
    const finished = await eraseComplaint(ctx, record.erasureId, scope, complaintId, budget);
    if (!finished || budget.left <= 0) {
      await ctx.erasureQueue.send({ erasureId: record.erasureId });
      return 'continued';
    }
  }
  const idleRounds = budget.wrote === 0 ? (message.idleRounds ?? 0) + 1 : 0;
  if (pending.length > 0 && idleRounds < MAX_IDLE_ROUNDS) {
    // Complaints erased in this round may still show in the (eventually consistent) index: look again.
    await ctx.erasureQueue.send({ erasureId: record.erasureId, ...(idleRounds > 0 ? { idleRounds } : {}) });
    return 'continued';
  }

  if (scope.kind === 'customer') {
    await ctx.privacy.deleteCustomerDirectoryEntries(record.erasureId, scope.customerKeys);
  }
  const completedAt = ctx.now().toISOString();
  if (await ctx.privacy.completeErasure(record.erasureId, completedAt)) {
    const done = await ctx.privacy.getErasure(record.erasureId);
    await publishErased(ctx, { ...(done ?? record), completedAt });
  }
  return 'completed';
}

/**
 * Erases one complaint: its idempotency claim, tracking pointer and timeline first, the record last
 * (the record's redaction takes it out of the index the worker reads, so it marks the complaint
 * done). Returns false when the budget ran out before the record was redacted.
 */
async function eraseComplaint(
  ctx: PrivacyContext,
  erasureId: string,
  scope: ErasureScope,
  complaintId: string,
  budget: { left: number; wrote: number },
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const complaint = await ctx.store.get(complaintId);
    if (complaint === undefined || !inScope(complaint, scope)) return true;
    try {
      const at = ctx.now().toISOString();
      const spend = (wrote: boolean | number) => {
        const n = typeof wrote === 'number' ? wrote : wrote ? 1 : 0;
        budget.left -= n;
        budget.wrote += n;
      };
      if (complaint.source.claim !== undefined) {
        spend(await ctx.privacy.scrubIdempotencyClaim(erasureId, complaint.source.claim, at));
      }
      if (complaint.trackingTokenHash !== undefined) {
        spend(await ctx.privacy.deleteTrackingPointer(erasureId, complaint.trackingTokenHash));
      }
      const todo = (await ctx.privacy.timeline(complaintId)).flatMap(({ sk, entry, erasedAt }) => {
        const redacted = erasedAt === undefined ? redactTimelineEntry(entry) : undefined;
        return redacted === undefined ? [] : [{ sk, entry: redacted }];
      });
      while (todo.length > 0) {
        if (budget.left <= 0) return false;
        const chunk = todo.splice(0, Math.min(MAX_REDACTIONS_PER_TRANSACTION, budget.left));
        await ctx.privacy.redactTimelineEntries(erasureId, complaintId, chunk, at);
        spend(chunk.length);
      }
      const next = redactComplaint(complaint, { erasureId, at, pseudonym: erasedCustomerId() });
      await ctx.privacy.redactComplaint(
        erasureId,
        { ...next, version: complaint.version + 1, updatedAt: at },
        complaint.version,
      );
      spend(1);
      return true;
    } catch (error) {
      // The complaint (or one of its entries) changed meanwhile: start over from a fresh read.
      if (!(error instanceof ConcurrencyConflictError) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
  }
}

/** Whether the complaint is (still) one the scope covers, checked on the record itself. */
function inScope(c: Complaint, scope: ErasureScope): boolean {
  if (isErased(c)) return false;
  if (scope.kind === 'retention') return isDueForRetention(c, scope.closedBefore);
  const keys = new Set(scope.customerKeys);
  return customerKeysFor(c.submission.customer.id).some((k) => keys.has(k));
}

async function publishErased(ctx: PrivacyContext, record: ErasureRecord & { completedAt: string }) {
  await ctx.publisher.publish([
    buildEvent('customerDataErased', SOURCES.privacy, {
      metadata: {
        version: 1,
        eventId: `${record.erasureId}:erased`,
        occurredAt: record.completedAt,
        correlationId: record.erasureId,
      },
      data: {
        erasureId: record.erasureId,
        trigger: record.trigger,
        reason: record.reason,
        requestedAt: record.requestedAt,
        completedAt: record.completedAt,
        erased: record.erased,
      },
    }),
  ]);
}
