import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ActionRequest } from '../api/schemas';
import { TIMELINE_OUTBOX_KEY, TIMELINE_REQUEST_KEY } from '../api/views';
import {
  type AgentAction,
  authorizeComplaint,
  type ComplaintScope,
  permittedActions,
} from '../auth/authorization';
import type { Principal } from '../auth/principal';
import { priorityOf, type RecentComplaint, repeatsOf } from '../domain/classification';
import { escalationContact, meetClock, pauseClocks, reclassifyClocks, stopClocks } from '../domain/clocks';
import type { ClockName, Complaint } from '../domain/complaint';
import {
  type ComplaintStatus,
  canTransition,
  IllegalTransitionError,
  type LifecycleAction,
  transition,
} from '../domain/lifecycle';
import { checkAgentAction } from '../domain/limits';
import { chooseAgent, type RoutingSuggestion, routeToDepartments } from '../domain/routing';
import { CLOCK_NAMES } from '../domain/sla';
import { DETAIL_TYPES, SOURCES } from '../events/names';
import { type Actor, buildEvent, type EVENT_CATALOG, type OutboundEvent } from '../events/schemas';
import type { Policy } from '../policy/schema';
import type { Language, Severity } from '../policy/vocabulary';
import { type ComplaintUpdate, ConcurrencyConflictError, type TimelineEntry } from '../storage/ports';
import type { ServiceContext } from './context';
import { readLatestEntries } from './timeline-page';
import { syncTimers, withTimers } from './timers';

/**
 * The agent API's application service: list queues, read a complaint, perform one
 * lifecycle action. Follows the other services: load, decide purely (authorization,
 * lifecycle, clocks), write conditionally on the version read, then change the
 * schedules and publish events with deterministic ids.
 *
 * **A lost response is safe to retry.** Each action's timeline entry keeps a
 * fingerprint of the request and the events it publishes (an outbox). If the publish
 * fails after the write, the caller gets 503 and retries the same request with the
 * same `expectedVersion`: the service recognises its own write (version + 1, same
 * fingerprint) and publishes the same events again (same event ids, consumers dedupe)
 * instead of answering with a version conflict.
 */

// ---------------------------------------------------------------------------
// Errors (mapped to HTTP by the handler)

export interface FieldProblem {
  field: string;
  reason: string;
}

/** 404 (not visible, or absent: the caller cannot tell) or 403 (visible, not theirs to change). */
export class ComplaintAccessError extends Error {
  override name = 'ComplaintAccessError';
  constructor(
    readonly status: 403 | 404,
    reason: string,
  ) {
    super(reason);
  }
}

/** A request that is well-formed but refers to something that does not fit (unknown department…): 400. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(readonly errors: FieldProblem[]) {
    super(errors.map((e) => `${e.field}: ${e.reason}`).join('; '));
  }
}

/** The action is not possible in the complaint's current status: 409 with what is possible. */
export class IllegalActionError extends Error {
  override name = 'IllegalActionError';
  constructor(
    readonly status: ComplaintStatus,
    readonly action: AgentAction,
    readonly allowedActions: AgentAction[],
  ) {
    super(`"${action}" is not possible while the complaint is "${status}"`);
  }
}

/** The caller's `expectedVersion` is not the stored one: 409 with the current version. */
export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
  constructor(
    readonly complaintId: string,
    readonly currentVersion: number,
  ) {
    super(`Complaint ${complaintId} is at version ${currentVersion}; reload it and try again`);
  }
}

/** Resolving needs an approved proposal covering the resolution: 409. */
export class ApprovalRequiredError extends Error {
  override name = 'ApprovalRequiredError';
}

// ---------------------------------------------------------------------------
// Pure decisions

/** The lifecycle action behind each API action (add-collaborator is allowed where reassign is). */
export const LIFECYCLE_OF: Readonly<Record<AgentAction, LifecycleAction>> = {
  acknowledge: 'acknowledge',
  respond: 'respond',
  'request-info': 'request_info',
  'propose-solution': 'propose_solution',
  approve: 'approve',
  reject: 'reject_solution',
  resolve: 'resolve',
  reassign: 'reassign',
  'add-collaborator': 'reassign',
  close: 'close',
  reclassify: 'reclassify',
};

export function scopeOf(c: Complaint): ComplaintScope {
  return {
    leadDepartment: c.assignment?.leadDepartment,
    collaborators: c.assignment?.collaborators ?? [],
    proposedBy: c.proposal?.proposedBy,
  };
}

/** What `principal` may do to `c` now: permitted by role and department, and possible in its status. */
export function availableActions(principal: Principal, c: Complaint): AgentAction[] {
  return permittedActions(principal, scopeOf(c)).filter((a) => canTransition(c.status, LIFECYCLE_OF[a]));
}

