/**
 * The rule side of the local EventBridge endpoint (`eventbridge-server.ts`): buses, rules and their
 * targets as `PutRule`/`PutTargets` and the template declare them, which rules an event matches (the
 * pattern language is `event-pattern.ts`), and what each target receives for an event (`Input`,
 * `InputPath`, `InputTransformer`, as EventBridge shapes them). Delivering is not done here: see
 * `delivery/rule-targets.ts`.
 */
import { type CompiledPattern, compileEventPattern, InvalidEventPatternError } from './event-pattern';

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
  /** The target's `RetryPolicy` (absent fields: EventBridge's defaults, 185 retries and 24 h). */
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  /** The target's `DeadLetterConfig.Arn`: an SQS queue for what still fails after the retries. */
  deadLetterArn?: string;
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

export interface RuleDefinition {
  bus: string;
  name: string;
  eventPattern?: unknown;
  scheduleExpression?: string;
  description?: string;
  state?: 'ENABLED' | 'DISABLED';
}

/** An AWS error answered as `{ __type, message }` with status 400. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Rule {
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

export interface Bus {
  name: string;
  arn: string;
  rules: Map<string, Rule>;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const validation = (message: string) => new AwsError('ValidationException', message);

/** `arn:aws:events:…:event-bus/name` or a plain name → the name (AWS accepts both). */
export const busNameOf = (nameOrArn: unknown): string => {
  if (nameOrArn === undefined || nameOrArn === null || nameOrArn === '') return 'default';
  const text = String(nameOrArn);
  const match = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(text);
  return match?.[1] ?? text;
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
export function compilePatternText(text: unknown): CompiledPattern {
  if (typeof text !== 'string') throw new InvalidEventPatternError('Filter is not an object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InvalidEventPatternError(`Filter is not valid JSON: ${(e as Error).message}`);
  }
  return compileEventPattern(parsed);
}

export interface RuleStore {
  readonly buses: ReadonlyMap<string, Bus>;
  /** Creates the bus if it does not exist yet; returns its ARN. */
  addBus(name: string): string;
  deleteBus(name: string): void;
  /** The bus by name or ARN; throws AWS's `ResourceNotFoundException`. */
  getBus(nameOrArn: unknown): Bus;
  getRule(busName: unknown, name: unknown): Rule;
  /** Creates or replaces a rule; throws {@link InvalidEventPatternError} for a pattern AWS refuses. */
  putRule(definition: RuleDefinition): string;
  putTargets(busName: string, ruleName: string, targets: EventTarget[]): void;
  /** The enabled pattern rules of `bus` that match `event` (scheduled rules never match). */
  matching(bus: Bus, event: EventEnvelope): Rule[];
}

/** The buses and rules of one endpoint; the `default` bus always exists, as in every AWS account. */
export function createRuleStore(region: string, accountId: string): RuleStore {
  const buses = new Map<string, Bus>();
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

  return {
    buses,
    addBus,
    deleteBus: (name) => {
      buses.delete(name);
    },
    getBus,
    getRule,
    putRule,
    putTargets,
    matching: (bus, event) =>
      [...bus.rules.values()].filter(
        (rule) => rule.state === 'ENABLED' && rule.compiled !== undefined && rule.compiled.matches(event),
      ),
  };
}
