import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import type { Complaint } from '../../shared/domain/complaint';
import { DETAIL_TYPES } from '../../shared/events/names';
import { StaticServiceKeys } from '../../shared/security/service-keys';
import { classifyComplaint } from '../../shared/services/classification';
import type { ServiceContext } from '../../shared/services/context';
import {
  type ComplaintStore,
  type ComplaintUpdate,
  ConcurrencyConflictError,
} from '../../shared/storage/ports';
import { complaintRecord, defaultPolicy, RecordingPublisher, RecordingScheduler } from '../support/fixtures';

const NOW = new Date('2026-11-24T02:00:00.000Z');

/**
 * One complaint in memory, with the versioned write of the real store. `beforeWrite` runs once,
 * between the classifier's read and its write: what another writer does in that window.
 */
class OneComplaintStore {
  updates = 0;
  constructor(
    public stored: Complaint,
    public beforeWrite?: () => Promise<void>,
  ) {}
  async get(id: string): Promise<Complaint | undefined> {
    return id === this.stored.id ? structuredClone(this.stored) : undefined;
  }
  async recentByCustomer(): Promise<[]> {
    return [];
  }
  async update(update: ComplaintUpdate): Promise<void> {
    const interfere = this.beforeWrite;
    this.beforeWrite = undefined;
    await interfere?.();
    this.updates++;
    if (update.expectedVersion !== this.stored.version)
      throw new ConcurrencyConflictError(update.next.id, update.expectedVersion);
    this.stored = structuredClone(update.next);
  }
  asPort(): ComplaintStore {
    return this as unknown as ComplaintStore;
  }
}

function contextWith(store: OneComplaintStore): ServiceContext & {
  publisher: RecordingPublisher;
  scheduler: RecordingScheduler;
} {
  return {
    policy: defaultPolicy,
    calendar: new BusinessCalendar(defaultPolicy.calendar),
    store: store.asPort(),
    publisher: new RecordingPublisher(),
    scheduler: new RecordingScheduler(),
    keys: new StaticServiceKeys('classification-conflicts'),
    now: () => NOW,
  };
}

describe('classification when the versioned write conflicts', () => {
  it('succeeds without publishing when a concurrent delivery classified the complaint first', async () => {
    const store = new OneComplaintStore(complaintRecord());
    const other = contextWith(store);
    const ctx = contextWith(store);
    // The duplicate delivery wins the race: it classifies between our read and our write.
    store.beforeWrite = async () => {
      await expect(classifyComplaint(other, store.stored.id)).resolves.toBe('classified');
    };

    await expect(classifyComplaint(ctx, store.stored.id)).resolves.toBe('concurrent');

    expect(store.updates).toBe(2); // the winner's write and our refused one; no second write
    expect(store.stored.version).toBe(2);
    expect(ctx.publisher.events).toEqual([]);
    expect(ctx.scheduler.calls).toEqual([]);
    expect(other.publisher.ofType(DETAIL_TYPES.complaintClassified)).toHaveLength(1);
  });

  it('classifies from a fresh read when the conflicting change was not a classification', async () => {
    const store = new OneComplaintStore(complaintRecord());
    store.beforeWrite = async () => {
      store.stored = { ...store.stored, version: store.stored.version + 1 }; // e.g. an agent's note
    };
    const ctx = contextWith(store);

    await expect(classifyComplaint(ctx, store.stored.id)).resolves.toBe('classified');

    expect(store.stored).toMatchObject({ version: 3, status: 'classified' });
    expect(ctx.publisher.ofType(DETAIL_TYPES.complaintClassified)).toHaveLength(1);
  });

  it('gives up after a few attempts, so the message is retried later', async () => {
    const store = new OneComplaintStore(complaintRecord());
    const alwaysMoved = async () => {
      store.stored = { ...store.stored, version: store.stored.version + 1 };
      store.beforeWrite = alwaysMoved;
    };
    store.beforeWrite = alwaysMoved;
    const ctx = contextWith(store);

    await expect(classifyComplaint(ctx, store.stored.id)).rejects.toBeInstanceOf(ConcurrencyConflictError);

    expect(store.updates).toBe(4);
    expect(ctx.publisher.events).toEqual([]);
  });

  it('still republishes the stored outcome on a plain redelivery (the earlier publish may have failed)', async () => {
    const store = new OneComplaintStore(complaintRecord());
    await classifyComplaint(contextWith(store), store.stored.id);
    const ctx = contextWith(store);

    await expect(classifyComplaint(ctx, store.stored.id)).resolves.toBe('republished');

    expect(ctx.publisher.ofType(DETAIL_TYPES.complaintClassified)).toHaveLength(1);
    expect(store.updates).toBe(1);
  });
});
