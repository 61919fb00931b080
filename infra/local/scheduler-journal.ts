/**
 * The local Scheduler's journal (`<stateDir>/scheduler/journal.jsonl`): one JSON line per change of
 * a schedule group or schedule, and one per firing once delivered, appended with a synchronous write
 * before the API answers (a kill loses no acknowledged change). At start the server replays it
 * ({@link ScheduleJournal.load}) and rewrites it with what is left ({@link ScheduleJournal.compact}).
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
import type { SavedSchedule } from './scheduler-server';

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
  const key = (group: string, name: string) => `${group}\u0000${name}`;
  const journal: ScheduleJournal = {
    load() {
      const groups = new Map<string, { name: string; creationDate: string }>();
      const schedules = new Map<string, SavedSchedule>();
      if (!existsSync(file)) return { groups: [], schedules: [] };
      let damaged = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let record: ScheduleRecord;
        try {
          record = JSON.parse(line) as ScheduleRecord;
        } catch {
          damaged += 1;
          continue;
        }
        switch (record.op) {
          case 'group':
            groups.set(record.name, { name: record.name, creationDate: record.creationDate });
            break;
          case 'ungroup':
            groups.delete(record.name);
            for (const [k, s] of schedules) if (s.group === record.name) schedules.delete(k);
            break;
          case 'put':
            schedules.set(key(record.schedule.group, record.schedule.name), record.schedule);
            break;
          case 'del':
            schedules.delete(key(record.group, record.name));
            break;
          case 'fired': {
            const k = key(record.group, record.name);
            const saved = schedules.get(k);
            // Only when the occurrence is still the pending one (not replaced by a later update).
            if (saved === undefined || saved.nextFireAt === null || saved.nextFireAt > record.at) break;
            if (record.deleted) schedules.delete(k);
            else saved.nextFireAt = record.next;
            break;
          }
        }
      }
      if (damaged > 0) log(`scheduler-server: ${damaged} damaged journal record(s) skipped in ${file}`);
      return { groups: [...groups.values()], schedules: [...schedules.values()] };
    },
    write(record) {
      if (fd < 0) fd = openSync(file, 'a');
      writeSync(fd, `${JSON.stringify(record)}\n`);
    },
    compact(groups, schedules) {
      journal.close();
      const temporary = `${file}.tmp`;
      writeFileSync(
        temporary,
        [
          ...groups.map((g) => ({ op: 'group', ...g })),
          ...schedules.map((schedule) => ({ op: 'put', schedule })),
        ]
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      );
      renameSync(temporary, file);
    },
    close() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
  return journal;
}
