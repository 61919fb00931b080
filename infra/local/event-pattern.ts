/**
 * EventBridge event-pattern compiler and matcher for the local runtime.
 *
 * The local EventBridge endpoint (`PutEvents`, `TestEventPattern`, rule routing) must decide exactly
 * as Amazon EventBridge does, or a rule that works locally could silently fail after deploy (or the
 * reverse). This module is pure — no AWS SDK, no I/O — so it can be tested case by case against the
 * shared conformance cases in `../shared/conformance/eventbridge-patterns/`, which were checked
 * against AWS's `TestEventPattern`.
 *
 * Model (as in AWS's open-source Ruler): both the pattern and the event are flattened to
 * dot-joined paths (`{"a":{"b":…}}` and `{"a.b":…}` are the same path), arrays in the event
 * contribute each element to the same path, and a pattern matches when, for one `$or` branch, every
 * path has at least one matching condition.
 */

const REASON = 'Event pattern is not valid. Reason: ';

/**
 * Thrown for a pattern AWS would refuse with `InvalidEventPatternException`.
 *
 * Its `name` is AWS's error code so the local endpoint can put it straight into the error
 * response, and callers can tell it from a bug in the matcher.
 */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternException';

  constructor(reason: string) {
    super(`${REASON}${reason}`);
  }
}

/**
 * A validated pattern, compiled once when the rule is created so each event only pays for matching
 * (as AWS validates on `PutRule`, not on `PutEvents`).
 */
export interface CompiledPattern {
  /** Whether the event (a parsed JSON object) matches the pattern. */
  matches(event: unknown): boolean;
}

type Leaf = string | number | boolean | null;
/** One condition of a leaf array; gets every value found at the path (empty if the field is absent). */
type Condition = (values: readonly Leaf[]) => boolean;
interface Field {
  readonly path: string;
  readonly conditions: readonly Condition[];
}
/** One `$or` branch: all fields must match. */
type Branch = readonly Field[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isLeaf = (v: unknown): v is Leaf =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const invalid = (reason: string): never => {
  throw new InvalidEventPatternError(reason);
};

/** Literal equality as EventBridge sees it: strings exactly, numbers numerically, no type coercion. */
const leafEquals = (a: Leaf, b: Leaf): boolean => a === b;

/**
 * Validates the whole pattern with AWS's rules and compiles it.
 *
 * Validation happens up front, for every branch, because AWS refuses an invalid pattern even when
 * the invalid part would never be reached for a given event.
 *
 * @throws InvalidEventPatternError when AWS would answer `InvalidEventPatternException`.
 */
export function compileEventPattern(pattern: unknown): CompiledPattern {
  if (!isObject(pattern)) invalid('Filter is not an object');
  const branches = compileObject(pattern as Record<string, unknown>, '');
  return {
    matches(event: unknown): boolean {
      if (!isObject(event)) return false;
      const flat = flattenEvent(event);
      return branches.some((branch) =>
        branch.every((field) => {
          const values = flat.get(field.path) ?? [];
          return field.conditions.some((condition) => condition(values));
        }),
      );
    },
  };
}

function compileObject(obj: Record<string, unknown>, prefix: string): Branch[] {
  let branches: Branch[] = [[]];
  for (const [key, value] of Object.entries(obj)) {
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        invalid('$or must be an array with at least two elements');
      }
      const options = (value as unknown[]).map((option) => {
        if (!isObject(option) || Object.keys(option).length === 0) {
          return invalid('Each element of $or must be a non-empty object');
        }
        return compileObject(option, prefix);
      });
      branches = branches.flatMap((b) => options.flatMap((opt) => opt.map((o) => [...b, ...o])));
      continue;
    }
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isObject(value)) {
      const sub = compileObject(value, path);
      branches = branches.flatMap((b) => sub.map((s) => [...b, ...s]));
    } else if (Array.isArray(value)) {
      if (value.length === 0) invalid('Empty arrays are not allowed');
      const field: Field = { path, conditions: value.map(compileCondition) };
      branches = branches.map((b) => [...b, field]);
    } else {
      invalid(`"${key}" must be an object or an array`);
    }
  }
  return branches;
}

function compileCondition(rule: unknown): Condition {
  if (isLeaf(rule)) {
    return (values) => values.some((v) => leafEquals(v, rule));
  }
  if (!isObject(rule)) return invalid('Match value must be String, number, true, false, or null');
  const entries = Object.entries(rule);
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined) return invalid('Only one key allowed in match expression');
  const [operator, operand] = entry;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return compilePrefixSuffix(operator, operand);
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') return invalid('equals-ignore-case match pattern must be a string');
      const expected = operand.toLowerCase();
      return strings((s) => s.toLowerCase() === expected);
    }
    case 'anything-but':
      return compileAnythingBut(operand);
    case 'exists': {
      if (typeof operand !== 'boolean') return invalid('exists match pattern must be either true or false.');
      return (values) => values.length > 0 === operand;
    }
    case 'numeric':
      return compileNumeric(operand);
    case 'cidr':
      return compileCidr(operand);
    case 'wildcard': {
      const re = compileWildcard(operand);
      return strings((s) => re.test(s));
    }
    default:
      return invalid(`Unrecognized match type ${operator}`);
  }
}

