import { deflateRawSync } from 'node:zlib';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { unpackDocument } from '../../shared/storage/document-codec';
import { complaintOfItem, DynamoDbComplaintStore } from '../../shared/storage/dynamodb-store';
import { ConcurrencyConflictError, queuePosition } from '../../shared/storage/ports';
import { DynamoDbPrivacyStore } from '../../shared/storage/privacy-store';
import { complaintRecord, runningClock } from '../support/fixtures';
import { createTestTable, localDynamoClient } from './support/dynamodb';

let store: DynamoDbComplaintStore;
let db: DynamoDBDocumentClient;
let tableName: string;

const newEntry = (type: string) => ({ at: new Date().toISOString(), type, actor: 'test', summary: type });

async function createStored(overrides: Parameters<typeof complaintRecord>[0] = {}) {
  const complaint = complaintRecord(overrides);
  const result = await store.create({
    complaint,
    idempotencyKey: `test#${complaint.id}`,
    requestFingerprint: `fp-${complaint.id}`,
    trackingTokenHash: `hash-${complaint.id}`,
    timeline: [newEntry('received')],
  });
  expect(result.outcome).toBe('created');
  return complaint;
}

beforeAll(async () => {
  tableName = await createTestTable('store');
  db = DynamoDBDocumentClient.from(localDynamoClient(), { marshallOptions: { removeUndefinedValues: true } });
  store = new DynamoDbComplaintStore(db, { tableName, deadlineShards: 4 });
});

