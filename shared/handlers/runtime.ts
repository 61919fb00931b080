import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentClient, eventBridgeClient } from '../clients/aws';
import { type RuntimeConfig, readRuntimeConfig } from '../config';
import { BusinessCalendar } from '../domain/business-calendar';
import { EventBridgePublisher } from '../events/publisher';
import { loadPolicyFile } from '../policy/load';
import type { ServiceContext } from '../services/context';
import { DynamoDbComplaintStore } from '../storage/dynamodb-store';
import { logger } from './observability';

/**
 * Builds the service context once per cold start: configuration from the
 * environment (failing fast on a bad one), the policy validated again, and the
 * adapters. A relative POLICY_FILE is resolved against the bundle directory.
 */
export function createRuntime(
  env: NodeJS.ProcessEnv = process.env,
  bundleDir = defaultBundleDir(),
): { ctx: ServiceContext; config: RuntimeConfig } {
  const config = readRuntimeConfig(env);
  const policyPath = isAbsolute(config.POLICY_FILE)
    ? config.POLICY_FILE
    : resolve(bundleDir, config.POLICY_FILE);
  const policy = loadPolicyFile(policyPath);
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
    publisher: new EventBridgePublisher(eventBridgeClient, config.EVENT_BUS_NAME),
    now: () => new Date(),
  };
  return { ctx, config };
}

function defaultBundleDir(): string {
  // In a bundle this is the function directory, where synth copied policy.json.
  return dirname(fileURLToPath(import.meta.url));
}