type Money = { amount: number; currency: string };

/**
 * Whether a solution needs a supervisor's approval: always for the policy's
 * severities (major), and for compensation above the threshold. Compensation in
 * another currency than the policy's cannot be compared with the threshold without an
 * exchange rate, so it always needs approval.
 */
export function requiresApproval(
  policy: Policy,
  severity: Severity | undefined,
  compensation?: Money,
): boolean {
  if (severity !== undefined && policy.approval.alwaysForSeverities.includes(severity)) return true;
  if (compensation === undefined) return false;
  if (compensation.currency !== policy.currency) return true;
  return compensation.amount > policy.approval.compensationAbove;
}

/**
 * Why a resolution may not go ahead yet, or undefined when it may: when the proposal
 * or the resolution itself needs approval, there must be an approved proposal whose
 * compensation covers the resolution's (same currency, not less).
 */
export function approvalProblem(policy: Policy, c: Complaint, compensation?: Money): string | undefined {
  const proposal = c.proposal;
  const needed =
    proposal?.needsApproval === true || requiresApproval(policy, c.classification?.severity, compensation);
  if (!needed) return undefined;
  if (proposal === undefined) return 'This resolution needs an approved proposal: propose the solution first';
  if (proposal.approval?.decision !== 'approved') {
    return proposal.approval?.decision === 'rejected'
      ? 'The proposal was rejected: propose a new solution'
      : 'The proposed solution has not been approved yet';
  }
  const approved = proposal.compensation;
  if (
    compensation !== undefined &&
    (approved === undefined ||
      approved.currency !== compensation.currency ||
      compensation.amount > approved.amount)
  ) {
    return 'The compensation exceeds what was approved: propose it again';
  }
  return undefined;
}

type ActionEventKey = Extract<
  keyof typeof EVENT_CATALOG,
  | 'acknowledged'
  | 'responded'
  | 'infoRequested'
  | 'solutionProposed'
  | 'solutionApproved'
  | 'solutionRejected'
  | 'resolved'
  | 'reassigned'
  | 'collaboratorAdded'
  | 'closed'
  | 'reclassified'
>;

const EVENT_OF: Readonly<Record<AgentAction, ActionEventKey>> = {
  acknowledge: 'acknowledged',
  respond: 'responded',
  'request-info': 'infoRequested',
  'propose-solution': 'solutionProposed',
  approve: 'solutionApproved',
  reject: 'solutionRejected',
  resolve: 'resolved',
  reassign: 'reassigned',
  'add-collaborator': 'collaboratorAdded',
  close: 'closed',
  reclassify: 'reclassified',
};

export type NotificationTemplate = 'agent_message' | 'info_request' | 'resolution' | 'closed' | 'reopened';

/** What an action event says beyond the complaint's state. */
interface ActionExtras {
  compensation?: Money;
  needsApproval?: boolean;
  score?: number;
  category?: string;
  severity?: Severity;
  priority?: number;
  previousClassification?: { category: string; severity: Severity; priority: number };
  routingSuggestion?: RoutingSuggestion;
}

interface Plan {
  next: Complaint;
  entry: { type: string; summary: string; data?: Record<string, unknown> };
  extras?: ActionExtras;
  notification?: { template: NotificationTemplate; text: string };
  agentLoadChanges?: NonNullable<ComplaintUpdate['agentLoadChanges']>;
  /** Further events after the action event and the notification, for the state written. */
  events?: (after: Complaint) => OutboundEvent[];
}

/** What an action may need read from the store before it is planned. */
export interface ActionLookups {
  /** Open-complaint counts of the agents an automatic reassignment chooses from. */
  loads?: ReadonlyMap<string, number>;
  /** The customer's complaints around this one, to tell a repeat of a new category (reclassify). */
  recent?: readonly RecentComplaint[];
}

/** An action command: the validated body with its expected version resolved (body or If-Match). */
export type ActionCommand = ActionRequest & { expectedVersion: number };

const CUSTOMER_TEXTS = {
  resolution: {
    zh: '您好，您的投诉 {number} 已处理完毕。处理结果：{solution}',
    en: 'Hello, your complaint {number} has been resolved. What we did: {solution}',
  },
  compensation: { zh: '补偿：{amount} {currency}。', en: 'Compensation: {amount} {currency}.' },
  closed: {
    zh: '您好，您的投诉 {number} 已结案，感谢您的反馈。',
    en: 'Hello, your complaint {number} has been closed. Thank you for your feedback.',
  },
} as const satisfies Record<string, Record<Language, string>>;

function fill(template: string, vars: Record<string, string>): string {
  return Object.entries(vars).reduce((text, [key, value]) => text.replaceAll(`{${key}}`, value), template);
}