describe('DynamoDbComplaintStore against DynamoDB Local', () => {
  it('stores a complaint and finds it by id, number and tracking-token hash', async () => {
    const c = await createStored();
    // The store counts the timeline entries it writes with the record (policy.limits.maxTimelineEntries).
    expect(await store.get(c.id)).toEqual({
      ...c,
      usage: { timelineEntries: 1, customerReplies: 0, recentReplies: [] },
    });
    expect((await store.getByNumber(c.number))?.id).toBe(c.id);
    expect((await store.getByTrackingTokenHash(`hash-${c.id}`))?.id).toBe(c.id);
    expect(await store.get('does-not-exist')).toBeUndefined();
    expect((await store.timeline(c.id)).map((e) => e.type)).toEqual(['received']);
  });

  it('is idempotent on the claim key and returns the first complaint and its request fingerprint (no token)', async () => {
    const first = complaintRecord();
    const second = complaintRecord({ id: `${first.id}X`, number: 'C20261124-ZZZZZZ' });
    const base = {
      idempotencyKey: 'app.backend#msg-42',
      trackingTokenHash: 'h1',
      timeline: [newEntry('received')],
    };
    expect((await store.create({ ...base, complaint: first, requestFingerprint: 'f1' })).outcome).toBe(
      'created',
    );
    const again = await store.create({
      ...base,
      complaint: second,
      requestFingerprint: 'f2',
      trackingTokenHash: 'h2',
    });
    expect(again).toEqual({ outcome: 'duplicate', complaintId: first.id, requestFingerprint: 'f1' });
    const claim = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'IDEMP#app.backend#msg-42', sk: 'IDEMP' } }),
    );
    expect(Object.keys(claim.Item ?? {}).sort()).toEqual([
      'complaintId',
      'expiresAt',
      'pk',
      'requestFingerprint',
      'sk',
    ]);
    expect(await store.get(second.id)).toBeUndefined();
    expect(await store.getByNumber('C20261124-ZZZZZZ')).toBeUndefined();
  });

  it('refuses a complaint number that is already taken, writing nothing', async () => {
    const first = await createStored();
    const clash = complaintRecord({ number: first.number });
    const result = await store.create({
      complaint: clash,
      idempotencyKey: `test#${clash.id}`,
      requestFingerprint: 'f',
      trackingTokenHash: `hash-${clash.id}`,
      timeline: [],
    });
    expect(result).toEqual({ outcome: 'number_taken' });
    expect(await store.get(clash.id)).toBeUndefined();
  });

  it('lets exactly one of two concurrent updates from the same version win', async () => {
    const c = await createStored();
    const updates = ['classified', 'rejected'].map((status) =>
      store.update({
        next: { ...c, version: 2, status: status as 'classified' | 'rejected' },
        expectedVersion: 1,
        timeline: [newEntry(status)],
      }),
    );
    const results = await Promise.allSettled(updates);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(ConcurrencyConflictError);
    const stored = await store.get(c.id);
    expect(stored?.version).toBe(2);
    // The loser's timeline entry was not written either (the record write comes first).
    expect((await store.timeline(c.id)).map((e) => e.type)).toEqual(['received', stored?.status]);
  });

  it('writes a change of the record alone as one conditional Put, with the same conflict rule', async () => {
    const c = await createStored();
    // Two writers of a record-only change (no timeline, no counters) from the same version.
    const results = await Promise.allSettled(
      ['waiting_on_customer', 'in_progress'].map((status) =>
        store.update({
          next: { ...c, version: 2, status: status as 'in_progress' },
          expectedVersion: 1,
          timeline: [],
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(ConcurrencyConflictError);
    // A stale writer later is refused the same way, and the stored record is the winner's.
    await expect(
      store.update({ next: { ...c, version: 2, status: 'resolved' }, expectedVersion: 1, timeline: [] }),
    ).rejects.toBeInstanceOf(ConcurrencyConflictError);
    const stored = await store.get(c.id);
    expect(stored?.version).toBe(2);
    expect(['waiting_on_customer', 'in_progress']).toContain(stored?.status);
  });

  it('refuses an update whose version does not follow the expected one', async () => {
    const c = await createStored();
    await expect(
      store.update({ next: { ...c, version: 5 }, expectedVersion: 1, timeline: [] }),
    ).rejects.toThrow(/must bump the version/);
  });

  it('keeps agent counters in the update transaction and refuses an increment at capacity', async () => {
    const a = await createStored();
    const b = await createStored();
    await store.update({
      next: { ...a, version: 2 },
      expectedVersion: 1,
      timeline: [],
      agentLoadChanges: [{ agentId: 'agent_cap', delta: 1, capacity: 1 }],
    });
    expect((await store.agentLoads(['agent_cap', 'agent_none'])).get('agent_cap')).toBe(1);
    await expect(
      store.update({
        next: { ...b, version: 2 },
        expectedVersion: 1,
        timeline: [],
        agentLoadChanges: [{ agentId: 'agent_cap', delta: 1, capacity: 1 }],
      }),
    ).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect((await store.get(b.id))?.version).toBe(1);
    expect((await store.agentLoads(['agent_cap'])).get('agent_cap')).toBe(1);
  });

  it('lists a department queue by nearest deadline and pages through it', async () => {
    const dept = `dept_${Date.now()}`;
    const dues = ['2026-11-26T10:00:00.000Z', '2026-11-25T10:00:00.000Z', '2026-11-27T10:00:00.000Z'];
    const ids: string[] = [];
    for (const dueAt of dues) {
      const c = await createStored();
      ids.push(c.id);
      await store.update({
        next: {
          ...c,
          version: 2,
          status: 'assigned',
          assignment: {
            leadDepartment: dept,
            collaborators: [],
            assignee: 'agent_q',
            reason: 't',
            assignedAt: c.receivedAt,
          },
          deadlines: { resolution: runningClock(dueAt) },
        },
        expectedVersion: 1,
        timeline: [],
      });
    }
    const page1 = await store.listByDepartment(dept, 'assigned', { limit: 2 });
    expect(page1.items.map((i) => i.nextDueAt)).toEqual([dues[1], dues[0]]);
    // The next read starts after a position (due time and id), never from a store key.
    const last = page1.items[1];
    expect(page1.next).toBe(last === undefined ? undefined : queuePosition(last));
    const page2 = await store.listByDepartment(dept, 'assigned', { limit: 2, after: page1.next });
    expect(page2.items.map((i) => i.nextDueAt)).toEqual([dues[2]]);
    expect(page2.next).toBeUndefined();
    expect((await store.listByDepartment(dept, 'resolved', { limit: 10 })).items).toEqual([]);
    const mine = await store.listByAssignee('agent_q', 'assigned', { limit: 10 });
    expect(mine.items.filter((i) => ids.includes(i.id))).toHaveLength(3);
    // After a position, exclusive; filtered to a lead department inside the store.
    const [first] = mine.items;
    const rest = await store.listByAssignee('agent_q', 'assigned', {
      limit: 10,
      after: first === undefined ? undefined : queuePosition(first),
    });
    expect(rest.items.map((i) => i.id)).toEqual(mine.items.slice(1).map((i) => i.id));
    const elsewhere = await store.listByAssignee('agent_q', 'assigned', {
      limit: 10,
      leadDepartment: 'billing',
    });
    expect(elsewhere.items).toEqual([]);
    expect(elsewhere.next).toBeUndefined();
  });

  it('finds what the sweep must look at in the department queues: due deadlines and received complaints past the hand-off grace', async () => {
    const due = '2026-11-24T03:00:00.000Z';
    const department = `dept_${Date.now()}`;
    const assignment = { leadDepartment: department, collaborators: [], reason: 'test', assignedAt: due };
    const open = await createStored({
      status: 'assigned',
      assignment,
      deadlines: { acknowledge: runningClock(due) },
    });
    const closed = await createStored({
      status: 'closed',
      assignment,
      deadlines: { acknowledge: runningClock(due) },
    });
    // Assigned without a running deadline: nothing pending.
    const noDeadline = await createStored({ status: 'assigned', assignment });
    // Another department's: not asked for.
    const elsewhere = await createStored({
      status: 'assigned',
      assignment: { ...assignment, leadDepartment: `${department}_other` },
      deadlines: { acknowledge: runningClock(due) },
    });
    // Received without one: due for the hand-off repair one grace after receipt (shared/domain/handoff.ts).
    const unclassified = await createStored({ receivedAt: '2026-11-24T02:00:00.000Z' });
    const young = await createStored({ receivedAt: '2026-11-24T02:59:30.000Z' });
    const all = await store.dueForSweep([department], due, 100);
    const ids = all.map((d) => d.complaintId);
    expect(ids).toContain(open.id);
    expect(ids).not.toContain(closed.id);
    expect(ids).not.toContain(noDeadline.id);
    expect(ids).not.toContain(elsewhere.id);
    expect(ids).not.toContain(young.id);
    expect(all.find((d) => d.complaintId === open.id)).toMatchObject({ dueAt: due, kind: 'deadline' });
    expect(all.find((d) => d.complaintId === unclassified.id)).toMatchObject({ kind: 'handoff' });
    // Earliest first, and bounded as a whole (a backlog must not make one sweep run unbounded).
    expect(all.map((d) => d.dueAt)).toEqual(all.map((d) => d.dueAt).sort());
    expect(all.length).toBeGreaterThan(2);
    expect(await store.dueForSweep([department], due, 2)).toEqual(all.slice(0, 2));
    // Not yet due one millisecond earlier; a closed complaint is in the retention index instead.
    const earlier = await store.dueForSweep([department], '2026-11-24T02:59:59.999Z', 100);
    expect(earlier.map((d) => d.complaintId)).not.toContain(open.id);
    const raw = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: `C#${closed.id}`, sk: 'META' } }),
    );
    expect(String(raw.Item?.gsi4pk)).toMatch(/^ERASE#/);
    const openRaw = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: `C#${open.id}`, sk: 'META' } }),
    );
    expect(openRaw.Item?.gsi4pk).toBeUndefined();
  });

  it("finds a customer's recent complaints newest first, without the raw customer id in the key", async () => {
    const customer = { id: `cust-${Date.now()}`, tier: 'standard' as const, language: 'zh' as const };
    const base = complaintRecord();
    const old = await createStored({
      receivedAt: '2026-10-01T00:00:00.000Z',
      submission: { ...base.submission, customer },
    });
    const recent = await createStored({
      receivedAt: '2026-11-20T00:00:00.000Z',
      submission: { ...base.submission, customer },
    });
    const found = await store.recentByCustomer(customer.id, '2026-10-25T00:00:00.000Z', 'verified');
    expect(found.map((f) => f.id)).toEqual([recent.id]);
    const all = await store.recentByCustomer(customer.id, '2026-01-01T00:00:00.000Z', 'verified');
    expect(all.map((f) => f.id)).toEqual([recent.id, old.id]);
    const raw = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: `C#${recent.id}`, sk: 'META' } }),
    );
    expect(String(raw.Item?.gsi3pk)).not.toContain(customer.id);
  });
});

