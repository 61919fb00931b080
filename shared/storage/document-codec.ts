import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Large documents in items (a complaint's record, a timeline entry with its outbox of events) are
 * stored compressed, as a binary attribute: DynamoDB bills a write per started KB of the item (twice
 * in a transaction), and these JSON documents shrink to a third or less. Small ones stay plain maps,
 * readable in the console. Readers take both forms, so items written before compression still read.
 */

/** Documents whose JSON is at least this long are compressed (below it, the saving rounds away). */
export const COMPRESS_FROM_BYTES = 700;

/** The attribute value to store for `document`: a compressed binary when it is large enough. */
export function packDocument(document: unknown): unknown {
  const json = JSON.stringify(document);
  if (Buffer.byteLength(json, 'utf8') < COMPRESS_FROM_BYTES) return document;
  return deflateRawSync(json);
}

/** The document an attribute holds, in either form. */
export function unpackDocument(value: unknown): unknown {
  if (value instanceof Uint8Array) return JSON.parse(inflateRawSync(value).toString('utf8'));
  return value;
}