function resolutionText(c: Complaint, solution: string, compensation?: Money): string {
  const main = fill(CUSTOMER_TEXTS.resolution[c.language], { number: c.number, solution });
  if (compensation === undefined) return main;
  const extra = fill(CUSTOMER_TEXTS.compensation[c.language], {
    amount: String(compensation.amount),
    currency: compensation.currency,
  });
  return `${main}${c.language === 'zh' ? '' : ' '}${extra}`;
}

function illegal(principal: Principal, c: Complaint, action: AgentAction): IllegalActionError {
  return new IllegalActionError(c.status, action, availableActions(principal, c));
}

/** `transition`, turning the lifecycle's refusal into the API's 409 with the caller's options. */
function move(principal: Principal, c: Complaint, action: AgentAction, lifecycle = LIFECYCLE_OF[action]) {
  try {
    return transition(c.status, lifecycle);
  } catch (error) {
    if (error instanceof IllegalTransitionError) throw illegal(principal, c, action);
    throw error;
  }
}

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

/**
 * The new state, timeline entry, events and load changes of one action, decided
 * from the stored complaint alone (plus agent loads for an automatic reassignment).
 * Pure; throws the API errors for what may not happen.
 */
export function planAction(
  policy: Policy,
  calendar: ServiceContext['calendar'],
  principal: Principal,
  c: Complaint,
  command: ActionCommand,
  now: Date,
  lookups: ActionLookups = {},
): Plan {
  const loads = lookups.loads ?? new Map<string, number>();
  const at = now.toISOString();
  const by = principal.id;
  switch (command.action) {
    case 'acknowledge': {
      const status = move(principal, c, 'acknowledge');
      return {
        next: {
          ...c,
          ...meetClock(c, 'acknowledge', now),
          status,
          work: { ...c.work, acknowledgedAt: c.work.acknowledgedAt ?? at },
        },
        entry: { type: 'acknowledged', summary: 'Acknowledged: the owner is working on it' },
      };
    }
    case 'respond': {
      const status = move(principal, c, 'respond');
      const acknowledged = { ...c, ...meetClock(c, 'acknowledge', now) };
      return {
        next: {
          ...acknowledged,
          ...meetClock(acknowledged, 'firstResponse', now),
          status,
          work: {
            ...c.work,
            acknowledgedAt: c.work.acknowledgedAt ?? at,
            firstResponseAt: c.work.firstResponseAt ?? at,
          },
        },
        entry: {
          type: 'responded',
          summary: 'Message sent to the customer',
          data: { message: command.message },
        },
        notification: { template: 'agent_message', text: command.message },
      };
    }
    case 'request-info': {
      const status = move(principal, c, 'request-info');
      // Asking the customer is a human reply: it meets the acknowledgement and first
      // response (as first-reply time is measured elsewhere); what is left pauses.
      const acknowledged = { ...c, ...meetClock(c, 'acknowledge', now) };
      const answered = { ...acknowledged, ...meetClock(acknowledged, 'firstResponse', now) };
      return {
        next: {
          ...answered,
          ...pauseClocks(answered, now),
          status,
          work: {
            ...c.work,
            acknowledgedAt: c.work.acknowledgedAt ?? at,
            firstResponseAt: c.work.firstResponseAt ?? at,
            waitingSince: at,
          },
        },
        entry: {
          type: 'info_requested',
          summary: 'Information requested from the customer; clocks paused',
          data: { message: command.message },
        },
        notification: { template: 'info_request', text: command.message },
      };
    }
    case 'propose-solution': {
      move(principal, c, 'propose-solution');
      const compensation =
        command.compensation === undefined
          ? undefined
          : {
              amount: command.compensation.amount,
              currency: command.compensation.currency ?? policy.currency,
            };
      const needsApproval = requiresApproval(policy, c.classification?.severity, compensation);
      const status = needsApproval
        ? move(principal, c, 'propose-solution', 'request_approval')
        : 'in_progress';
      return {
        next: {
          ...c,
          status,
          proposal: {
            solution: command.solution,
            ...(compensation === undefined ? {} : { compensation }),
            proposedBy: by,
            proposedAt: at,
            needsApproval,
          },
        },
        entry: {
          type: 'solution_proposed',
          summary: needsApproval ? 'Solution proposed; waiting for approval' : 'Solution proposed',
          data: { solution: command.solution, compensation, needsApproval },
        },
        extras: { compensation, needsApproval },
      };
    }
    case 'approve':
    case 'reject': {
      const status = move(principal, c, command.action);
      const proposal = c.proposal;
      if (proposal === undefined) throw illegal(principal, c, command.action);
      const decision = command.action === 'approve' ? 'approved' : 'rejected';
      const note = command.action === 'reject' ? command.reason : command.note;
      return {
        next: {
          ...c,
          status,
          proposal: {
            ...proposal,
            approval: { decision, by, at, ...(note === undefined ? {} : { note }) },
          },
        },
        entry: {
          type: command.action === 'approve' ? 'solution_approved' : 'solution_rejected',
          summary: command.action === 'approve' ? 'Proposed solution approved' : 'Proposed solution rejected',
          data: command.action === 'reject' ? { reason: command.reason } : undefined,
        },
        extras: { compensation: proposal.compensation, needsApproval: proposal.needsApproval },
      };
    }
    case 'resolve': {
      const status = move(principal, c, 'resolve');
      const compensation =
        command.compensation === undefined
          ? undefined
          : {
              amount: command.compensation.amount,
              currency: command.compensation.currency ?? policy.currency,
            };
      const problem = approvalProblem(policy, c, compensation);
      if (problem !== undefined) throw new ApprovalRequiredError(problem);
      const met = { ...c, ...meetClock(c, 'resolution', now) };
      const assignee = c.assignment?.assignee;
      return {
        next: {
          ...met,
          ...stopClocks(met, now, ['acknowledge', 'firstResponse']),
          status,
          work: withoutKey(c.work, 'waitingSince'),
          resolution: {
            rootCause: command.rootCause,
            solution: command.solution,
            ...(compensation === undefined ? {} : { compensation }),
            resolvedBy: by,
            resolvedAt: at,
          },
          survey: { sendAt: calendar.add(now, policy.survey.sendAfter).toISOString() },
        },
        entry: {
          type: 'resolved',
          summary: 'Resolved; satisfaction survey scheduled',
          data: { rootCause: command.rootCause, solution: command.solution, compensation },
        },
        extras: { compensation },
        notification: { template: 'resolution', text: resolutionText(c, command.solution, compensation) },
        // A resolved complaint no longer counts against its owner's capacity (a reopening adds it back).
        agentLoadChanges: assignee === undefined ? [] : [{ agentId: assignee, delta: -1 }],
      };
    }
    case 'reassign':
      return planReassign(policy, principal, c, command, now, loads);
    case 'add-collaborator': {
      move(principal, c, 'add-collaborator');
      const assignment = c.assignment;
      if (assignment === undefined) throw illegal(principal, c, 'add-collaborator');
      const department = command.department;
      if (!policy.routing.departments.some((d) => d.id === department)) {
        throw new RequestValidationError([
          { field: 'department', reason: `unknown department "${department}"` },
        ]);
      }
      if (department === assignment.leadDepartment || assignment.collaborators.includes(department)) {
        throw new RequestValidationError([
          { field: 'department', reason: 'is already the lead or a collaborating department' },
        ]);
      }
      return {
        next: {
          ...c,
          assignment: { ...assignment, collaborators: [...assignment.collaborators, department] },
        },
        entry: {
          type: 'collaborator_added',
          summary: `Collaborating department added: ${department}`,
          data: { department },
        },
      };
    }
    case 'reclassify':
      return planReclassify(policy, calendar, principal, c, command, now, lookups.recent ?? []);
    case 'close': {
      const status = move(principal, c, 'close');
      return {
        next: { ...c, ...stopClocks(c, now), status, work: withoutKey(c.work, 'waitingSince') },
        entry: {
          type: 'closed',
          summary: 'Closed by an agent',
          data: command.reason === undefined ? undefined : { reason: command.reason },
        },
        notification: {
          template: 'closed',
          text: fill(CUSTOMER_TEXTS.closed[c.language], { number: c.number }),
        },
      };
    }
  }
}

