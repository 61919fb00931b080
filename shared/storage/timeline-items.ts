import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { type LoadChange, loadChangesOf } from './agent-load';
import { packDocument, unpackDocument } from './document-codec';
import { InvalidTimelineCursorError, type TimelineEntry } from './ports';

/**
 * A complaint's timeline entries as items (`C#<id>` / `TL#<at>#<ulid>`), written without a transaction.
 *
 * A state change is one conditional write of the record (the commit point), which also carries the
 * change's timeline entries as `pendingTimeline`; the entry items are put right after it. A
 * transaction of record and entries would bill every item, and every index entry the record moves,
 * twice (docs/cost.md). Until the next change of the record, its pending entries are the truth for
 * the newest version: readers merge them with the items they find (an entry item may be missing when
 * the writer died between the two writes), and the next writer, which replaces them, first puts any
 * of them that has no item yet. So an entry is never lost and never shown for a change that did not
 * commit (a writer that loses the version race has written nothing).
 */

/** A timeline entry with its item key, fixed when the change is staged (so a re-put is idempotent). */
export interface StagedEntry {
  pk: string;
  sk: string;
  entry: TimelineEntry;
}

/**
 * The record item's document (`doc`, packed: `document-codec.ts`): the complaint and what its last
 * change carries for after its write, compressed together (the entries' events repeat much of the
 * record, and the item is billed by the started KB). Records stored before hold the complaint in
 * `complaint` and the rest in attributes of the same names.
 */
export const RECORD_DOCUMENT = 'doc';

export interface RecordDocument {
  complaint: unknown;
  pendingTimeline?: StagedEntry[];
  pendingLoad?: LoadChange[];
}

export function packRecord(complaint: unknown, pending?: Partial<Pending>): Record<string, unknown> {
  const doc: RecordDocument = {
    complaint,
    ...(pending?.staged !== undefined && pending.staged.length > 0
      ? { pendingTimeline: pending.staged }
      : {}),
    ...(pending?.loads !== undefined && pending.loads.length > 0 ? { pendingLoad: pending.loads } : {}),
  };
  return { [RECORD_DOCUMENT]: packDocument(doc) };
}

/** The document of a record item, in either form (undefined for an item without one). */
export function recordDocumentOf(item: Record<string, unknown> | undefined): RecordDocument | undefined {
  if (item === undefined) return undefined;
  if (item[RECORD_DOCUMENT] !== undefined) return unpackDocument(item[RECORD_DOCUMENT]) as RecordDocument;
  return {
    complaint: unpackDocument(item.complaint),
    ...(item.pendingTimeline === undefined
      ? {}
      : { pendingTimeline: unpackDocument(item.pendingTimeline) as StagedEntry[] }),
    ...(item.pendingLoad === undefined ? {} : { pendingLoad: item.pendingLoad as LoadChange[] }),
  };
}

const META = 'META';

export const complaintPk = (id: string) => `C#${id}`;

/** Keys for a change's entries: in time order, unique per entry. */
export function stageEntries(
  complaintId: string,
  entries: readonly TimelineEntry[],
  related: ReadonlyArray<{ complaintId: string; entry: TimelineEntry }> = [],
): StagedEntry[] {
  return [
    ...entries.map((entry) => ({ pk: complaintPk(complaintId), sk: `TL#${entry.at}#${ulid()}`, entry })),
    ...related.map(({ complaintId: other, entry }) => ({
      pk: complaintPk(other),
      sk: `TL#${entry.at}#${ulid()}`,
      entry,
    })),
  ];
}

export function timelineItem(staged: StagedEntry): Record<string, unknown> {
  return { pk: staged.pk, sk: staged.sk, entry: packDocument(staged.entry) };
}

/** The timeline entry a `TL#…` item holds. */
export const timelineEntryOfItem = (item: Record<string, unknown>): TimelineEntry =>
  unpackDocument(item.entry) as TimelineEntry;

/** Puts the entry items (plain puts of fixed keys: repeating one changes nothing). */
export async function putEntries(
  db: DynamoDBDocumentClient,
  tableName: string,
  staged: readonly StagedEntry[],
): Promise<void> {
  await Promise.all(
    staged.map((s) => db.send(new PutCommand({ TableName: tableName, Item: timelineItem(s) }))),
  );
}

/**
 * Puts those of a replaced record's pending entries that have no item yet (their writer died
 * between its two writes). Reading is a fifth of the price of writing, and they almost always exist.
 */
export async function settleReplaced(
  db: DynamoDBDocumentClient,
  tableName: string,
  replaced: readonly StagedEntry[],
): Promise<void> {
  const missing = await Promise.all(
    replaced.map(async (s) => {
      const { Item } = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: s.pk, sk: s.sk },
          ProjectionExpression: 'pk',
          ConsistentRead: true,
        }),
      );
      return Item === undefined ? s : undefined;
    }),
  );
  await putEntries(
    db,
    tableName,
    missing.filter((s): s is StagedEntry => s !== undefined),
  );
}

/** What a record carries for after its write: timeline entries and agent load changes. */
export interface Pending {
  staged: StagedEntry[];
  loads: LoadChange[];
}

export function pendingOf(item: Record<string, unknown> | undefined): Pending {
  const doc = recordDocumentOf(item);
  return {
    staged: Array.isArray(doc?.pendingTimeline) ? doc.pendingTimeline : [],
    loads: loadChangesOf(doc?.pendingLoad),
  };
}

/** The pending entries and load changes of a complaint's record as stored now. */
export async function readPending(
  db: DynamoDBDocumentClient,
  tableName: string,
  complaintId: string,
): Promise<Pending & { version?: number }> {
  const { Item } = await db.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: complaintPk(complaintId), sk: META },
      ProjectionExpression: '#d, #c, #p, #l, #v',
      ExpressionAttributeNames: {
        '#d': RECORD_DOCUMENT,
        '#c': 'complaint',
        '#p': 'pendingTimeline',
        '#l': 'pendingLoad',
        '#v': 'version',
      },
      ConsistentRead: true,
    }),
  );
  return {
    ...(typeof Item?.version === 'number' ? { version: Item.version } : {}),
    ...pendingOf(Item),
  };
}

/**
 * Timeline items (`sk`, entry) merged with a record's pending entries of the same complaint: each
 * key once, oldest first.
 */
export function mergePending(
  complaintId: string,
  items: ReadonlyArray<{ sk: string; entry: TimelineEntry }>,
  pending: readonly StagedEntry[],
): Array<{ sk: string; entry: TimelineEntry }> {
  const byKey = new Map(items.map((i) => [i.sk, i]));
  for (const s of pending) {
    if (s.pk === complaintPk(complaintId) && !byKey.has(s.sk)) byKey.set(s.sk, { sk: s.sk, entry: s.entry });
  }
  return [...byKey.values()].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
}

const TIMELINE_SK = /^TL#\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z#[0-9A-HJKMNP-TV-Z]{26}$/;

/** A timeline page cursor: the oldest entry's sort key (within the complaint the caller already sees). */
export function encodeTimelineCursor(sk: string): string {
  return Buffer.from(sk.slice(3)).toString('base64url');
}

export function decodeTimelineCursor(cursor: string): string {
  const sk = `TL#${Buffer.from(cursor, 'base64url').toString('utf8')}`;
  if (cursor.length > 100 || !TIMELINE_SK.test(sk)) throw new InvalidTimelineCursorError();
  return sk;
}
