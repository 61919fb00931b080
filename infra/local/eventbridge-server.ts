import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { accessKeyIdOf } from './aws-request-actions';
import type { PutEventsAuthorization } from './bus-policy';
import { type CompiledPattern, compileEventPattern, InvalidEventPatternError } from './event-pattern';
import { listenWithBody } from './listen';

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
 * What it does not do: deliver to targets itself. The runtime passes `deliver`, which knows how to
 * reach an SQS queue or a local Lambda function; this module only decides *what* each target gets.
 * Scheduled rules (`scheduleExpression`) are stored and listed, but firing them is the scheduler's
 * job (they carry no pattern, so `PutEvents` never matches them).
 *
 * `PutEvents` is authorized per entry when `authorizePutEvents` is given (the local runtime passes
 * the template's bus policies and function roles, see `bus-policy.ts`): a refused entry gets AWS's
 * `NotAuthorizedForSourceException` / `NotAuthorizedForDetailTypeException` in its result entry, a
 * caller refused outright gets `AccessDeniedException` for the call.
 *
 * Known gaps (deliberate): no archives/replays, API destinations, retries or DLQs of targets, no
 * IAM checks beyond PutEvents, no cross-account buses, no `Time` validation beyond parsing, no
 * pagination tokens.
 */

/** Input shaping of a target, as in `AWS::Events::Rule` `Targets[]` and the `PutTargets` API. */
export interface InputTransformer {
  /** Placeholder name → JSONPath into the event (`$.detail.id`). */
  InputPathsMap?: Record<string, string>;
  /** Text with `<name>` placeholders; JSON or plain text. */
  InputTemplate: string;
}

/** A rule target; `arn` says where `deliver` must send it (an SQS queue, a Lambda function, …). */
export interface EventTarget {
  id: string;
  arn: string;
  /** Constant JSON text sent instead of the event. */
  input?: string;
  /** JSONPath of the part of the event to send (`$.detail`). */
  inputPath?: string;
  inputTransformer?: InputTransformer;
}

/** The envelope EventBridge builds around an accepted `PutEvents` entry. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** One accepted event, kept for debugging: which bus took it and which rules it matched. */
export interface AcceptedEvent {
  bus: string;
  event: EventEnvelope;
  matchedRules: string[];
}

/**
 * Sends the (transformed) event to a target. `event` is the parsed payload (or the raw text when an
 * input template is not JSON); `body` is the exact text AWS would hand to the target, e.g. an SQS
 * message body.
 */
export type DeliverFn = (target: EventTarget, event: unknown, body: string) => Promise<void>;

export interface EventBridgeServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  hostname?: string;
  region?: string;
  accountId?: string;
  deliver?: DeliverFn;
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

export interface RuleDefinition {
  bus: string;
  name: string;
  eventPattern?: unknown;
  scheduleExpression?: string;
  description?: string;
  state?: 'ENABLED' | 'DISABLED';
}

export interface EventBridgeServer {
  endpoint: string;
  close(): Promise<void>;
  /** Creates the bus if it does not exist yet (the template's buses are declared up front). */
  addBus(name: string): string;
  /** Creates or replaces a rule; throws {@link InvalidEventPatternError} for a pattern AWS refuses. */
  putRule(rule: RuleDefinition): string;
  putTargets(bus: string, rule: string, targets: EventTarget[]): void;
  events(): ReadonlyArray<AcceptedEvent>;
  /** Deliveries so far; `failed` counts the ones `deliver` rejected. */
  stats(): { delivered: number; failed: number };
  /** Resolves once every delivery started so far has settled (tests and shutdown). */
  idle(): Promise<void>;
}

/** An AWS error answered as `{ __type, message }` with status 400. */
class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Rule {
  name: string;
  arn: string;
  bus: string;
  eventPattern?: string;
  compiled?: CompiledPattern;
  scheduleExpression?: string;
  description?: string;
  state: 'ENABLED' | 'DISABLED';
  targets: Map<string, EventTarget>;
}

interface Bus {
  name: string;
  arn: string;
  rules: Map<string, Rule>;
}

const MAX_ENTRIES = 10;
/** AWS's limit for the whole PutEvents request. */
const MAX_REQUEST_BYTES = 256 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const validation = (message: string) => new AwsError('ValidationException', message);

/** `arn:aws:events:…:event-bus/name` or a plain name → the name (AWS accepts both). */
const busNameOf = (nameOrArn: unknown): string => {
  if (nameOrArn === undefined || nameOrArn === null || nameOrArn === '') return 'default';
  const text = String(nameOrArn);
  const match = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(text);
  return match?.[1] ?? text;
};

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

/**
 * Resolves the JSONPath subset EventBridge accepts in `InputPath` and `InputPathsMap`: `$`,
 * `$.a.b`, `$.a[0]`, `$['a-b']`. Returns `undefined` when the path leads nowhere.
 */
export function resolveJsonPath(document: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw validation(`Invalid JSONPath: ${path}`);
  const steps: Array<string | number> = [];
  const pattern = /\.([^.[\]]+)|\[(\d+)\]|\[['"]([^'"]+)['"]\]/gy;
  pattern.lastIndex = 1;
  while (pattern.lastIndex < path.length) {
    const start = pattern.lastIndex;
    const match = pattern.exec(path);
    if (match === null || pattern.lastIndex === start) throw validation(`Invalid JSONPath: ${path}`);
    const [, name, index, quoted] = match;
    steps.push(index !== undefined ? Number(index) : (name ?? quoted ?? ''));
  }
  let current: unknown = document;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isObject(current)) return undefined;
      current = current[step];
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * Fills an input template as EventBridge does: inside a JSON string literal a value is inserted as
 * string content (escaped, strings without their quotes); outside, as JSON. A template that is not
 * JSON-shaped is plain text, where strings go in raw. Unknown placeholders stay as they are.
 */
export function applyInputTemplate(template: string, values: Record<string, unknown>): string {
  const jsonShaped = /^\s*[{["]/.test(template);
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch === '<') {
      const close = template.indexOf('>', i);
      const name = close > i ? template.slice(i + 1, close) : '';
      if (name !== '' && /^[\w.-]+$/.test(name) && Object.hasOwn(values, name)) {
        const value = values[name];
        if (!jsonShaped) {
          out += typeof value === 'string' ? value : JSON.stringify(value ?? null);
        } else if (inString) {
          const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
          out += JSON.stringify(text).slice(1, -1);
        } else {
          out += value === undefined ? 'null' : JSON.stringify(value);
        }
        i = close;
        continue;
      }
    }
    if (ch === '\\' && inString) {
      out += ch + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    out += ch;
  }
  return out;
}

/** What a target receives for one event: parsed payload and exact text. */
export function transformForTarget(
  target: EventTarget,
  event: EventEnvelope,
  rule: { name: string; arn: string },
): { payload: unknown; body: string } {
  if (target.input !== undefined) {
    return { payload: JSON.parse(target.input) as unknown, body: target.input };
  }
  if (target.inputPath !== undefined) {
    const payload = resolveJsonPath(event, target.inputPath) ?? null;
    return { payload, body: JSON.stringify(payload) };
  }
  if (target.inputTransformer !== undefined) {
    const values: Record<string, unknown> = {
      'aws.events.rule-arn': rule.arn,
      'aws.events.rule-name': rule.name,
      'aws.events.event.ingestion-time': event.time,
      'aws.events.event': event,
      'aws.events.event.json': event,
    };
    for (const [name, path] of Object.entries(target.inputTransformer.InputPathsMap ?? {})) {
      values[name] = resolveJsonPath(event, path);
    }
    const body = applyInputTemplate(target.inputTransformer.InputTemplate, values);
    let payload: unknown = body;
    try {
      payload = JSON.parse(body);
    } catch {
      // Plain-text template: the target gets the text as it is.
    }
    return { payload, body };
  }
  return { payload: event, body: JSON.stringify(event) };
}

/** Parses and compiles a rule pattern, refusing what AWS refuses. */
function compilePatternText(text: unknown): CompiledPattern {
  if (typeof text !== 'string') throw new InvalidEventPatternError('Filter is not an object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InvalidEventPatternError(`Filter is not valid JSON: ${(e as Error).message}`);
  }
  return compileEventPattern(parsed);
}

const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

/**
 * Starts the endpoint. The `default` bus always exists, as in every AWS account.
 */
export async function startEventBridgeServer(
  options: EventBridgeServerOptions = {},
): Promise<EventBridgeServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const log = options.log ?? ((message: string) => console.warn(message));
  const buses = new Map<string, Bus>();
  const accepted: AcceptedEvent[] = [];
  const pending = new Set<Promise<void>>();
  const counters = { delivered: 0, failed: 0 };

  const busArn = (name: string) => `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
  const ruleArn = (bus: string, name: string) =>
    `arn:aws:events:${region}:${accountId}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;

  const addBus = (name: string): string => {
    const existing = buses.get(name);
    if (existing !== undefined) return existing.arn;
    const bus: Bus = { name, arn: busArn(name), rules: new Map() };
    buses.set(name, bus);
    return bus.arn;
  };
  addBus('default');

  const getBus = (nameOrArn: unknown): Bus => {
    const name = busNameOf(nameOrArn);
    const bus = buses.get(name);
    if (bus === undefined)
      throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return bus;
  };
  const getRule = (busName: unknown, name: unknown): Rule => {
    const bus = getBus(busName);
    const rule = bus.rules.get(String(name));
    if (rule === undefined) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Rule ${String(name)} does not exist on EventBus ${bus.name}.`,
      );
    }
    return rule;
  };

  const putRule = (definition: RuleDefinition): string => {
    const bus = getBus(definition.bus);
    if (definition.eventPattern === undefined && definition.scheduleExpression === undefined) {
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (definition.scheduleExpression !== undefined) {
      if (bus.name !== 'default') {
        throw validation('ScheduleExpression is supported only on the default event bus.');
      }
      if (!/^(rate|cron)\(.+\)$/.test(definition.scheduleExpression)) {
        throw validation('Parameter ScheduleExpression is not valid.');
      }
    }
    let eventPattern: string | undefined;
    let compiled: CompiledPattern | undefined;
    if (definition.eventPattern !== undefined) {
      eventPattern =
        typeof definition.eventPattern === 'string'
          ? definition.eventPattern
          : JSON.stringify(definition.eventPattern);
      compiled = compilePatternText(eventPattern);
    }
    const previous = bus.rules.get(definition.name);
    const rule: Rule = {
      name: definition.name,
      arn: ruleArn(bus.name, definition.name),
      bus: bus.name,
      state: definition.state ?? 'ENABLED',
      targets: previous?.targets ?? new Map(),
      ...(eventPattern !== undefined && { eventPattern }),
      ...(compiled !== undefined && { compiled }),
      ...(definition.scheduleExpression !== undefined && {
        scheduleExpression: definition.scheduleExpression,
      }),
      ...(definition.description !== undefined && { description: definition.description }),
    };
    bus.rules.set(rule.name, rule);
    return rule.arn;
  };

  const putTargets = (busName: string, ruleName: string, targets: EventTarget[]): void => {
    const rule = getRule(busName, ruleName);
    for (const target of targets) {
      const shapings = [target.input, target.inputPath, target.inputTransformer].filter(
        (x) => x !== undefined,
      );
      if (shapings.length > 1) {
        throw validation('Only one of Input, InputPath, or InputTransformer must be provided.');
      }
      if (target.input !== undefined) {
        try {
          JSON.parse(target.input);
        } catch {
          throw validation(`Target ${target.id}: Input is not valid JSON.`);
        }
      }
      if (target.inputPath !== undefined) resolveJsonPath({}, target.inputPath);
      for (const path of Object.values(target.inputTransformer?.InputPathsMap ?? {}))
        resolveJsonPath({}, path);
      rule.targets.set(target.id, { ...target });
    }
  };

  /** Routes one accepted event: every enabled rule of its bus, every target, off the request path. */
  const route = (bus: Bus, event: EventEnvelope): string[] => {
    const matched: string[] = [];
    for (const rule of bus.rules.values()) {
      if (rule.state !== 'ENABLED' || rule.compiled === undefined || !rule.compiled.matches(event)) continue;
      matched.push(rule.name);
      for (const target of rule.targets.values()) {
        const deliver = options.deliver;
        if (deliver === undefined) continue;
        const delivery = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => {
            const { payload, body } = transformForTarget(target, event, rule);
            return deliver(target, payload, body);
          })
          .then(
            () => {
              counters.delivered++;
            },
            (error: unknown) => {
              counters.failed++;
              log(
                `EventBridge: delivery of ${event.id} (rule ${rule.name}) to ${target.arn} failed: ${
                  error instanceof Error ? error.message : String(error)
                }`,
              );
            },
          )
          .finally(() => pending.delete(delivery));
        pending.add(delivery);
      }
    }
    return matched;
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
      buses.delete(name);
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

  const idle = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  return {
    endpoint: `http://${hostname}:${port}`,
    async close() {
      await idle();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
    addBus,
    putRule,
    putTargets,
    events: () => accepted,
    stats: () => ({ ...counters }),
    idle,
  };
}
