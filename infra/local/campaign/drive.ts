/**
 * The campaign's load: a realistic mix of customers, producers and agents, through the public
 * interfaces only (HTTP API with local JWTs, `PutEvents` on the EventBridge endpoint).
 *
 * Each submission carries a unique marker in its text (`ref <run>-<n>`), so the audit can match
 * every accepted submission to the complaints stored for it. The mix:
 * - HTTP `POST /complaints`, some with an `Idempotency-Key` (retried with the same key on a 5xx or a
 *   dropped connection, and for some an honest second send after success, which must answer the same
 *   complaint), some without (sent once; a 5xx there is "not accepted");
 * - inbound `Complaint Reported` events from another service (`shop.orders`), some sent twice with
 *   the same message id (a producer retry);
 * - poison payloads: `Complaint Reported` events with an invalid channel, which must reach the intake
 *   DLQ with a reason;
 * - agent work on a share of the HTTP complaints once assigned: acknowledge, sometimes ask for
 *   information (the customer replies through the tracking link), resolve; then the customer
 *   answers the survey (mostly satisfied, some reopen). The rest are left to breach their deadlines.
 *
 * While the drive runs, complaint states are read from the table directly (never through the
 * functions, so watching does not take capacity from the system under test).
 */

import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { complaintOfItem } from '../../../shared/storage/dynamodb-store';
import { LOCAL_CREDENTIALS } from '../dynamodb-local';
import { seeded } from '../faults';
import type { LocalIssuer } from '../jwt';
import type { LocalRuntime } from '../runtime';

export interface DriveOptions {
  httpApi: string;
  eventBridge: string;
  eventBusName: string;
  region: string;
  issuer: Pick<LocalIssuer, 'tokenFor'>;
  /** A document client on the runtime's DynamoDB (not through the fault proxies). */
  dynamodb: DynamoDBDocumentClient;
  tableName: string;
  /** Complaint submissions (poison payloads come on top). */
  complaints: number;
  /** Share of poison payloads, relative to `complaints` (at least one when > 0). @default 0.01 */
  poisonRate?: number;
  /** Submissions in flight at once. @default 4 */
  concurrency?: number;
  /** Share of HTTP complaints an agent works on (the rest are left to breach). @default 0.3 */
  agentShare?: number;
  seed?: number;
  /**
   * Finds the complaint an accepted event submission became and its customer's tracking token
   * (`event-complaints.ts`); with it, event submissions get agent journeys too (`agentShare`), without
   * it only HTTP ones do (the producer gets no complaint id back).
   */
  lookUpEventComplaint?: (
    marker: string,
  ) => Promise<{ complaintId: string; trackingToken: string } | undefined>;
  /** Every submission of this kind (default: the mix). */
  kind?: SubmissionKind;
  /** Unique id of this run (markers, keys, message ids). */
  runId: string;
  log?: (message: string) => void;
}

export type SubmissionKind = 'http-key' | 'http' | 'event';

export interface Submission {
  marker: string;
  kind: SubmissionKind;
  accepted: boolean;
  /** Last HTTP status (0: no answer) or, for events, 200 when PutEvents accepted the entry. */
  status: number;
  complaintId?: string;
  trackingToken?: string;
  /** Sends after the first (honest retries with the same key or message id). */
  resends: number;
  /** An honest resend answered another complaint, or failed. */
  replayMismatch?: boolean;
}

export interface PoisonPayload {
  messageId: string;
  accepted: boolean;
}

export interface JourneyFigures {
  started: number;
  resolved: number;
  infoRequested: number;
  surveysAnswered: number;
  reopenedBySurvey: number;
  /** Journeys that gave up (the complaint never got an assignee, an action kept failing…). */
  abandoned: number;
  /** Why, one line per kind (counts). */
  reasons: Record<string, number>;
}

export interface DriveResult {
  submissions: Submission[];
  poison: PoisonPayload[];
  journeys: JourneyFigures;
  startedAt: number;
  /** When the last submission was answered (journeys may go on after). */
  submittedAt: number;
  endedAt: number;
}

export const POISON_PREFIX = 'poison-';
export const PRODUCER = 'shop.orders';