function planReassign(
  policy: Policy,
  principal: Principal,
  c: Complaint,
  command: Extract<ActionCommand, { action: 'reassign' }>,
  now: Date,
  loads: ReadonlyMap<string, number>,
): Plan {
  move(principal, c, 'reassign');
  const assignment = c.assignment;
  if (assignment === undefined) throw illegal(principal, c, 'reassign');
  const departmentId = command.department ?? assignment.leadDepartment;
  const department = policy.routing.departments.find((d) => d.id === departmentId);
  if (department === undefined) {
    throw new RequestValidationError([
      { field: 'department', reason: `unknown department "${departmentId}"` },
    ]);
  }
  let assignee = command.assignee;
  let capacity: number | undefined;
  let reason = `reassigned by ${principal.id}`;
  if (assignee !== undefined) {
    if (!department.agents.some((a) => a.id === assignee)) {
      throw new RequestValidationError([
        { field: 'assignee', reason: `is not an agent of the "${department.id}" department` },
      ]);
    }
  } else if (departmentId === assignment.leadDepartment) {
    throw new RequestValidationError([
      { field: 'assignee', reason: 'name the new owner to reassign within the same department' },
    ]);
  } else {
    const classification = c.classification;
    const choice =
      classification === undefined
        ? { needsAttention: 'the complaint is not classified' }
        : chooseAgent(
            department,
            {
              category: classification.category,
              severity: classification.severity,
              tier: c.tier,
              language: c.language,
            },
            loads,
          );
    assignee = choice.agent?.id;
    capacity = choice.agent?.capacity;
    if (choice.needsAttention !== undefined) reason = `${reason}; ${choice.needsAttention}`;
  }
  const previous = assignment.assignee;
  if (assignee === previous && departmentId === assignment.leadDepartment) {
    throw new RequestValidationError([{ field: 'assignee', reason: 'is already the owner' }]);
  }
  const changes: NonNullable<Plan['agentLoadChanges']> = [];
  if (assignee !== previous) {
    if (assignee !== undefined)
      changes.push({ agentId: assignee, delta: 1, ...(capacity === undefined ? {} : { capacity }) });
    if (previous !== undefined) changes.push({ agentId: previous, delta: -1 });
  }
  const next: Complaint = {
    ...c,
    assignment: {
      leadDepartment: department.id,
      collaborators: assignment.collaborators.filter((d) => d !== department.id),
      ...(assignee === undefined ? {} : { assignee }),
      reason,
      assignedAt: now.toISOString(),
    },
  };
  return {
    next,
    entry: {
      type: 'reassigned',
      summary:
        assignee === undefined
          ? `Moved to ${department.id}; no eligible agent with room, team lead to assign`
          : `Reassigned to ${assignee} in ${department.id}`,
      data: {
        from: { department: assignment.leadDepartment, assignee: previous },
        to: { department: department.id, assignee },
      },
    },
    agentLoadChanges: changes,
  };
}

