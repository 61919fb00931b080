import type * as z from 'zod';
import { OPEN_STATUSES } from '../domain/lifecycle';
import { DETAIL_TYPES, SOURCES } from '../events/names';
import {
  ClockEventV1,
  ComplaintActionV1,
  ComplaintAssignedV1,
  ComplaintClassifiedV1,
  ComplaintEscalatedV1,
  ComplaintReceivedV1,
  ComplaintRejectedV1,
  type OutboundEvent,
} from '../events/schemas';
import type { BacklogGroup } from '../storage/ports';

/**
 * The live business figures, derived from the lifecycle events this service publishes — every state
 * change publishes one — plus the backlog gauge of the SLA sweep. Pure: no I/O; `MeteredPublisher`
 * (shared/metrics/metered-publisher.ts) emits what `lifecycleMetrics` returns after each successful
 * publish, for every function, and the infra dashboard and alarms read the names from {@link METRICS}.
 *
 * **Cost: log fields first, metrics only where an alarm needs one.** Each point is one JSON document
 * on the function's log (`shared/metrics/emf-sink.ts`): the figure under its name and the values of
 * its {@link MetricDefinition.fields} (channel, category, department…), which CloudWatch Logs
 * Insights aggregates on demand and the dashboard's log widgets query. Logs cost by the byte, whatever
 * the number of distinct values. A CloudWatch metric costs $0.30 a month for every distinct
 * combination of name and dimension values that is published in the month, so only the definitions
 * with `metric: true` are also extracted as metrics (Embedded Metric Format), and only as their total
 * (no dimension): {@link customMetricCount} = 2, whatever the policy (the default one would have given
 * 139 with the former per-channel, per-category and per-department dimension sets). The per-value
 * splits are for reading: the dashboard's log widgets show them live, the periodic reports exactly.
 * No field carries an id, a number or free text, and no document has Powertools' `service`: a
 * lifecycle fact is the same whichever function observed it (escalations come from four functions,
 * closures from three).
 *
 * **What the values mean.**
 * - Counts are 1 per state change. A published event counts once per function instance even if it
 *   is republished (a replay after a lost response has the same event id); across instances a
 *   replay may count twice. The exact figures are the reports' (idempotent aggregates).
 * - `TimeTo*` are wall-clock seconds from the clock's start to the action that met it: from
 *   receipt, or for a reopened complaint's first response and resolution from the reopening.
 *   Waiting on the customer is included (the paused time is in the clock log, not in the event);
 *   not measured in working hours. A clock without `startedAt` yields no duration.
 * - `SlaMetOnTime` is 1 (met on time) or 0 (met late: breached before, or met after `dueAt`) per
 *   met clock, so its average is the on-time share. Clocks are met only by actions on a running
 *   complaint (acknowledge, respond, request-info, resolve), never while paused, so this is the
 *   clock log's own `late` verdict. Clocks stopped unmet (closing, rejection) appear only in
 *   `SlaBreaches` if they were breached.
 * - `SurveySatisfied` is 1 when the answer closed the complaint and 0 when it reopened it (the
 *   policy's `reopenAtOrBelow`), so its average is the satisfied share.
 * - `OpenComplaints` / `OldestOpenComplaintAge` are gauges the sweep writes every few minutes: one
 *   document for all open complaints, one per open status and one per department.
 */

/** The values a document may carry beside its figure (Logs Insights groups by them). */
export const FIELD_KEYS = [
  'channel',
  'category',
  'severity',
  'department',
  'clock',
  'level',
  'verdict',
  'status',
] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

/** Units, spelled as CloudWatch (and Powertools' `MetricUnit`) spell them. */
export type MetricUnitName = 'Count' | 'Seconds' | 'None';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
  /** The values each point carries as fields of its document (each only when known). */
  readonly fields: readonly FieldKey[];
  /**
   * Also a CloudWatch metric: its total (no dimension) is extracted from the document. Only for what
   * an alarm reads; every other figure is log-only, aggregated on demand.
   */
  readonly metric: boolean;
  readonly description: string;
}

/** One data point: one value with the field values it applies to. */
export interface MetricPoint {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly value: number;
  /** Fields of the document (a complaint not yet routed has no department: the field is left out). */
  readonly fields: Readonly<Record<string, string>>;
  /** Whether CloudWatch extracts the point's total as a metric (else: log only). */
  readonly metric: boolean;
}

const byDepartment = ['department'] as const;

