/**
 * The campaign's audit, from the store and the queues (never from what the functions say about
 * themselves):
 *
 * - the table is scanned whole; every complaint record (`C#<id>` / `META`) whose description carries
 *   a campaign marker is matched to its submission;
 * - **lost**: accepted (HTTP 2xx, or the entry accepted by PutEvents) and no stored complaint, or a
 *   stored complaint still `received`/`classified` after settling (stuck before assignment);
 * - **duplicated**: submissions with more than one stored complaint (an honest resend that answered
 *   another complaint counts too);
 * - **double escalations**: two `escalated` entries in one complaint's clock log for the same clock
 *   and level within one run of that clock (a clock restarted by a reopening or a reclassification
 *   may escalate the same level again);
 * - **poison**: each poison payload must sit in a dead-letter queue with an `ErrorReason`; every
 *   other DLQ message is a leftover (by queue);
 * - **report vs table**: the daily reports' received and closed figures (`GET /reports/daily/<day>`)
 *   against counts from the table, for the business days the complaints fell on;
 * - **breach delay**: detection time minus deadline for every `breached` clock-log entry;
 * - **throughput**: accepted submissions per second of drive, and complaints assigned per second
 *   from the first receipt to the last assignment (with the intake → assigned latency).
 */

import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { complaintOfItem } from '../../../shared/storage/dynamodb-store';
import { factsOfItem } from '../../../shared/storage/reporting-store';
import { type DriveResult, MARKER_PATTERN, POISON_PREFIX } from './drive';
import { isDeadLetterQueue } from './settle';

// biome-ignore lint/suspicious/noExplicitAny: stored records are read field by field.
type Json = Record<string, any>;

export interface ReportFigures {
  received: number;
  closed: number;
}

export interface AuditInput {
  drive: DriveResult;
  dynamodb: DynamoDBDocumentClient;
  tableName: string;
  sqs: SQSClient;
  queues: Iterable<{ logicalId: string; url: string }>;
  /** The business time zone (the policy's calendar), where report days are cut. */
  timeZone: string;
  /** The daily report's figures for a day (`GET /reports/daily/<day>`), undefined when unavailable. */
  report: (day: string) => Promise<ReportFigures | undefined>;
}

export interface CampaignFigures {
  submitted: number;
  accepted: number;
  /** Complaints stored for the campaign's submissions (accepted or not). */
  stored: number;
  lost: number;
  /** Of the lost: stored but still `received` or `classified`. */
  stuck: number;
  duplicated: number;
  /** Submissions answered with a failure (not accepted) for which a complaint exists anyway. */
  storedNotAccepted: number;
  doubleEscalations: number;
  escalations: number;
  breaches: number;
  breachDelayMs: { p50: number | null; p99: number | null; max: number | null };
  poison: { sent: number; inDlqWithReason: number; inDlqWithoutReason: number; missing: number };
  otherDlq: number;
  otherDlqByQueue: Record<string, number>;
  reportVsTable: {
    match: boolean;
    days: string[];
    report: ReportFigures;
    table: ReportFigures;
  };
  throughput: {
    driveSeconds: number;
    acceptedPerSecond: number;
    assignedPerSecond: number;
    intakeToAssignedMs: { p50: number | null; p99: number | null };
  };
  /**
   * Markers of a few lost and duplicated submissions, and ids of a few stored complaints the report
   * aggregates do not count as received (with their status), to look them up.
   */
  examples: { lost: string[]; duplicated: string[]; notInReport: string[] };
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/**
 * Every complaint record in the table, and the ids of the complaints whose report facts count them as
 * received (the aggregator's `FACTS#<id>` items): one scan.
 */
async function scanComplaints(
  db: DynamoDBDocumentClient,
  table: string,
): Promise<{ complaints: Json[]; inReport: Set<string> }> {
  const complaints: Json[] = [];
  const inReport = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: start,
        FilterExpression: '(sk = :meta AND begins_with(pk, :c)) OR sk = :facts',
        ExpressionAttributeValues: { ':meta': 'META', ':c': 'C#', ':facts': 'FACTS' },
        ProjectionExpression: 'sk, doc, complaint, facts',
      }),
    );
    for (const item of page.Items ?? []) {
      if (item.sk === 'FACTS') {
        const facts = factsOfItem(item) as unknown as Json;
        if (facts.received !== undefined) inReport.add(String(facts.complaintId));
      } else if (item.doc !== undefined || item.complaint !== undefined) {
        complaints.push(complaintOfItem(item) as Json);
      }
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return { complaints, inReport };
}

