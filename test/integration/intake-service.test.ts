import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { StaticServiceKeys } from '../../shared/security/service-keys';
import type { ServiceContext } from '../../shared/services/context';
import { idempotencyKeyOf } from '../../shared/services/idempotency';
import { receiveComplaint } from '../../shared/services/intake';
import { DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import { defaultPolicy, RecordingPublisher, RecordingScheduler, submission } from '../support/fixtures';
import { createTestTable, localDynamoClient } from './support/dynamodb';

let ctx: ServiceContext;
let publisher: RecordingPublisher;
let db: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  tableName = await createTestTable('intake');
  db = DynamoDBDocumentClient.from(localDynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  publisher = new RecordingPublisher();
  ctx = {
    // One trusted producer: its stated tier counts (shared/domain/trust.ts).
    policy: { ...defaultPolicy, trust: { producers: ['crm.trusted'], customerDirectorySources: [] } },
    calendar: new BusinessCalendar(defaultPolicy.calendar),
    store: new DynamoDbComplaintStore(db, { tableName, deadlineShards: 4 }),
    publisher,
    scheduler: new RecordingScheduler(),
    keys: new StaticServiceKeys('intake-service-test'),
    now: () => new Date('2026-11-24T02:00:00.000Z'),
  };
});

describe('intake service against DynamoDB Local', () => {
  it('creates one complaint when the same message arrives many times at once', async () => {
    const request = {
      submission: ComplaintSubmissionSchema.parse(submission({ customer: { id: 'cust-concurrent' } })),
      sourceSystem: 'hotline.ivr',
      messageId: 'call-20261124-0001',
      submitter: { kind: 'producer', source: 'hotline.ivr' } as const,
      idempotency: { kind: 'event' as const, source: 'hotline.ivr', messageId: 'call-20261124-0001' },
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => receiveComplaint(ctx, request)));
    expect(new Set(results.map((r) => r.complaintId)).size).toBe(1);
    expect(new Set(results.map((r) => r.trackingToken)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(
      await ctx.store.recentByCustomer('cust-concurrent', '2000-01-01T00:00:00.000Z', 'verified'),
    ).toHaveLength(1);
  });

  it('loses nothing when publishing fails after the write: the retry republishes the same events', async () => {
    const request = {
      submission: ComplaintSubmissionSchema.parse(submission({ customer: { id: 'cust-outage' } })),
      sourceSystem: 'app.backend',
      messageId: 'msg-outage-1',
      submitter: { kind: 'producer', source: 'app.backend' } as const,
      idempotency: { kind: 'event' as const, source: 'app.backend', messageId: 'msg-outage-1' },
    };
    publisher.failNext = 1;
    await expect(receiveComplaint(ctx, request)).rejects.toThrow(/outage/);
    const before = publisher.events.length;
    const retry = await receiveComplaint(ctx, request);
    expect(retry.replayed).toBe(true);
    const republished = publisher.events.slice(before);
    expect(republished.map((e) => e.detailType)).toEqual([
      'Complaint Received',
      'Customer Notification Requested',
    ]);
    expect(republished[0]?.detail.metadata.eventId).toBe(`${retry.complaintId}:received`);
  });

  it('promises the first response of the tier row and sets the acknowledgement clock', async () => {
    const vip = await receiveComplaint(ctx, {
      submission: ComplaintSubmissionSchema.parse(
        submission({ customer: { id: 'cust-vip', tier: 'vip', language: 'en' } }),
      ),
      sourceSystem: 'crm.trusted',
      messageId: 'vip-1',
      submitter: { kind: 'producer', source: 'crm.trusted' },
      idempotency: { kind: 'event', source: 'crm.trusted', messageId: 'vip-1' },
    });
    // 2026-11-24 10:00 Shanghai (a Tuesday) + 4 working hours with a 12:00–13:00 lunch break = 15:00 = 07:00Z.
    expect(vip.acknowledgement.respondBy).toBe('2026-11-24T07:00:00.000Z');
    expect(vip.acknowledgement.text).toContain('Nov 24, 2026, 15:00');
    const stored = await ctx.store.get(vip.complaintId);
    expect(stored?.deadlines.acknowledge?.dueAt).toBe('2026-11-24T02:30:00.000Z');
    const unknownTier = await receiveComplaint(ctx, {
      submission: ComplaintSubmissionSchema.parse(
        submission({ customer: { id: 'cust-gold', tier: 'gold' } }),
      ),
      sourceSystem: 'crm.trusted',
      messageId: 'gold-1',
      submitter: { kind: 'producer', source: 'crm.trusted' },
      idempotency: { kind: 'event', source: 'crm.trusted', messageId: 'gold-1' },
    });
    expect(await ctx.store.get(unknownTier.complaintId)).toMatchObject({
      tier: 'standard',
      tierSource: 'default',
    });
    const timeline = await ctx.store.timeline(unknownTier.complaintId);
    expect(timeline[0]?.summary).toContain('unknown tier stated, using "standard"');
  });

  it('keeps imports in their own scope, with claims that never expire', async () => {
    const parse = (id: string) => ComplaintSubmissionSchema.parse(submission({ customer: { id } }));
    const imported = await receiveComplaint(ctx, {
      submission: parse('cust-import-1'),
      sourceSystem: 'import',
      messageId: 'legacy#X-1',
      idempotency: { kind: 'import', system: 'legacy', externalId: 'X-1' },
      submitter: { kind: 'import', system: 'legacy' },
    });
    // An event whose source and id spell the same `import#legacy#X-1` is another producer.
    const lookalike = await receiveComplaint(ctx, {
      submission: parse('cust-import-2'),
      sourceSystem: 'import',
      messageId: 'legacy#X-1',
      idempotency: { kind: 'event', source: 'import', messageId: 'legacy#X-1' },
      submitter: { kind: 'producer', source: 'import' },
    });
    expect(lookalike.replayed).toBe(false);
    expect(lookalike.complaintId).not.toBe(imported.complaintId);
    const claimOf = async (scope: Parameters<typeof idempotencyKeyOf>[1]) =>
      (
        await db.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: `IDEMP#${await idempotencyKeyOf(ctx.keys, scope)}`, sk: 'IDEMP' },
          }),
        )
      ).Item;
    const importClaim = await claimOf({ kind: 'import', system: 'legacy', externalId: 'X-1' });
    expect(importClaim?.complaintId).toBe(imported.complaintId);
    expect(importClaim?.expiresAt).toBeUndefined();
    const eventClaim = await claimOf({ kind: 'event', source: 'import', messageId: 'legacy#X-1' });
    expect(eventClaim?.complaintId).toBe(lookalike.complaintId);
    expect(typeof eventClaim?.expiresAt).toBe('number');
  });
});
