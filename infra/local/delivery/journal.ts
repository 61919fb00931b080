/**
 * Where the delivery engine keeps its pending deliveries across restarts: the persistence port of
 * `engine.ts`. The engine writes the whole pending set on every change (one write at a time, the
 * latest state last) and at close, and reads it once at start.
 *
 * - {@link fileJournal}: `<stateDir>/deliveries.json`, written atomically (a temporary file, then a
 *   rename), so a crash leaves the previous or the next state, never half of one. A hard kill loses at
 *   most the changes of the write in progress; `close()` loses nothing.
 * - {@link memoryJournal}: in memory (no state directory): survives a restart of the engine within the
 *   process (tests), not of the process.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PendingDelivery } from './engine';

export interface DeliveryJournal {
  /** Says where the deliveries are kept (for log lines). */
  readonly description: string;
  /** The pending deliveries last saved (none the first time). */
  load(): Promise<PendingDelivery[]>;
  /** Replaces what is kept with `pending`. */
  save(pending: readonly PendingDelivery[]): Promise<void>;
}

export const DELIVERIES_FILE = 'deliveries.json';

interface JournalFile {
  version: 1;
  savedAt: string;
  pending: PendingDelivery[];
}

export function fileJournal(stateDir: string): DeliveryJournal {
  const file = join(stateDir, DELIVERIES_FILE);
  let sequence = 0;
  return {
    description: `journal ${file}`,
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const parsed = JSON.parse(text) as Partial<JournalFile>;
      if (parsed.version !== 1 || !Array.isArray(parsed.pending)) {
        throw new Error(`${file} is not a delivery journal (version ${String(parsed.version)})`);
      }
      return parsed.pending;
    },
    async save(pending) {
      await mkdir(stateDir, { recursive: true });
      const temporary = `${file}.${process.pid}.${++sequence}.tmp`;
      const content: JournalFile = { version: 1, savedAt: new Date().toISOString(), pending: [...pending] };
      await writeFile(temporary, JSON.stringify(content));
      await rename(temporary, file);
    },
  };
}

export function memoryJournal(): DeliveryJournal {
  let kept: string = '[]';
  return {
    description: 'memory (no state directory: lost when the process ends)',
    load: async () => JSON.parse(kept) as PendingDelivery[],
    save: async (pending) => {
      kept = JSON.stringify(pending);
    },
  };
}
