import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessKeyIdOf } from './aws-request-actions';
import type { PutEventsAuthorization } from './bus-policy';
import { type Backoff, createDeliveryEngine, type DeliveryEngine } from './delivery/engine';
import {
  acceptRuleTargets,
  type DeliverFn,
  RULE_TARGET_KIND,
  registerRuleTargets,
  type SendToDeadLetter,
  type TargetDeliveryStats,
  targetStatsOf,
} from './delivery/rule-targets';
import { InvalidEventPatternError } from './event-pattern';
import {
  type AcceptedEvent,
  AwsError,
  type Bus,
  busNameOf,
  compilePatternText,
  createRuleStore,
  type EventEnvelope,
  type EventTarget,
  type InputTransformer,
  isObject,
  type Rule,
  type RuleDefinition,
  validation,
} from './eventbridge-rules';
import type { Faults } from './faults';
import { listenWithBody } from './listen';

export type { DeliverFn, SendToDeadLetter, TargetDeliveryStats } from './delivery/rule-targets';
export type {
  AcceptedEvent,
  EventEnvelope,
  EventTarget,
  InputTransformer,
  RuleDefinition,
} from './eventbridge-rules';
export { applyInputTemplate, resolveJsonPath, transformForTarget } from './eventbridge-rules';

/**
 * A local Amazon EventBridge endpoint for the local runtime.
 *
 * Why it exists: the Lambda bundles publish with the real AWS SDK (`AWS_ENDPOINT_URL_EVENTBRIDGE`),
 * and the rules of the template must route those events exactly as EventBridge would — same
 * pattern semantics (see `event-pattern.ts`), same validation errors, same target input shaping —
 * otherwise a rule that works locally could silently fail after deploy. No emulator we may depend
 * on does this without Docker, so this speaks the AWS JSON 1.1 protocol itself (`POST /`,
 * `X-Amz-Target: AWSEvents.<Op>`), which is enough for the SDK and `aws events … --endpoint-url`.
 *
 * This file is the API; the buses, rules and input shaping are `eventbridge-rules.ts`. Each matched
 * target of an accepted event becomes a delivery on the delivery engine (`delivery/rule-targets.ts`):
 * retried per the target's `RetryPolicy` with backoff, then sent to its `DeadLetterConfig` queue with
 * EventBridge's attributes (through `sendToDeadLetter`), never lost silently. The runtime passes
 * `deliver`, which knows how to reach an SQS queue or a local Lambda function, and its own engine (so
 * pending deliveries survive a restart); without one the endpoint keeps its own, in memory.
 * Scheduled rules (`scheduleExpression`) are stored and listed, and {@link EventBridgeServer.fireRule}
 * delivers to their targets, but deciding when they are due is the caller's job (they carry no
 * pattern, so `PutEvents` never matches them).
 *
 * `PutEvents` is authorized per entry when `authorizePutEvents` is given (the local runtime passes
 * the template's bus policies and function roles, see `bus-policy.ts`): a refused entry gets AWS's
 * `NotAuthorizedForSourceException` / `NotAuthorizedForDetailTypeException` in its result entry, a
 * caller refused outright gets `AccessDeniedException` for the call.
 *
 * Known gaps (deliberate): no archives/replays, API destinations, no IAM checks beyond PutEvents, no
 * cross-account buses, no `Time` validation beyond parsing, no pagination tokens.
 */

export interface EventBridgeServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  hostname?: string;
  region?: string;
  accountId?: string;
  /** Reaches a target; absent: matched targets get nothing (routing only). */
  deliver?: DeliverFn;
  /** Sends what still fails after a target's retries to its dead-letter queue. Absent: dropped. */
  sendToDeadLetter?: SendToDeadLetter;
  /** The delivery engine to use (the runtime's, journaled). @default one of its own, in memory */
  delivery?: DeliveryEngine;
  /** Retry backoff of its own engine (ignored with `delivery`). @default 1 s doubling to 30 s */
  backoff?: Backoff;
  /** Asked whether to deliver a target's event twice (`duplicate('events')`). */
  faults?: Pick<Faults, 'duplicate'>;
  /** Called with every accepted event, after routing (a runtime's progress display, tests). */
  onAccepted?: (accepted: AcceptedEvent) => void;
  /** Where delivery failures are reported; they never fail `PutEvents`, as in AWS. */
  log?: (message: string) => void;
  /**
   * Authorizes the entries of a `PutEvents` call that passed validation (same order), given the
   * caller's access key (undefined when unsigned). Absent: every entry is accepted.
   */
  authorizePutEvents?: (
    accessKeyId: string | undefined,
    entries: ReadonlyArray<{ busArn: string; source: string; detailType: string }>,
  ) => PutEventsAuthorization;
}

