/**
 * Reads what a metered local runtime used (`usage-meter.ts` plus the runtime's own counters) and
 * splits it the way the bill splits: each function's own calls, the flow between them (events,
 * queues, schedules, HTTP requests), and the recurring jobs (functions only schedules start: sweep,
 * reports, retention), whose usage is a monthly cost whatever the volume.
 */
import type { LambdaStats } from '../lambda-runner';
import type { LocalRuntime } from '../runtime';
import { parseScheduleExpression } from '../schedule-expression';
import { resourcesOfType, type StackTemplate } from '../template';
import { emptyUsage, type Usage } from './cost-model';
import { ASSUMPTIONS } from './prices';
import type { UsageSnapshot } from './usage-meter';

// biome-ignore lint/suspicious/noExplicitAny: template properties are untyped JSON, read field by field.
type Props = Record<string, any>;

/** A function's Lambda figures (invocations, billed ms) now: subtract an earlier reading to get a period's. */
export function lambdaReadings(runtime: Pick<LocalRuntime, 'functions'>): Map<string, LambdaStats> {
  return new Map([...runtime.functions.values()].map((f) => [f.logicalId, f.lambda.stats()]));
}

/** The logical id an intrinsic `Fn::GetAtt`/`Ref` to a function names. */
function referencedId(value: unknown): string | undefined {
  const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  return v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
}

/** Fire times of a schedule expression in an average month: a year's (2027), divided by 12. */
export function runsPerMonth(expression: string, timeZone = 'UTC'): number {
  const from = new Date(Date.UTC(2027, 0, 1));
  const parsed = parseScheduleExpression(expression, timeZone, { start: from, now: () => from });
  if (parsed.kind === 'at') return 1 / 12;
  const end = Date.UTC(2028, 0, 1);
  let runs = 0;
  for (let at = parsed.nextAfter(new Date(from.getTime() - 1)); at !== undefined && at.getTime() < end; ) {
    runs++;
    at = parsed.nextAfter(at);
  }
  return runs / 12;
}

export interface RecurringTrigger {
  functionId: string;
  /** The rule or schedule's logical id. */
  triggerId: string;
  expression: string;
  runsPerMonth: number;
  /** How to start one run now: a scheduled rule (fire it) or a schedule (its target input). */
  start: { rule: string } | { input: unknown };
}

