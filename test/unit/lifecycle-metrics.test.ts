import { describe, expect, it } from 'vitest';
import type { Deadline } from '../../shared/domain/complaint';
import { OPEN_STATUSES } from '../../shared/domain/lifecycle';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import { buildEvent, EVENT_CATALOG, type OutboundEvent } from '../../shared/events/schemas';
import {
  backlogMetrics,
  customMetricCount,
  customMetrics,
  FIELD_KEYS,
  lifecycleMetrics,
  METRICS,
  type MetricDefinition,
  type MetricPoint,
} from '../../shared/metrics/lifecycle-metrics';

const T0 = '2026-11-24T02:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const ref = { complaintId: 'c-1', number: 'C20261124-7KQ2MZ' };
const metadata = (what: string, occurredAt = T0) => ({
  version: 1 as const,
  eventId: `c-1:${what}`,
  occurredAt,
  correlationId: 'c-1',
});
const agent = {
  type: 'agent' as const,
  id: 'cs_wang',
  role: 'agent' as const,
  department: 'customer_service',
};

function deadline(overrides: Partial<Deadline> = {}): Deadline {
  return {
    dueAt: at(120),
    warnAt: at(90),
    basis: 'calendar',
    startedAt: T0,
    state: 'running',
    escalationLevel: 0,
    ...overrides,
  };
}

type ActionKey =
  | 'acknowledged'
  | 'responded'
  | 'infoRequested'
  | 'resolved'
  | 'reopened'
  | 'closed'
  | 'customerReplied'
  | 'surveyAnswered'
  | 'reassigned'
  | 'collaboratorAdded'
  | 'solutionProposed'
  | 'solutionApproved'
  | 'solutionRejected'
  | 'reclassified';

function action(
  key: ActionKey,
  occurredAt: string,
  data: Record<string, unknown> = {},
  source: string = SOURCES.agent,
): OutboundEvent {
  return buildEvent(key, source, {
    metadata: metadata(`${key}:${occurredAt}`, occurredAt),
    data: {
      ...ref,
      action: key,
      actor: agent,
      previousStatus: 'assigned',
      status: 'in_progress',
      leadDepartment: 'customer_service',
      ...data,
    } as never,
  });
}