export interface EventBridgeServer {
  endpoint: string;
  close(): Promise<void>;
  /** Creates the bus if it does not exist yet (the template's buses are declared up front). */
  addBus(name: string): string;
  /** Creates or replaces a rule; throws {@link InvalidEventPatternError} for a pattern AWS refuses. */
  putRule(rule: RuleDefinition): string;
  putTargets(bus: string, rule: string, targets: EventTarget[]): void;
  /** Delivers `event` to every target of a rule now (a scheduled rule whose expression came due). */
  fireRule(bus: string, rule: string, event: EventEnvelope): void;
  events(): ReadonlyArray<AcceptedEvent>;
  /** Target deliveries so far, all targets together. */
  stats(): TargetDeliveryStats;
  /** The same per target (`<rule name>/<target id>`). */
  targetStats(): Record<string, TargetDeliveryStats>;
  /** Resolves once no delivery is pending (tests; waits through retries). */
  idle(): Promise<void>;
}

const MAX_ENTRIES = 10;
/** AWS's limit for the whole PutEvents request. */
const MAX_REQUEST_BYTES = 256 * 1024;

/** EventBridge times have second precision and a `Z` suffix. */
const isoSeconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

/** `Time` as the SDK sends it (epoch seconds) or as the CLI may (ISO text). */
const entryTime = (value: unknown): Date => {
  if (typeof value === 'number') return new Date(value * 1000);
  if (typeof value === 'string') {
    const parsed = new Date(value);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  return new Date();
};

const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/** `RetryPolicy` and `DeadLetterConfig` of a `PutTargets` target, validated as AWS does. */
function deliveryOptionsOf(t: Record<string, unknown>): Pick<EventTarget, 'retryPolicy' | 'deadLetterArn'> {
  const out: Pick<EventTarget, 'retryPolicy' | 'deadLetterArn'> = {};
  if (isObject(t.RetryPolicy)) {
    const { MaximumRetryAttempts: retries, MaximumEventAgeInSeconds: age } = t.RetryPolicy;
    if (
      retries !== undefined &&
      !(Number.isInteger(retries) && Number(retries) >= 0 && Number(retries) <= 185)
    )
      throw validation('RetryPolicy.MaximumRetryAttempts must be between 0 and 185.');
    if (age !== undefined && !(Number.isInteger(age) && Number(age) >= 60 && Number(age) <= 86_400))
      throw validation('RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.');
    out.retryPolicy = {
      ...(retries !== undefined && { maximumRetryAttempts: Number(retries) }),
      ...(age !== undefined && { maximumEventAgeInSeconds: Number(age) }),
    };
  }
  if (isObject(t.DeadLetterConfig) && typeof t.DeadLetterConfig.Arn === 'string') {
    if (!t.DeadLetterConfig.Arn.startsWith('arn:aws:sqs:'))
      throw validation('DeadLetterConfig.Arn must be the ARN of an SQS queue.');
    out.deadLetterArn = t.DeadLetterConfig.Arn;
  }
  return out;
}

/**
 * Starts the endpoint. The `default` bus always exists, as in every AWS account.
 */
export async function startEventBridgeServer(
  options: EventBridgeServerOptions = {},
): Promise<EventBridgeServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const log = options.log ?? ((message: string) => console.warn(message));
  const store = createRuleStore(region, accountId);
  const { addBus, getBus, getRule, putRule, putTargets, buses } = store;
  const accepted: AcceptedEvent[] = [];
  const ownEngine =
    options.delivery === undefined
      ? createDeliveryEngine({ log, ...(options.backoff !== undefined && { backoff: options.backoff }) })
      : undefined;
  const engine = options.delivery ?? (ownEngine as DeliveryEngine);
  if (options.deliver !== undefined) {
    registerRuleTargets(engine, {
      deliver: options.deliver,
      ...(options.sendToDeadLetter !== undefined && { sendToDeadLetter: options.sendToDeadLetter }),
      log,
    });
  }
  await ownEngine?.start();

  /** Routes one accepted event: every enabled rule of its bus, every target, through the engine. */
  const route = (bus: Bus, event: EventEnvelope): string[] => {
    const matched = store.matching(bus, event);
    if (options.deliver !== undefined) {
      for (const rule of matched)
        acceptRuleTargets(engine, { ...rule, targets: rule.targets.values() }, event, options.faults);
    }
    return matched.map((rule) => rule.name);
  };

  const putEvents = (input: Record<string, unknown>, accessKeyId: string | undefined) => {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw validation(
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    }
    if (entries.length > MAX_ENTRIES) {
      throw validation(
        `1 validation error detected: Value '${JSON.stringify(entries)}' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    }
    if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
      throw validation('Total size of the entries in the request is over the limit.');
    }
    const results: Array<Record<string, string>> = [];
    /** Entries that passed validation: their index in `results` and what routing needs. */
    const valid: Array<{ index: number; bus: Bus; event: EventEnvelope }> = [];
    for (const raw of entries as unknown[]) {
      const entry = isObject(raw) ? raw : {};
      const required = (field: string) => ({
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      });
      if (typeof entry.Source !== 'string' || entry.Source === '') {
        results.push(required('Source'));
        continue;
      }
      if (typeof entry.DetailType !== 'string' || entry.DetailType === '') {
        results.push(required('DetailType'));
        continue;
      }
      if (typeof entry.Detail !== 'string' || entry.Detail === '') {
        results.push(required('Detail'));
        continue;
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        detail = undefined;
      }
      if (!isObject(detail)) {
        results.push({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
        continue;
      }
      const busName = busNameOf(entry.EventBusName);
      const bus = buses.get(busName);
      if (bus === undefined) {
        results.push({
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Event bus ${busName} does not exist.`,
        });
        continue;
      }
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: accountId,
        time: isoSeconds(entryTime(entry.Time)),
        region,
        resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
        detail,
      };
      valid.push({ index: results.length, bus, event });
      results.push({ EventId: event.id });
    }
    const authorization = options.authorizePutEvents?.(
      accessKeyId,
      valid.map(({ bus, event }) => ({
        busArn: bus.arn,
        source: event.source,
        detailType: event['detail-type'],
      })),
    );
    if (authorization?.callDenied !== undefined) {
      throw new AwsError('AccessDeniedException', authorization.callDenied);
    }
    for (const [i, { index, bus, event }] of valid.entries()) {
      const refusal = authorization?.entries[i];
      if (refusal !== undefined) {
        results[index] = { ErrorCode: refusal.ErrorCode, ErrorMessage: refusal.ErrorMessage };
        continue;
      }
      const record: AcceptedEvent = { bus: bus.name, event, matchedRules: route(bus, event) };
      accepted.push(record);
      options.onAccepted?.(record);
    }
    return {
      FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length,
      Entries: results,
    };
  };

  const testEventPattern = (input: Record<string, unknown>) => {
    const compiled = compilePatternText(input.EventPattern);
    let event: unknown;
    try {
      event = typeof input.Event === 'string' ? JSON.parse(input.Event) : undefined;
    } catch {
      event = undefined;
    }
    if (!isObject(event)) throw validation('Parameter Event is not valid.');
    const missing = REQUIRED_EVENT_FIELDS.filter((field) => event[field] === undefined);
    if (missing.length > 0) {
      throw validation(`Parameter Event is not valid. Reason: missing fields ${missing.join(', ')}.`);
    }
    return { Result: compiled.matches(event) };
  };

  const describeRule = (rule: Rule) => ({
    Name: rule.name,
    Arn: rule.arn,
    EventBusName: rule.bus,
    State: rule.state,
    ...(rule.eventPattern !== undefined && { EventPattern: rule.eventPattern }),
    ...(rule.scheduleExpression !== undefined && { ScheduleExpression: rule.scheduleExpression }),
    ...(rule.description !== undefined && { Description: rule.description }),
  });

  const describeTarget = (t: EventTarget) => ({
    Id: t.id,
    Arn: t.arn,
    ...(t.input !== undefined && { Input: t.input }),
    ...(t.inputPath !== undefined && { InputPath: t.inputPath }),
    ...(t.inputTransformer !== undefined && { InputTransformer: t.inputTransformer }),
    ...(t.retryPolicy !== undefined && {
      RetryPolicy: {
        ...(t.retryPolicy.maximumRetryAttempts !== undefined && {
          MaximumRetryAttempts: t.retryPolicy.maximumRetryAttempts,
        }),
        ...(t.retryPolicy.maximumEventAgeInSeconds !== undefined && {
          MaximumEventAgeInSeconds: t.retryPolicy.maximumEventAgeInSeconds,
        }),
      },
    }),
    ...(t.deadLetterArn !== undefined && { DeadLetterConfig: { Arn: t.deadLetterArn } }),
  });

  const operations: Record<string, (input: Record<string, unknown>, req: IncomingMessage) => unknown> = {
    PutEvents: (input, req) => putEvents(input, accessKeyIdOf(req.headers, req.url)),
    TestEventPattern: testEventPattern,
    PutRule: (input) => {
      if (typeof input.Name !== 'string' || input.Name === '')
        throw validation('Parameter Name is required.');
      const state = input.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
      return {
        RuleArn: putRule({
          bus: busNameOf(input.EventBusName),
          name: input.Name,
          state,
          ...(input.EventPattern !== undefined && { eventPattern: String(input.EventPattern) }),
          ...(input.ScheduleExpression !== undefined && {
            scheduleExpression: String(input.ScheduleExpression),
          }),
          ...(input.Description !== undefined && { description: String(input.Description) }),
        }),
      };
    },
    DescribeRule: (input) => describeRule(getRule(input.EventBusName, input.Name)),
    DeleteRule: (input) => {
      const bus = getBus(input.EventBusName);
      const rule = bus.rules.get(String(input.Name));
      if (rule === undefined) return {}; // AWS answers success for a missing rule.
      if (rule.targets.size > 0 && input.Force !== true) {
        throw validation("Rule can't be deleted since it has targets.");
      }
      bus.rules.delete(rule.name);
      return {};
    },
    EnableRule: (input) => {
      getRule(input.EventBusName, input.Name).state = 'ENABLED';
      return {};
    },
    DisableRule: (input) => {
      getRule(input.EventBusName, input.Name).state = 'DISABLED';
      return {};
    },
    ListRules: (input) => {
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      const rules = [...getBus(input.EventBusName).rules.values()]
        .filter((r) => r.name.startsWith(prefix))
        .sort((a, b) => a.name.localeCompare(b.name));
      return { Rules: rules.map(describeRule) };
    },
    PutTargets: (input) => {
      const targets = Array.isArray(input.Targets) ? (input.Targets as unknown[]) : [];
      putTargets(
        busNameOf(input.EventBusName),
        String(input.Rule),
        targets.map((raw) => {
          const t = isObject(raw) ? raw : {};
          if (typeof t.Id !== 'string' || typeof t.Arn !== 'string') {
            throw validation('Parameter Targets is not valid: each target needs Id and Arn.');
          }
          return {
            id: t.Id,
            arn: t.Arn,
            ...(typeof t.Input === 'string' && { input: t.Input }),
            ...(typeof t.InputPath === 'string' && { inputPath: t.InputPath }),
            ...(isObject(t.InputTransformer) && {
              inputTransformer: t.InputTransformer as unknown as InputTransformer,
            }),
            ...deliveryOptionsOf(t),
          };
        }),
      );
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    RemoveTargets: (input) => {
      const rule = getRule(input.EventBusName, input.Rule);
      for (const id of Array.isArray(input.Ids) ? input.Ids : []) rule.targets.delete(String(id));
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    ListTargetsByRule: (input) => ({
      Targets: [...getRule(input.EventBusName, input.Rule).targets.values()].map(describeTarget),
    }),
    CreateEventBus: (input) => {
      const name = String(input.Name ?? '');
      if (name === '' || name.includes('/')) throw validation('Parameter Name is not valid.');
      if (buses.has(name))
        throw new AwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
      return { EventBusArn: addBus(name) };
    },
    DescribeEventBus: (input) => {
      const bus = getBus(input.Name);
      return { Name: bus.name, Arn: bus.arn };
    },
    DeleteEventBus: (input) => {
      const name = busNameOf(input.Name);
      if (name === 'default') throw validation('Cannot delete event bus default.');
      store.deleteBus(name);
      return {};
    },
    ListEventBuses: (input) => {
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      return {
        EventBuses: [...buses.values()]
          .filter((b) => b.name.startsWith(prefix))
          .map((b) => ({ Name: b.name, Arn: b.arn })),
      };
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSEvents.')
      ? operations[target.slice('AWSEvents.'.length)]
      : undefined;
    try {
      if (req.method !== 'POST' || operation === undefined) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target || '(none)'}`);
      }
      let input: unknown;
      try {
        input = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new AwsError('SerializationException', 'Request body is not valid JSON.');
      }
      send(res, 200, operation(isObject(input) ? input : {}, req));
    } catch (error) {
      if (error instanceof AwsError) {
        send(res, 400, { __type: error.code, message: error.message });
      } else if (error instanceof InvalidEventPatternError) {
        send(res, 400, { __type: error.name, message: error.message });
      } else {
        log(`EventBridge: ${target} failed: ${error instanceof Error ? error.stack : String(error)}`);
        send(res, 500, { __type: 'InternalException', message: String(error) });
      }
    }
  };

  const { server, hostname, port } = await listenWithBody(handle, options);

  return {
    endpoint: `http://${hostname}:${port}`,
    async close() {
      await ownEngine?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
    addBus,
    putRule,
    putTargets,
    fireRule(busName, ruleName, event) {
      const rule = getRule(busName, ruleName);
      if (options.deliver === undefined) return;
      acceptRuleTargets(engine, { ...rule, targets: rule.targets.values() }, event, options.faults);
    },
    events: () => accepted,
    stats: () => targetStatsOf(engine, RULE_TARGET_KIND).total,
    targetStats: () => targetStatsOf(engine, RULE_TARGET_KIND).byKey,
    idle: () => engine.idle(),
  };
}