describe('documents stored compressed', () => {
  it('stores a large record compressed, reads it back whole, and still reads a record stored as a plain map', async () => {
    const long = complaintRecord({});
    const c = {
      ...long,
      submission: { ...long.submission, description: 'The parcel never came. '.repeat(80).trim() },
    };
    const result = await store.create({
      complaint: c,
      idempotencyKey: `test#${c.id}`,
      requestFingerprint: `fp-${c.id}`,
      trackingTokenHash: `hash-${c.id}`,
      timeline: [{ ...newEntry('received'), data: { outbox: [{ detail: 'x'.repeat(2000) }] } }],
    });
    expect(result.outcome).toBe('created');
    const raw = await db.send(new GetCommand({ TableName: tableName, Key: { pk: `C#${c.id}`, sk: 'META' } }));
    // One binary document, much smaller than its JSON.
    expect(raw.Item?.doc).toBeInstanceOf(Uint8Array);
    expect(raw.Item?.complaint).toBeUndefined();
    expect((raw.Item?.doc as Uint8Array | undefined)?.length ?? Number.POSITIVE_INFINITY).toBeLessThan(
      JSON.stringify(c).length / 3,
    );
    expect((await store.get(c.id))?.submission.description).toBe(c.submission.description);
    const [entry] = await store.timeline(c.id);
    expect(entry?.data).toEqual({ outbox: [{ detail: 'x'.repeat(2000) }] });
    const page = await store.timelinePage(c.id, { limit: 5, maxBytes: 100_000 });
    expect(page.entries).toEqual([entry]);

    // An item written before compression (the record as a map) reads the same.
    const plain = complaintRecord({});
    await db.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: `C#${plain.id}`, sk: 'META', complaint: plain, version: 1 },
      }),
    );
    expect(await store.get(plain.id)).toEqual(plain);
  });

  it('compresses a change’s pending entries with the record, into the same document', async () => {
    const c = await createStored();
    const outbox = {
      outbox: [{ detail: { description: c.submission.description, note: 'y'.repeat(1500) } }],
    };
    await store.update({
      next: { ...c, version: 2, status: 'classified' },
      expectedVersion: 1,
      timeline: [{ ...newEntry('classified'), data: outbox }],
    });
    const raw = await db.send(new GetCommand({ TableName: tableName, Key: { pk: `C#${c.id}`, sk: 'META' } }));
    expect(raw.Item?.pendingTimeline).toBeUndefined();
    const doc = unpackDocument(raw.Item?.doc) as { pendingTimeline?: Array<{ entry: { data?: unknown } }> };
    expect(doc.pendingTimeline?.[0]?.entry.data).toEqual(outbox);
    // Smaller than the record and the entries compressed apart.
    const apart =
      deflateRawSync(JSON.stringify(complaintOfItem(raw.Item ?? {}))).length +
      deflateRawSync(JSON.stringify(doc.pendingTimeline)).length;
    expect((raw.Item?.doc as Uint8Array | undefined)?.length).toBeLessThan(apart);
  });
});

