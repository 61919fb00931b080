import type { TimelinePage } from '../storage/ports';
import type { ServiceContext } from './context';

/**
 * Views show a page of the timeline, never all of it: a complaint may accumulate up to
 * `policy.limits.maxTimelineEntries` entries of up to `maxMessageChars` characters each, and a
 * Lambda response must stay under 6 MB. A page holds at most {@link TIMELINE_PAGE_SIZE} entries
 * and {@link TIMELINE_PAGE_BYTES} of JSON (texts full of characters JSON escapes grow up to six
 * times), next to the record itself (a DynamoDB item of at most 400 KB).
 */
export const TIMELINE_PAGE_SIZE = 50;
export const TIMELINE_PAGE_BYTES = 2 * 1024 * 1024;

/** The newest page of a complaint's timeline, or the one before `before` (a previous page's `olderCursor`). */
export function readTimelinePage(
  ctx: ServiceContext,
  complaintId: string,
  before?: string,
): Promise<TimelinePage> {
  return ctx.store.timelinePage(complaintId, {
    limit: TIMELINE_PAGE_SIZE,
    maxBytes: TIMELINE_PAGE_BYTES,
    ...(before === undefined ? {} : { before }),
  });
}

/** Entries one write adds at most (a reply and a reopening; an action's one). */
const LATEST_ENTRIES = 4;

/**
 * The newest few entries: where the replay record of a complaint's latest write is (services
 * recognise a retried request by it before deciding anything).
 */
export async function readLatestEntries(
  ctx: ServiceContext,
  complaintId: string,
): Promise<TimelinePage['entries']> {
  const page = await ctx.store.timelinePage(complaintId, {
    limit: LATEST_ENTRIES,
    maxBytes: TIMELINE_PAGE_BYTES,
  });
  return page.entries;
}
