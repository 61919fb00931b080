import { type FieldKey, METRICS, type MetricDefinition } from '../../shared/metrics/lifecycle-metrics';
import { OPERATIONAL_COUNTERS, type OperationalCounter } from '../../shared/metrics/operational-counters';

/**
 * The dashboard's CloudWatch Logs Insights widgets: queries over the JSON documents the functions
 * write (shared/metrics/emf-sink.ts), one document per figure, `{"<Name>": value, "<field>": "…"}`.
 * They replace the per-channel, per-category, per-department… metrics: a log field costs nothing
 * per distinct value, a metric $0.30 a month. A query is billed by the bytes it scans, each time the
 * dashboard loads or refreshes (docs/deploy.md, section 10).
 *
 * Built from {@link METRICS}: a breakdown by a field the documents of a figure never carry throws at
 * synth, as would a graph that stays empty for ever.
 */

export type QueryView = 'line' | 'bar' | 'table';

export interface DashboardQuery {
  readonly title: string;
  /** The query after its `SOURCE` lines, one command per entry. */
  readonly lines: readonly string[];
  readonly view: QueryView;
  /** `publishers`: the log groups of the functions that publish lifecycle events; `all`: every function's. */
  readonly source: 'publishers' | 'all';
  /** The catalogue's figures it reads (for the tests: every figure is on the dashboard). */
  readonly reads: readonly string[];
  readonly width: number;
}

export interface DashboardSection {
  readonly heading: string;
  readonly queries: readonly DashboardQuery[];
}

const m = METRICS;
const BIN = 'bin(5m)';

/** `filter ispresent(A) or ispresent(B)`: the documents of these figures. */
function present(...definitions: readonly MetricDefinition[]): string {
  return `filter ${definitions.map((d) => `ispresent(${d.name})`).join(' or ')}`;
}

/** `field`, for a `by` clause, once every figure read carries it (else the groups would be empty). */
export function by(field: FieldKey, ...definitions: readonly MetricDefinition[]): string {
  for (const d of definitions) {
    if (!d.fields.includes(field)) throw new Error(`${d.name} documents never carry the field ${field}`);
  }
  return field;
}

const query = (
  title: string,
  view: QueryView,
  reads: readonly MetricDefinition[],
  lines: readonly string[],
  width = 8,
): DashboardQuery => ({ title, view, lines, reads: reads.map((d) => d.name), source: 'publishers', width });

/** Hours from seconds, for the durations (`fields X / 3600 as alias`). */
const hours = (definition: MetricDefinition, alias: string) => `${definition.name} / 3600 as ${alias}`;

function volume(): DashboardSection {
  const flow = [m.received, m.classified, m.rejected, m.assigned];
  return {
    heading: 'Volume',
    queries: [
      query(
        'Intake every 5 minutes: received, classified, rejected, assigned',
        'line',
        flow,
        [
          present(...flow),
          `stats sum(${m.received.name}) as received, sum(${m.classified.name}) as classified, sum(${m.rejected.name}) as rejected, sum(${m.assigned.name}) as assigned by ${BIN}`,
        ],
        12,
      ),
      query(
        'Received per channel',
        'bar',
        [m.received],
        [
          present(m.received),
          `stats sum(${m.received.name}) as received by ${by('channel', m.received)}`,
          'sort received desc',
        ],
        12,
      ),
      query(
        'Classified and repeat complaints per category',
        'bar',
        [m.classified, m.repeat],
        [
          present(m.classified, m.repeat),
          `stats sum(${m.classified.name}) as classified, sum(${m.repeat.name}) as repeats by ${by('category', m.classified, m.repeat)}`,
          'sort classified desc',
        ],
      ),
      query(
        'Classified per severity',
        'bar',
        [m.classified],
        [
          present(m.classified),
          `stats sum(${m.classified.name}) as classified by ${by('severity', m.classified)}`,
        ],
      ),
      query(
        'Rejected per verdict',
        'bar',
        [m.rejected],
        [present(m.rejected), `stats sum(${m.rejected.name}) as rejected by ${by('verdict', m.rejected)}`],
      ),
    ],
  };
}

function sla(): DashboardSection {
  const clocks = [m.metOnTime, m.warnings, m.breaches];
  const durations = [m.timeToAcknowledge, m.timeToFirstResponse, m.timeToResolution];
  return {
    heading: 'SLA compliance',
    queries: [
      query('Per clock: met on time (%), warnings, breaches', 'table', clocks, [
        present(...clocks),
        `fields 100 * ${m.metOnTime.name} as onTime`,
        `stats avg(onTime) as onTimePercent, count(${m.metOnTime.name}) as met, sum(${m.warnings.name}) as warned, sum(${m.breaches.name}) as breached by ${by('clock', ...clocks)}`,
      ]),
      query(
        'SLA breaches per department and severity',
        'table',
        [m.breaches],
        [
          present(m.breaches),
          `stats sum(${m.breaches.name}) as breaches by ${by('department', m.breaches)}, ${by('severity', m.breaches)}`,
          'sort breaches desc',
        ],
      ),
      query('Hours to acknowledge, first response, resolution (p50, p90)', 'line', durations, [
        present(...durations),
        `fields ${hours(m.timeToAcknowledge, 'ack')}, ${hours(m.timeToFirstResponse, 'firstResponse')}, ${hours(m.timeToResolution, 'resolution')}`,
        `stats pct(ack, 50) as ackP50, pct(ack, 90) as ackP90, pct(firstResponse, 50) as firstResponseP50, pct(firstResponse, 90) as firstResponseP90, pct(resolution, 50) as resolutionP50, pct(resolution, 90) as resolutionP90 by bin(1h)`,
      ]),
    ],
  };
}