describe('timeline entries written after the record, without a transaction', () => {
  /** A client whose timeline-entry puts fail: the writer dies between its two writes. */
  const dyingAfterRecord = {
    send: (command: unknown) =>
      command instanceof PutCommand && String(command.input.Item?.sk).startsWith('TL#')
        ? Promise.reject(new Error('the instance died'))
        : db.send(command as PutCommand),
  } as unknown as DynamoDBDocumentClient;

  /** A stored complaint classified (version 2) by a writer that died before putting its timeline entry. */
  async function classifiedByADyingWriter(data?: Record<string, unknown>) {
    const c = await createStored();
    const dying = new DynamoDbComplaintStore(dyingAfterRecord, { tableName, deadlineShards: 4 });
    await expect(
      dying.update({
        next: { ...c, version: 2, status: 'classified' },
        expectedVersion: 1,
        timeline: [{ ...newEntry('classified'), ...(data === undefined ? {} : { data }) }],
      }),
    ).rejects.toThrow(/died/);
    return c;
  }

  const entryItems = async (id: string) =>
    (
      await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tl)',
          ExpressionAttributeValues: { ':pk': `C#${id}`, ':tl': 'TL#' },
        }),
      )
    ).Items ?? [];

  it('shows the entries of a committed change whose entry items were never written, and the next writer puts them', async () => {
    const c = await classifiedByADyingWriter();
    expect(await entryItems(c.id)).toHaveLength(1);
    // Committed: readers see the change and its entry (carried by the record until the next change).
    expect((await store.get(c.id))?.version).toBe(2);
    expect((await store.timeline(c.id)).map((e) => e.type)).toEqual(['received', 'classified']);
    const page = await store.timelinePage(c.id, { limit: 1, maxBytes: 100_000 });
    expect(page.entries.map((e) => e.type)).toEqual(['classified']);
    const older = await store.timelinePage(c.id, { limit: 5, maxBytes: 100_000, before: page.olderCursor });
    expect(older.entries.map((e) => e.type)).toEqual(['received']);

    // The next change (read by another instance) replaces the pending entries: it puts them first.
    const fresh = new DynamoDbComplaintStore(db, { tableName, deadlineShards: 4 });
    const current = await fresh.get(c.id);
    if (current === undefined) throw new Error('stored complaint missing');
    await fresh.update({
      next: { ...current, version: 3, status: 'assigned' },
      expectedVersion: 2,
      timeline: [newEntry('assigned')],
    });
    expect(await entryItems(c.id)).toHaveLength(3);
    expect((await store.timeline(c.id)).map((e) => e.type)).toEqual(['received', 'classified', 'assigned']);
  });

  it('settles them in a transaction with an agent counter too, from a record it did not read itself', async () => {
    const c = await classifiedByADyingWriter();
    const other = new DynamoDbComplaintStore(db, { tableName, deadlineShards: 4 });
    await other.update({
      next: { ...c, version: 3, status: 'assigned' },
      expectedVersion: 2,
      timeline: [],
      agentLoadChanges: [{ agentId: `agent_${c.id}`, delta: 1, capacity: 5 }],
    });
    expect((await entryItems(c.id)).length).toBe(2);
    expect((await store.timeline(c.id)).map((e) => e.type)).toEqual(['received', 'classified']);
  });

  it('gives an erasure the items of pending entries, so the redaction finds every entry', async () => {
    const c = await classifiedByADyingWriter({ note: 'personal' });
    const privacy = new DynamoDbPrivacyStore(db, tableName, 4);
    const entries = await privacy.timeline(c.id);
    expect(entries.map((e) => e.entry.type)).toEqual(['received', 'classified']);
    expect(await entryItems(c.id)).toHaveLength(2);
  });
});

