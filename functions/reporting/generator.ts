import * as z from 'zod';
import { lastCompletedPeriod, PERIOD_KINDS } from '../../shared/domain/reporting/report';
import { logger, withObservability } from '../../shared/handlers/observability';
import { createReportingContext, createRuntime } from '../../shared/handlers/runtime';
import { generateReport } from '../../shared/services/reporting';

const runtime = createRuntime();
const reporting = createReportingContext(runtime);

/** `{ kind }` (the schedules: the period that just ended) or `{ kind, id }` (regenerate one period). */
const GenerateRequestSchema = z.object({ kind: z.enum(PERIOD_KINDS), id: z.string().min(1).optional() });

export async function generate(event: unknown): Promise<{ kind: string; id: string; received: number }> {
  const request = GenerateRequestSchema.safeParse(event);
  if (!request.success) {
    throw new Error(
      `Invalid report request: ${request.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { kind } = request.data;
  const id = request.data.id ?? lastCompletedPeriod(kind, reporting.now(), reporting.timeZone).id;
  const report = await generateReport(reporting, kind, id);
  logger.info('Report generated', { kind, id, received: report.figures.volume.received });
  return { kind, id, received: report.figures.volume.received };
}

export const handler = withObservability(generate);
