/**
 * The template's EventBridge side on the project's endpoint: the buses, the rules with event patterns
 * and their targets (with each target's `RetryPolicy` and `DeadLetterConfig`), and the scheduled
 * rules, fired on their `rate()`/`cron()` expressions. Every target delivery, of pattern and
 * scheduled rules alike, goes through the runtime's delivery engine (`delivery/rule-targets.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryEngine } from '../delivery/engine';
import type { SendToDeadLetter } from '../delivery/rule-targets';
import { LOCAL_REGION } from '../dynamodb-local';
import {
  type AcceptedEvent,
  type EventBridgeServer,
  type EventBridgeServerOptions,
  type EventEnvelope,
  type EventTarget,
  startEventBridgeServer,
} from '../eventbridge-server';
import type { Faults } from '../faults';
import { parseScheduleExpression } from '../schedule-expression';
import { LOCAL_ACCOUNT_ID, resourcesOfType, type StackTemplate, type TemplateResolver } from '../template';

// biome-ignore lint/suspicious/noExplicitAny: a template's properties are untyped JSON, read field by field.
type Props = Record<string, any>;

interface ScheduledRule {
  logicalId: string;
  bus: string;
  name: string;
  arn: string;
  expression: string;
}

export interface LocalEventBus {
  server: EventBridgeServer;
  busNames: string[];
  /** Calls `listener` with every event a bus accepts from now on; returns the unsubscribe function. */
  onEvent(listener: (accepted: AcceptedEvent) => void): () => void;
  /** Fires a scheduled rule now (its logical id prefix), as if its expression had come due. */
  fireScheduledRule(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalEventBus(options: {
  template: StackTemplate;
  resolver: TemplateResolver;
  port?: number;
  tickMs: number;
  log: (message: string) => void;
  /** Decides PutEvents entries (bus policy, roles); read at each call, so it may be set later. */
  authorizePutEvents: () => EventBridgeServerOptions['authorizePutEvents'];
  /** Reaches a target (SQS or a function); a rejection is a failed attempt, retried per policy. */
  deliver: (target: EventTarget, body: string) => Promise<void>;
  /** Sends to a target's dead-letter queue with EventBridge's attributes. */
  sendToDeadLetter: SendToDeadLetter;
  /** The runtime's delivery engine (journaled, shared with asynchronous invocations). */
  delivery: DeliveryEngine;
  faults: Pick<Faults, 'duplicate'>;
}): Promise<LocalEventBus> {
  const { log, resolver } = options;
  const listeners = new Set<(accepted: AcceptedEvent) => void>();
  const server = await startEventBridgeServer({
    authorizePutEvents: (key, entries) => options.authorizePutEvents()?.(key, entries) ?? { entries: [] },
    onAccepted: (accepted) => {
      for (const listener of listeners) listener(accepted);
    },
    port: options.port ?? 0,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    log,
    deliver: (target, _event, body) => options.deliver(target, body),
    sendToDeadLetter: options.sendToDeadLetter,
    delivery: options.delivery,
    faults: options.faults,
  });
  const busNames: string[] = [];
  for (const [id] of resourcesOfType(options.template, 'AWS::Events::EventBus')) {
    const name = resolver.physicalName(id);
    server.addBus(name);
    busNames.push(name);
  }
  const scheduledRules: ScheduledRule[] = [];
  for (const [id, resource] of resourcesOfType(options.template, 'AWS::Events::Rule')) {
    const p = resolver.resolve(resource.Properties) as Props;
    if (p.State === 'DISABLED') continue;
    const bus = p.EventBusName === undefined ? 'default' : busNameOf(String(p.EventBusName));
    const name = resolver.ref(id);
    const targets: EventTarget[] = (p.Targets ?? []).map((t: Props) => ({
      id: String(t.Id),
      arn: String(t.Arn),
      ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
      ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
      ...(t.InputTransformer !== undefined ? { inputTransformer: t.InputTransformer } : {}),
      ...(t.RetryPolicy !== undefined
        ? {
            retryPolicy: {
              ...(t.RetryPolicy.MaximumRetryAttempts !== undefined
                ? { maximumRetryAttempts: Number(t.RetryPolicy.MaximumRetryAttempts) }
                : {}),
              ...(t.RetryPolicy.MaximumEventAgeInSeconds !== undefined
                ? { maximumEventAgeInSeconds: Number(t.RetryPolicy.MaximumEventAgeInSeconds) }
                : {}),
            },
          }
        : {}),
      ...(t.DeadLetterConfig?.Arn !== undefined ? { deadLetterArn: String(t.DeadLetterConfig.Arn) } : {}),
    }));
    if (p.EventPattern !== undefined) {
      server.putRule({ bus, name, eventPattern: p.EventPattern, description: p.Description });
      server.putTargets(bus, name, targets);
    } else if (p.ScheduleExpression !== undefined) {
      server.putRule({ bus, name, scheduleExpression: p.ScheduleExpression, description: p.Description });
      server.putTargets(bus, name, targets);
      scheduledRules.push({
        logicalId: id,
        bus,
        name,
        arn: resolver.getAtt(id, 'Arn'),
        expression: p.ScheduleExpression,
      });
    }
  }

  /** Accepts a delivery to each target of the rule (retried per its policy, then its DLQ). */
  const fireRule = (rule: ScheduledRule, at: Date): void => {
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL_ACCOUNT_ID,
      time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: [rule.arn],
      detail: {},
    };
    server.fireRule(rule.bus, rule.name, event);
  };
  const ruleTimers = scheduledRules.map((rule) => {
    const parsed = parseScheduleExpression(rule.expression, 'UTC', { now: () => new Date() });
    let next = parsed.nextAfter(new Date());
    const timer = setInterval(() => {
      const now = new Date();
      if (next === undefined || next > now) return;
      const at = next;
      next = parsed.nextAfter(now);
      fireRule(rule, at);
    }, options.tickMs);
    timer.unref();
    return timer;
  });

  return {
    server,
    busNames,
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fireScheduledRule: async (prefix) => {
      const rule = scheduledRules.find((r) => r.logicalId.startsWith(prefix));
      if (rule === undefined) throw new Error(`No scheduled rule ${prefix}*`);
      fireRule(rule, new Date());
    },
    close: async () => {
      for (const timer of ruleTimers) clearInterval(timer);
      await server.close();
    },
  };
}

function busNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.indexOf('event-bus/') + 10) : nameOrArn;
}
