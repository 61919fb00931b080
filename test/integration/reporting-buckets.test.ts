import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyFacts } from '../../shared/domain/reporting/facts';
import { DynamoDbReportingStore, familyOf } from '../../shared/storage/reporting-store';
import { createTestTable, localDynamoClient } from './support/dynamodb';

let db: DynamoDBDocumentClient;
let table: string;
let store: DynamoDbReportingStore;

beforeAll(async () => {
  table = await createTestTable('buckets');
  db = DynamoDBDocumentClient.from(localDynamoClient(), { marshallOptions: { removeUndefinedValues: true } });
  store = new DynamoDbReportingStore(db, table);
});

const item = async (pk: string) =>
  (await db.send(new GetCommand({ TableName: table, Key: { pk, sk: 'AGG' }, ConsistentRead: true }))).Item;

describe('report buckets stored by counter family', () => {
  it('names each counter’s family', () => {
    expect(familyOf('received|channel=app')).toBe('in');
    expect(familyOf('assigned|department=billing')).toBe('in');
    expect(familyOf('acknowledge.bin=3')).toBe('ack');
    expect(familyOf('sla.firstResponse.met|department=billing')).toBe('frs');
    expect(familyOf('resolution.sum')).toBe('res');
    expect(familyOf('fcr.first')).toBe('res');
    expect(familyOf('survey.sum|department=billing')).toBe('out');
    expect(familyOf('net|cohort=2026-11-24')).toBe('net');
  });

  it('writes an event’s counters only into the items of their families, and reads a bucket whole', async () => {
    const bucket = 'DAY#2026-11-24#1';
    await store.saveFacts(
      { ...emptyFacts('c-1') },
      0,
      new Map([[bucket, { received: 1, 'received|channel=app': 1, 'net|cohort=2026-11-24': 1 }]]),
    );
    expect(await item(`AGG#${bucket}|in`)).toMatchObject({ 'c:received': 1, 'c:received|channel=app': 1 });
    expect(Object.keys((await item(`AGG#${bucket}|in`)) ?? {})).not.toContain('c:net|cohort=2026-11-24');
    expect(await item(`AGG#${bucket}|net`)).toMatchObject({ 'c:net|cohort=2026-11-24': 1 });
    // An acknowledgement touches one small item, not the day's whole bucket.
    await store.saveFacts({ ...emptyFacts('c-1') }, 1, new Map([[bucket, { 'acknowledge.count': 1 }]]));
    expect(await item(`AGG#${bucket}|ack`)).toMatchObject({ 'c:acknowledge.count': 1 });
    expect(await item(`AGG#${bucket}|res`)).toBeUndefined();

    // A bucket stored whole (before the split) still counts.
    await db.send(
      new PutCommand({ TableName: table, Item: { pk: `AGG#${bucket}`, sk: 'AGG', 'c:received': 2 } }),
    );
    const read = await store.getBuckets([bucket, 'DAY#2026-11-25#1']);
    expect(read.get(bucket)).toEqual({
      received: 3,
      'received|channel=app': 1,
      'net|cohort=2026-11-24': 1,
      'acknowledge.count': 1,
    });
    expect(read.get('DAY#2026-11-25#1')).toEqual({});
  });
});
