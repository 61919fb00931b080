/**
 * The local Scheduler's journal (`<stateDir>/scheduler/journal.jsonl`): one JSON line per change of
 * a schedule group or schedule, and one per firing once delivered, appended with a synchronous write
 * before the API answers (a kill loses no acknowledged change). At start the server replays it
 * ({@link ScheduleJournal.load}) and rewrites it with what is left ({@link ScheduleJournal.compact});
 * while running, the file is rewritten the same way whenever it has grown well past what is pending.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { scheduleKey as key, type SavedSchedule } from './scheduler-model';

export type ScheduleRecord =
  | { op: 'group'; name: string; creationDate: string }
  | { op: 'ungroup'; name: string }
  | { op: 'put'; schedule: SavedSchedule }
  | { op: 'del'; group: string; name: string }
  /** An occurrence delivered: the schedule's next firing (or none), and whether it was deleted. */
  | { op: 'fired'; group: string; name: string; at: string; next: string | null; deleted: boolean };

export interface ScheduleJournal {
  load(): { groups: { name: string; creationDate: string }[]; schedules: SavedSchedule[] };
  write(record: ScheduleRecord): void;
  compact(groups: { name: string; creationDate: string }[], schedules: SavedSchedule[]): void;
  close(): void;
}

export function openScheduleJournal(file: string, log: (message: string) => void): ScheduleJournal {
  mkdirSync(dirname(file), { recursive: true });
  let fd = -1;
  let sinceCompaction = 0;
  /** The state the records so far describe (replayed at load, kept up to date by each write). */
  const groups = new Map<string, { name: string; creationDate: string }>();
  const schedules = new Map<string, SavedSchedule>();
  const apply = (record: ScheduleRecord) => {
    switch (record.op) {
      case 'group':
        groups.set(record.name, { name: record.name, creationDate: record.creationDate });
        return;
      case 'ungroup':
        groups.delete(record.name);
        for (const [k, s] of schedules) if (s.group === record.name) schedules.delete(k);
        return;
      case 'put':
        schedules.set(key(record.schedule.group, record.schedule.name), structuredClone(record.schedule));
        return;
      case 'del':
        schedules.delete(key(record.group, record.name));
        return;
      case 'fired': {
        const k = key(record.group, record.name);
        const saved = schedules.get(k);
        // Only when the occurrence is still the pending one (not replaced by a later update).
        if (saved === undefined || saved.nextFireAt === null || saved.nextFireAt > record.at) return;
        if (record.deleted) schedules.delete(k);
        else saved.nextFireAt = record.next;
        return;
      }
    }
  };
  const rewrite = () => {
    journal.close();
    const temporary = `${file}.tmp`;
    writeFileSync(
      temporary,
      [
        ...[...groups.values()].map((g) => ({ op: 'group', ...g })),
        ...[...schedules.values()].map((schedule) => ({ op: 'put', schedule })),
      ]
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    renameSync(temporary, file);
    sinceCompaction = 0;
  };
  const journal: ScheduleJournal = {
    load() {
      if (existsSync(file)) {
        let damaged = 0;
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (line.trim() === '') continue;
          try {
            apply(JSON.parse(line) as ScheduleRecord);
          } catch {
            // A line cut short by a crash mid-write: everything before it holds.
            damaged += 1;
          }
        }
        if (damaged > 0) log(`scheduler-server: ${damaged} damaged journal record(s) skipped in ${file}`);
      }
      return { groups: [...groups.values()], schedules: structuredClone([...schedules.values()]) };
    },
    write(record) {
      apply(record);
      if (fd < 0) fd = openSync(file, 'a');
      writeSync(fd, `${JSON.stringify(record)}\n`);
      sinceCompaction += 1;
      // Timers come and go by the thousand: keep the file near the size of what is pending.
      if (sinceCompaction > 20_000 && sinceCompaction > 4 * schedules.size) rewrite();
    },
    compact(nextGroups, nextSchedules) {
      groups.clear();
      schedules.clear();
      for (const g of nextGroups) groups.set(g.name, g);
      for (const s of nextSchedules) schedules.set(key(s.group, s.name), structuredClone(s));
      rewrite();
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
  return journal;
}