/** Every figure this module produces. The dashboard and alarms import the names from here. */
export const METRICS = {
  received: {
    name: 'ComplaintsReceived',
    unit: 'Count',
    fields: ['channel'],
    metric: false,
    description: 'Complaints accepted at intake, per channel',
  },
  rejected: {
    name: 'ComplaintsRejected',
    unit: 'Count',
    fields: ['verdict'],
    metric: false,
    description:
      'Complaints found invalid, per verdict (spam, abusive, duplicate, out of scope, insufficient)',
  },
  classified: {
    name: 'ComplaintsClassified',
    unit: 'Count',
    fields: ['category', 'severity'],
    metric: true,
    description:
      'Valid complaints classified, per category and severity (the breach-rate alarm reads the total)',
  },
  repeat: {
    name: 'RepeatComplaints',
    unit: 'Count',
    fields: ['category'],
    metric: false,
    description: 'Classified complaints that repeat one of the same customer and category (policy window)',
  },
  assigned: {
    name: 'ComplaintsAssigned',
    unit: 'Count',
    fields: byDepartment,
    metric: false,
    description: 'Complaints routed to a lead department',
  },
  acknowledged: {
    name: 'ComplaintsAcknowledged',
    unit: 'Count',
    fields: byDepartment,
    metric: false,
    description: 'Acknowledgement clocks met (acknowledge, first reply or information request)',
  },
  timeToAcknowledge: {
    name: 'TimeToAcknowledge',
    unit: 'Seconds',
    fields: byDepartment,
    metric: false,
    description: 'Wall-clock seconds from receipt to the acknowledgement',
  },
  timeToFirstResponse: {
    name: 'TimeToFirstResponse',
    unit: 'Seconds',
    fields: byDepartment,
    metric: false,
    description: 'Wall-clock seconds from receipt (or reopening) to the first response',
  },
  timeToResolution: {
    name: 'TimeToResolution',
    unit: 'Seconds',
    fields: byDepartment,
    metric: false,
    description: 'Wall-clock seconds from receipt (or reopening) to the resolution',
  },
  metOnTime: {
    name: 'SlaMetOnTime',
    unit: 'Count',
    fields: ['clock'],
    metric: false,
    description: 'Per met clock: 1 when met on time, 0 when late (average = on-time share)',
  },
  warnings: {
    name: 'SlaWarnings',
    unit: 'Count',
    fields: ['clock'],
    metric: false,
    description: 'Clocks that reached their warning point',
  },
  breaches: {
    name: 'SlaBreaches',
    unit: 'Count',
    fields: ['clock', 'severity', 'department'],
    metric: true,
    description:
      'Clocks that passed their deadline unmet, once per clock (the breach-rate alarm reads the total)',
  },
  escalations: {
    name: 'Escalations',
    unit: 'Count',
    fields: ['level'],
    metric: false,
    description: 'Escalations, per level of the chain (team lead, department head, executive on duty)',
  },
  resolved: {
    name: 'ComplaintsResolved',
    unit: 'Count',
    fields: byDepartment,
    metric: false,
    description: 'Complaints resolved',
  },
  reopened: {
    name: 'ComplaintsReopened',
    unit: 'Count',
    fields: byDepartment,
    metric: false,
    description: 'Complaints reopened by the customer (low score or a reply after resolution)',
  },
  closed: {
    name: 'ComplaintsClosed',
    unit: 'Count',
    fields: [],
    metric: false,
    description: 'Complaints closed (by an agent, a satisfied answer or an unanswered survey)',
  },
  customerReplies: {
    name: 'CustomerReplies',
    unit: 'Count',
    fields: [],
    metric: false,
    description: "Customers' replies through the tracking link",
  },
  surveysRequested: {
    name: 'SurveysRequested',
    unit: 'Count',
    fields: [],
    metric: false,
    description: 'Satisfaction surveys sent',
  },
  surveysUnanswered: {
    name: 'SurveysUnanswered',
    unit: 'Count',
    fields: [],
    metric: false,
    description: 'Complaints closed because the survey was not answered in time',
  },
  surveyScore: {
    name: 'SurveyScore',
    unit: 'None',
    fields: byDepartment,
    metric: false,
    description: 'Survey answers, 1–5 (average = satisfaction score, count = answers)',
  },
  surveySatisfied: {
    name: 'SurveySatisfied',
    unit: 'Count',
    fields: [],
    metric: false,
    description: 'Per survey answer: 1 when it closed the complaint, 0 when it reopened it',
  },
  openComplaints: {
    name: 'OpenComplaints',
    unit: 'Count',
    fields: ['status', 'department'],
    metric: false,
    description: 'Backlog gauge (SLA sweep): open complaints in all, per status and per lead department',
  },
  oldestOpenAge: {
    name: 'OldestOpenComplaintAge',
    unit: 'Seconds',
    fields: byDepartment,
    metric: false,
    description: 'Ageing gauge (SLA sweep): seconds since the receipt of the oldest open complaint',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** The definitions that are also CloudWatch metrics (each one custom metric: its total). */
export function customMetrics(): MetricDefinition[] {
  return (Object.values(METRICS) as MetricDefinition[]).filter((d) => d.metric);
}

/**
 * The number of custom metrics the catalogue can create: one per definition with `metric`, since
 * only totals are extracted. It does not depend on the policy (more departments add no metric).
 */
export function customMetricCount(): number {
  return customMetrics().length;
}

type FieldValues = Partial<Record<FieldKey, string | undefined>>;

/** A point with the values of its definition's fields that are known (a missing one is left out). */
function point(definition: MetricDefinition, value: number, values: FieldValues): MetricPoint {
  const fields = Object.fromEntries(
    definition.fields
      .filter((key) => typeof values[key] === 'string' && values[key] !== '')
      .map((key) => [key, values[key] as string]),
  );
  return { name: definition.name, unit: definition.unit, value, fields, metric: definition.metric };
}

const CLOCKS = ['acknowledge', 'firstResponse', 'resolution'] as const;
type Clock = (typeof CLOCKS)[number];

const DURATION_OF: Record<Clock, MetricDefinition> = {
  acknowledge: METRICS.timeToAcknowledge,
  firstResponse: METRICS.timeToFirstResponse,
  resolution: METRICS.timeToResolution,
};

/** The actions that can meet a clock (the clock is then `met` with `metAt` = the event's time). */
const CLOCK_MEETING_ACTIONS: ReadonlySet<string> = new Set([
  DETAIL_TYPES.acknowledged,
  DETAIL_TYPES.responded,
  DETAIL_TYPES.infoRequested,
  DETAIL_TYPES.resolved,
]);

function parsed<S extends z.ZodType>(schema: S, detail: unknown): z.infer<S> | undefined {
  const result = schema.safeParse(detail);
  return result.success ? result.data : undefined;
}

const defined = (points: (MetricPoint | undefined)[]): MetricPoint[] =>
  points.filter((p): p is MetricPoint => p !== undefined);

/**
 * The data points of one published event (none for events that measure nothing, and none for a
 * detail that does not match its schema).
 */
export function lifecycleMetrics(
  event: Pick<OutboundEvent, 'source' | 'detailType' | 'detail'>,
): MetricPoint[] {
  const { detail } = event;
  switch (event.detailType) {
    case DETAIL_TYPES.complaintReceived: {
      const e = parsed(ComplaintReceivedV1, detail);
      return e === undefined ? [] : defined([point(METRICS.received, 1, { channel: e.data.channel })]);
    }
    case DETAIL_TYPES.complaintRejected: {
      const e = parsed(ComplaintRejectedV1, detail);
      return e === undefined ? [] : defined([point(METRICS.rejected, 1, { verdict: e.data.verdict })]);
    }
    case DETAIL_TYPES.complaintClassified: {
      const e = parsed(ComplaintClassifiedV1, detail);
      if (e === undefined) return [];
      const { category, severity, isRepeat } = e.data;
      return defined([
        point(METRICS.classified, 1, { category, severity }),
        isRepeat ? point(METRICS.repeat, 1, { category }) : undefined,
      ]);
    }
    case DETAIL_TYPES.complaintAssigned: {
      const e = parsed(ComplaintAssignedV1, detail);
      return e === undefined
        ? []
        : defined([point(METRICS.assigned, 1, { department: e.data.leadDepartment })]);
    }
    case DETAIL_TYPES.slaWarning:
    case DETAIL_TYPES.slaBreached: {
      const e = parsed(ClockEventV1, detail);
      if (e === undefined) return [];
      const { clock, severity, leadDepartment } = e.data;
      return event.detailType === DETAIL_TYPES.slaWarning
        ? defined([point(METRICS.warnings, 1, { clock })])
        : defined([point(METRICS.breaches, 1, { clock, severity, department: leadDepartment })]);
    }
    case DETAIL_TYPES.escalated: {
      const e = parsed(ComplaintEscalatedV1, detail);
      return e === undefined ? [] : defined([point(METRICS.escalations, 1, { level: String(e.data.level) })]);
    }
    case DETAIL_TYPES.surveyRequested:
      return defined([point(METRICS.surveysRequested, 1, {})]);
    default:
      return actionMetrics(event);
  }
}

/** Metrics of the action events (ComplaintActionV1): clocks met, resolutions, reopenings, closings, surveys. */
function actionMetrics(event: Pick<OutboundEvent, 'source' | 'detailType' | 'detail'>): MetricPoint[] {
  const actionTypes: readonly string[] = [
    ...CLOCK_MEETING_ACTIONS,
    DETAIL_TYPES.reopened,
    DETAIL_TYPES.closed,
    DETAIL_TYPES.customerReplied,
    DETAIL_TYPES.surveyAnswered,
  ];
  if (!actionTypes.includes(event.detailType)) return [];
  const e = parsed(ComplaintActionV1, event.detail);
  if (e === undefined) return [];
  const department = e.data.leadDepartment;
  const points: (MetricPoint | undefined)[] = [];
  if (CLOCK_MEETING_ACTIONS.has(event.detailType)) points.push(...clocksMet(e));
  switch (event.detailType) {
    case DETAIL_TYPES.resolved:
      points.push(point(METRICS.resolved, 1, { department }));
      break;
    case DETAIL_TYPES.reopened:
      points.push(point(METRICS.reopened, 1, { department }));
      break;
    case DETAIL_TYPES.closed:
      points.push(point(METRICS.closed, 1, {}));
      // The survey function closes a complaint only when its survey went unanswered.
      if (event.source === SOURCES.survey) points.push(point(METRICS.surveysUnanswered, 1, {}));
      break;
    case DETAIL_TYPES.customerReplied:
      points.push(point(METRICS.customerReplies, 1, {}));
      break;
    case DETAIL_TYPES.surveyAnswered:
      if (e.data.score !== undefined) points.push(point(METRICS.surveyScore, e.data.score, { department }));
      // A satisfied answer closes the complaint, a dissatisfied one reopens it (policy reopenAtOrBelow).
      if (e.data.status === 'closed' || e.data.status === 'reopened') {
        points.push(point(METRICS.surveySatisfied, e.data.status === 'closed' ? 1 : 0, {}));
      }
      break;
  }
  return defined(points);
}

/** The clocks this action met: `met` with `metAt` at the event's own time (the same write). */
function clocksMet(e: z.infer<typeof ComplaintActionV1>): (MetricPoint | undefined)[] {
  const at = Date.parse(e.metadata.occurredAt);
  const department = e.data.leadDepartment;
  const points: (MetricPoint | undefined)[] = [];
  for (const clock of CLOCKS) {
    const d = e.data.deadlines?.[clock];
    if (d?.state !== 'met' || d.metAt === undefined || Date.parse(d.metAt) !== at) continue;
    const late = d.breachedAt !== undefined || at > Date.parse(d.dueAt);
    points.push(point(METRICS.metOnTime, late ? 0 : 1, { clock }));
    if (clock === 'acknowledge') points.push(point(METRICS.acknowledged, 1, { department }));
    const started = d.startedAt === undefined ? Number.NaN : Date.parse(d.startedAt);
    if (!Number.isNaN(started) && at >= started) {
      points.push(point(DURATION_OF[clock], (at - started) / 1000, { department }));
    }
  }
  return points;
}

/**
 * The backlog and ageing gauges from the open complaints grouped by department and status: all open
 * complaints, per status (every open status, zeros included), per department (every department given,
 * zeros included), and the age of the oldest open complaint overall and per department. A document
 * for all open complaints carries neither `status` nor `department`.
 */
export function backlogMetrics(
  groups: readonly BacklogGroup[],
  departments: readonly string[],
  now: Date,
): MetricPoint[] {
  const { openComplaints, oldestOpenAge } = METRICS;
  const gauge = point;
  const sum = (of: readonly BacklogGroup[]) => of.reduce((n, g) => n + g.count, 0);
  const age = (of: readonly BacklogGroup[]): number | undefined => {
    const oldest = of
      .filter((g) => g.count > 0 && g.oldestReceivedAt !== undefined)
      .map((g) => Date.parse(g.oldestReceivedAt as string))
      .filter((t) => !Number.isNaN(t));
    return oldest.length === 0 ? undefined : Math.max(0, (now.getTime() - Math.min(...oldest)) / 1000);
  };
  const points: MetricPoint[] = [gauge(openComplaints, sum(groups), {})];
  for (const status of OPEN_STATUSES) {
    points.push(gauge(openComplaints, sum(groups.filter((g) => g.status === status)), { status }));
  }
  for (const department of departments) {
    points.push(
      gauge(openComplaints, sum(groups.filter((g) => g.department === department)), { department }),
    );
  }
  const overall = age(groups);
  if (overall !== undefined) points.push(gauge(oldestOpenAge, overall, {}));
  for (const department of departments) {
    const seconds = age(groups.filter((g) => g.department === department));
    if (seconds !== undefined) points.push(gauge(oldestOpenAge, seconds, { department }));
  }
  return points;
}
