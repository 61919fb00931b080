import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../shared/domain/reporting/facts';
import { ReportSchema } from '../../shared/domain/reporting/report';
import { DETAIL_TYPES } from '../../shared/events/names';
import {
  generateReport,
  getReport,
  type ReportingContext,
  recordLifecycleEvent,
} from '../../shared/services/reporting';
import { DynamoDbReportingStore } from '../../shared/storage/reporting-store';
import { RecordingPublisher } from '../support/fixtures';
import { fixture, TZ } from '../support/reporting-fixture';
import { createTestTable, localDynamoClient } from './support/dynamodb';

/**
 * The aggregator and the report generator on DynamoDB Local: every event delivered twice and in a
 * shuffled order, concurrently, still gives the hand-checked figures (see test/unit/reporting.test.ts).
 */
let ctx: ReportingContext;
let publisher: RecordingPublisher;

beforeAll(async () => {
  const table = await createTestTable('reporting');
  const db = DynamoDBDocumentClient.from(localDynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  publisher = new RecordingPublisher();
  ctx = {
    store: new DynamoDbReportingStore(db, table),
    timeZone: TZ,
    publisher,
    now: () => new Date('2026-11-24T08:00:00Z'),
  };
  const events = fixture();
  const twice = [...events, ...[...events].reverse()];
  // Eight concurrent deliveries at a time: version conflicts on the same complaint are retried.
  for (let i = 0; i < twice.length; i += 8) {
    await Promise.all(twice.slice(i, i + 8).map((e) => recordLifecycleEvent(ctx, e)));
  }
});

describe('report aggregates on DynamoDB', () => {
  it('record each change once: a repeated event is recognised as unchanged', async () => {
    const first = fixture()[0];
    if (first === undefined) throw new Error('empty fixture');
    await expect(recordLifecycleEvent(ctx, first)).resolves.toBe('unchanged');
  });

  it('give the hand-checked October figures, store the report and announce it', async () => {
    const report = await generateReport(ctx, 'monthly', '2026-10');
    expect(ReportSchema.parse(report)).toEqual(report);
    expect(report.partial).toBeUndefined();
    expect(report.figures.volume).toEqual({ received: 2, valid: 1, rejected: 1, perDay: 0.06 });
    expect(report.figures.reopen).toEqual({ resolved: 3, reopened: 1, rate: 0.3333 });
    expect(report.figures.backlog.open).toBe(1);
    expect(report.previousPeriodId).toBe('2026-09');
    expect(report.previous.volume.received).toBe(2);
    expect(report.previous.backlog.open).toBe(2);
    const announced = publisher.events.filter((e) => e.detailType === DETAIL_TYPES.reportGenerated);
    expect(announced.at(-1)?.detail.data).toMatchObject({
      kind: 'monthly',
      periodId: '2026-10',
      path: '/reports/monthly/2026-10',
      headline: { received: 2, backlog: 1 },
    });
    const stored = await getReport(ctx, 'monthly', '2026-10');
    expect(stored).toEqual(report);
  });

  it('regenerate the same numbers', async () => {
    const again = await generateReport(ctx, 'weekly', '2026-W40');
    const once = await generateReport(ctx, 'weekly', '2026-W40');
    expect(again.figures).toEqual(once.figures);
    expect(once.figures.volume.received).toBe(4);
  });

  it('answer the current period with its figures so far, unstored, and refuse one that has not started', async () => {
    const current = await getReport(ctx, 'monthly', '2026-11');
    expect(current.partial).toBe(true);
    expect(await ctx.store.getReport('monthly', '2026-11')).toBeUndefined();
    await expect(getReport(ctx, 'monthly', '2026-12')).rejects.toThrow(/has not started/);
  });
});

describe('the first day with data', () => {
  /** Counts the conditional updates of the first day (each is billed, applied or not). */
  class CountingStore extends DynamoDbReportingStore {
    notes: string[] = [];
    override async noteFirstDay(day: string): Promise<void> {
      this.notes.push(day);
      await super.noteFirstDay(day);
    }
  }
  const received = (id: string, at: string): LifecycleEvent => ({
    detailType: DETAIL_TYPES.complaintReceived,
    detail: {
      metadata: { eventId: `${id}:received`, occurredAt: at },
      data: { complaintId: id, number: `N-${id}`, receivedAt: at, channel: 'app', tier: 'standard' },
    },
  });

  it('is written once per instance and day order, not once per complaint, and stays the earliest', async () => {
    const table = await createTestTable('reporting-first-day');
    const db = DynamoDBDocumentClient.from(localDynamoClient(), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new CountingStore(db, table);
    const local: ReportingContext = { store, timeZone: TZ, now: () => new Date('2026-11-24T08:00:00Z') };
    await recordLifecycleEvent(local, received('F1', '2026-11-10T09:00:00+08:00'));
    await recordLifecycleEvent(local, received('F2', '2026-11-10T11:00:00+08:00'));
    await recordLifecycleEvent(local, received('F3', '2026-11-12T09:00:00+08:00'));
    expect(store.notes).toEqual(['2026-11-10']);
    // An earlier complaint (an import, a late event) still moves the first day back.
    await recordLifecycleEvent(local, received('F4', '2026-11-02T09:00:00+08:00'));
    expect(store.notes).toEqual(['2026-11-10', '2026-11-02']);
    expect(await store.firstDay()).toBe('2026-11-02');
    // Another instance (a fresh store) knows nothing yet: it writes once, and the condition keeps the earliest.
    const other = new CountingStore(db, table);
    await recordLifecycleEvent({ ...local, store: other }, received('F5', '2026-11-20T09:00:00+08:00'));
    expect(other.notes).toEqual(['2026-11-20']);
    expect(await other.firstDay()).toBe('2026-11-02');
  });
});