/**
 * Where the routing rules send `c` as now classified, when that is not its current
 * lead department; undefined when they agree, or before assignment (the assignment
 * routes by the current classification anyway).
 */
export function routingSuggestionFor(policy: Policy, c: Complaint): RoutingSuggestion | undefined {
  const classification = c.classification;
  const lead = c.assignment?.leadDepartment;
  if (classification === undefined || lead === undefined) return undefined;
  const route = routeToDepartments(policy, {
    category: classification.category,
    severity: classification.severity,
    tier: c.tier,
    language: c.language,
  });
  return route.leadDepartment === lead ? undefined : route;
}

/**
 * Reclassify (supervisor or admin): a new category and/or severity.
 *
 * - **Classification**: category and severity as given (an unknown category is 400;
 *   a request that changes nothing is 400); the priority follows the policy's rule
 *   (`priorityOf`: base[severity] − tier boost − repeat boost, 1…4). The repeat
 *   status is kept when the category stays; for a new category it is decided again
 *   from the customer's complaints of that category (`repeatsOf`, as the classifier
 *   does). The keywords and severity rules of the automatic classification stay as
 *   its audit trail; the timeline entry records the previous and new values and the
 *   internal reason.
 * - **Clocks**: `reclassifyClocks` — unmet clocks get the new row's targets measured
 *   from when they started (receipt), waiting time still excluded, met clocks kept,
 *   paused clocks stay paused; the timers follow (schedules created, moved, removed).
 * - **Routing**: never moved automatically — moving a complaint changes its owner and
 *   queue, which is reassign's decision. When the routing rules name another lead
 *   department for the new classification, `routingSuggestion` says so (result,
 *   timeline, event).
 * - **Escalation**: a severity raised into `escalation.alertTopLevelAtIntake` (major)
 *   alerts the top escalation level now (`Complaint Escalated`, reason
 *   `reclassified_major`), as an assignment with that severity would have. Not before
 *   assignment (status `classified`): the assignment then alerts it (major_at_intake).
 * - The status does not change.
 */
