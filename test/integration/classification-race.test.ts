import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { DETAIL_TYPES } from '../../shared/events/names';
import { StaticServiceKeys } from '../../shared/security/service-keys';
import { classifyComplaint } from '../../shared/services/classification';
import type { ServiceContext } from '../../shared/services/context';
import { receiveComplaint } from '../../shared/services/intake';
import { DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import type { ComplaintStore } from '../../shared/storage/ports';
import { defaultPolicy, RecordingPublisher, RecordingScheduler, submission } from '../support/fixtures';
import { createTestTable, localDynamoClient } from './support/dynamodb';

/**
 * At-least-once delivery: the same `Complaint Received` can reach two classification
 * invocations at once. They read the same version, and DynamoDB lets one write win.
 * The loser must not fail its SQS message (it would come back after the visibility
 * timeout, and a few in a row would land in the DLQ).
 */

let store: DynamoDbComplaintStore;
let publisher: RecordingPublisher;
let scheduler: RecordingScheduler;
const now = new Date('2026-11-24T02:00:00.000Z'); // Tuesday 10:00 in Shanghai

beforeAll(async () => {
  const tableName = await createTestTable('classification-race');
  const db = DynamoDBDocumentClient.from(localDynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  store = new DynamoDbComplaintStore(db, { tableName, deadlineShards: 2 });
  publisher = new RecordingPublisher();
  scheduler = new RecordingScheduler();
});

const context = (complaintStore: ComplaintStore): ServiceContext => ({
  policy: defaultPolicy,
  calendar: new BusinessCalendar(defaultPolicy.calendar),
  store: complaintStore,
  publisher,
  scheduler,
  keys: new StaticServiceKeys('classification-race-test'),
  now: () => now,
});

let seq = 0;
async function receivedComplaint(description: string): Promise<string> {
  const id = `race-${++seq}-${Date.now()}`;
  const { complaintId } = await receiveComplaint(context(store), {
    submission: ComplaintSubmissionSchema.parse(submission({ customer: { id }, description })),
    sourceSystem: 'test',
    messageId: id,
    submitter: { kind: 'producer', source: 'test' },
    idempotency: { kind: 'event', source: 'test', messageId: id },
  });
  return complaintId;
}

/**
 * The real store, except that the first `readers` reads wait for each other: every delivery
 * has read the same version before any of them writes, which is the race DynamoDB settles.
 */
function racingReads(readers: number): ComplaintStore {
  let waiting = 0;
  let release: () => void = () => {};
  const allRead = new Promise<void>((resolve) => {
    release = resolve;
  });
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'get') return Reflect.get(target, property, receiver);
      return async (id: string) => {
        const complaint = await target.get(id);
        if (waiting < readers) {
          waiting++;
          if (waiting === readers) release();
          await allRead;
        }
        return complaint;
      };
    },
  });
}

const ofComplaint = (type: string, complaintId: string) =>
  publisher.ofType(type).filter((e) => e.detail.data.complaintId === complaintId);

describe('classification against DynamoDB Local when deliveries race', () => {
  it('absorbs five concurrent deliveries of the same event: one classifies, the others succeed without a second event', async () => {
    const complaintId = await receivedComplaint('登录时一直提示密码错误，无法登录，已经试了很多次');
    const received = await store.get(complaintId);
    const deliveries = 5;
    const ctx = context(racingReads(deliveries));

    const outcomes = await Promise.all(
      Array.from({ length: deliveries }, () => classifyComplaint(ctx, complaintId)),
    );

    expect(outcomes.filter((o) => o === 'classified')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'concurrent')).toHaveLength(deliveries - 1);
    expect(ofComplaint(DETAIL_TYPES.complaintClassified, complaintId)).toHaveLength(1);
    const stored = await store.get(complaintId);
    expect(stored?.status).toBe('classified');
    expect(stored?.version).toBe((received?.version ?? 0) + 1);
    const timeline = await store.timeline(complaintId);
    expect(timeline.filter((e) => e.type === 'classified')).toHaveLength(1);
    // Only the winner scheduled the clocks' timers.
    const timerCalls = scheduler.calls.filter((c) => c.upsert.some((t) => t.startsWith(complaintId)));
    expect(timerCalls).toHaveLength(1);
  });

  it('absorbs the race for a rejection as well: one Complaint Rejected, one customer notification', async () => {
    const complaintId = await receivedComplaint('加微信，兼职日结，刷单赚钱，日赚三百元');
    const ctx = context(racingReads(2));

    const outcomes = await Promise.all([
      classifyComplaint(ctx, complaintId),
      classifyComplaint(ctx, complaintId),
    ]);

    expect(outcomes.sort()).toEqual(['concurrent', 'rejected']);
    expect(ofComplaint(DETAIL_TYPES.complaintRejected, complaintId)).toHaveLength(1);
    const notifications = ofComplaint(DETAIL_TYPES.customerNotificationRequested, complaintId);
    expect(notifications.filter((e) => e.detail.data.template === 'rejection')).toHaveLength(1);
  });

  it('classifies from a fresh read when another change (not a classification) won the write', async () => {
    const complaintId = await receivedComplaint('客服态度很差，电话里直接挂断了');
    let interfered = false;
    // Another writer changes the complaint between the classifier's read and its write.
    const interfering = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'update') return Reflect.get(target, property, receiver);
        return async (update: Parameters<ComplaintStore['update']>[0]) => {
          if (!interfered) {
            interfered = true;
            const current = await target.get(complaintId);
            if (current === undefined) throw new Error('not stored');
            await target.update({
              next: { ...current, version: current.version + 1, updatedAt: now.toISOString() },
              expectedVersion: current.version,
              timeline: [{ at: now.toISOString(), type: 'note', actor: 'agent:test', summary: 'A note' }],
            });
          }
          return target.update(update);
        };
      },
    });

    await expect(classifyComplaint(context(interfering), complaintId)).resolves.toBe('classified');

    expect(interfered).toBe(true);
    const stored = await store.get(complaintId);
    expect(stored?.status).toBe('classified');
    expect(stored?.version).toBe(3); // received (1), the note (2), classified (3)
    expect((await store.timeline(complaintId)).map((e) => e.type)).toEqual([
      'received',
      'note',
      'classified',
    ]);
    expect(ofComplaint(DETAIL_TYPES.complaintClassified, complaintId)).toHaveLength(1);
  });
});
