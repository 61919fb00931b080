import type { EventPublisher } from '../events/publisher';
import type { OutboundEvent } from '../events/schemas';
import type { MetricSink } from './emf-sink';
import { lifecycleMetrics } from './lifecycle-metrics';

export interface MeteredPublisherOptions {
  /** How many recently measured event ids to remember (a republished event is not counted again). @default 1000 */
  readonly rememberEvents?: number;
  /** Called when measuring fails; the publish itself has succeeded and is not failed for it. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The one place the live business metrics are emitted: a decorator of the publishing port that,
 * after the inner publisher delivered a batch, writes the data points of its events
 * ({@link lifecycleMetrics}) to the sink. Every state change publishes its events through the
 * port, so every function measures the same way without a metric call of its own.
 *
 * - Nothing is measured when the publish fails: the caller retries, and the retry measures.
 * - Event ids are deterministic per state change, so a republished event (a replay after a lost
 *   response, a redelivered message) has the id of the first publish: ids measured recently by
 *   this instance are remembered and not counted again (a replay on another instance still is).
 * - A measuring failure is reported to `onError` and never fails the publish: the state change is
 *   stored and its events are on the bus.
 */
export class MeteredPublisher implements EventPublisher {
  readonly #measured = new Set<string>();
  readonly #capacity: number;

  constructor(
    private readonly inner: EventPublisher,
    private readonly sink: MetricSink,
    private readonly options: MeteredPublisherOptions = {},
  ) {
    this.#capacity = options.rememberEvents ?? 1000;
  }

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    await this.inner.publish(events);
    try {
      const fresh = events.filter((e) => !this.#measured.has(e.detail.metadata.eventId));
      this.sink.emit(fresh.flatMap((e) => lifecycleMetrics(e)));
      for (const e of fresh) this.#remember(e.detail.metadata.eventId);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  #remember(eventId: string): void {
    this.#measured.add(eventId);
    // A Set iterates in insertion order: the first entry is the oldest.
    while (this.#measured.size > this.#capacity) {
      const oldest = this.#measured.values().next().value;
      if (oldest === undefined) break;
      this.#measured.delete(oldest);
    }
  }
}