function planReclassify(
  policy: Policy,
  calendar: ServiceContext['calendar'],
  principal: Principal,
  c: Complaint,
  command: Extract<ActionCommand, { action: 'reclassify' }>,
  now: Date,
  recent: readonly RecentComplaint[],
): Plan {
  move(principal, c, 'reclassify');
  const previous = c.classification;
  if (previous === undefined) throw illegal(principal, c, 'reclassify');
  if (command.category !== undefined && !policy.categories.some((k) => k.id === command.category)) {
    throw new RequestValidationError([
      {
        field: 'category',
        reason: `unknown category "${command.category}"; one of ${policy.categories.map((k) => k.id).join(', ')}`,
      },
    ]);
  }
  const category = command.category ?? previous.category;
  const severity = command.severity ?? previous.severity;
  if (category === previous.category && severity === previous.severity) {
    throw new RequestValidationError([
      {
        field: command.category === undefined ? 'severity' : 'category',
        reason: 'is already the classification: nothing to change',
      },
    ]);
  }
  const repeat =
    category === previous.category
      ? previous.repeat
      : (() => {
          const earlier = repeatsOf(
            policy,
            { now, selfId: c.id, receivedAt: new Date(c.receivedAt) },
            recent,
            category,
            previous.duplicateOf,
          );
          return { isRepeat: earlier.length > 0, previous: earlier };
        })();
  const priority = priorityOf(policy, { severity, tier: c.tier, isRepeat: repeat.isRepeat });
  const classified: Complaint = {
    ...c,
    classification: { ...previous, category, severity, priority, repeat },
  };
  const next: Complaint = { ...classified, ...reclassifyClocks(classified, policy, calendar, now) };

  const clocks: Partial<Record<ClockName, Record<string, string>>> = {};
  for (const clock of CLOCK_NAMES) {
    const before = c.deadlines[clock];
    const after = next.deadlines[clock];
    if (before === undefined || after === undefined || before === after) continue;
    clocks[clock] = {
      previousDueAt: before.dueAt,
      dueAt: after.dueAt,
      previousState: before.state,
      state: after.state,
    };
  }
  const routingSuggestion = routingSuggestionFor(policy, next);
  const topSeverities = policy.escalation.alertTopLevelAtIntake;
  const top = [...policy.escalation.levels].sort((a, b) => a.level - b.level).at(-1);
  const escalation =
    top !== undefined &&
    c.status !== 'classified' &&
    topSeverities.includes(severity) &&
    !topSeverities.includes(previous.severity)
      ? { level: top.level, role: top.role, contact: escalationContact(policy, next, top.role) }
      : undefined;
  const was = { category: previous.category, severity: previous.severity, priority: previous.priority };
  const becomes = { category, severity, priority };
  return {
    next,
    entry: {
      type: 'reclassified',
      summary: `Reclassified from ${was.category} / ${was.severity} (P${was.priority}) to ${category} / ${severity} (P${priority})${
        routingSuggestion === undefined ? '' : `; routing rules suggest ${routingSuggestion.leadDepartment}`
      }${escalation === undefined ? '' : `; ${escalation.role} alerted`}`,
      data: {
        reason: command.reason,
        previous: was,
        classification: becomes,
        ...(repeat === previous.repeat ? {} : { repeatOf: repeat.previous }),
        clocks,
        ...(routingSuggestion === undefined ? {} : { routingSuggestion }),
        ...(escalation === undefined ? {} : { escalation }),
      },
    },
    extras: { ...becomes, previousClassification: was, routingSuggestion },
    events:
      escalation === undefined
        ? undefined
        : (after) => [
            buildEvent('escalated', SOURCES.agent, {
              metadata: {
                version: 1,
                eventId: `${after.id}:escalated:reclassified:${after.version}`,
                occurredAt: after.updatedAt,
                correlationId: after.id,
              },
              data: {
                complaintId: after.id,
                number: after.number,
                level: escalation.level,
                role: escalation.role,
                contact: escalation.contact,
                reason: 'reclassified_major',
                leadDepartment: after.assignment?.leadDepartment,
                assignee: after.assignment?.assignee,
                detectedBy: 'action',
              },
            }),
          ],
  };
}

// ---------------------------------------------------------------------------
// Events

export function actorOf(principal: Principal): Actor {
  return {
    type: 'agent',
    id: principal.id,
    role: principal.role,
    ...(principal.department === undefined ? {} : { department: principal.department }),
  };
}

/** A lifecycle action event (ComplaintActionV1) for the state `after`, id `<id>:<action>:<version>`. */
export function actionEvent(
  key: keyof typeof EVENT_CATALOG & (ActionEventKey | 'customerReplied' | 'reopened' | 'surveyAnswered'),
  source: string,
  after: Complaint,
  input: ActionExtras & {
    action: string;
    actor: Actor;
    previousStatus: ComplaintStatus;
  },
): OutboundEvent {
  return buildEvent(key, source, {
    metadata: {
      version: 1,
      eventId: `${after.id}:${input.action}:${after.version}`,
      occurredAt: after.updatedAt,
      correlationId: after.id,
    },
    data: {
      complaintId: after.id,
      number: after.number,
      action: input.action,
      actor: input.actor,
      previousStatus: input.previousStatus,
      status: after.status,
      leadDepartment: after.assignment?.leadDepartment,
      assignee: after.assignment?.assignee,
      collaborators: after.assignment?.collaborators,
      compensation: input.compensation,
      needsApproval: input.needsApproval,
      score: input.score,
      reopenCount: after.reopenCount,
      category: input.category,
      severity: input.severity,
      priority: input.priority,
      previousClassification: input.previousClassification,
      routingSuggestion: input.routingSuggestion,
      deadlines: after.deadlines,
    },
  });
}

