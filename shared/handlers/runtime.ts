import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentClient } from '../clients/dynamodb';
import { eventBridgeClient } from '../clients/eventbridge';
import { ConfigurationError, type RuntimeConfig, readRuntimeConfig } from '../config';
import { BusinessCalendar } from '../domain/business-calendar';
import { vocabularyOf } from '../domain/reporting/plausibility';
import { EventBridgePublisher } from '../events/publisher';
import { MeteredPublisher } from '../metrics/metered-publisher';
import { loadBundledPolicy } from '../policy/bundled';
import type { Timer, TimerScheduler } from '../scheduling/timers';
import { type ServiceKeys, UnconfiguredServiceKeys } from '../security/service-keys';
import type { ServiceContext } from '../services/context';
import type { ReportingContext } from '../services/reporting';
import { DynamoDbComplaintStore } from '../storage/dynamodb-store';
import { DynamoDbReportingStore } from '../storage/reporting-store';
import { errorSummary } from './errors';
import { businessMetrics, logger } from './observability';

/**
 * The adapters only some functions need, each built from the configuration by a factory its
 * handler passes (so a bundle holds only the AWS clients its function uses):
 * `eventBridgeTimers` (`shared/clients/scheduler.ts`) and `kmsServiceKeys` (`shared/clients/kms.ts`).
 */
export interface RuntimeAdapters {
  /** Functions that schedule timers (the stack's `useTimers`). */
  timers?: (config: RuntimeConfig) => TimerScheduler | undefined;
  /** Functions that derive the service's keys (the stack's `useServiceKey`). */
  keys?: (config: RuntimeConfig) => ServiceKeys | undefined;
}

/**
 * Builds the service context once per cold start: configuration from the
 * environment (failing fast on a bad one), the policy synth validated (its digest checked), and the
 * adapters (the publisher measures the business metrics of what it publishes). A relative
 * POLICY_FILE is resolved against the bundle directory.
 */
export function createRuntime(
  adapters: RuntimeAdapters = {},
  env: NodeJS.ProcessEnv = process.env,
  bundleDir = defaultBundleDir(),
): { ctx: ServiceContext; config: RuntimeConfig } {
  const config = readRuntimeConfig(env);
  const policyPath = isAbsolute(config.POLICY_FILE)
    ? config.POLICY_FILE
    : resolve(bundleDir, config.POLICY_FILE);
  const policy = loadBundledPolicy(policyPath, config.POLICY_SHA256);
  const calendar = new BusinessCalendar(policy.calendar);
  const year = new Date().getUTCFullYear();
  if (policy.calendar.holidays === 'cn-official' && calendar.coverage(year) !== 'official') {
    // Not fatal: weekdays still count, but holidays of this year are unknown until the
    // package is updated or the policy lists them (extraHolidays / extraWorkdays).
    logger.warn(
      'The official holiday schedule does not cover this year; only workingDays and the extra lists apply',
      {
        year,
      },
    );
  }
  const ctx: ServiceContext = {
    policy,
    calendar,
    store: new DynamoDbComplaintStore(documentClient, {
      tableName: config.TABLE_NAME,
      deadlineShards: config.DEADLINE_SHARDS,
    }),
    // Every state change publishes its events here: the live business metrics are measured from them.
    publisher: new MeteredPublisher(
      new EventBridgePublisher(eventBridgeClient, config.EVENT_BUS_NAME),
      businessMetrics,
      { onError: (error) => logger.warn('Business metrics not emitted', { error: errorSummary(error) }) },
    ),
    scheduler: createScheduler(config, adapters.timers),
    keys: createServiceKeys(config, adapters.keys),
    now: () => new Date(),
  };
  return { ctx, config };
}

/** The reporting functions' context: the aggregates in the same table, days cut in the policy's zone. */
export function createReportingContext(runtime: {
  ctx: ServiceContext;
  config: RuntimeConfig;
}): ReportingContext {
  return {
    store: new DynamoDbReportingStore(documentClient, runtime.config.TABLE_NAME),
    timeZone: runtime.ctx.policy.calendar.timeZone,
    publisher: runtime.ctx.publisher,
    now: runtime.ctx.now,
    complaints: runtime.ctx.store,
    vocabulary: vocabularyOf(runtime.ctx.policy),
  };
}

/**
 * The timer scheduler of this function: EventBridge Scheduler when the stack gave the
 * function a schedule group and the role Scheduler assumes and its handler brought the
 * Scheduler adapter; otherwise a scheduler that refuses every change. Functions that never schedule (intake) need no configuration,
 * and a function that should schedule but was deployed without it fails loudly on its
 * first timer instead of silently losing deadlines.
 */
export function createScheduler(config: RuntimeConfig, timers?: RuntimeAdapters['timers']): TimerScheduler {
  return timers?.(config) ?? new UnconfiguredScheduler();
}

/**
 * The service keys: from KMS when the stack named the key and the handler brought the KMS adapter,
 * else keys that refuse every use (a function that needs them fails loudly on the first one).
 */
function createServiceKeys(config: RuntimeConfig, keys?: RuntimeAdapters['keys']): ServiceKeys {
  return keys?.(config) ?? new UnconfiguredServiceKeys();
}

/** Stands in when SCHEDULE_GROUP_NAME / SCHEDULER_ROLE_ARN are not set: an empty change is fine, any other is a configuration error. */
class UnconfiguredScheduler implements TimerScheduler {
  async apply(changes: { upsert: readonly Timer[]; remove: readonly string[] }): Promise<void> {
    if (changes.upsert.length === 0 && changes.remove.length === 0) return;
    throw new ConfigurationError(
      `This function cannot schedule timers (${changes.upsert.length} to set, ${changes.remove.length} to delete): ` +
        'set SCHEDULE_GROUP_NAME and SCHEDULER_ROLE_ARN, and pass eventBridgeTimers to createRuntime',
    );
  }
}

function defaultBundleDir(): string {
  // In a bundle this is the function directory, where synth copied policy.json.
  return dirname(fileURLToPath(import.meta.url));
}
