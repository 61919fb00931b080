import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logger, metrics, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { type SweepResult, sweepDueDeadlines } from '../../shared/services/sla';

const { ctx, config } = createRuntime();

/**
 * The backstop sweep, run by a scheduled rule every few minutes: finds deadlines a
 * lost timer should have handled (one query per shard of the sparse index, never a
 * scan) and applies them. Anything it applies is counted: a non-zero
 * `SweepRecoveredDeadlines` means timers are being lost.
 */
export async function sweep(_event: unknown, _context: Context): Promise<SweepResult> {
  const result = await sweepDueDeadlines(ctx, { shards: config.DEADLINE_SHARDS });
  metrics.addMetric('SweepRecoveredDeadlines', MetricUnit.Count, result.applied);
  logger.info('Sweep done', { ...result });
  return result;
}

export const handler = withObservability(sweep);
