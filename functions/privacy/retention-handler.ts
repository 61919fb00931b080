import { logger, withObservability } from '../../shared/handlers/observability';
import { createPrivacyContext } from '../../shared/handlers/privacy-runtime';
import { createRuntime } from '../../shared/handlers/runtime';
import { startRetention } from '../../shared/services/privacy';

const ctx = createPrivacyContext(createRuntime());

/**
 * The daily retention run (a scheduled rule): starts the erasure of every complaint closed or
 * rejected more than `policy.privacy.retentionDays` ago; the erasure worker does the work. Twice on
 * one day is the same erasure.
 */
export async function retention(_event: unknown): Promise<{ erasureId: string; started: boolean }> {
  const result = await startRetention(ctx);
  logger.info('Retention run', result);
  return result;
}

export const handler = withObservability(retention);
