import type { Context } from 'aws-lambda';
import { kmsServiceKeys } from '../../shared/clients/kms';
import { eventBridgeTimers } from '../../shared/clients/scheduler';
import { errorSummary } from '../../shared/handlers/errors';
import { businessMetrics, counters, logger, withObservability } from '../../shared/handlers/observability';
import { createRuntime } from '../../shared/handlers/runtime';
import { backlogMetrics } from '../../shared/metrics/lifecycle-metrics';
import { measureBacklog, type SweepResult, sweepDueDeadlines } from '../../shared/services/sla';

const { ctx } = createRuntime({ timers: eventBridgeTimers, keys: kmsServiceKeys });

/**
 * The backstop sweep, run by a scheduled rule every few minutes: finds deadlines a
 * lost timer should have handled (one query per department queue, never a scan) and applies them. Anything it applies is counted: a non-zero
 * `SweepRecoveredDeadlines` means timers are being lost. It also repairs lost hand-offs from intake
 * to classification (`IntakeHandoffsRepaired`, see `shared/domain/handoff.ts`). Then it measures the open
 * backlog and its age for the dashboard (`OpenComplaints`, `OldestOpenComplaintAge`); a
 * failed measurement is logged and does not fail the sweep. All of these are log-only documents:
 * an idle deployment's sweep publishes no CloudWatch metric.
 */
export async function sweep(_event: unknown, _context: Context): Promise<SweepResult> {
  // Independent reads: the backlog is measured while the sweep repairs (repairs change no status).
  const [result, backlog] = await Promise.all([
    sweepDueDeadlines(ctx),
    measureBacklog(ctx).then(
      (groups) => ({ groups }),
      (error: unknown) => ({ error }),
    ),
  ]);
  counters.count('SweepRecoveredDeadlines', result.applied);
  counters.count('IntakeHandoffsRepaired', result.handoffsRepaired);
  if (result.handoffsRepaired > 0) {
    logger.warn('Complaints not classified in time: their intake events were published again', {
      handoffsRepaired: result.handoffsRepaired,
    });
  }
  let open: number | undefined;
  if ('groups' in backlog) {
    open = backlog.groups.reduce((n, g) => n + g.count, 0);
    const departments = ctx.policy.routing.departments.map((d) => d.id);
    businessMetrics.emit(backlogMetrics(backlog.groups, departments, ctx.now()));
  } else {
    logger.warn('Backlog not measured', { error: errorSummary(backlog.error) });
  }
  logger.info('Sweep done', { ...result, open });
  return result;
}

export const handler = withObservability(sweep);
