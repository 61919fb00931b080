import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { OutboundEvent } from './schemas';

/** The publishing port: services hand over validated events; adapters deliver them. */
export interface EventPublisher {
  publish(events: readonly OutboundEvent[]): Promise<void>;
}

export class EventPublishError extends Error {
  override name = 'EventPublishError';
  constructor(
    readonly failures: Array<{ detailType: string; eventId: string; code?: string; message?: string }>,
  ) {
    super(
      `Failed to publish ${failures.length} event(s): ${failures.map((f) => `${f.detailType} ${f.eventId} (${f.code})`).join(', ')}`,
    );
  }
}

/** PutEvents accepts at most 10 entries per call. */
const MAX_ENTRIES = 10;

/**
 * EventBridge adapter. A partially failed PutEvents throws `EventPublishError`, so
 * the caller's message is retried; consumers dedupe on `metadata.eventId`.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += MAX_ENTRIES) {
      const chunk = events.slice(i, i + MAX_ENTRIES);
      const entries: PutEventsRequestEntry[] = chunk.map((e) => ({
        EventBusName: this.busName,
        Source: e.source,
        DetailType: e.detailType,
        Detail: JSON.stringify(e.detail),
      }));
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if ((result.FailedEntryCount ?? 0) > 0) {
        const failures = (result.Entries ?? [])
          .map((r, j) => ({ r, e: chunk[j] }))
          .filter(({ r }) => r.ErrorCode !== undefined)
          .map(({ r, e }) => ({
            detailType: e?.detailType ?? '?',
            eventId: e?.detail.metadata.eventId ?? '?',
            code: r.ErrorCode,
            message: r.ErrorMessage,
          }));
        throw new EventPublishError(failures);
      }
    }
  }
}
