import { ConcurrencyConflictError } from '../storage/ports';

const CONFLICT_ATTEMPTS = 4;

/**
 * Runs `attempt` again from a fresh read when another writer (a duplicate timer,
 * the sweep, an agent) changed the complaint in between. The next attempt decides
 * from the new state — usually that there is nothing left to do.
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  attempts = CONFLICT_ATTEMPTS,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || i >= attempts) throw error;
      // Exponential backoff with full jitter, so writers that collided do not collide again in step.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(1_000, 20 * 2 ** i)));
    }
  }
}