/** Functions started by a scheduled rule or a template schedule (not by complaints). */
export function recurringTriggers(template: StackTemplate): RecurringTrigger[] {
  const triggers: RecurringTrigger[] = [];
  for (const [id, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
    const p = (rule.Properties ?? {}) as Props;
    if (typeof p.ScheduleExpression !== 'string') continue;
    for (const target of (p.Targets ?? []) as Props[]) {
      const functionId = referencedId(target.Arn);
      if (functionId === undefined || template.Resources[functionId]?.Type !== 'AWS::Lambda::Function')
        continue;
      triggers.push({
        functionId,
        triggerId: id,
        expression: p.ScheduleExpression,
        runsPerMonth: runsPerMonth(p.ScheduleExpression),
        start: { rule: id },
      });
    }
  }
  for (const [id, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
    const p = (schedule.Properties ?? {}) as Props;
    const functionId = referencedId(p.Target?.Arn);
    if (functionId === undefined || typeof p.ScheduleExpression !== 'string') continue;
    const input = typeof p.Target?.Input === 'string' ? JSON.parse(p.Target.Input) : {};
    triggers.push({
      functionId,
      triggerId: id,
      expression: p.ScheduleExpression,
      runsPerMonth: runsPerMonth(p.ScheduleExpression, p.ScheduleExpressionTimezone ?? 'UTC'),
      start: { input },
    });
  }
  return triggers;
}

/** The handlers' time per invocation between two readings, per function that ran. */
export function handlerMsPerInvocation(
  before: ReadonlyMap<string, LambdaStats>,
  after: ReadonlyMap<string, LambdaStats>,
): Map<string, number> {
  const result = new Map<string, number>();
  for (const [id, stats] of after) {
    const earlier = before.get(id);
    const invocations = stats.invocations - (earlier?.invocations ?? 0);
    if (invocations <= 0) continue;
    const handlerMs =
      stats.billedMs - (earlier?.billedMs ?? 0) - (stats.instanceMs - (earlier?.instanceMs ?? 0));
    result.set(id, handlerMs / invocations);
  }
  return result;
}

/** What one function used: its invocations and duration, and the AWS calls it made itself. */
export function functionUsage(options: {
  template: StackTemplate;
  functionId: string;
  before: LambdaStats | undefined;
  after: LambdaStats | undefined;
  snapshot: UsageSnapshot;
  /**
   * The handler's time per invocation to price, when measured apart (at one complaint in flight, with
   * no contention for this machine's cores); absent: the time measured in this period.
   */
  handlerMs?: number;
}): Usage {
  const { template, functionId, snapshot } = options;
  const props = (template.Resources[functionId]?.Properties ?? {}) as Props;
  const memoryGb = Number(props.MemorySize ?? 128) / 1024;
  const invocations = (options.after?.invocations ?? 0) - (options.before?.invocations ?? 0);
  const delta = (field: 'billedMs' | 'instanceMs' | 'coldStarts') =>
    (options.after?.[field] ?? 0) - (options.before?.[field] ?? 0);
  // The handlers' own time as measured, and each cold start's init as Lambda takes it (an assumption).
  const handlerMs =
    options.handlerMs === undefined
      ? delta('billedMs') - delta('instanceMs')
      : options.handlerMs * invocations;
  const billedMs = handlerMs + delta('coldStarts') * ASSUMPTIONS.coldStartInitMs;
  const calls = snapshot.calls[functionId] ?? {};
  const count = (service: string) =>
    Object.entries(calls)
      .filter(([key]) => key.startsWith(`${service}:`))
      .reduce((sum, [, n]) => sum + n, 0);
  const capacity = snapshot.dynamodb[functionId];
  return {
    ...emptyUsage(),
    lambdaRequests: invocations,
    lambdaArmGbSeconds: (billedMs / 1000) * memoryGb,
    dynamodbWrites: capacity?.writeUnits ?? 0,
    dynamodbReads: capacity?.readUnits ?? 0,
    sqsRequests: count('sqs'),
    kmsRequests: count('kms'),
    // Active tracing records a trace per invocation while the sampling reservoir (1 a second) lasts,
    // which is every invocation at the volumes of a support desk.
    xrayTraces: props.TracingConfig?.Mode === 'Active' ? invocations : 0,
  };
}

/**
 * What moves between the functions, billed to nobody's calls: events on the buses, the event source
 * mappings' receives and deletes, the runtime's own sends to queues (rule and Scheduler targets),
 * Scheduler invocations (recurring schedules excluded) and HTTP API requests.
 */
export function flowUsage(options: {
  snapshot: UsageSnapshot;
  eventSources: ReadonlyArray<{ receivesWithMessages: number; batchCalls: number }>;
  schedulerInvocations: number;
}): Usage {
  const { snapshot } = options;
  const events = Object.values(snapshot.events).reduce((sum, e) => sum + e.chunks, 0);
  const polls = options.eventSources.reduce((sum, s) => sum + s.receivesWithMessages + s.batchCalls, 0);
  return {
    ...emptyUsage(),
    eventBridgeEvents: events,
    sqsRequests: polls + snapshot.queueDeliveries,
    schedulerInvocations: options.schedulerInvocations,
    httpApiRequests: snapshot.http.chunks,
  };
}

/** Alarm metrics, dashboards and KMS keys in the template. */
export function templateFixedCounts(template: StackTemplate): {
  alarmMetrics: number;
  dashboards: number;
  kmsKeys: number;
  eventSourceMappings: number;
} {
  let alarmMetrics = 0;
  for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
    const p = (alarm.Properties ?? {}) as Props;
    // Metric math is billed per metric it reads; expressions themselves are free.
    alarmMetrics += Array.isArray(p.Metrics)
      ? (p.Metrics as Props[]).filter((m) => m.MetricStat !== undefined).length
      : 1;
  }
  return {
    alarmMetrics,
    dashboards: resourcesOfType(template, 'AWS::CloudWatch::Dashboard').length,
    kmsKeys: resourcesOfType(template, 'AWS::KMS::Key').length,
    eventSourceMappings: resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').length,
  };
}

/**
 * Distinct CloudWatch metrics in Embedded Metric Format documents (one JSON log line each): a
 * metric is its namespace, name and the values of each dimension set it is published with.
 */
export function emfMetricIdentities(lines: Iterable<string>): Set<string> {
  const identities = new Set<string>();
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    let doc: Props;
    try {
      doc = JSON.parse(line) as Props;
    } catch {
      continue;
    }
    for (const directive of (doc._aws?.CloudWatchMetrics ?? []) as Props[]) {
      for (const metric of (directive.Metrics ?? []) as Props[]) {
        for (const dimensions of (directive.Dimensions ?? [[]]) as string[][]) {
          const values = dimensions.map((d) => `${d}=${String(doc[d])}`).join(',');
          identities.add(`${directive.Namespace}|${metric.Name}|${values}`);
        }
      }
    }
  }
  return identities;
}