interface DlqMessage {
  queue: string;
  body: string;
  reason: string | undefined;
}

async function drainDeadLetters(
  sqs: SQSClient,
  queues: Iterable<{ logicalId: string; url: string }>,
): Promise<DlqMessage[]> {
  const messages: DlqMessage[] = [];
  for (const queue of queues) {
    if (!isDeadLetterQueue(queue.logicalId)) continue;
    for (;;) {
      // Read, not deleted: hidden for a while so the loop sees each message once.
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 600,
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        messages.push({
          queue: queue.logicalId,
          body: m.Body ?? '',
          reason: m.MessageAttributes?.ErrorReason?.StringValue,
        });
      }
    }
  }
  return messages;
}

/** The poison message id a DLQ body carries (EventBridge envelope, or Lambda's on-failure record). */
function poisonIdOf(body: string): string | undefined {
  const match = new RegExp(`"(${POISON_PREFIX}[0-9a-z-]+)"`).exec(body.replace(/\\"/g, '"'));
  return match?.[1];
}

/** Clock-log escalations repeated for one clock and level within one run of the clock. */
export function doubleEscalationsOf(complaint: Json): number {
  const run: Record<string, number> = {};
  const seen = new Set<string>();
  let doubles = 0;
  for (const entry of (complaint.clockLog ?? []) as Json[]) {
    const clock = String(entry.clock);
    if (entry.event === 'started' || entry.event === 'recomputed') run[clock] = (run[clock] ?? 0) + 1;
    if (entry.event !== 'escalated') continue;
    const key = `${clock}|${entry.detail?.level}|${run[clock] ?? 0}`;
    if (seen.has(key)) doubles++;
    seen.add(key);
  }
  return doubles;
}

export async function audit(input: AuditInput): Promise<CampaignFigures> {
  const { drive } = input;
  const { complaints, inReport } = await scanComplaints(input.dynamodb, input.tableName);
  const byMarker = new Map<string, Json[]>();
  for (const c of complaints) {
    const marker = MARKER_PATTERN.exec(String(c.submission?.description ?? ''))?.[1];
    if (marker === undefined) continue;
    byMarker.set(marker, [...(byMarker.get(marker) ?? []), c]);
  }

  let lost = 0;
  let stuck = 0;
  let duplicated = 0;
  let storedNotAccepted = 0;
  const examples = {
    lost: [] as string[],
    duplicated: [] as string[],
    notInReport: complaints
      .filter((c) => !inReport.has(String(c.id)))
      .slice(0, 5)
      .map(
        (c) =>
          `${c.id} (${c.status}${MARKER_PATTERN.test(String(c.submission?.description)) ? '' : ", not the campaign's"})`,
      ),
  };
  for (const s of drive.submissions) {
    const found = byMarker.get(s.marker) ?? [];
    if (found.length > 1 || s.replayMismatch) {
      duplicated++;
      if (examples.duplicated.length < 5) examples.duplicated.push(s.marker);
    }
    if (!s.accepted) {
      if (found.length > 0) storedNotAccepted++;
      continue;
    }
    const early =
      found.length > 0 && found.every((c) => c.status === 'received' || c.status === 'classified');
    if (found.length === 0 || early) {
      lost++;
      if (early) stuck++;
      if (examples.lost.length < 5)
        examples.lost.push(`${s.marker} (${s.kind}${early ? `, ${found[0]?.status}` : ''})`);
    }
  }

  let doubleEscalations = 0;
  let escalations = 0;
  const delays: number[] = [];
  const toAssigned: number[] = [];
  let firstReceived = Number.POSITIVE_INFINITY;
  let lastAssigned = 0;
  const campaign = [...byMarker.values()].flat();
  for (const c of campaign) {
    doubleEscalations += doubleEscalationsOf(c);
    for (const entry of (c.clockLog ?? []) as Json[]) {
      if (entry.event === 'escalated') escalations++;
      if (entry.event === 'breached' && entry.detail?.dueAt !== undefined) {
        delays.push(Date.parse(entry.at) - Date.parse(entry.detail.dueAt));
      }
    }
    const received = Date.parse(c.receivedAt);
    firstReceived = Math.min(firstReceived, received);
    const assignedAt = c.assignment?.assignedAt;
    if (assignedAt !== undefined) {
      const at = Date.parse(assignedAt);
      toAssigned.push(at - received);
      lastAssigned = Math.max(lastAssigned, at);
    }
  }

  const dlq = await drainDeadLetters(input.sqs, input.queues);
  const poisonIds = new Set(drive.poison.filter((p) => p.accepted).map((p) => p.messageId));
  const poisonSeen = new Map<string, boolean>();
  const otherDlqByQueue: Record<string, number> = {};
  for (const m of dlq) {
    const id = poisonIdOf(m.body);
    if (id !== undefined && poisonIds.has(id)) {
      poisonSeen.set(id, (poisonSeen.get(id) ?? false) || (m.reason !== undefined && m.reason !== ''));
      continue;
    }
    otherDlqByQueue[m.queue] = (otherDlqByQueue[m.queue] ?? 0) + 1;
  }
  const withReason = [...poisonSeen.values()].filter(Boolean).length;

  // Report vs table, over every business day the campaign's complaints were received on.
  const dayOf = (iso: string) => DateTime.fromISO(iso).setZone(input.timeZone).toISODate() as string;
  const days = [...new Set(complaints.map((c) => dayOf(String(c.receivedAt))))].sort();
  const table: ReportFigures = {
    received: complaints.length,
    closed: complaints.filter((c) => c.status === 'closed').length,
  };
  const report: ReportFigures = { received: 0, closed: 0 };
  let reportsAnswered = true;
  for (const day of days) {
    const figures = await input.report(day).catch(() => undefined);
    if (figures === undefined) {
      reportsAnswered = false;
      continue;
    }
    report.received += figures.received;
    report.closed += figures.closed;
  }

  const driveSeconds = Math.max(0.001, (drive.submittedAt - drive.startedAt) / 1000);
  const accepted = drive.submissions.filter((s) => s.accepted).length;
  const assignedSeconds = lastAssigned > firstReceived ? (lastAssigned - firstReceived) / 1000 : 0;
  const round = (n: number | null) => (n === null ? null : Math.round(n));
  return {
    submitted: drive.submissions.length,
    accepted,
    stored: campaign.length,
    lost,
    stuck,
    duplicated,
    storedNotAccepted,
    doubleEscalations,
    escalations,
    breaches: delays.length,
    breachDelayMs: {
      p50: round(percentile(delays, 50)),
      p99: round(percentile(delays, 99)),
      max: round(delays.length === 0 ? null : Math.max(...delays)),
    },
    poison: {
      sent: poisonIds.size,
      inDlqWithReason: withReason,
      inDlqWithoutReason: poisonSeen.size - withReason,
      missing: poisonIds.size - poisonSeen.size,
    },
    otherDlq: Object.values(otherDlqByQueue).reduce((a, b) => a + b, 0),
    otherDlqByQueue,
    reportVsTable: {
      match: reportsAnswered && report.received === table.received && report.closed === table.closed,
      days,
      report,
      table,
    },
    throughput: {
      driveSeconds: Math.round(driveSeconds * 10) / 10,
      acceptedPerSecond: Math.round((accepted / driveSeconds) * 100) / 100,
      assignedPerSecond:
        assignedSeconds === 0 ? 0 : Math.round((toAssigned.length / assignedSeconds) * 100) / 100,
      intakeToAssignedMs: { p50: round(percentile(toAssigned, 50)), p99: round(percentile(toAssigned, 99)) },
    },
    examples,
  };
}
