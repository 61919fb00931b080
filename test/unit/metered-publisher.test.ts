import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SOURCES } from '../../shared/events/names';
import { buildEvent, type OutboundEvent } from '../../shared/events/schemas';
import { EmfMetricSink } from '../../shared/metrics/emf-sink';
import type { MetricPoint } from '../../shared/metrics/lifecycle-metrics';
import { MeteredPublisher } from '../../shared/metrics/metered-publisher';
import { captureEmf } from '../support/emf';
import { RecordingPublisher } from '../support/fixtures';

/**
 * The publisher decorator through the real Powertools Metrics: the EMF documents it writes to
 * stdout (what CloudWatch Logs turns into metrics) are captured and read back.
 */

const NAMESPACE = 'ComplaintServiceTest';
let lines: string[] = [];
let restore: (() => void) | undefined;

beforeEach(() => {
  lines = [];
  restore = captureEmf(lines).restore;
});

afterEach(() => restore?.());

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

describe('MeteredPublisher with the EMF sink', () => {
  it('writes one EMF document per point after the publish: namespace, its dimension sets and value, no service', async () => {
    const inner = new RecordingPublisher();
    const publisher = new MeteredPublisher(inner, new EmfMetricSink({ namespace: NAMESPACE }));
    await publisher.publish([received('a1', 'web'), escalated('a1', 2)]);

    expect(inner.events).toHaveLength(2);
    const [first, second] = documents();
    expect(documents()).toHaveLength(2);
    expect(first?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: NAMESPACE,
        Dimensions: [['channel'], []],
        Metrics: [{ Name: 'ComplaintsReceived', Unit: 'Count' }],
      },
    ]);
    expect(first).toMatchObject({ channel: 'web', ComplaintsReceived: 1 });
    expect(first).not.toHaveProperty('service');
    expect(typeof first?._aws.Timestamp).toBe('number');
    // The second point carries its own dimensions only: nothing of the first leaks into it.
    expect(second?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: NAMESPACE,
        Dimensions: [['level'], []],
        Metrics: [{ Name: 'Escalations', Unit: 'Count' }],
      },
    ]);
    expect(second).toMatchObject({ level: '2', Escalations: 1 });
    expect(second).not.toHaveProperty('channel');
    expect(second).not.toHaveProperty('ComplaintsReceived');
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
  it('writes a total-only point as a metric without dimensions, and a value with its unit', () => {
    new EmfMetricSink({ namespace: NAMESPACE }).emit([
      { name: 'SurveyScore', unit: 'None', value: 4, dimensionSets: [{ department: 'billing' }, {}] },
      { name: 'TimeToAcknowledge', unit: 'Seconds', value: 1800.5, dimensionSets: [{}] },
    ]);
    const [score, time] = documents();
    expect(score?._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: NAMESPACE,
      Dimensions: [['department'], []],
      Metrics: [{ Name: 'SurveyScore', Unit: 'None' }],
    });
    expect(score).toMatchObject({ department: 'billing', SurveyScore: 4 });
    expect(time?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[]]);
    expect(time).toMatchObject({ TimeToAcknowledge: 1800.5 });
    expect(time).not.toHaveProperty('department');
  });

  it('is silenced by POWERTOOLS_METRICS_DISABLED like every Powertools metric', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    try {
      new EmfMetricSink({ namespace: NAMESPACE }).emit([
        { name: 'ComplaintsClosed', unit: 'Count', value: 1, dimensionSets: [{}] },
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(documents()).toEqual([]);
  });
});
