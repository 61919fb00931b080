import { ConcurrencyConflictError } from '../storage/ports';

const CONFLICT_ATTEMPTS = 4;

/**
 * Runs `attempt` again from a fresh read when another writer (a duplicate timer,
 * the sweep, an agent) changed the complaint in between. The next attempt decides
 * from the new state — usually that there is nothing left to do.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || i >= CONFLICT_ATTEMPTS) throw error;
      await new Promise((r) => setTimeout(r, 10 * i + Math.random() * 20));
    }
  }
}
