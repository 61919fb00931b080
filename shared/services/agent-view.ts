import { toAgentView } from '../api/views';
import type { Principal } from '../auth/principal';
import type { Complaint } from '../domain/complaint';
import { availableActions, loadVisible } from './actions';
import type { ServiceContext } from './context';
import { readTimelinePage } from './timeline-page';

/**
 * The complaint as the agent API shows it: the record without storage internals, its clocks, the
 * actions the caller may take now and the newest timeline page (timeline-page.ts), or the page
 * before `before` (a previous view's `olderCursor`).
 */

/** The view of a complaint the caller may see, or 404 (absent and invisible look the same). */
export async function getComplaintView(
  ctx: ServiceContext,
  principal: Principal,
  complaintId: string,
  before?: string,
) {
  const complaint = await loadVisible(ctx, principal, complaintId);
  return agentView(ctx, principal, complaint, before);
}

export async function agentView(
  ctx: ServiceContext,
  principal: Principal,
  complaint: Complaint,
  before?: string,
) {
  const page = await readTimelinePage(ctx, complaint.id, before);
  const view = toAgentView(complaint, page.entries, availableActions(principal, complaint));
  return page.olderCursor === undefined ? view : { ...view, olderCursor: page.olderCursor };
}