/** A message for the customer, for the company's messaging service. */
export function notificationEvent(
  source: string,
  after: Complaint,
  template: NotificationTemplate,
  text: string,
): OutboundEvent {
  const { customer } = after.submission;
  return buildEvent('customerNotificationRequested', source, {
    metadata: {
      version: 1,
      eventId: `${after.id}:notification:${template}:${after.version}`,
      occurredAt: after.updatedAt,
      correlationId: after.id,
    },
    data: {
      complaintId: after.id,
      number: after.number,
      template,
      language: after.language,
      channel: after.submission.channel,
      customer: { id: customer.id, contactRef: customer.contactRef },
      text,
    },
  });
}

// ---------------------------------------------------------------------------
// Performing an action

export interface PerformedAction {
  action: AgentAction;
  previousStatus: ComplaintStatus;
  complaint: Complaint;
  /** True when the request had already been applied and only its events were published again. */
  replayed: boolean;
  /** Set when the schedules could not be changed after the write (the sweep is the backstop). */
  schedulingError?: unknown;
  /** reclassify: where the routing rules would send the complaint now, when not its lead department. */
  routingSuggestion?: RoutingSuggestion;
}

/** Loads a complaint the caller may see, or throws 404 (absent and invisible look the same). */
export async function loadVisible(
  ctx: ServiceContext,
  principal: Principal,
  complaintId: string,
): Promise<Complaint> {
  const complaint = await ctx.store.get(complaintId);
  if (complaint === undefined || !authorizeComplaint(principal, 'view', scopeOf(complaint)).allow) {
    throw new ComplaintAccessError(404, 'No complaint with this id');
  }
  return complaint;
}

