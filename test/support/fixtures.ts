import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Complaint, ComplaintSubmissionInput, Deadline } from '../../shared/domain/complaint';
import { ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { newComplaintId } from '../../shared/domain/identifiers';
import type { EventPublisher } from '../../shared/events/publisher';
import type { OutboundEvent } from '../../shared/events/schemas';
import { writeBundledPolicy } from '../../shared/policy/bundled';
import { loadPolicyFile } from '../../shared/policy/load';
import type { Timer, TimerPayload, TimerScheduler } from '../../shared/scheduling/timers';

export const DEFAULT_POLICY_PATH = fileURLToPath(
  new URL('../../policy/default-policy.json', import.meta.url),
);
export const defaultPolicy = loadPolicyFile(DEFAULT_POLICY_PATH);

/**
 * The policy variables the stack gives a function: `POLICY_FILE` (the default policy as synth
 * normalises it, in a temporary directory) and its digest `POLICY_SHA256`.
 */
export function bundledPolicyEnv(policyFile = DEFAULT_POLICY_PATH): {
  POLICY_FILE: string;
  POLICY_SHA256: string;
} {
  const { file, sha256 } = writeBundledPolicy(
    loadPolicyFile(policyFile),
    join(tmpdir(), 'complaints-test-policy'),
  );
  return { POLICY_FILE: file, POLICY_SHA256: sha256 };
}

/** A publisher that keeps what it was given, for asserting on events without a bus. */
export class RecordingPublisher implements EventPublisher {
  readonly events: OutboundEvent[] = [];
  failNext = 0;
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated EventBridge outage');
    }
    this.events.push(...events);
  }
  ofType(detailType: string): OutboundEvent[] {
    return this.events.filter((e) => e.detailType === detailType);
  }
}

export function submission(overrides: Partial<ComplaintSubmissionInput> = {}): ComplaintSubmissionInput {
  return {
    channel: 'app',
    customer: { id: 'cust-1001', tier: 'standard', language: 'zh' },
    description: '登录时一直提示密码错误，无法登录，已经试了很多次',
    ...overrides,
  };
}

/** Keeps what is scheduled, like the schedule group would, and every call made. */
export class RecordingScheduler implements TimerScheduler {
  readonly scheduled = new Map<string, Timer>();
  readonly calls: Array<{ upsert: string[]; remove: string[] }> = [];
  async apply(changes: { upsert: readonly Timer[]; remove: readonly string[] }): Promise<void> {
    this.calls.push({ upsert: changes.upsert.map((t) => `${t.name}@${t.at}`), remove: [...changes.remove] });
    for (const t of changes.upsert) this.scheduled.set(t.name, t);
    for (const name of changes.remove) this.scheduled.delete(name);
  }
  payload(name: string): TimerPayload {
    const timer = this.scheduled.get(name);
    if (timer === undefined)
      throw new Error(`${name} is not scheduled (have: ${[...this.scheduled.keys()].join(', ')})`);
    return timer.payload;
  }
}

/** A running clock due at `dueAt` (warned at the same time, for brevity). */
export function runningClock(dueAt: string): Deadline {
  return { dueAt, warnAt: dueAt, basis: 'calendar', state: 'running', escalationLevel: 0 };
}

/** A stored-shape complaint for store tests; fields can be overridden. */
export function complaintRecord(overrides: Partial<Complaint> = {}): Complaint {
  const receivedAt = overrides.receivedAt ?? '2026-11-24T02:00:00.000Z';
  const id = overrides.id ?? newComplaintId(new Date(receivedAt));
  return {
    id,
    number: `C20261124-${id.slice(-6)}`,
    version: 1,
    status: 'received',
    source: { system: 'test', messageId: id },
    submission: ComplaintSubmissionSchema.parse(submission()),
    tier: 'standard',
    customerNamespace: 'verified',
    language: 'zh',
    receivedAt,
    promisedResponseBy: '2026-11-25T02:00:00.000Z',
    fingerprint: '0123456789abcdef',
    deadlines: {},
    clockLog: [],
    timers: {},
    work: {},
    reopenCount: 0,
    updatedAt: receivedAt,
    ...overrides,
  };
}
