import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SOURCES } from '../../shared/events/names';
import { buildEvent, type OutboundEvent } from '../../shared/events/schemas';
import { EmfMetricSink } from '../../shared/metrics/emf-sink';
import type { MetricPoint } from '../../shared/metrics/lifecycle-metrics';
import { MeteredPublisher } from '../../shared/metrics/metered-publisher';
import { OperationalCounters } from '../../shared/metrics/operational-counters';
import { captureEmf } from '../support/emf';
import { RecordingPublisher } from '../support/fixtures';

/**
 * The publisher decorator through the real Powertools Metrics: the documents it writes to stdout
 * (EMF, which CloudWatch Logs turns into metrics, and log-only JSON) are captured and read back.
 */

const NAMESPACE = 'ComplaintServiceTest';
let lines: string[] = [];
let restore: (() => void) | undefined;

beforeEach(() => {
  lines = [];
  restore = captureEmf(lines).restore;
});

afterEach(() => restore?.());

/** A metric document: EMF (with `_aws`) or log-only (without). */
interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}
const documents = (): EmfDocument[] => lines.map((l) => JSON.parse(l) as EmfDocument);

function received(id: string, channel: 'web' | 'hotline'): OutboundEvent {
  return buildEvent('complaintReceived', SOURCES.intake, {
    metadata: {
      version: 1,
      eventId: `${id}:received`,
      occurredAt: '2026-11-24T02:00:00.000Z',
      correlationId: id,
    },
    data: {
      complaintId: id,
      number: `C20261124-${id.toUpperCase()}`,
      channel,
      tier: 'standard',
      language: 'zh',
      receivedAt: '2026-11-24T02:00:00.000Z',
      promisedResponseBy: '2026-11-24T06:00:00.000Z',
      sourceSystem: 'api',
    },
  });
}

function escalated(id: string, level: number): OutboundEvent {
  return buildEvent('escalated', SOURCES.sla, {
    metadata: {
      version: 1,
      eventId: `${id}:escalated:${level}`,
      occurredAt: '2026-11-24T04:00:00.000Z',
      correlationId: id,
    },
    data: {
      complaintId: id,
      number: `C20261124-${id.toUpperCase()}`,
      clock: 'acknowledge',
      level,
      role: 'team_lead',
      contact: 'lead_cs',
      reason: 'deadline_missed',
      detectedBy: 'timer',
    },
  });
}

function breached(id: string, clock: 'acknowledge' | 'resolution', department?: string): OutboundEvent {
  return buildEvent('slaBreached', SOURCES.sla, {
    metadata: {
      version: 1,
      eventId: `${id}:breached:${clock}`,
      occurredAt: '2026-11-24T05:00:00.000Z',
      correlationId: id,
    },
    data: {
      complaintId: id,
      number: `C20261124-${id.toUpperCase()}`,
      clock,
      dueAt: '2026-11-24T04:00:00.000Z',
      severity: 'major',
      ...(department === undefined ? {} : { leadDepartment: department }),
      detectedBy: 'timer',
    },
  });
}

