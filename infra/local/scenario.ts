/**
 * The built-in demo scenario of `npm start`: two complaints through the running local runtime, with
 * real clients only — HTTP calls to the API (the customer, an agent and a supervisor with local JWTs)
 * and an inbound `Complaint Reported` event through the EventBridge endpoint with the AWS SDK. It
 * watches the bus for each step and reports it as it happens; with the demo policy (deadlines in
 * seconds) it takes about half a minute.
 *
 * Complaint A (HTTP): received → classified → assigned → warned → escalated on the missed
 * acknowledgement deadline → acknowledged → info requested (clocks pause) → customer replies (clocks
 * resume) → compensation above the threshold proposed → approved by a supervisor → resolved →
 * surveyed → a low score reopens it (one escalation level higher) → resolved again → surveyed → a good
 * score closes it. Complaint B (event): received → classified → assigned.
 *
 * The end-to-end tests run the same scenario and check what it reports against the stored state.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPES } from '../../shared/events/names';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import type { AcceptedEvent } from './eventbridge-server';
import type { LocalRuntime } from './runtime';

export interface ScenarioStep {
  /** Seconds since the scenario started. */
  elapsed: number;
  complaint: 'A' | 'B';
  step: string;
  detail: string;
}

/** How many steps {@link runScenario} reports: 16 for complaint A, 3 for complaint B. */
export const SCENARIO_STEP_COUNT = 19;

export interface ScenarioSummary {
  steps: ScenarioStep[];
  complaints: { A: { id: string; number: string }; B: { id: string; number: string } };
  /** Events of each detail-type the bus accepted for the two complaints. */
  eventCounts: Record<string, number>;
  seconds: number;
}

/** Who approves in the scenario: the billing team lead (the agent is whoever the complaint was assigned to). */
const SUPERVISOR = { role: 'supervisor', department: 'billing', agentId: 'lead.billing' } as const;
/** The service that reports complaint B as an event. */
const PRODUCER = 'shop.orders';

// biome-ignore lint/suspicious/noExplicitAny: event data and API answers are read field by field for display.
type Json = Record<string, any>;
type Detail = { data: Json };