/** Matchers that only ever match string values (null, numbers and booleans never match). */
const strings =
  (test: (s: string) => boolean): Condition =>
  (values) =>
    values.some((v) => typeof v === 'string' && test(v));

function compilePrefixSuffix(operator: 'prefix' | 'suffix', operand: unknown): Condition {
  const test = (s: string, affix: string) =>
    operator === 'prefix' ? s.startsWith(affix) : s.endsWith(affix);
  if (typeof operand === 'string') return strings((s) => test(s, operand));
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const inner = operand['equals-ignore-case'];
    if (keys.length !== 1 || typeof inner !== 'string') {
      return invalid(`Unsupported ${operator} pattern: ${keys.join(', ')}`);
    }
    const affix = inner.toLowerCase();
    return strings((s) => test(s.toLowerCase(), affix));
  }
  return invalid(`${operator} match pattern must be a string`);
}

/**
 * `anything-but` matches a present field (null included) none of whose excluded values apply; a
 * missing field never matches (the `_missing_NEG` cases), and non-string values are never excluded
 * by the string forms (`prefix`, `suffix`, `wildcard`, `equals-ignore-case`).
 */
function compileAnythingBut(operand: unknown): Condition {
  let excluded: (v: Leaf) => boolean;
  if (typeof operand === 'string' || typeof operand === 'number') {
    excluded = (v) => leafEquals(v, operand);
  } else if (Array.isArray(operand)) {
    if (operand.length === 0) return invalid('Empty arrays are not allowed');
    for (const item of operand) {
      if (typeof item !== 'string' && typeof item !== 'number') {
        return invalid('Inside anything but list, start|null|boolean is not supported.');
      }
    }
    const list = operand as (string | number)[];
    excluded = (v) => list.some((item) => leafEquals(v, item));
  } else if (isObject(operand)) {
    const entries = Object.entries(operand);
    const [entry] = entries;
    if (entries.length !== 1 || entry === undefined) {
      return invalid('Only one key allowed in match expression');
    }
    const [inner, value] = entry;
    const texts = anythingButStrings(inner, value);
    let test: (s: string, t: string) => boolean;
    switch (inner) {
      case 'prefix':
        test = (s, t) => s.startsWith(t);
        break;
      case 'suffix':
        test = (s, t) => s.endsWith(t);
        break;
      case 'equals-ignore-case':
        test = (s, t) => s.toLowerCase() === t.toLowerCase();
        break;
      case 'wildcard': {
        const res = texts.map(compileWildcard);
        excluded = (v) => typeof v === 'string' && res.some((re) => re.test(v));
        return (values) => values.some((v) => !excluded(v));
      }
      default:
        return invalid(`Unsupported anything-but pattern: ${inner}`);
    }
    excluded = (v) => typeof v === 'string' && texts.some((t) => test(v, t));
  } else {
    return invalid('Value of anything-but must be an array or single string/number value.');
  }
  return (values) => values.some((v) => !excluded(v));
}

/** The string operand(s) of `anything-but: { prefix | suffix | equals-ignore-case | wildcard }`. */
function anythingButStrings(inner: string, value: unknown): string[] {
  if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner)) {
    return invalid(`Unsupported anything-but pattern: ${inner}`);
  }
  const list = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) return invalid('Empty arrays are not allowed');
  for (const item of list) {
    if (typeof item !== 'string') {
      if (isObject(item)) {
        return invalid('Value of anything-but must be an array or single string/number value.');
      }
      return invalid(`Inside anything-but/${inner} list, number|start|null|boolean is not supported.`);
    }
    if (item === '' && (inner === 'prefix' || inner === 'suffix')) {
      return invalid('Null prefix/suffix not allowed');
    }
  }
  return list as string[];
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/**
 * `numeric`: one comparison (`["<", 10]`, `["=", 3]`) or a range whose lower bound comes first
 * (`[">", 0, "<=", 5]`), as AWS accepts; only number values match (a numeric string does not).
 */
