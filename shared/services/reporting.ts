import {
  type Contributions,
  contributions,
  DEFAULT_AGGREGATE_SHARDS,
  dayOf,
  diffContributions,
} from '../domain/reporting/contributions';
import { emptyFacts, type LifecycleEvent, mergeEvent, sameFacts } from '../domain/reporting/facts';
import { implausibility, type ReportVocabulary, type StoredReceipt } from '../domain/reporting/plausibility';
import {
  bucketKeysFor,
  computeFigures,
  type Period,
  type PeriodKind,
  parsePeriod,
  previousPeriod,
  type Report,
  sumCounters,
} from '../domain/reporting/report';
import { SOURCES } from '../events/names';
import type { EventPublisher } from '../events/publisher';
import { buildEvent } from '../events/schemas';
import type { ReportingStore } from '../storage/reporting-store';
import { PoisonMessageError } from './context';
import { retryOnConflict } from './retry';

/** Attempts of a facts write: bucket items are shared by every complaint of a day, so contention is expected. */
export const FACTS_CONFLICT_ATTEMPTS = 12;

export interface ReportingContext {
  store: ReportingStore;
  /** The business time zone (policy calendar): days, weeks and months are cut there. */
  timeZone: string;
  shards?: number;
  publisher?: EventPublisher;
  now: () => Date;
  /** The complaint store (GetItem of the complaint): {@link verifyLifecycleEvent} needs it. */
  complaints?: { get(complaintId: string): Promise<StoredReceipt | undefined> };
  /** The policy's channels, categories, severities and departments: {@link verifyLifecycleEvent} needs them. */
  vocabulary?: ReportVocabulary;
}

/** A lifecycle event the reports must not count (unknown complaint, value out of range); a poison message. */
export class ImplausibleEventError extends PoisonMessageError {
  override name = 'ImplausibleEventError';
}

/**
 * Distrusts what the bus delivers: the complaint must exist in the store and the event's values must
 * be plausible for it (`plausibility.ts`). Throws {@link ImplausibleEventError} with the reason.
 */
export async function verifyLifecycleEvent(ctx: ReportingContext, event: LifecycleEvent): Promise<void> {
  const [error] = await implausibleEvents(ctx, event.detail.data.complaintId, [event]);
  if (error !== undefined) throw error;
}

/**
 * {@link verifyLifecycleEvent} for several events of one complaint, with one read of it: per event,
 * nothing (plausible) or the error saying why not.
 */
export async function implausibleEvents(
  ctx: ReportingContext,
  complaintId: string,
  events: readonly LifecycleEvent[],
): Promise<Array<ImplausibleEventError | undefined>> {
  const { complaints, vocabulary } = ctx;
  if (complaints === undefined || vocabulary === undefined) {
    throw new Error('verifyLifecycleEvent needs the complaint store and the policy vocabulary');
  }
  const complaint = await complaints.get(complaintId);
  return events.map((event) => {
    if (event.detail.data.complaintId !== complaintId) {
      return new ImplausibleEventError(`"${event.detailType}" is not an event of complaint ${complaintId}`);
    }
    if (complaint === undefined) {
      return new ImplausibleEventError(
        `"${event.detailType}" for complaint ${complaintId}, which does not exist`,
      );
    }
    const reason = implausibility(event, complaint, vocabulary, ctx.now());
    return reason === undefined
      ? undefined
      : new ImplausibleEventError(
          `Implausible "${event.detailType}" for complaint ${complaintId}: ${reason}`,
        );
  });
}

/**
 * Folds one lifecycle event into the complaint's report facts and the aggregates. Safe to call any
 * number of times, in any order: a duplicate changes nothing (`unchanged`).
 */
export async function recordLifecycleEvent(
  ctx: ReportingContext,
  event: LifecycleEvent,
): Promise<'changed' | 'unchanged'> {
  return recordLifecycleEvents(ctx, [event]);
}

/**
 * {@link recordLifecycleEvent} for several events of one complaint at once: one facts write for all
 * of them (each write bills the facts item and every bucket it touches, twice: a transaction), with
 * the same figures as one at a time, since merging is order-free.
 */