function backlog(): DashboardSection {
  const open = m.openComplaints;
  const oldest = m.oldestOpenAge;
  return {
    heading: 'Backlog and ageing',
    queries: [
      // The documents of all open complaints carry neither status nor department.
      query(
        'Open complaints (all)',
        'line',
        [open],
        [
          `${present(open)} and isempty(${by('status', open)}) and isempty(${by('department', open)})`,
          `stats max(${open.name}) as open by ${BIN}`,
        ],
      ),
      query(
        'Oldest open complaint (hours)',
        'line',
        [oldest],
        [
          `${present(oldest)} and isempty(${by('department', oldest)})`,
          `fields ${hours(oldest, 'age')}`,
          `stats max(age) as oldestHours by ${BIN}`,
        ],
      ),
      query(
        'Open now per status',
        'bar',
        [open],
        [
          `${present(open)} and ispresent(${by('status', open)})`,
          `stats latest(${open.name}) as open by status`,
        ],
      ),
      query(
        'Open now per department',
        'bar',
        [open],
        [
          `${present(open)} and ispresent(${by('department', open)})`,
          `stats latest(${open.name}) as open by department`,
        ],
        12,
      ),
      query(
        'Oldest open complaint now per department (hours)',
        'bar',
        [oldest],
        [
          `${present(oldest)} and ispresent(${by('department', oldest)})`,
          `fields ${hours(oldest, 'age')}`,
          'stats latest(age) as oldestHours by department',
        ],
        12,
      ),
    ],
  };
}

function flow(): DashboardSection {
  const figures = [m.received, m.resolved, m.reopened, m.closed, m.escalations, m.customerReplies];
  return {
    heading: 'Flow and escalations',
    queries: [
      query(
        'Every 5 minutes: received, resolved, reopened, closed, escalations, customer replies',
        'line',
        figures,
        [
          present(...figures),
          `stats sum(${m.received.name}) as received, sum(${m.resolved.name}) as resolved, sum(${m.reopened.name}) as reopened, sum(${m.closed.name}) as closed, sum(${m.escalations.name}) as escalations, sum(${m.customerReplies.name}) as customerReplies by ${BIN}`,
        ],
        12,
      ),
      query(
        'Escalations per level (team lead → department head → executive on duty)',
        'bar',
        [m.escalations],
        [
          present(m.escalations),
          `stats sum(${m.escalations.name}) as escalations by ${by('level', m.escalations)}`,
        ],
        6,
      ),
      query(
        'Acknowledged, assigned and resolved per department',
        'table',
        [m.acknowledged, m.assigned, m.resolved],
        [
          present(m.acknowledged, m.assigned, m.resolved),
          `stats sum(${m.assigned.name}) as assigned, sum(${m.acknowledged.name}) as acknowledged, sum(${m.resolved.name}) as resolved by ${by('department', m.assigned, m.acknowledged, m.resolved)}`,
        ],
        6,
      ),
    ],
  };
}

function satisfaction(): DashboardSection {
  const surveys = [m.surveysRequested, m.surveyScore, m.surveySatisfied, m.surveysUnanswered];
  return {
    heading: 'Satisfaction',
    queries: [
      query(
        'Surveys: requested, answered, average score (1–5), satisfied (%), unanswered',
        'table',
        surveys,
        [
          present(...surveys),
          `fields 100 * ${m.surveySatisfied.name} as satisfied`,
          `stats sum(${m.surveysRequested.name}) as requested, count(${m.surveyScore.name}) as answered, avg(${m.surveyScore.name}) as averageScore, avg(satisfied) as satisfiedPercent, sum(${m.surveysUnanswered.name}) as unanswered`,
        ],
        12,
      ),
      query(
        'Average survey score per department',
        'bar',
        [m.surveyScore],
        [
          present(m.surveyScore),
          `stats avg(${m.surveyScore.name}) as averageScore, count(${m.surveyScore.name}) as answers by ${by('department', m.surveyScore)}`,
        ],
        12,
      ),
    ],
  };
}

/** Every function's log: Lambda's REPORT lines, the operational counters, errors and timeouts. */
function operations(): DashboardQuery[] {
  const counters = Object.keys(OPERATIONAL_COUNTERS) as OperationalCounter[];
  return [
    {
      title: 'Functions: invocations, cold starts, duration (ms), memory used (MB)',
      view: 'table',
      source: 'all',
      reads: [],
      width: 24,
      lines: [
        'filter @type = "REPORT"',
        'stats count(*) as invocations, count(@initDuration) as coldStarts, pct(@duration, 50) as p50, pct(@duration, 99) as p99, max(@duration) as maxDuration, max(@maxMemoryUsed / 1000 / 1000) as memoryMB by @log',
        'sort invocations desc',
      ],
    },
    {
      title: 'Operational counters per service (poison messages, 503 answers, sweep repairs…)',
      view: 'table',
      source: 'all',
      reads: counters,
      width: 12,
      lines: [
        `filter ${counters.map((name) => `ispresent(${name})`).join(' or ')}`,
        `stats ${counters.map((name) => `sum(${name}) as ${name}`).join(', ')} by service`,
      ],
    },
    {
      title: 'Latest errors and timeouts',
      view: 'table',
      source: 'all',
      reads: [],
      width: 12,
      lines: [
        'filter level = "ERROR" or @message like /Task timed out/',
        'fields @timestamp, @log, message, error.name',
        'sort @timestamp desc',
        'limit 20',
      ],
    },
  ];
}

/** The business sections, top to bottom. */
export function businessSections(): DashboardSection[] {
  return [volume(), sla(), backlog(), flow(), satisfaction()];
}

/** The operations section's log widgets. */
export function operationsQueries(): DashboardQuery[] {
  return operations();
}
