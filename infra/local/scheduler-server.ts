import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FiredInvocation,
  type InvokeFn,
  type SendToDeadLetterFn,
  startFiringEngine,
} from './scheduler-engine';
import { openScheduleJournal, type ScheduleJournal } from './scheduler-journal';
import {
  AwsError,
  buildSchedule,
  describe,
  describeGroup,
  deserialize,
  isRecord,
  NAME_PATTERN,
  optionalString,
  paginate,
  requireGroup,
  resumedFireAt,
  type ScheduleContext,
  type ScheduleView,
  type StoredGroup,
  type StoredSchedule,
  scheduleKey,
  schedulerArns,
  serialize,
  summarize,
  validation,
  view,
} from './scheduler-model';

export type { FiredInvocation, InvokeFn } from './scheduler-engine';
export type { SavedSchedule, ScheduleTarget, ScheduleView } from './scheduler-model';

/**
 * A local Amazon EventBridge Scheduler endpoint for the local runtime.
 *
 * Why it exists: the service code creates its SLA and survey timers with the real
 * `@aws-sdk/client-scheduler` (`AWS_ENDPOINT_URL_SCHEDULER`), and those timers must fire locally
 * at the instants AWS would fire them, with the same input, or the lifecycle (warnings,
 * escalations, surveys) cannot be exercised end to end. No emulator we may depend on does this
 * without Docker, so this speaks Scheduler's REST-JSON protocol itself — the request shapes were
 * taken from what SDK v3 actually sends (`POST|PUT|GET|DELETE /schedules/{Name}`, `GroupName` in the
 * body for writes, `groupName` in the query for reads/deletes, `ScheduleGroup` for ListSchedules,
 * dates as epoch seconds) — and rejects what AWS rejects, with AWS's error codes in
 * `x-amzn-errortype` (which the SDK turns into `error.name`) and a `{ "Message": … }` body.
 *
 * What it does not do: reach targets. The runtime passes `invoke`, which knows how to call a local
 * Lambda function; this module decides *when* and *with what input*.
 *
 * Known gaps (deliberate): `FlexibleTimeWindow` is validated but every invocation runs at its exact
 * scheduled time (no jitter); `ClientToken` idempotency is not implemented; no tags, KMS or IAM
 * checks; retries are a simplified exponential backoff in real time (capped), and dead-lettered
 * invocations are recorded ({@link SchedulerServer.deadLetters}) and handed to `sendToDeadLetter` (the runtime sends them to SQS); a one-time
 * schedule whose `at()` time has already passed is accepted and never fires (AWS's behaviour there
 * is undocumented); a paused clock (injected `now`) means recurring schedules only fire through
 * {@link SchedulerServer.fireDue} or the ticker reading that clock.
 *
 * With `stateFile` the groups and schedules, with their pending firings, are journaled
 * (`scheduler-journal.ts`) and restored at start: a one-time timer that came due while the runtime
 * was down fires at once, late, and a recurring schedule that missed occurrences fires once for them;
 * firings more than a second late are counted ({@link SchedulerStats.lateFirings}). A firing is
 * journaled as done only after its delivery, so a kill mid-delivery fires it again (at least once).
 *
 * This file is the server: its state, the HTTP routing, listening, suspend/resume and the journal
 * restore. The schedules themselves — validation, next firings, their shapes in answers and in the
 * journal — are `scheduler-model.ts`; firing them is `scheduler-engine.ts`.
 */

export interface SchedulerServerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  region?: string;
  accountId?: string;
  invoke: InvokeFn;
  /**
   * Sends an invocation that exhausted its retries to the target's `DeadLetterConfig.Arn` (an SQS
   * queue), as Scheduler does; without it dead letters are only recorded ({@link SchedulerServer.deadLetters}).
   */
  sendToDeadLetter?: SendToDeadLetterFn;
  /** Clock; injectable so tests decide when schedules are due. */
  now?: () => Date;
  /** Period of the firing engine in ms (default 1000); 0 or less disables it (tests use {@link SchedulerServer.fireDue}). */
  tickMs?: number;
  /** First retry delay in ms (default 200), doubled per retry, capped at {@link retryMaxDelayMs}. */
  retryBaseDelayMs?: number;
  /** Longest retry delay in ms (default 2000): keeps local retries short, unlike AWS's minutes. */
  retryMaxDelayMs?: number;
  /** Where engine failures are reported (default: console.warn). */
  log?: (message: string) => void;
  /** The journal file that makes groups and schedules survive a restart; absent: in memory only. */
  stateFile?: string;
  /**
   * Clock skew in ms (an injected fault): subtracted from the clock when deciding what is due, so a
   * positive skew fires timers late and a negative one early. @default none
   */
  clockSkewMs?: () => number;
  /** A firing later than this after its time counts as late (default: max(1000, 2 × tickMs)). */
  lateAfterMs?: number;
}

