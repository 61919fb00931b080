/**
 * Letting the system settle after the campaign's drive: wait until nothing is queued or in flight in
 * any work queue (dead-letter queues excepted), no delivery is pending, no Scheduler schedule is
 * overdue, no dependency is in an outage and no stored complaint still waits for classification, continuously for a quiet period — or until a cap. Timers due later (deadlines not
 * reached yet, escalation levels to come) are not waited for: the demo policy's unattended
 * complaints keep escalating for minutes, and that is work to come, not work pending.
 *
 * The probe reads the runtime in process (queue attributes from the SQS server, the Scheduler's
 * schedules, the bus's event count). When the runtime has a status endpoint, a probe reading it can
 * take this one's place ({@link SettleProbe}).
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { UNROUTED } from '../../../shared/storage/dynamodb-store';
import { INDEXES } from '../../../shared/storage/table-schema';
import { FAULT_SERVICES } from '../faults';
import type { DeliveryStats, LocalRuntime } from '../runtime';

export interface SettleSnapshot {
  /** Messages visible, in flight or delayed in the work queues (not the DLQs). */
  queued: number;
  /**
   * Deliveries the runtime still owes: rule and Scheduler target deliveries pending (an event whose
   * delivery to a queue failed is in none of the queues until its retry succeeds), and asynchronous
   * invocations waiting for a retry. A first attempt of an asynchronous invocation (a timer firing)
   * is work in flight, as a running batch is: not waited for, or the demo policy's escalations would
   * never let the system look quiet.
   */
  pendingDeliveries: number;
  /** Enabled schedules whose next firing is more than 2 s in the past. */
  overdueSchedules: number;
  /** Grows with every state change (events the bus accepted): shown, not waited on. */
  activity: number;
  /** Dependencies in an outage now. */
  down: string[];
  /**
   * Complaints stored but not classified yet (`received`, in no department). One whose hand-off
   * was lost waits here until the sweep repairs it (`shared/domain/handoff.ts`).
   */
  awaitingClassification: number;
}

export interface SettleProbe {
  snapshot(): Promise<SettleSnapshot>;
}

export const isDeadLetterQueue = (logicalId: string) => /dead.?letter|dlq/i.test(logicalId);

/** Rule and Scheduler target deliveries pending, and asynchronous invocations waiting for a retry. */
export function owedDeliveries(stats: DeliveryStats): number {
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return (
    stats.targets.total.pending +
    sum(Object.values(stats.schedules).map((s) => s.pending)) +
    sum(Object.values(stats.async).map((a) => a.retrying))
  );
}

/** Complaints in `received` (no lead department yet): one query of the department index, counting. */
export function awaitingClassification(dynamodb: DynamoDBDocumentClient, tableName: string) {
  return async (): Promise<number> => {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamodb.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEXES.byDepartment.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': INDEXES.byDepartment.partitionKey },
          ExpressionAttributeValues: { ':pk': `DEPT#${UNROUTED}#received` },
          Select: 'COUNT',
          ...(start !== undefined && { ExclusiveStartKey: start }),
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  };
}

export function runtimeProbe(
  runtime: Pick<LocalRuntime, 'queues' | 'sqs' | 'scheduler' | 'events' | 'faults' | 'deliveryStats'>,
  countAwaitingClassification: () => Promise<number>,
): SettleProbe {
  return {
    async snapshot() {
      let queued = 0;
      for (const queue of runtime.queues.values()) {
        if (isDeadLetterQueue(queue.logicalId)) continue;
        const { Attributes = {} } = await runtime.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queue.url,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        );
        queued +=
          Number(Attributes.ApproximateNumberOfMessages ?? 0) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
          Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      }
      const now = Date.now();
      const overdueSchedules = runtime.scheduler
        .schedules()
        .filter(
          (s) => s.state === 'ENABLED' && s.nextFireAt !== undefined && s.nextFireAt.getTime() < now - 2000,
        ).length;
      return {
        queued,
        pendingDeliveries: owedDeliveries(runtime.deliveryStats()),
        overdueSchedules,
        activity: runtime.events.events().length,
        down: FAULT_SERVICES.filter((service) => runtime.faults.isDown(service)),
        awaitingClassification: await countAwaitingClassification(),
      };
    },
  };
}

export interface SettleResult {
  settled: boolean;
  seconds: number;
  last: SettleSnapshot | undefined;
}

/** Polls `probe` every second until it has been quiet for `quietMs`, or `capMs` passed. */
export async function settle(
  probe: SettleProbe,
  options: { capMs: number; quietMs?: number; log?: (message: string) => void },
): Promise<SettleResult> {
  const started = Date.now();
  const quietMs = options.quietMs ?? 3000;
  let quietSince: number | undefined;
  let last: SettleSnapshot | undefined;
  let lastLog = 0;
  while (Date.now() - started < options.capMs) {
    last = await probe.snapshot().catch(() => undefined);
    const quiet =
      last !== undefined &&
      last.queued === 0 &&
      last.pendingDeliveries === 0 &&
      last.overdueSchedules === 0 &&
      last.down.length === 0 &&
      last.awaitingClassification === 0;
    if (!quiet) quietSince = undefined;
    else quietSince ??= Date.now();
    if (quietSince !== undefined && Date.now() - quietSince >= quietMs) {
      return { settled: true, seconds: (Date.now() - started) / 1000, last };
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      options.log?.(
        `campaign: settling — ${last?.queued ?? '?'} queued, ${last?.pendingDeliveries ?? '?'} deliveries pending, ` +
          `${last?.overdueSchedules ?? '?'} overdue schedules, ` +
          `${last?.awaitingClassification ?? '?'} awaiting classification` +
          `${last?.down.length ? `, down: ${last.down.join(', ')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { settled: false, seconds: (Date.now() - started) / 1000, last };
}