export async function recordLifecycleEvents(
  ctx: ReportingContext,
  events: readonly LifecycleEvent[],
): Promise<'changed' | 'unchanged'> {
  const [first] = events;
  if (first === undefined) return 'unchanged';
  const id = first.detail.data.complaintId;
  if (events.some((e) => e.detail.data.complaintId !== id)) {
    throw new Error('recordLifecycleEvents takes the events of one complaint');
  }
  const options = { timeZone: ctx.timeZone, shards: ctx.shards ?? DEFAULT_AGGREGATE_SHARDS };
  return retryOnConflict(async () => {
    const stored = await ctx.store.getFacts(id);
    const before = stored?.facts ?? emptyFacts(id);
    const after = events.reduce(mergeEvent, before);
    if (sameFacts(before, after)) return 'unchanged' as const;
    const delta: Contributions = diffContributions(
      contributions(before, options),
      contributions(after, options),
    );
    await ctx.store.saveFacts(after, stored?.version ?? 0, delta);
    if (after.received && !before.received)
      await noteFirstDayOnce(ctx.store, dayOf(after.received.at, ctx.timeZone));
    return 'changed' as const;
    // The events of one complaint come in bursts (a whole batch at once): expect contention.
  }, FACTS_CONFLICT_ATTEMPTS);
}

/** Per store: a day the stored first day is known to be at or before (what this instance noted). */
const firstDayNoted = new WeakMap<ReportingStore, string>();

/**
 * Lowers the stored first day to `day` unless this instance already knows it is at or before `day`.
 * The conditional update fails (and is billed) for every complaint of a day after the first: once
 * an instance has noted a day, later days need no write.
 */
async function noteFirstDayOnce(store: ReportingStore, day: string): Promise<void> {
  const known = firstDayNoted.get(store);
  if (known !== undefined && known <= day) return;
  await store.noteFirstDay(day);
  firstDayNoted.set(store, known === undefined || day < known ? day : known);
}

/**
 * Computes a period's report from the aggregates (and the previous period's, for comparison), stores it
 * and announces it. A period that is not over yet gets a `partial` report that is neither stored nor
 * announced.
 */
export async function generateReport(ctx: ReportingContext, kind: PeriodKind, id: string): Promise<Report> {
  const period = parsePeriod(kind, id, ctx.timeZone);
  const partial = Date.parse(period.end) > ctx.now().getTime();
  const previous = previousPeriod(period);
  const shards = ctx.shards ?? DEFAULT_AGGREGATE_SHARDS;
  const since = (await ctx.store.firstDay()) ?? previous.firstDay;
  const figuresOf = async (p: Period) => {
    const keys = bucketKeysFor(p, shards, [since, p.firstDay].sort()[0] as string);
    const buckets = await ctx.store.getBuckets([...keys.days, ...keys.backlogMonths, ...keys.backlogDays]);
    const read = (list: string[]) => sumCounters(list.map((k) => buckets.get(k) ?? {}));
    return computeFigures(
      p,
      read(keys.days),
      sumCounters([read(keys.backlogMonths), read(keys.backlogDays)]),
    );
  };
  const { days: _days, ...periodView } = period;
  const report: Report = {
    period: periodView,
    previousPeriodId: previous.id,
    generatedAt: ctx.now().toISOString(),
    figures: await figuresOf(period),
    previous: await figuresOf(previous),
    ...(partial ? { partial } : {}),
  };
  if (partial) return report;
  await ctx.store.putReport(report);
  if (ctx.publisher) {
    await ctx.publisher.publish([
      buildEvent('reportGenerated', SOURCES.reporting, {
        metadata: {
          version: 1,
          eventId: `report:${kind}:${id}:${report.generatedAt}`,
          occurredAt: report.generatedAt,
          correlationId: `report:${kind}:${id}`,
        },
        data: {
          kind,
          periodId: id,
          timeZone: period.timeZone,
          start: period.start,
          end: period.end,
          generatedAt: report.generatedAt,
          path: reportPath(kind, id),
          headline: {
            received: report.figures.volume.received,
            backlog: report.figures.backlog.open,
            resolutionCompliance: report.figures.sla.resolution.compliance,
            satisfactionAverage: report.figures.satisfaction.average,
          },
        },
      }),
    ]);
  }
  return report;
}

export const reportPath = (kind: string, id: string) => `/reports/${kind}/${id}`;

export class ReportNotAvailableError extends Error {
  override name = 'ReportNotAvailableError';
}

/**
 * The stored report of a period; a period that is over but has no report yet (e.g. right after a
 * history import) is generated now; the current period gives its figures so far (`partial`). A period
 * that has not started has no report.
 */
export async function getReport(ctx: ReportingContext, kind: PeriodKind, id: string): Promise<Report> {
  const period = parsePeriod(kind, id, ctx.timeZone);
  if (Date.parse(period.start) > ctx.now().getTime()) {
    throw new ReportNotAvailableError(
      `The ${kind} period ${id} has not started (it starts at ${period.start})`,
    );
  }
  const stored = await ctx.store.getReport(kind, id);
  return stored ?? generateReport(ctx, kind, id);
}