/** Pending timers and punctuality, for the runtime's status. */
export interface SchedulerStats {
  /** Enabled schedules with a firing still ahead (or due). */
  pending: number;
  /** The earliest pending firing. */
  nextDue: Date | undefined;
  /** Firings made later than `lateAfterMs` after their time (e.g. due while the runtime was down). */
  lateFirings: number;
  /** The latest of those, in ms late. */
  maxLatenessMs: number;
  /** Schedules restored from the state file at start. */
  restored: number;
}

export interface SchedulerServer {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SCHEDULER` or the SDK's `endpoint`. */
  readonly endpoint: string;
  /** Stops the ticker, waits for running invocations, closes the server. */
  close(): Promise<void>;
  schedules(): ReadonlyArray<ScheduleView>;
  /** Completed invocations, in order. */
  fired(): ReadonlyArray<FiredInvocation>;
  /** The subset of {@link fired} that exhausted its retries. */
  deadLetters(): ReadonlyArray<FiredInvocation>;
  stats(): SchedulerStats;
  /** Closes the listener and pauses the firing engine (a Scheduler outage on demand). */
  suspend(): Promise<void>;
  /** Listens again on the same port and resumes firing (what came due meanwhile fires, late). */
  resume(): Promise<void>;
  /**
   * Fires every invocation due at or before `at` (default: `now()`), in chronological order,
   * including every missed occurrence of a recurring schedule; resolves when they all completed
   * (retries included) with the number of invocations made.
   */
  fireDue(at?: Date): Promise<number>;
}

/** When the caller signed the request (`X-Amz-Date`, `yyyyMMddTHHmmssZ`), or undefined. */
export function signedAt(header: string | string[] | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(header ?? ''));
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, se));
}

/** Starts the endpoint and its firing engine. */
export async function startSchedulerServer(options: SchedulerServerOptions): Promise<SchedulerServer> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => console.warn(message));
  const arns = schedulerArns(options.region ?? 'us-east-1', options.accountId ?? '123456789012');

  const groups = new Map<string, StoredGroup>();
  /** Keyed by {@link scheduleKey}: names are unique per group only. */
  const store = new Map<string, StoredSchedule>();
  const context: ScheduleContext = { groups, arns, now };

  const journal: ScheduleJournal | undefined =
    options.stateFile === undefined ? undefined : openScheduleJournal(options.stateFile, log);
  const addGroup = (name: string, creationDate = now()): StoredGroup => {
    const group = { name, arn: arns.group(name), creationDate, lastModificationDate: creationDate };
    groups.set(name, group);
    if (name !== 'default') journal?.write({ op: 'group', name, creationDate: creationDate.toISOString() });
    return group;
  };
  addGroup('default');
  const putSchedule = (schedule: StoredSchedule) => {
    store.set(scheduleKey(schedule.group, schedule.name), schedule);
    journal?.write({ op: 'put', schedule: serialize(schedule) });
  };
  const deleteSchedule = (group: string, name: string) => {
    store.delete(scheduleKey(group, name));
    journal?.write({ op: 'del', group, name });
  };

  const requireSchedule = (group: string, name: string): StoredSchedule => {
    requireGroup(groups, group);
    const schedule = store.get(scheduleKey(group, name));
    if (schedule === undefined)
      throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return schedule;
  };

  // ----------------------------------------------------------------------------- HTTP routing

  const handle = async (
    method: string,
    url: URL,
    body: Record<string, unknown>,
    sentAt?: Date,
  ): Promise<unknown> => {
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const [collection, name, ...rest] = parts;
    if (rest.length > 0)
      throw new AwsError('UnknownOperationException', `Unknown operation ${method} ${url.pathname}`, 404);
    const q = url.searchParams;

    if (collection === 'schedules' && name !== undefined) {
      switch (method) {
        case 'POST': {
          const schedule = buildSchedule(context, name, body, undefined, sentAt);
          const k = scheduleKey(schedule.group, name);
          if (store.has(k)) throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
          putSchedule(schedule);
          return { ScheduleArn: schedule.arn };
        }
        case 'PUT': {
          const group = optionalString(body.GroupName, 'groupName') ?? 'default';
          const previous = requireSchedule(group, name);
          const schedule = buildSchedule(context, name, body, previous, sentAt);
          putSchedule(schedule);
          return { ScheduleArn: schedule.arn };
        }
        case 'GET':
          return describe(requireSchedule(q.get('groupName') ?? 'default', name));
        case 'DELETE': {
          const schedule = requireSchedule(q.get('groupName') ?? 'default', name);
          deleteSchedule(schedule.group, name);
          return {};
        }
      }
    }
    if (collection === 'schedules' && name === undefined && method === 'GET') {
      const group = q.get('ScheduleGroup') ?? q.get('GroupName') ?? undefined;
      if (group !== undefined) requireGroup(groups, group);
      const prefix = q.get('NamePrefix') ?? '';
      const state = q.get('State') ?? undefined;
      const matching = [...store.values()]
        .filter((s) => (group === undefined || s.group === group) && s.name.startsWith(prefix))
        .filter((s) => state === undefined || s.state === state)
        .sort((a, b) => compare(a.group, b.group) || compare(a.name, b.name));
      const page = paginate(matching, q);
      return {
        Schedules: page.items.map(summarize),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    }
    if (collection === 'schedule-groups' && name !== undefined) {
      switch (method) {
        case 'POST': {
          if (!NAME_PATTERN.test(name)) throw validation(`Invalid schedule group name ${name}.`);
          if (groups.has(name))
            throw new AwsError('ConflictException', `Schedule group ${name} already exists.`, 409);
          return { ScheduleGroupArn: addGroup(name).arn };
        }
        case 'GET':
          return describeGroup(requireGroup(groups, name));
        case 'DELETE': {
          if (name === 'default') throw validation('The default schedule group cannot be deleted.');
          requireGroup(groups, name);
          // AWS deletes the group's schedules with it (asynchronously there; at once here).
          for (const s of [...store.values()]) if (s.group === name) deleteSchedule(s.group, s.name);
          groups.delete(name);
          journal?.write({ op: 'ungroup', name });
          return {};
        }
      }
    }
    if (collection === 'schedule-groups' && name === undefined && method === 'GET') {
      const prefix = q.get('NamePrefix') ?? '';
      const matching = [...groups.values()]
        .filter((g) => g.name.startsWith(prefix))
        .sort((a, b) => compare(a.name, b.name));
      const page = paginate(matching, q);
      return {
        ScheduleGroups: page.items.map(describeGroup),
        ...(page.nextToken ? { NextToken: page.nextToken } : {}),
      };
    }
    throw new AwsError('UnknownOperationException', `Unknown operation ${method} ${url.pathname}`, 404);
  };

  const server = createServer((req, res) => {
    void serve(req, res);
  });
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const text = await readBody(req);
      let body: Record<string, unknown> = {};
      if (text.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON.', 400);
        }
        if (!isRecord(parsed))
          throw new AwsError('SerializationException', 'The request body must be a JSON object.', 400);
        body = parsed;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const result = await handle(req.method ?? 'GET', url, body, signedAt(req.headers['x-amz-date']));
      send(res, 200, result);
    } catch (error) {
      if (error instanceof AwsError) {
        send(res, error.status, { Message: error.message }, error.code);
      } else {
        log(`scheduler-server: internal error: ${errorMessage(error)}`);
        send(res, 500, { Message: errorMessage(error) }, 'InternalServerException');
      }
    }
  };

  // --- restore what the journal holds (before the first tick) ---
  let restored = 0;
  if (journal !== undefined) {
    const saved = journal.load();
    for (const group of saved.groups) {
      if (!groups.has(group.name)) addGroup(group.name, new Date(group.creationDate));
    }
    const t = now();
    for (const record of saved.schedules) {
      try {
        const schedule = deserialize(record, arns.schedule(record.group, record.name));
        schedule.nextFireAt = resumedFireAt(schedule, t);
        store.set(scheduleKey(schedule.group, schedule.name), schedule);
        restored += 1;
      } catch (error) {
        log(`scheduler-server: schedule ${record.group}/${record.name} not restored: ${errorMessage(error)}`);
      }
    }
    journal.compact(
      [...groups.values()]
        .filter((g) => g.name !== 'default')
        .map((g) => ({ name: g.name, creationDate: g.creationDate.toISOString() })),
      [...store.values()].map(serialize),
    );
  }

  const tickMs = options.tickMs ?? 1000;
  const engine = startFiringEngine({
    store,
    journal,
    invoke: options.invoke,
    sendToDeadLetter: options.sendToDeadLetter,
    now,
    clockSkewMs: options.clockSkewMs,
    log,
    tickMs,
    retryBaseDelayMs: options.retryBaseDelayMs ?? 200,
    retryMaxDelayMs: options.retryMaxDelayMs ?? 2000,
    lateAfterMs: options.lateAfterMs ?? Math.max(1000, 2 * tickMs),
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  let closed = false;
  let suspended = false;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      closed = true;
      await engine.close();
      journal?.close();
      server.closeAllConnections();
      if (!suspended) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stats: () => {
      let pending = 0;
      let nextDue: Date | undefined;
      for (const s of store.values()) {
        if (s.state !== 'ENABLED' || s.nextFireAt === undefined) continue;
        pending += 1;
        if (nextDue === undefined || s.nextFireAt < nextDue) nextDue = s.nextFireAt;
      }
      return { pending, nextDue, ...engine.lateness(), restored };
    },
    async suspend() {
      if (suspended || closed) return;
      suspended = true;
      engine.pause();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async resume() {
      if (!suspended || closed) return;
      await listen(port);
      suspended = false;
      engine.resume();
    },
    schedules: () => [...store.values()].map(view),
    fired: engine.fired,
    deadLetters: () => engine.fired().filter((f) => f.outcome === 'dead-lettered'),
    fireDue: engine.fireDue,
  };
}

// ------------------------------------------------------------------------------- helpers

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}