/** Same request from the same caller on the same version → same fingerprint (for replay detection). */
function fingerprint(principal: Principal, complaintId: string, command: ActionCommand): string {
  return createHash('sha256')
    .update(JSON.stringify([principal.id, complaintId, command]))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Authorizes and performs one action: the transition, its clock changes and record
 * changes, one timeline entry, a conditional write (a stale `expectedVersion` is a
 * {@link VersionConflictError}), the schedule changes, then the action event and any
 * customer notification (event ids `<id>:<action>:<new version>`).
 */
export async function performAction(
  ctx: ServiceContext,
  principal: Principal,
  complaintId: string,
  command: ActionCommand,
): Promise<PerformedAction> {
  const current = await loadVisible(ctx, principal, complaintId);
  const access = authorizeComplaint(principal, command.action, scopeOf(current));
  if (!access.allow) throw new ComplaintAccessError(access.status, access.reason);
  const requestId = fingerprint(principal, complaintId, command);
  if (current.version !== command.expectedVersion) {
    const replay = await replayIfApplied(ctx, current, command, requestId);
    if (replay !== undefined) return replay;
    throw new VersionConflictError(complaintId, current.version);
  }

  checkAgentAction(ctx.policy.limits, current, command);
  const now = ctx.now();
  const lookups = await lookupsFor(ctx, current, command);
  const plan = planAction(ctx.policy, ctx.calendar, principal, current, command, now, lookups);
  const next = withTimers(
    { ...plan.next, version: current.version + 1, updatedAt: now.toISOString() },
    ctx.policy,
  );
  const events = [
    actionEvent(EVENT_OF[command.action], SOURCES.agent, next, {
      action: command.action,
      actor: actorOf(principal),
      previousStatus: current.status,
      ...plan.extras,
    }),
    ...(plan.notification === undefined
      ? []
      : [notificationEvent(SOURCES.agent, next, plan.notification.template, plan.notification.text)]),
    ...(plan.events?.(next) ?? []),
  ];
  const entry: TimelineEntry = {
    at: now.toISOString(),
    type: plan.entry.type,
    actor: `agent:${principal.id}`,
    summary: plan.entry.summary,
    data: {
      ...plan.entry.data,
      ...(command.note === undefined ? {} : { note: command.note }),
      action: command.action,
      ...replayData(next, current.status, requestId, events),
    },
  };
  try {
    await ctx.store.update({
      next,
      expectedVersion: current.version,
      timeline: [entry],
      agentLoadChanges: plan.agentLoadChanges,
    });
  } catch (error) {
    if (!(error instanceof ConcurrencyConflictError)) throw error;
    const fresh = await ctx.store.get(complaintId);
    if (fresh === undefined) throw error;
    if (fresh.version === current.version) {
      // Nothing else wrote: the conflict was an agent's capacity check on the automatic choice.
      throw new RequestValidationError([
        { field: 'assignee', reason: 'the chosen agent filled up meanwhile; retry or name an assignee' },
      ]);
    }
    const replay = await replayIfApplied(ctx, fresh, command, requestId);
    if (replay !== undefined) return replay;
    throw new VersionConflictError(complaintId, fresh.version);
  }
  let schedulingError: unknown;
  try {
    await syncTimers(ctx, current, next);
  } catch (error) {
    schedulingError = error;
  }
  await ctx.publisher.publish(events);
  return {
    action: command.action,
    previousStatus: current.status,
    complaint: next,
    replayed: false,
    ...(schedulingError === undefined ? {} : { schedulingError }),
    ...suggestionOf(ctx, command, next),
  };
}

/** The routing suggestion a reclassify result carries (also for a replay: it follows from the stored state). */
function suggestionOf(
  ctx: ServiceContext,
  command: ActionCommand,
  c: Complaint,
): { routingSuggestion?: RoutingSuggestion } {
  if (command.action !== 'reclassify') return {};
  const routingSuggestion = routingSuggestionFor(ctx.policy, c);
  return routingSuggestion === undefined ? {} : { routingSuggestion };
}

const DAY_MS = 86_400_000;

/** Reads what planning the action needs from the store: agent loads (automatic reassignment), the customer's complaints (a new category). */
async function lookupsFor(ctx: ServiceContext, c: Complaint, command: ActionCommand): Promise<ActionLookups> {
  if (command.action === 'reclassify') {
    if (command.category === undefined || command.category === c.classification?.category) return {};
    const since = new Date(Date.parse(c.receivedAt) - ctx.policy.repeat.windowDays * DAY_MS).toISOString();
    return {
      recent: await ctx.store.recentByCustomer(c.submission.customer.id, since, c.customerNamespace),
    };
  }
  if (command.action !== 'reassign' || command.assignee !== undefined || command.department === undefined) {
    return {};
  }
  const department = ctx.policy.routing.departments.find((d) => d.id === command.department);
  if (department === undefined || department.id === c.assignment?.leadDepartment) return {};
  return { loads: await ctx.store.agentLoads(department.agents.map((a) => a.id)) };
}

const OutboxSchema = z.array(
  z.object({
    source: z.string(),
    detailType: z.enum(Object.values(DETAIL_TYPES) as [string, ...string[]]),
    detail: z.object({
      metadata: z.looseObject({ eventId: z.string() }),
      data: z.record(z.string(), z.unknown()),
    }),
  }),
);

/**
 * When `current` is exactly one version past the request's and that version was
 * written by this very request (same fingerprint on its timeline entry), the earlier
 * attempt's write succeeded and only its response (or publish) was lost: publish its
 * events again and report the action as done.
 */
async function replayIfApplied(
  ctx: ServiceContext,
  current: Complaint,
  command: ActionCommand,
  requestId: string,
): Promise<PerformedAction | undefined> {
  if (current.version !== command.expectedVersion + 1) return undefined;
  const replay = await replayOwnWrite(ctx, current, await readLatestEntries(ctx, current.id), requestId);
  if (replay === undefined) return undefined;
  return {
    action: command.action,
    previousStatus: replay.previousStatus,
    complaint: current,
    replayed: true,
    ...suggestionOf(ctx, command, current),
  };
}

/**
 * Shared by the agent and customer services: if the latest write of `current` (its
 * version) came from the request with this fingerprint, publish that write's events
 * again from its timeline entry (same event ids) and return what it recorded.
 */
export async function replayOwnWrite(
  ctx: ServiceContext,
  current: Complaint,
  timeline: readonly TimelineEntry[],
  requestId: string,
): Promise<{ previousStatus: ComplaintStatus } | undefined> {
  const entry = timeline.find(
    (e) => e.data?.[TIMELINE_REQUEST_KEY] === requestId && e.data?.version === current.version,
  );
  const outbox = OutboxSchema.safeParse(entry?.data?.[TIMELINE_OUTBOX_KEY]);
  if (entry === undefined || !outbox.success) return undefined;
  await ctx.publisher.publish(outbox.data as OutboundEvent[]);
  const previousStatus = entry.data?.previousStatus;
  return {
    previousStatus: typeof previousStatus === 'string' ? (previousStatus as ComplaintStatus) : current.status,
  };
}

/** The timeline `data` that makes a write replayable: its version, prior status, request fingerprint and events. */
export function replayData(
  after: Complaint,
  previousStatus: ComplaintStatus,
  requestId: string,
  events: readonly OutboundEvent[],
): Record<string, unknown> {
  return {
    version: after.version,
    previousStatus,
    [TIMELINE_REQUEST_KEY]: requestId,
    [TIMELINE_OUTBOX_KEY]: events,
  };
}

// Reading: shared/services/agent-view.ts (views), shared/services/queue-listing.ts (queues).
