import type { Complaint } from '../domain/complaint';
import { transition } from '../domain/lifecycle';
import {
  chooseAgent,
  eligibleAgents,
  findDepartment,
  type RoutingInput,
  routeToDepartments,
} from '../domain/routing';
import { SOURCES } from '../events/names';
import { buildEvent, type OutboundEvent } from '../events/schemas';
import type { Policy } from '../policy/schema';
import { ComplaintNotFoundError, type TimelineEntry } from '../storage/ports';
import { PoisonMessageError, type ServiceContext } from './context';
import { retryOnConflict } from './retry';

export type AssignmentOutcome = 'assigned' | 'republished' | 'skipped';

/**
 * Routes a classified complaint to its lead department (plus collaborators) and
 * the least-loaded eligible agent, in one conditional transaction that also
 * increments the agent's open-complaint counter (refused at capacity, so two
 * concurrent assignments cannot overfill an agent). Publishes `Complaint Assigned`,
 * naming who must be alerted now: the team lead when no agent was eligible, the
 * executive on duty for the severities the policy escalates at intake.
 */
export async function assignComplaint(ctx: ServiceContext, complaintId: string): Promise<AssignmentOutcome> {
  // Concurrent assignments race for the same least-loaded agent: the loser's
  // capacity-guarded write conflicts, and it chooses again from fresh loads. A burst of
  // customer replies rewrites the record for a second or two: enough attempts to ride it out
  // rather than give the record back for a visibility timeout (a minute).
  return retryOnConflict(() => assignOnce(ctx, complaintId), ASSIGNMENT_CONFLICT_ATTEMPTS);
}

/** Attempts of an assignment against concurrent writers (backoff up to 1 s each: ~3 s at most). */
export const ASSIGNMENT_CONFLICT_ATTEMPTS = 8;

async function assignOnce(ctx: ServiceContext, complaintId: string): Promise<AssignmentOutcome> {
  const { store, policy } = ctx;
  const complaint = await store.get(complaintId);
  if (complaint === undefined) throw new PoisonMessageError(new ComplaintNotFoundError(complaintId).message);
  if (complaint.assignment !== undefined && complaint.status !== 'reopened') {
    await ctx.publisher.publish(assignmentEvents(policy, complaint));
    return 'republished';
  }
  const classification = complaint.classification;
  if (classification === undefined || classification.validity !== 'valid') {
    // Rejected or never classified: nothing to assign. Not an error: a later
    // reclassification publishes a new `Complaint Classified`.
    return 'skipped';
  }
  const now = ctx.now();
  const input: RoutingInput = {
    category: classification.category,
    severity: classification.severity,
    tier: complaint.tier,
    language: complaint.language,
  };
  const route = routeToDepartments(policy, input);
  const department = findDepartment(policy, route.leadDepartment);
  const loads = await store.agentLoads(eligibleAgents(department, input).map((a) => a.id));
  const choice = chooseAgent(department, input, loads);
  const assignee = choice.agent?.id;
  const next: Complaint = {
    ...complaint,
    version: complaint.version + 1,
    status: transition(complaint.status, 'assign'),
    assignment: {
      leadDepartment: route.leadDepartment,
      collaborators: route.collaborators,
      assignee,
      reason:
        choice.needsAttention === undefined ? route.reason : `${route.reason}; ${choice.needsAttention}`,
      assignedAt: now.toISOString(),
    },
    updatedAt: now.toISOString(),
  };
  const timeline: TimelineEntry[] = [
    {
      at: now.toISOString(),
      type: 'assigned',
      actor: 'system:assignment',
      summary:
        assignee === undefined
          ? `Routed to ${route.leadDepartment}; no eligible agent, team lead alerted`
          : `Assigned to ${assignee} in ${route.leadDepartment}`,
      data: {
        leadDepartment: route.leadDepartment,
        collaborators: route.collaborators,
        assignee,
        reason: next.assignment?.reason,
        alerted: alerts(policy, next),
      },
    },
  ];
  const previousAssignee = complaint.assignment?.assignee;
  await store.update({
    next,
    expectedVersion: complaint.version,
    timeline,
    agentLoadChanges: [
      ...(assignee === undefined ? [] : [{ agentId: assignee, delta: 1, capacity: choice.agent?.capacity }]),
      ...(previousAssignee === undefined ? [] : [{ agentId: previousAssignee, delta: -1 }]),
    ],
  });
  await ctx.publisher.publish(assignmentEvents(policy, next));
  return 'assigned';
}

/** Who must hear about this assignment now. */
export function alerts(policy: Policy, complaint: Complaint): Array<{ role: string; contact: string }> {
  const result: Array<{ role: string; contact: string }> = [];
  const assignment = complaint.assignment;
  if (assignment === undefined) return result;
  if (assignment.assignee === undefined) {
    result.push({ role: 'team_lead', contact: findDepartment(policy, assignment.leadDepartment).teamLead });
  }
  const severity = complaint.classification?.severity;
  if (severity !== undefined && policy.escalation.alertTopLevelAtIntake.includes(severity)) {
    result.push({ role: 'executive_on_duty', contact: policy.escalation.executiveOnDuty });
  }
  return result;
}

function assignmentEvents(policy: Policy, complaint: Complaint): OutboundEvent[] {
  const a = complaint.assignment;
  const c = complaint.classification;
  if (a === undefined || c === undefined) return [];
  const top = policy.escalation.levels.at(-1);
  const majorAlert =
    top !== undefined && policy.escalation.alertTopLevelAtIntake.includes(c.severity)
      ? [
          buildEvent('escalated', SOURCES.assignment, {
            metadata: {
              version: 1,
              eventId: `${complaint.id}:escalated:intake:${a.assignedAt}`,
              occurredAt: a.assignedAt,
              correlationId: complaint.id,
            },
            data: {
              complaintId: complaint.id,
              number: complaint.number,
              level: top.level,
              role: top.role,
              contact: policy.escalation.executiveOnDuty,
              reason: 'major_at_intake',
              leadDepartment: a.leadDepartment,
              assignee: a.assignee,
              detectedBy: 'action',
            },
          }),
        ]
      : [];
  return [
    ...majorAlert,
    buildEvent('complaintAssigned', SOURCES.assignment, {
      metadata: {
        version: 1,
        eventId: `${complaint.id}:assigned:${a.assignedAt}`,
        occurredAt: a.assignedAt,
        correlationId: complaint.id,
      },
      data: {
        complaintId: complaint.id,
        number: complaint.number,
        category: c.category,
        severity: c.severity,
        priority: c.priority,
        leadDepartment: a.leadDepartment,
        collaborators: a.collaborators,
        assignee: a.assignee,
        needsAttention: a.assignee === undefined ? a.reason : undefined,
        alerted: alerts(policy, complaint),
        deadlines: complaint.deadlines,
      },
    }),
  ];
}
