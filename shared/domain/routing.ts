import * as z from 'zod';
import type { Agent, Department, Policy } from '../policy/schema';
import type { Language, Severity } from '../policy/vocabulary';
import { SEVERITIES } from '../policy/vocabulary';

/**
 * Routing: which department leads a complaint, which ones collaborate, and which
 * agent owns it.
 *
 * Ownership is never left unclear: a category without a rule goes to the policy's
 * fallback department, and a department without an eligible agent keeps the
 * complaint unassigned to a person *and says so* (`needsAttention`), so the team
 * lead is alerted instead of the complaint bouncing between teams.
 */

export interface RoutingInput {
  category: string;
  severity: Severity;
  tier: string;
  language: Language;
}

export interface DepartmentRoute {
  leadDepartment: string;
  collaborators: string[];
  /** Why this route was chosen, for the timeline. */
  reason: string;
}

/**
 * Where the routing rules would send a complaint whose classification changed, when
 * that is not its current lead department. A suggestion only (API result and event):
 * moving a complaint is the reassign action's job.
 */
export const RoutingSuggestionSchema = z.object({
  leadDepartment: z.string(),
  collaborators: z.array(z.string()),
  reason: z.string().describe('The routing rule that decided it.'),
});
export type RoutingSuggestion = z.infer<typeof RoutingSuggestionSchema>;

/** Lead department and collaborators for a classified complaint. First matching rule wins. */
export function routeToDepartments(policy: Policy, input: RoutingInput): DepartmentRoute {
  const rule = policy.routing.rules.find(
    (r) =>
      r.category === input.category && (r.severities === undefined || r.severities.includes(input.severity)),
  );
  if (rule === undefined) {
    return {
      leadDepartment: policy.routing.fallbackDepartment,
      collaborators: [],
      reason: `no routing rule for category "${input.category}"; fallback department`,
    };
  }
  return {
    leadDepartment: rule.lead,
    collaborators: rule.collaborators.filter((c) => c !== rule.lead),
    reason: `routing rule for category "${rule.category}"${rule.severities ? ` (${rule.severities.join(', ')})` : ''}`,
  };
}

/** An agent's current number of open complaints, read from the store. */
export type AgentLoads = ReadonlyMap<string, number>;

export interface AgentChoice {
  agent?: Agent;
  /** Set when no agent is eligible: the reason, so the team lead can act. */
  needsAttention?: string;
}

function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Agents of `department` who may take this complaint, before load is considered. */
export function eligibleAgents(department: Department, input: RoutingInput): Agent[] {
  return department.agents.filter(
    (a) =>
      a.languages.includes(input.language) &&
      (a.tiers === undefined || a.tiers.includes(input.tier)) &&
      severityRank(input.severity) <= severityRank(a.maxSeverity),
  );
}

/**
 * The least-loaded eligible agent. Load is relative to capacity (an agent at 10 of
 * 20 is busier than one at 10 of 40); agents at capacity are skipped; ties go to the
 * agent with the fewest open complaints, then to the policy order (stable).
 */
export function chooseAgent(department: Department, input: RoutingInput, loads: AgentLoads): AgentChoice {
  const eligible = eligibleAgents(department, input);
  if (eligible.length === 0) {
    return {
      needsAttention: `no agent in "${department.id}" serves ${input.language}/${input.tier}/${input.severity}`,
    };
  }
  const withRoom = eligible
    .map((agent, order) => ({ agent, order, load: loads.get(agent.id) ?? 0 }))
    .filter((c) => c.load < c.agent.capacity);
  if (withRoom.length === 0) {
    return { needsAttention: `every eligible agent in "${department.id}" is at capacity` };
  }
  withRoom.sort(
    (a, b) => a.load / a.agent.capacity - b.load / b.agent.capacity || a.load - b.load || a.order - b.order,
  );
  return { agent: withRoom[0]?.agent };
}

export function findDepartment(policy: Policy, id: string): Department {
  const department = policy.routing.departments.find((d) => d.id === id);
  if (department === undefined)
    throw new Error(`Unknown department "${id}" (the policy schema should prevent this)`);
  return department;
}