describe('MeteredPublisher with the EMF sink', () => {
  it('writes one document per point after the publish: a log-only JSON line, or EMF for a total an alarm reads', async () => {
    const inner = new RecordingPublisher();
    const publisher = new MeteredPublisher(inner, new EmfMetricSink({ namespace: NAMESPACE }));
    await publisher.publish([
      received('a1', 'web'),
      breached('a1', 'resolution', 'billing'),
      escalated('a1', 2),
    ]);

    expect(inner.events).toHaveLength(3);
    expect(documents()).toHaveLength(3);
    const [first, second, third] = documents();
    // Log-only: the figure and its fields, no directive, so no metric.
    expect(first).toEqual({ ComplaintsReceived: 1, channel: 'web' });
    // The breach: one metric, the total (the empty dimension set), its fields as plain properties.
    expect(second?._aws.CloudWatchMetrics).toEqual([
      { Namespace: NAMESPACE, Dimensions: [[]], Metrics: [{ Name: 'SlaBreaches', Unit: 'Count' }] },
    ]);
    expect(typeof second?._aws.Timestamp).toBe('number');
    expect(second).toMatchObject({
      SlaBreaches: 1,
      clock: 'resolution',
      severity: 'major',
      department: 'billing',
    });
    expect(second).not.toHaveProperty('service');
    // The third point carries its own fields only: nothing of the breach leaks into it.
    expect(third).toEqual({ Escalations: 1, level: '2' });
  });

  it('writes the next metric document without the fields of the one before', async () => {
    const publisher = new MeteredPublisher(
      new RecordingPublisher(),
      new EmfMetricSink({ namespace: NAMESPACE }),
    );
    await publisher.publish([breached('h1', 'resolution', 'billing'), breached('h2', 'acknowledge')]);
    const [, next] = documents();
    expect(next?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[]]);
    expect(next).toMatchObject({ SlaBreaches: 1, clock: 'acknowledge' });
    expect(next).not.toHaveProperty('department');
  });

  it('keeps the values of consecutive points of the same metric apart', async () => {
    const publisher = new MeteredPublisher(
      new RecordingPublisher(),
      new EmfMetricSink({ namespace: NAMESPACE }),
    );
    await publisher.publish([received('b1', 'web'), received('b2', 'hotline')]);
    expect(documents().map((d) => [d.channel, d.ComplaintsReceived])).toEqual([
      ['web', 1],
      ['hotline', 1],
    ]);
  });

  it('measures nothing when the publish fails, and measures the retry', async () => {
    const inner = new RecordingPublisher();
    const publisher = new MeteredPublisher(inner, new EmfMetricSink({ namespace: NAMESPACE }));
    inner.failNext = 1;
    await expect(publisher.publish([received('c1', 'web')])).rejects.toThrow(/outage/);
    expect(documents()).toEqual([]);
    await publisher.publish([received('c1', 'web')]);
    expect(documents().map((d) => d.ComplaintsReceived)).toEqual([1]);
  });

  it('does not count a republished event (same id) again, but a new state change', async () => {
    const publisher = new MeteredPublisher(
      new RecordingPublisher(),
      new EmfMetricSink({ namespace: NAMESPACE }),
    );
    await publisher.publish([received('d1', 'web')]);
    await publisher.publish([received('d1', 'web'), received('d2', 'web')]);
    expect(documents().map((d) => d.ComplaintsReceived)).toEqual([1, 1]);
  });

  it('forgets the oldest ids beyond its memory', async () => {
    const emitted: MetricPoint[] = [];
    const publisher = new MeteredPublisher(
      new RecordingPublisher(),
      { emit: (points) => emitted.push(...points) },
      { rememberEvents: 2 },
    );
    await publisher.publish([received('e1', 'web'), received('e2', 'web'), received('e3', 'web')]);
    await publisher.publish([received('e3', 'web'), received('e1', 'web')]);
    // e3 is still remembered; e1 was evicted and counts again.
    expect(emitted).toHaveLength(4);
  });

  it('never fails a publish that succeeded because measuring failed, and reports it', async () => {
    const inner = new RecordingPublisher();
    const onError = vi.fn();
    const publisher = new MeteredPublisher(
      inner,
      {
        emit: () => {
          throw new Error('stdout closed');
        },
      },
      { onError },
    );
    await expect(publisher.publish([received('f1', 'web')])).resolves.toBeUndefined();
    expect(inner.events).toHaveLength(1);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'stdout closed' }));
  });

  it('writes nothing for events that measure nothing', async () => {
    const publisher = new MeteredPublisher(
      new RecordingPublisher(),
      new EmfMetricSink({ namespace: NAMESPACE }),
    );
    await publisher.publish([
      buildEvent('customerNotificationRequested', SOURCES.intake, {
        metadata: {
          version: 1,
          eventId: 'g1:n',
          occurredAt: '2026-11-24T02:00:00.000Z',
          correlationId: 'g1',
        },
        data: {
          complaintId: 'g1',
          number: 'C20261124-G1',
          template: 'acknowledgement',
          language: 'zh',
          channel: 'web',
          customer: { id: 'cust-1' },
          text: '已收到',
        },
      }),
    ]);
    expect(documents()).toEqual([]);
  });
});

describe('EmfMetricSink', () => {
  it('writes a metric point as EMF with the empty dimension set only, and a log-only point as plain JSON', () => {
    new EmfMetricSink({ namespace: NAMESPACE }).emit([
      {
        name: 'ComplaintsClassified',
        unit: 'Count',
        value: 1,
        fields: { category: 'billing_dispute' },
        metric: true,
      },
      { name: 'SurveyScore', unit: 'None', value: 4, fields: { department: 'billing' }, metric: false },
      { name: 'TimeToAcknowledge', unit: 'Seconds', value: 1800.5, fields: {}, metric: false },
    ]);
    const [classified, score, time] = documents();
    expect(classified?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: NAMESPACE,
      Dimensions: [[]],
      Metrics: [{ Name: 'ComplaintsClassified', Unit: 'Count' }],
    });
    expect(classified).toMatchObject({ ComplaintsClassified: 1, category: 'billing_dispute' });
    expect(lines[1]).toBe('{"SurveyScore":4,"department":"billing"}');
    expect(score).not.toHaveProperty('_aws');
    expect(time).toEqual({ TimeToAcknowledge: 1800.5 });
  });

  it('is silenced by POWERTOOLS_METRICS_DISABLED like every Powertools metric, log-only points too', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    try {
      new EmfMetricSink({ namespace: NAMESPACE }).emit([
        { name: 'SlaBreaches', unit: 'Count', value: 1, fields: {}, metric: true },
        { name: 'ComplaintsClosed', unit: 'Count', value: 1, fields: {}, metric: false },
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(documents()).toEqual([]);
  });
});

describe('OperationalCounters', () => {
  it('writes each count at once as a log-only document with the function’s service', () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'intake');
    try {
      const counters = new OperationalCounters(new EmfMetricSink({ namespace: NAMESPACE }));
      counters.count('PoisonMessages');
      counters.count('SweepRecoveredDeadlines', 0);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(lines).toEqual([
      '{"PoisonMessages":1,"service":"intake"}',
      '{"SweepRecoveredDeadlines":0,"service":"intake"}',
    ]);
  });

  it('names the service it was given, and none when there is none', () => {
    const emitted: MetricPoint[] = [];
    new OperationalCounters({ emit: (points) => emitted.push(...points) }, 'sla').count(
      'IntakeHandoffsRepaired',
      2,
    );
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', '');
    try {
      new OperationalCounters({ emit: (points) => emitted.push(...points) }).count('IntakeFailures');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(emitted).toEqual([
      { name: 'IntakeHandoffsRepaired', unit: 'Count', value: 2, fields: { service: 'sla' }, metric: false },
      { name: 'IntakeFailures', unit: 'Count', value: 1, fields: {}, metric: false },
    ]);
  });
});