describe('agent loads as sets of open complaints', () => {
  /** A client whose agent-load updates outside a transaction fail: the writer dies after the record. */
  const dyingBeforeLoad = {
    send: (command: unknown) =>
      command instanceof UpdateCommand && String(command.input.Key?.pk).startsWith('AGENT#')
        ? Promise.reject(new Error('the instance died'))
        : db.send(command as UpdateCommand),
  } as unknown as DynamoDBDocumentClient;

  const load = async (agentId: string) => (await store.agentLoads([agentId])).get(agentId);

  /** A complaint assigned to `agent` (version 2), then resolved (version 3) by a writer that died before releasing it. */
  async function assignedThenReleasedByADyingWriter(agent: string) {
    const c = await createStored();
    await store.update({
      next: { ...c, version: 2 },
      expectedVersion: 1,
      timeline: [],
      agentLoadChanges: [{ agentId: agent, delta: 1, capacity: 5 }],
    });
    const dying = new DynamoDbComplaintStore(dyingBeforeLoad, { tableName, deadlineShards: 4 });
    await expect(
      dying.update({
        next: { ...c, version: 3, status: 'resolved' },
        expectedVersion: 2,
        timeline: [newEntry('resolved')],
        agentLoadChanges: [{ agentId: agent, delta: -1 }],
      }),
    ).rejects.toThrow(/died/);
    return c;
  }

  it('claims within capacity in the transaction, releases and takes back after the record write', async () => {
    const agent = `agent_${Date.now()}`;
    const c = await createStored();
    const write = (version: number, delta: number, capacity?: number) =>
      store.update({
        next: { ...c, version },
        expectedVersion: version - 1,
        timeline: [],
        agentLoadChanges: [{ agentId: agent, delta, ...(capacity === undefined ? {} : { capacity }) }],
      });
    await write(2, 1, 1);
    expect(await load(agent)).toBe(1);
    // The same complaint claimed again (a redelivery) is no second place, even at capacity.
    await write(3, 1, 1);
    expect(await load(agent)).toBe(1);
    await write(4, -1);
    expect(await load(agent)).toBe(0);
    await write(5, 1);
    expect(await load(agent)).toBe(1);
  });

  it('applies a release its writer never made before the next writer’s own change, carried across changes of no load', async () => {
    const a = `agent_a_${Date.now()}`;
    const b = `agent_b_${Date.now()}`;
    const c = await assignedThenReleasedByADyingWriter(a);
    expect(await load(a)).toBe(1);
    // A change of no load (another instance, which did not read the record) carries the release on.
    const other = new DynamoDbComplaintStore(db, { tableName, deadlineShards: 4 });
    await other.update({ next: { ...c, version: 4, status: 'resolved' }, expectedVersion: 3, timeline: [] });
    expect(await load(a)).toBe(1);
    // The next change of loads applies it first, then its own.
    await other.update({
      next: { ...c, version: 5, status: 'reopened' },
      expectedVersion: 4,
      timeline: [],
      agentLoadChanges: [{ agentId: b, delta: 1 }],
    });
    expect(await load(a)).toBe(0);
    expect(await load(b)).toBe(1);
  });

  it('lets the newer change win when the replaced one is applied again', async () => {
    const a = `agent_r_${Date.now()}`;
    const c = await assignedThenReleasedByADyingWriter(a);
    // A reopening takes the complaint back: the release it replaces must not undo that.
    await store.update({
      next: { ...c, version: 4, status: 'reopened' },
      expectedVersion: 3,
      timeline: [],
      agentLoadChanges: [{ agentId: a, delta: 1 }],
    });
    expect(await load(a)).toBe(1);
  });
});