/** One event of every outbound detail-type, with what it should measure. */
const SAMPLES: Record<string, { event: OutboundEvent; points: MetricPoint[] }> = {
  complaintReceived: {
    event: buildEvent('complaintReceived', SOURCES.intake, {
      metadata: metadata('received'),
      data: {
        ...ref,
        channel: 'web',
        tier: 'standard',
        language: 'zh',
        receivedAt: T0,
        promisedResponseBy: at(240),
        sourceSystem: 'api',
      },
    }),
    points: [
      { name: 'ComplaintsReceived', unit: 'Count', value: 1, fields: { channel: 'web' }, metric: false },
    ],
  },
  complaintRejected: {
    event: buildEvent('complaintRejected', SOURCES.classification, {
      metadata: metadata('rejected'),
      data: {
        ...ref,
        channel: 'email',
        verdict: 'spam',
        language: 'en',
        reason: 'This looks like spam.',
        contestable: true,
      },
    }),
    points: [
      { name: 'ComplaintsRejected', unit: 'Count', value: 1, fields: { verdict: 'spam' }, metric: false },
    ],
  },
  complaintClassified: {
    event: buildEvent('complaintClassified', SOURCES.classification, {
      metadata: metadata('classified'),
      data: {
        ...ref,
        channel: 'app',
        category: 'technical_fault',
        severity: 'urgent',
        priority: 2,
        tier: 'standard',
        language: 'zh',
        isRepeat: true,
        severityRules: [],
        deadlines: { acknowledge: deadline() },
      },
    }),
    points: [
      {
        name: 'ComplaintsClassified',
        unit: 'Count',
        value: 1,
        fields: { category: 'technical_fault', severity: 'urgent' },
        metric: true,
      },
      {
        name: 'RepeatComplaints',
        unit: 'Count',
        value: 1,
        fields: { category: 'technical_fault' },
        metric: false,
      },
    ],
  },
  complaintAssigned: {
    event: buildEvent('complaintAssigned', SOURCES.assignment, {
      metadata: metadata('assigned'),
      data: {
        ...ref,
        category: 'technical_fault',
        severity: 'urgent',
        priority: 2,
        leadDepartment: 'technical_support',
        collaborators: [],
        assignee: 'ts_li',
        alerted: [],
        deadlines: {},
      },
    }),
    points: [
      {
        name: 'ComplaintsAssigned',
        unit: 'Count',
        value: 1,
        fields: { department: 'technical_support' },
        metric: false,
      },
    ],
  },
  customerNotificationRequested: {
    event: buildEvent('customerNotificationRequested', SOURCES.intake, {
      metadata: metadata('notification'),
      data: {
        ...ref,
        template: 'acknowledgement',
        language: 'zh',
        channel: 'web',
        customer: { id: 'cust-1' },
        text: '已收到',
      },
    }),
    points: [],
  },
  slaWarning: {
    event: buildEvent('slaWarning', SOURCES.sla, {
      metadata: metadata('warn'),
      data: { ...ref, clock: 'firstResponse', dueAt: at(60), detectedBy: 'timer' },
    }),
    points: [
      { name: 'SlaWarnings', unit: 'Count', value: 1, fields: { clock: 'firstResponse' }, metric: false },
    ],
  },
  slaBreached: {
    event: buildEvent('slaBreached', SOURCES.sla, {
      metadata: metadata('breach'),
      data: {
        ...ref,
        clock: 'resolution',
        dueAt: at(60),
        leadDepartment: 'billing',
        severity: 'major',
        detectedBy: 'sweep',
      },
    }),
    points: [
      {
        name: 'SlaBreaches',
        unit: 'Count',
        value: 1,
        fields: { clock: 'resolution', severity: 'major', department: 'billing' },
        metric: true,
      },
    ],
  },
  escalated: {
    event: buildEvent('escalated', SOURCES.customer, {
      metadata: metadata('escalated'),
      data: {
        ...ref,
        level: 2,
        role: 'department_head',
        contact: 'head_cs',
        reason: 'reopened',
        detectedBy: 'action',
      },
    }),
    points: [{ name: 'Escalations', unit: 'Count', value: 1, fields: { level: '2' }, metric: false }],
  },
  surveyRequested: {
    event: buildEvent('surveyRequested', SOURCES.survey, {
      metadata: metadata('survey-requested'),
      data: { ...ref, language: 'zh', customer: { id: 'cust-1' }, answerBy: at(4320) },
    }),
    points: [{ name: 'SurveysRequested', unit: 'Count', value: 1, fields: {}, metric: false }],
  },
  // Built by hand: the reports' own contract is not read here.
  reportGenerated: {
    event: {
      source: SOURCES.reporting,
      detailType: DETAIL_TYPES.reportGenerated,
      detail: { metadata: metadata('report'), data: { kind: 'daily', periodId: '2026-11-24' } },
    },
    points: [],
  },
  // An erasure measures nothing: it changes no lifecycle fact.
  customerDataErased: {
    event: buildEvent('customerDataErased', SOURCES.privacy, {
      metadata: { ...metadata('erased'), correlationId: '01KERASURE0000000000000000' },
      data: {
        erasureId: '01KERASURE0000000000000000',
        trigger: 'request',
        reason: 'customer_request',
        requestedAt: at(0),
        completedAt: at(1),
        erased: {
          complaints: 1,
          timelineEntries: 3,
          idempotencyClaims: 1,
          trackingPointers: 1,
          customerDirectoryEntries: 0,
        },
      },
    }),
    points: [],
  },
  // Acknowledged 30 minutes after receipt, 90 before the deadline.
  acknowledged: {
    event: action('acknowledged', at(30), {
      deadlines: { acknowledge: deadline({ state: 'met', metAt: at(30) }) },
    }),
    points: [
      { name: 'SlaMetOnTime', unit: 'Count', value: 1, fields: { clock: 'acknowledge' }, metric: false },
      {
        name: 'ComplaintsAcknowledged',
        unit: 'Count',
        value: 1,
        fields: { department: 'customer_service' },
        metric: false,
      },
      {
        name: 'TimeToAcknowledge',
        unit: 'Seconds',
        value: 1800,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ],
  },
  // The acknowledgement was met earlier (its metAt is not this event's time): only the first response counts.
  responded: {
    event: action('responded', at(45), {
      deadlines: {
        acknowledge: deadline({ state: 'met', metAt: at(30) }),
        firstResponse: deadline({ dueAt: at(240), state: 'met', metAt: at(45) }),
      },
    }),
    points: [
      { name: 'SlaMetOnTime', unit: 'Count', value: 1, fields: { clock: 'firstResponse' }, metric: false },
      {
        name: 'TimeToFirstResponse',
        unit: 'Seconds',
        value: 2700,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ],
  },
  // An information request meets the acknowledgement and the first response at once; the resolution pauses.
  infoRequested: {
    event: action('infoRequested', at(150), {
      status: 'waiting_on_customer',
      deadlines: {
        acknowledge: deadline({ state: 'met', metAt: at(150), breachedAt: at(120) }),
        firstResponse: deadline({ dueAt: at(240), state: 'met', metAt: at(150) }),
        resolution: deadline({ dueAt: at(4000), state: 'paused', pausedAt: at(150) }),
      },
    }),
    points: [
      { name: 'SlaMetOnTime', unit: 'Count', value: 0, fields: { clock: 'acknowledge' }, metric: false },
      {
        name: 'ComplaintsAcknowledged',
        unit: 'Count',
        value: 1,
        fields: { department: 'customer_service' },
        metric: false,
      },
      {
        name: 'TimeToAcknowledge',
        unit: 'Seconds',
        value: 9000,
        fields: { department: 'customer_service' },
        metric: false,
      },
      { name: 'SlaMetOnTime', unit: 'Count', value: 1, fields: { clock: 'firstResponse' }, metric: false },
      {
        name: 'TimeToFirstResponse',
        unit: 'Seconds',
        value: 9000,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ],
  },
  // Resolved after a reopening: the resolution clock restarted at the reopening (minute 3000).
  resolved: {
    event: action('resolved', at(3600), {
      status: 'resolved',
      reopenCount: 1,
      deadlines: {
        acknowledge: deadline({ state: 'met', metAt: at(30) }),
        firstResponse: deadline({ state: 'stopped' }),
        resolution: deadline({ startedAt: at(3000), dueAt: at(5000), state: 'met', metAt: at(3600) }),
      },
    }),
    points: [
      { name: 'SlaMetOnTime', unit: 'Count', value: 1, fields: { clock: 'resolution' }, metric: false },
      {
        name: 'TimeToResolution',
        unit: 'Seconds',
        value: 36000,
        fields: { department: 'customer_service' },
        metric: false,
      },
      {
        name: 'ComplaintsResolved',
        unit: 'Count',
        value: 1,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ],
  },
  reopened: {
    event: action('reopened', at(3000), { status: 'reopened', previousStatus: 'resolved' }, SOURCES.customer),
    points: [
      {
        name: 'ComplaintsReopened',
        unit: 'Count',
        value: 1,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ],
  },
  // Closed by the survey function: the survey went unanswered.
  closed: {
    event: action('closed', at(9000), { status: 'closed', previousStatus: 'resolved' }, SOURCES.survey),
    points: [
      { name: 'ComplaintsClosed', unit: 'Count', value: 1, fields: {}, metric: false },
      { name: 'SurveysUnanswered', unit: 'Count', value: 1, fields: {}, metric: false },
    ],
  },
  customerReplied: {
    event: action('customerReplied', at(200), { status: 'in_progress' }, SOURCES.customer),
    points: [{ name: 'CustomerReplies', unit: 'Count', value: 1, fields: {}, metric: false }],
  },
  // A good score closes the complaint.
  surveyAnswered: {
    event: action('surveyAnswered', at(8000), { status: 'closed', score: 4 }, SOURCES.customer),
    points: [
      {
        name: 'SurveyScore',
        unit: 'None',
        value: 4,
        fields: { department: 'customer_service' },
        metric: false,
      },
      { name: 'SurveySatisfied', unit: 'Count', value: 1, fields: {}, metric: false },
    ],
  },
  reassigned: { event: action('reassigned', at(60)), points: [] },
  collaboratorAdded: { event: action('collaboratorAdded', at(60)), points: [] },
  solutionProposed: { event: action('solutionProposed', at(60)), points: [] },
  solutionApproved: { event: action('solutionApproved', at(60)), points: [] },
  solutionRejected: { event: action('solutionRejected', at(60)), points: [] },
  reclassified: {
    event: action('reclassified', at(60), {
      category: 'billing_dispute',
      severity: 'important',
      priority: 3,
    }),
    points: [],
  },
};

const outboundKeys = Object.entries(EVENT_CATALOG)
  .filter(([, definition]) => definition.direction === 'outbound')
  .map(([key]) => key);

describe('lifecycleMetrics: what each published event measures', () => {
  it('has a sample for every outbound detail-type of the catalog', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...outboundKeys].sort());
  });

  for (const [key, sample] of Object.entries(SAMPLES)) {
    it(`${sample.event.detailType} → ${sample.points.map((p) => p.name).join(', ') || 'nothing'}`, () => {
      expect(lifecycleMetrics(sample.event)).toEqual(sample.points);
      expect(key in EVENT_CATALOG).toBe(true);
    });
  }

  it('measures the detail-types that carry lifecycle facts, and no other', () => {
    const measuring = Object.values(SAMPLES)
      .filter((s) => lifecycleMetrics(s.event).length > 0)
      .map((s) => s.event.detailType)
      .sort();
    expect(measuring).toEqual(
      [
        DETAIL_TYPES.complaintReceived,
        DETAIL_TYPES.complaintRejected,
        DETAIL_TYPES.complaintClassified,
        DETAIL_TYPES.complaintAssigned,
        DETAIL_TYPES.slaWarning,
        DETAIL_TYPES.slaBreached,
        DETAIL_TYPES.escalated,
        DETAIL_TYPES.surveyRequested,
        DETAIL_TYPES.acknowledged,
        DETAIL_TYPES.responded,
        DETAIL_TYPES.infoRequested,
        DETAIL_TYPES.resolved,
        DETAIL_TYPES.reopened,
        DETAIL_TYPES.closed,
        DETAIL_TYPES.customerReplied,
        DETAIL_TYPES.surveyAnswered,
      ].sort(),
    );
  });

  it('a classification that is not a repeat counts only the classification', () => {
    const event = structuredClone(SAMPLES.complaintClassified?.event as OutboundEvent);
    event.detail.data.isRepeat = false;
    expect(lifecycleMetrics(event).map((p) => p.name)).toEqual(['ComplaintsClassified']);
  });

  it('a breach of a complaint not routed yet (no department, no severity) carries its clock only, and is still a metric', () => {
    const event = buildEvent('slaBreached', SOURCES.sla, {
      metadata: metadata('breach'),
      data: { ...ref, clock: 'acknowledge', dueAt: at(60), detectedBy: 'timer' },
    });
    expect(lifecycleMetrics(event)).toEqual([
      { name: 'SlaBreaches', unit: 'Count', value: 1, fields: { clock: 'acknowledge' }, metric: true },
    ]);
  });

  it('a dissatisfied answer (it reopened the complaint) counts 0 satisfied', () => {
    const event = action('surveyAnswered', at(8000), { status: 'reopened', score: 2 }, SOURCES.customer);
    expect(lifecycleMetrics(event)).toEqual([
      {
        name: 'SurveyScore',
        unit: 'None',
        value: 2,
        fields: { department: 'customer_service' },
        metric: false,
      },
      { name: 'SurveySatisfied', unit: 'Count', value: 0, fields: {}, metric: false },
    ]);
  });

  it('a closing by an agent or by a satisfied customer is no unanswered survey', () => {
    for (const source of [SOURCES.agent, SOURCES.customer]) {
      const event = action('closed', at(9000), { status: 'closed', previousStatus: 'resolved' }, source);
      expect(lifecycleMetrics(event).map((p) => p.name)).toEqual(['ComplaintsClosed']);
    }
  });

  it('a detail that does not match its schema measures nothing', () => {
    const broken = { ...(SAMPLES.complaintReceived?.event as OutboundEvent) };
    broken.detail = { metadata: { eventId: 'x' }, data: { channel: 'pigeon' } };
    expect(lifecycleMetrics(broken)).toEqual([]);
    expect(
      lifecycleMetrics({ source: SOURCES.agent, detailType: DETAIL_TYPES.resolved, detail: broken.detail }),
    ).toEqual([]);
  });
});

describe('lifecycleMetrics: clocks met and durations', () => {
  const acknowledgedWith = (d: Partial<Deadline>, occurredAt = at(30)) =>
    lifecycleMetrics(action('acknowledged', occurredAt, { deadlines: { acknowledge: deadline(d) } }));
  const named = (points: MetricPoint[], name: string) => points.filter((p) => p.name === name);

  it('is late when met after the deadline, even without a recorded breach', () => {
    const points = acknowledgedWith({ state: 'met', metAt: at(121) }, at(121));
    expect(named(points, 'SlaMetOnTime').map((p) => p.value)).toEqual([0]);
    expect(named(points, 'TimeToAcknowledge').map((p) => p.value)).toEqual([121 * 60]);
  });

  it('is on time when met exactly at the deadline', () => {
    const points = acknowledgedWith({ state: 'met', metAt: at(120) }, at(120));
    expect(named(points, 'SlaMetOnTime').map((p) => p.value)).toEqual([1]);
  });

  it('recognises the meeting write whatever the ISO spelling of the instant', () => {
    // 02:30Z written as 10:30+08:00.
    const points = acknowledgedWith({ state: 'met', metAt: '2026-11-24T10:30:00+08:00' });
    expect(named(points, 'TimeToAcknowledge').map((p) => p.value)).toEqual([1800]);
  });

  it('measures nothing for a clock that is not met by this event', () => {
    expect(acknowledgedWith({ state: 'running' })).toEqual([]);
    expect(acknowledgedWith({ state: 'met', metAt: at(29) })).toEqual([]);
    expect(lifecycleMetrics(action('acknowledged', at(30), {}))).toEqual([]);
  });

  it('counts the acknowledgement but gives no duration when the clock has no start', () => {
    const points = acknowledgedWith({ state: 'met', metAt: at(30), startedAt: undefined });
    expect(points.map((p) => p.name)).toEqual(['SlaMetOnTime', 'ComplaintsAcknowledged']);
  });

  it('gives no duration when the start lies after the meeting (clock skew)', () => {
    const points = acknowledgedWith({ state: 'met', metAt: at(30), startedAt: at(31) });
    expect(named(points, 'TimeToAcknowledge')).toEqual([]);
  });

  it('leaves the department field out when the complaint has none', () => {
    const points = lifecycleMetrics(
      action('acknowledged', at(30), {
        leadDepartment: undefined,
        deadlines: { acknowledge: deadline({ state: 'met', metAt: at(30) }) },
      }),
    );
    expect(named(points, 'TimeToAcknowledge')).toEqual([
      { name: 'TimeToAcknowledge', unit: 'Seconds', value: 1800, fields: {}, metric: false },
    ]);
  });

  it('only actions that can meet a clock are read for met clocks', () => {
    // A reclassification carries the deadlines too, with a met clock stamped at its own time.
    const points = lifecycleMetrics(
      action('reclassified', at(30), {
        deadlines: { acknowledge: deadline({ state: 'met', metAt: at(30) }) },
      }),
    );
    expect(points).toEqual([]);
  });
});

describe('the catalogue: dimension sets and cost', () => {
  const definitions = Object.values(METRICS) as MetricDefinition[];

  it('names each metric once', () => {
    const names = definitions.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('uses only the declared field keys, each at most once per figure', () => {
    for (const d of definitions) {
      for (const key of d.fields) expect(FIELD_KEYS).toContain(key);
      expect(new Set(d.fields).size, d.name).toBe(d.fields.length);
    }
  });

  it('emits every point with declared fields only, the values of the event, and its definition’s metric flag', () => {
    const points = Object.values(SAMPLES).flatMap((s) => lifecycleMetrics(s.event));
    for (const p of points) {
      const definition = definitions.find((d) => d.name === p.name);
      expect(definition, p.name).toBeDefined();
      expect(p.unit).toBe(definition?.unit);
      expect(p.metric, p.name).toBe(definition?.metric);
      for (const [key, value] of Object.entries(p.fields)) {
        expect(definition?.fields, `${p.name} ${key}`).toContain(key);
        expect(value).not.toBe('');
      }
    }
  });

  it('produces every lifecycle metric of the catalogue from some event', () => {
    const produced = new Set(
      Object.values(SAMPLES).flatMap((s) => lifecycleMetrics(s.event).map((p) => p.name)),
    );
    const gauges = [METRICS.openComplaints.name, METRICS.oldestOpenAge.name];
    const lifecycle = definitions.map((d) => d.name).filter((name) => !gauges.includes(name as never));
    expect([...produced].sort()).toEqual(lifecycle.sort());
  });

  it('extracts 2 custom metrics, the totals the breach-rate alarm reads, whatever the policy', () => {
    expect(customMetrics().map((d) => d.name)).toEqual(['ComplaintsClassified', 'SlaBreaches']);
    expect(customMetricCount()).toBe(2);
  });
});

describe('backlogMetrics: the sweep gauge', () => {
  const now = new Date(at(600));
  const departments = ['customer_service', 'billing'];

  it('gives the total, every open status and every department (zeros included), and the ages', () => {
    const points = backlogMetrics(
      [
        { department: 'customer_service', status: 'in_progress', count: 3, oldestReceivedAt: at(300) },
        { department: 'customer_service', status: 'waiting_on_customer', count: 1, oldestReceivedAt: at(0) },
        { department: 'billing', status: 'in_progress', count: 0 },
        { status: 'received', count: 2, oldestReceivedAt: at(590) },
      ],
      departments,
      now,
    );
    const open = (fields: Record<string, string>) =>
      points.find((p) => p.name === 'OpenComplaints' && JSON.stringify(p.fields) === JSON.stringify(fields))
        ?.value;
    expect(open({})).toBe(6);
    expect(open({ status: 'in_progress' })).toBe(3);
    expect(open({ status: 'waiting_on_customer' })).toBe(1);
    expect(open({ status: 'received' })).toBe(2);
    expect(open({ status: 'pending_approval' })).toBe(0);
    expect(open({ department: 'customer_service' })).toBe(4);
    expect(open({ department: 'billing' })).toBe(0);
    expect(points.filter((p) => p.name === 'OpenComplaints')).toHaveLength(1 + OPEN_STATUSES.length + 2);
    // The not yet routed complaints count in the total and per status, not under a department.
    expect(points.some((p) => 'department' in p.fields && p.fields.department === undefined)).toBe(false);
    // Log-only: an idle or busy sweep publishes no CloudWatch metric.
    expect(points.every((p) => !p.metric)).toBe(true);
    expect(points.filter((p) => p.name === 'OldestOpenComplaintAge')).toEqual([
      { name: 'OldestOpenComplaintAge', unit: 'Seconds', value: 600 * 60, fields: {}, metric: false },
      {
        name: 'OldestOpenComplaintAge',
        unit: 'Seconds',
        value: 600 * 60,
        fields: { department: 'customer_service' },
        metric: false,
      },
    ]);
  });

  it('has no age without open complaints', () => {
    const points = backlogMetrics(
      [{ department: 'billing', status: 'assigned', count: 0 }],
      departments,
      now,
    );
    expect(points.filter((p) => p.name === 'OldestOpenComplaintAge')).toEqual([]);
    expect(points.find((p) => p.name === 'OpenComplaints' && Object.keys(p.fields).length === 0)?.value).toBe(
      0,
    );
  });
});
