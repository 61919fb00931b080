import { unpackDocument } from '../../shared/storage/document-codec';

/**
 * A stored item (unmarshalled) with its compressed documents opened (a complaint's record, a timeline
 * entry: `shared/storage/document-codec.ts`), for tests that search the whole table for a string:
 * the bytes as stored would hide it. Every binary attribute of the table is such a document.
 */
export function readableItem(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [
      name,
      value instanceof Uint8Array ? unpackDocument(value) : value,
    ]),
  );
}