function compileNumeric(operand: unknown): Condition {
  if (!Array.isArray(operand)) return invalid('Value of numeric must be an array.');
  if (operand.length === 0) return invalid('Invalid member in numeric match: ]');
  const [op1, v1, op2, v2, ...rest] = operand as unknown[];
  const numberFor = (op: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return invalid(`Value of ${op === '=' ? 'equals' : op} must be numeric`);
    }
    return v;
  };
  if (typeof op1 !== 'string') return invalid(`Invalid member in numeric match: ${String(op1)}`);
  if (!NUMERIC_OPERATORS.has(op1)) return invalid(`Unrecognized numeric range operator: ${op1}`);
  const n1 = numberFor(op1, v1);
  const tests: ((x: number) => boolean)[] = [compare(op1, n1)];
  if (operand.length > 2) {
    if (op1 !== '>' && op1 !== '>=') return invalid('Too many elements in numeric expression');
    if (typeof op2 !== 'string') return invalid(`Bad value in numeric range: ${String(op2)}`);
    if (op2 !== '<' && op2 !== '<=') return invalid(`Bad numeric range operator: ${op2}`);
    const n2 = numberFor(op2, v2);
    if (n2 <= n1) return invalid('Bottom must be less than top');
    if (rest.length > 0) return invalid('Too many terms in numeric range expression');
    tests.push(compare(op2, n2));
  }
  return (values) => values.some((v) => typeof v === 'number' && tests.every((t) => t(v)));
}

function compare(op: string, n: number): (x: number) => boolean {
  switch (op) {
    case '<':
      return (x) => x < n;
    case '<=':
      return (x) => x <= n;
    case '>':
      return (x) => x > n;
    case '>=':
      return (x) => x >= n;
    default:
      return (x) => x === n;
  }
}

/**
 * `wildcard`: `*` stands for any run of characters (`\*` a literal star, `\\` a backslash).
 * AWS refuses consecutive stars and patterns it judges too complex; the complexity rule is
 * approximated as more than five stars (which is what the conformance case exercises).
 */
function compileWildcard(operand: unknown): RegExp {
  if (typeof operand !== 'string') return invalid('wildcard match pattern must be a string');
  let source = '';
  let stars = 0;
  for (let i = 0; i < operand.length; i++) {
    const ch = operand.charAt(i);
    if (ch === '\\') {
      const next = operand.charAt(i + 1);
      if (next !== '*' && next !== '\\') return invalid(`Invalid escape character at pos ${i + 1}`);
      source += `\\${next}`;
      i++;
    } else if (ch === '*') {
      if (operand.charAt(i + 1) === '*') return invalid(`Consecutive wildcard characters at pos ${i + 1}`);
      stars++;
      source += '[\\s\\S]*';
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  if (stars > 5) {
    return invalid(
      'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
    );
  }
  return new RegExp(`^${source}$`, 'u');
}

interface Network {
  readonly version: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
}

/** `cidr`: an IPv4 or IPv6 network; event values that are not valid IP addresses never match. */
function compileCidr(operand: unknown): Condition {
  if (typeof operand !== 'string') return invalid('prefix match pattern must be a string');
  const parts = operand.split('/');
  const [address, maskText] = parts;
  if (parts.length !== 2 || address === undefined || maskText === undefined) {
    return invalid("Malformed CIDR, one '/' required");
  }
  if (!/^\d+$/.test(maskText)) return invalid('Malformed CIDR, mask bits must be an integer');
  const ip = parseIp(address);
  if (ip === undefined) return invalid(`Nonstandard IP address: ${address}`);
  const width = ip.version === 4 ? 32 : 128;
  const bits = Number(maskText);
  if (bits > width) return invalid(`Malformed CIDR, mask bits must be between 0 and ${width}`);
  const network: Network = { version: ip.version, base: ip.value >> BigInt(width - bits), bits };
  return strings((s) => {
    const candidate = parseIp(s);
    return (
      candidate !== undefined &&
      candidate.version === network.version &&
      candidate.value >> BigInt(width - network.bits) === network.base
    );
  });
}

function parseIp(text: string): { version: 4 | 6; value: bigint } | undefined {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(text);
  return value === undefined ? undefined : { version: 4, value };
}

function parseIpv4(text: string): bigint | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0n;
  for (const octet of octets) {
    if (!/^\d{1,3}$/.test(octet)) return undefined;
    const n = Number(octet);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): string[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? groups : undefined;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  let groups: string[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/**
 * Flattens an event to dot-joined paths, each with every leaf value found there: array elements all
 * land on the array's path, an empty array contributes nothing (so the field counts as absent), and
 * objects contribute only through their leaves.
 */
function flattenEvent(event: Record<string, unknown>): Map<string, Leaf[]> {
  const flat = new Map<string, Leaf[]>();
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, path);
    } else if (isObject(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, path === '' ? key : `${path}.${key}`);
    } else if (isLeaf(value)) {
      const existing = flat.get(path);
      if (existing) existing.push(value);
      else flat.set(path, [value]);
    }
  };
  visit(event, '');
  return flat;
}