export async function runScenario(
  runtime: Pick<LocalRuntime, 'endpoints' | 'issuer' | 'onEvent' | 'events'>,
  options: { onStep?: (step: ScenarioStep) => void; stepTimeoutMs?: number } = {},
): Promise<ScenarioSummary> {
  const started = Date.now();
  const timeoutMs = options.stepTimeoutMs ?? 60_000;
  const api = runtime.endpoints.httpApi;
  const steps: ScenarioStep[] = [];
  const seen: AcceptedEvent[] = [];
  const waiters = new Set<() => void>();
  const unsubscribe = runtime.onEvent((accepted) => {
    seen.push(accepted);
    for (const wake of waiters) wake();
  });
  const report = (complaint: 'A' | 'B', step: string, detail: string) => {
    const entry = { elapsed: (Date.now() - started) / 1000, complaint, step, detail };
    steps.push(entry);
    options.onStep?.(entry);
  };

  /** The first event (from `from` on) of `type` for `complaintId` that satisfies `test`. */
  const waitFor = (
    complaintId: string,
    type: string,
    test: (d: Detail) => boolean = () => true,
    from = 0,
  ): Promise<{ index: number; detail: Detail }> =>
    firstEvent(
      waiters,
      () => {
        for (let i = from; i < seen.length; i++) {
          const e = seen[i]?.event;
          const detail = e?.detail as Detail | undefined;
          if (e?.['detail-type'] === type && detail?.data?.complaintId === complaintId && test(detail)) {
            return { index: i, detail };
          }
        }
        return undefined;
      },
      timeoutMs,
      `Timed out after ${timeoutMs / 1000} s waiting for "${type}" of ${complaintId}`,
    );

  const call = async (method: string, path: string, body?: unknown, token?: string): Promise<Json> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return text ? (JSON.parse(text) as Json) : {};
  };
  let agentToken = '';
  const supervisorToken = runtime.issuer.tokenFor(SUPERVISOR);
  /** An agent action on the current version of the complaint. */
  const act = async (id: string, body: Record<string, unknown>, asSupervisor = false) => {
    const token = asSupervisor ? supervisorToken : agentToken;
    const view = await call('GET', `/complaints/${id}`, undefined, token);
    return call('POST', `/complaints/${id}/actions`, { ...body, expectedVersion: view.version }, token);
  };

  try {
    // Complaint B arrives as an event from another service, the way producers publish.
    const eventBridge = new EventBridgeClient({
      endpoint: runtime.endpoints.eventBridge,
      region: runtime.endpoints.region,
      credentials: LOCAL_CREDENTIALS,
    });
    const messageId = `demo-${started}`;
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: runtime.endpoints.eventBusName,
            Source: PRODUCER,
            DetailType: DETAIL_TYPES.complaintReported,
            Detail: JSON.stringify({
              metadata: { version: 1, messageId },
              data: {
                channel: 'web',
                customer: { id: 'demo-customer-b', language: 'zh' },
                description: '今天早上开始APP一直闪退，登录不了，提示网络错误',
              },
            }),
          },
        ],
      }),
    );
    eventBridge.destroy();
    if (put.FailedEntryCount) throw new Error(`PutEvents refused the event: ${JSON.stringify(put.Entries)}`);

    // Complaint A: a customer writes through the public API.
    const accepted = await call('POST', '/complaints', {
      channel: 'app',
      customer: { id: 'demo-customer-a', language: 'zh' },
      description: '我这个月的会员被重复扣费两次，要求退款 (charged twice for my membership this month)',
    });
    const a = { id: String(accepted.complaintId), number: String(accepted.number) };
    const token = String(accepted.trackingToken);
    report('A', 'received', `${a.number} via app; acknowledgement: ${accepted.acknowledgement.text}`);

    const bReceived = await waitForReported(seen, waiters, PRODUCER, timeoutMs);
    const b = { id: bReceived.complaintId, number: bReceived.number };
    report('B', 'received', `${b.number} via an inbound "Complaint Reported" event from shop.orders`);
    const bDone = (async () => {
      const c = await waitFor(b.id, DETAIL_TYPES.complaintClassified);
      report(
        'B',
        'classified',
        `${c.detail.data.category} / ${c.detail.data.severity} / P${c.detail.data.priority}`,
      );
      const s = await waitFor(b.id, DETAIL_TYPES.complaintAssigned);
      report('B', 'assigned', `${s.detail.data.leadDepartment} → ${s.detail.data.assignee}`);
    })();

    const classified = await waitFor(a.id, DETAIL_TYPES.complaintClassified);
    const ackDue = classified.detail.data.deadlines?.acknowledge?.dueAt;
    report(
      'A',
      'classified',
      `${classified.detail.data.category} / ${classified.detail.data.severity} / P${classified.detail.data.priority}; acknowledge by ${ackDue}`,
    );
    const assigned = await waitFor(a.id, DETAIL_TYPES.complaintAssigned);
    const assignee = String(assigned.detail.data.assignee);
    agentToken = runtime.issuer.tokenFor({
      role: 'agent',
      department: String(assigned.detail.data.leadDepartment),
      agentId: assignee,
    });
    report('A', 'assigned', `${assigned.detail.data.leadDepartment} → ${assignee}`);
    const warned = await waitFor(a.id, DETAIL_TYPES.slaWarning, (d) => d.data.clock === 'acknowledge');
    report('A', 'warned', `acknowledgement due at ${warned.detail.data.dueAt}; nobody has acknowledged`);
    await waitFor(a.id, DETAIL_TYPES.slaBreached, (d) => d.data.clock === 'acknowledge');
    const escalated = await waitFor(a.id, DETAIL_TYPES.escalated, (d) => d.data.clock === 'acknowledge');
    report(
      'A',
      'escalated',
      `missed the acknowledgement deadline: level ${escalated.detail.data.level} → ${escalated.detail.data.role} ${escalated.detail.data.contact}`,
    );

    await act(a.id, { action: 'acknowledge' });
    report('A', 'acknowledged', `by ${assignee}`);
    await act(a.id, {
      action: 'request-info',
      message: '请提供两笔扣费的订单号。Please send the order numbers of both charges.',
    });
    report('A', 'info requested', 'clocks paused while waiting for the customer');
    await call('POST', `/track/${token}/replies`, {
      message: '订单号 A1001 和 A1002 / orders A1001 and A1002',
    });
    await waitFor(a.id, DETAIL_TYPES.customerReplied);
    report('A', 'customer replied', 'clocks resumed');
    await act(a.id, {
      action: 'propose-solution',
      solution: '退还重复扣费并补偿 800 元。Refund the duplicate charge and compensate 800 CNY.',
      compensation: { amount: 800 },
    });
    report('A', 'solution proposed', '800 CNY is above the approval threshold: waiting for a supervisor');
    await act(a.id, { action: 'approve' }, true);
    report('A', 'approved', `by ${SUPERVISOR.agentId} (four eyes)`);
    const resolveBody = {
      action: 'resolve',
      rootCause: 'Payment retry after a gateway timeout charged the card twice.',
      solution: '已退还重复扣费并补偿 800 元。The duplicate charge was refunded with 800 CNY compensation.',
      compensation: { amount: 800 },
    };
    await act(a.id, resolveBody);
    const resolved = await waitFor(a.id, DETAIL_TYPES.resolved);
    report('A', 'resolved', 'the survey is scheduled');
    const survey = await waitFor(a.id, DETAIL_TYPES.surveyRequested, () => true, resolved.index);
    report('A', 'surveyed', `the customer is asked to rate the resolution by ${survey.detail.data.answerBy}`);
    await call('POST', `/surveys/${token}`, { score: 1, comment: '还是不满意 / still unhappy' });
    const reopened = await waitFor(a.id, DETAIL_TYPES.reopened);
    const escalatedAgain = await waitFor(a.id, DETAIL_TYPES.escalated, (d) => d.data.reason === 'reopened');
    report(
      'A',
      'reopened',
      `score 1: reopened and escalated to level ${escalatedAgain.detail.data.level} (${escalatedAgain.detail.data.role})`,
    );
    await act(a.id, { action: 'acknowledge' });
    await act(a.id, {
      action: 'resolve',
      rootCause: 'Customer expected the refund on the original card today.',
      solution: '已加急退款，今日到账。The refund was expedited and arrives today.',
    });
    const resolvedAgain = await waitFor(a.id, DETAIL_TYPES.resolved, () => true, reopened.index);
    report('A', 'resolved again', 'a second survey is scheduled');
    await waitFor(a.id, DETAIL_TYPES.surveyRequested, () => true, resolvedAgain.index);
    report('A', 'surveyed again', 'the customer is asked again');
    await call('POST', `/surveys/${token}`, { score: 5, comment: '满意 / satisfied' });
    await waitFor(a.id, DETAIL_TYPES.closed);
    report('A', 'closed', 'score 5: closed');
    await bDone;

    const ids = new Set([a.id, b.id]);
    const eventCounts: Record<string, number> = {};
    for (const { event } of seen) {
      const id = (event.detail as Detail | undefined)?.data?.complaintId;
      if (!ids.has(id)) continue;
      eventCounts[event['detail-type']] = (eventCounts[event['detail-type']] ?? 0) + 1;
    }
    return { steps, complaints: { A: a, B: b }, eventCounts, seconds: (Date.now() - started) / 1000 };
  } finally {
    unsubscribe();
  }
}

/** The `Complaint Received` that answers the inbound report of `producer`. */
function waitForReported(
  seen: AcceptedEvent[],
  waiters: Set<() => void>,
  producer: string,
  timeoutMs: number,
): Promise<{ complaintId: string; number: string }> {
  return firstEvent(
    waiters,
    () => {
      for (const { event } of seen) {
        const data = (event.detail as Detail).data;
        if (event['detail-type'] === DETAIL_TYPES.complaintReceived && data?.sourceSystem === producer) {
          return { complaintId: String(data.complaintId), number: String(data.number) };
        }
      }
      return undefined;
    },
    timeoutMs,
    `Timed out waiting for the complaint reported by ${producer} to be received`,
  );
}

/**
 * Resolves with the first answer of `find` (over the events seen so far), checked now and again on every
 * new event (`waiters` are woken by the runtime's event listener); rejects with `timeoutMessage` after
 * `timeoutMs`.
 */
function firstEvent<T>(
  waiters: Set<() => void>,
  find: () => T | undefined,
  timeoutMs: number,
  timeoutMessage: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = find();
      if (found === undefined) return;
      cleanup();
      resolve(found);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(timeoutMessage));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      waiters.delete(check);
    };
    waiters.add(check);
    check();
  });
}