const TEXTS: Array<{ language: 'en' | 'zh'; text: string }> = [
  { language: 'en', text: 'I was charged twice for my monthly membership and want a refund' },
  { language: 'en', text: 'My order has not arrived after two weeks and tracking shows nothing' },
  { language: 'en', text: 'The app crashes every time I open the payment page' },
  { language: 'en', text: 'The support agent on the phone was rude and hung up on me' },
  { language: 'en', text: 'The product arrived broken and the box was crushed' },
  { language: 'en', text: 'I cannot log in since the last update, it says network error' },
  { language: 'zh', text: '这个月的会员被重复扣费两次，要求退款' },
  { language: 'zh', text: '订单一直没有发货，客服也不回复' },
  { language: 'zh', text: '今天早上开始APP一直闪退，登录不了' },
  { language: 'zh', text: '收到的商品有质量问题，外包装破损严重' },
];
const CHANNELS = ['app', 'web', 'email', 'hotline'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The marker the audit finds in a stored complaint's description. */
export const markerOf = (runId: string, n: number) => `${runId}-${n}`;
export const MARKER_PATTERN = /\(ref (c[0-9a-z]+-\d+)\)/;

// biome-ignore lint/suspicious/noExplicitAny: API answers and stored records are read field by field.
type Json = Record<string, any>;

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const random = seeded(options.seed ?? 1);
  const log = options.log ?? (() => undefined);
  const api = options.httpApi;
  const startedAt = Date.now();
  const submissions: Submission[] = [];
  const poison: PoisonPayload[] = [];
  const journeys: JourneyFigures = {
    started: 0,
    resolved: 0,
    infoRequested: 0,
    surveysAnswered: 0,
    reopenedBySurvey: 0,
    abandoned: 0,
    reasons: {},
  };
  const pendingJourneys = new Set<Promise<void>>();
  const events = new EventBridgeClient({
    endpoint: options.eventBridge,
    region: options.region,
    credentials: LOCAL_CREDENTIALS,
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Json }> => {
    try {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await response.text();
      let json: Json = {};
      try {
        json = text ? (JSON.parse(text) as Json) : {};
      } catch {
        json = { text };
      }
      return { status: response.status, json };
    } catch (error) {
      return { status: 0, json: { error: String(error) } };
    }
  };

  const complaintOf = async (id: string): Promise<Json | undefined> => {
    const { Item } = await options.dynamodb.send(
      new GetCommand({
        TableName: options.tableName,
        Key: { pk: `C#${id}`, sk: 'META' },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : (complaintOfItem(Item) as Json);
  };
  const waitFor = async (id: string, test: (c: Json) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const c = await complaintOf(id).catch(() => undefined);
      if (c !== undefined && test(c)) return c;
      await sleep(1000);
    }
    return undefined;
  };

  const submissionBody = (n: number) => {
    const t = TEXTS[Math.floor(random() * TEXTS.length)] as (typeof TEXTS)[number];
    return {
      channel: CHANNELS[Math.floor(random() * CHANNELS.length)],
      customer: { id: `cust-${options.runId}-${n}`, language: t.language },
      description: `${t.text} (ref ${markerOf(options.runId, n)})`,
    };
  };

  // --- HTTP submissions -------------------------------------------------------------------------
  const submitHttp = async (n: number, keyed: boolean): Promise<Submission> => {
    const body = submissionBody(n);
    const key = `cmp-${options.runId}-${n}`;
    const headers: Record<string, string> = keyed ? { 'idempotency-key': key } : {};
    const s: Submission = {
      marker: markerOf(options.runId, n),
      kind: keyed ? 'http-key' : 'http',
      accepted: false,
      status: 0,
      resends: 0,
    };
    for (let attempt = 1; attempt <= 6; attempt++) {
      if (attempt > 1) s.resends++;
      const r = await call('POST', '/complaints', body, headers);
      s.status = r.status;
      if (r.status === 202 || r.status === 200) {
        s.accepted = true;
        s.complaintId = String(r.json.complaintId);
        s.trackingToken = String(r.json.trackingToken);
        break;
      }
      // 429 comes before the function: nothing was processed, any client may send again.
      if (r.status === 429) {
        await sleep(500 + random() * 1000);
        continue;
      }
      // Without a key a client cannot know whether a 5xx created something: it gives up.
      if ((r.status >= 500 || r.status === 0) && keyed) {
        await sleep(1000 * attempt);
        continue;
      }
      break;
    }
    // An honest resend of an answered request (the answer was "lost"): same key, same complaint.
    if (s.accepted && keyed && random() < 0.1) {
      s.resends++;
      const again = await call('POST', '/complaints', body, headers);
      if (again.status >= 500 || again.status === 0 || again.status === 429) {
        // Not an answer about the key: nothing to compare.
      } else if (String(again.json.complaintId) !== s.complaintId) {
        s.replayMismatch = true;
      }
    }
    return s;
  };

  // --- Events -----------------------------------------------------------------------------------
  const putEvent = async (messageId: string, data: unknown): Promise<boolean> => {
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        const put = await events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: options.eventBusName,
                Source: PRODUCER,
                DetailType: 'Complaint Reported',
                Detail: JSON.stringify({ metadata: { version: 1, messageId }, data }),
              },
            ],
          }),
        );
        if (!put.FailedEntryCount) return true;
      } catch {
        // The endpoint failed: a producer sends the same message id again.
      }
      await sleep(500 * attempt);
    }
    return false;
  };
  const submitEvent = async (n: number): Promise<Submission> => {
    const marker = markerOf(options.runId, n);
    const messageId = `cmp-${marker}`;
    const data = submissionBody(n);
    const s: Submission = { marker, kind: 'event', accepted: false, status: 0, resends: 0 };
    s.accepted = await putEvent(messageId, data);
    s.status = s.accepted ? 200 : 0;
    if (s.accepted && random() < 0.05) {
      s.resends++;
      await putEvent(messageId, data);
    }
    return s;
  };
  const submitPoison = async (k: number): Promise<PoisonPayload> => {
    const messageId = `${POISON_PREFIX}${options.runId}-${k}`;
    const accepted = await putEvent(messageId, {
      channel: 'carrier-pigeon',
      customer: { id: `p-${k}` },
      description: 'invalid channel',
    });
    return { messageId, accepted };
  };

  // --- Agent and customer journeys --------------------------------------------------------------
  const abandon = (reason: string) => {
    journeys.abandoned++;
    journeys.reasons[reason] = (journeys.reasons[reason] ?? 0) + 1;
  };
  const journey = async (s: Submission): Promise<void> => {
    journeys.started++;
    if (s.kind === 'event') {
      const found = await options.lookUpEventComplaint?.(s.marker);
      if (found === undefined) return abandon('event complaint not found within 90 s');
      s.complaintId = found.complaintId;
      s.trackingToken = found.trackingToken;
    }
    const id = s.complaintId as string;
    const assigned = await waitFor(id, (c) => c.assignment !== undefined || c.status === 'rejected', 90_000);
    if (assigned === undefined) return abandon('not assigned within 90 s');
    if (assigned.status === 'rejected') return abandon('rejected by classification');
    // No eligible agent (all at capacity): the team lead was alerted; nobody works on it here.
    if (assigned.assignment.assignee === undefined) return abandon('assigned to no agent (none eligible)');
    const token = options.issuer.tokenFor({
      role: 'agent',
      department: String(assigned.assignment.leadDepartment),
      agentId: String(assigned.assignment.assignee),
    });
    const auth = { authorization: `Bearer ${token}` };
    const act = async (body: Json): Promise<boolean> => {
      for (let attempt = 1; attempt <= 6; attempt++) {
        const view = await call('GET', `/complaints/${id}`, undefined, auth);
        if (view.status === 200) {
          const r = await call(
            'POST',
            `/complaints/${id}/actions`,
            { ...body, expectedVersion: view.json.version },
            auth,
          );
          if (r.status >= 200 && r.status < 300) return true;
          if (r.status !== 409 && r.status !== 429 && r.status < 500 && r.status !== 0) {
            abandon(`${body.action} answered ${r.status}`);
            return false;
          }
        }
        await sleep(500 * attempt);
      }
      abandon(`${body.action} kept failing`);
      return false;
    };
    const customer = async (path: string, body: Json): Promise<boolean> => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        const r = await call('POST', path, body);
        if (r.status >= 200 && r.status < 300) return true;
        if (r.status !== 429 && r.status < 500 && r.status !== 0) return false;
        await sleep(500 * attempt);
      }
      return false;
    };
    if (!(await act({ action: 'acknowledge' }))) return;
    if (random() < 0.3) {
      if (!(await act({ action: 'request-info', message: 'Please send the order number.' }))) return;
      journeys.infoRequested++;
      if (!(await customer(`/track/${s.trackingToken}/replies`, { message: 'The order is A1001.' })))
        return abandon('customer reply refused');
    }
    const resolved = await act({
      action: 'resolve',
      rootCause: 'A known defect, fixed for this customer.',
      solution: 'We fixed it and refunded the charge.',
    });
    if (!resolved) return;
    journeys.resolved++;
    const surveyed = await waitFor(id, (c) => c.survey?.requestedAt !== undefined, 60_000);
    if (surveyed === undefined) return abandon('survey not requested within 60 s');
    const unhappy = random() < 0.2;
    if (!(await customer(`/surveys/${s.trackingToken}`, { score: unhappy ? 1 : 5 })))
      return abandon('survey answer refused');
    journeys.surveysAnswered++;
    if (unhappy) journeys.reopenedBySurvey++;
  };

  // --- The mix ----------------------------------------------------------------------------------
  const poisonCount =
    (options.poisonRate ?? 0.01) > 0
      ? Math.max(1, Math.round(options.complaints * (options.poisonRate ?? 0.01)))
      : 0;
  type Work = { kind: 'complaint'; n: number } | { kind: 'poison'; k: number };
  const work: Work[] = Array.from({ length: options.complaints }, (_, n) => ({ kind: 'complaint', n }));
  // Poison spread over the run.
  for (let k = 0; k < poisonCount; k++) {
    work.splice(Math.floor(((k + 0.5) / poisonCount) * work.length), 0, { kind: 'poison', k });
  }
  let next = 0;
  let done = 0;
  const agentShare = options.agentShare ?? 0.3;
  const worker = async () => {
    while (next < work.length) {
      const item = work[next++] as Work;
      if (item.kind === 'poison') {
        poison.push(await submitPoison(item.k));
        continue;
      }
      const r = random();
      const kind: SubmissionKind = options.kind ?? (r < 0.33 ? 'http-key' : r < 0.55 ? 'http' : 'event');
      const s =
        kind === 'http-key'
          ? await submitHttp(item.n, true)
          : kind === 'http'
            ? await submitHttp(item.n, false)
            : await submitEvent(item.n);
      submissions.push(s);
      done++;
      if (done % 50 === 0) log(`campaign: ${done}/${options.complaints} submitted`);
      const workable =
        s.trackingToken !== undefined || (s.kind === 'event' && options.lookUpEventComplaint !== undefined);
      if (s.accepted && workable && random() < agentShare) {
        const j = journey(s).catch((error: unknown) => abandon(`error: ${String(error).slice(0, 80)}`));
        pendingJourneys.add(j);
        void j.finally(() => pendingJourneys.delete(j));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  const submittedAt = Date.now();
  log(`campaign: all ${options.complaints} submitted; ${pendingJourneys.size} agent journeys still running`);
  await Promise.all([...pendingJourneys]);
  events.destroy();
  return { submissions, poison, journeys, startedAt, submittedAt, endedAt: Date.now() };
}

/** Where a drive reaches a running local runtime: its public endpoints, its issuer and its table. */
export function driveTarget(
  runtime: Pick<LocalRuntime, 'endpoints' | 'issuer'>,
  dynamodb: DynamoDBDocumentClient,
  tableName: string,
): Pick<
  DriveOptions,
  'httpApi' | 'eventBridge' | 'eventBusName' | 'region' | 'issuer' | 'dynamodb' | 'tableName'
> {
  return {
    httpApi: runtime.endpoints.httpApi,
    eventBridge: runtime.endpoints.eventBridge,
    eventBusName: runtime.endpoints.eventBusName,
    region: runtime.endpoints.region,
    issuer: runtime.issuer,
    dynamodb,
    tableName,
  };
}

/** A run id: short, lower-case, unique enough per machine. */
export const newRunId = () => `c${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
