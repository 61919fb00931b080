/**
 * Just enough of OpenAPI 3.0's Schema Object to check the registry documents without a validator
 * package: a walk over every schema in a document, and a validator for the keywords the documents
 * use. `SCHEMA_KEYWORDS` is what the validator understands; a test asserts that the documents use
 * nothing else, so a keyword it would silently ignore cannot appear.
 */

export type Schema = { [keyword: string]: unknown };

/** Keywords the validator checks. */
const ASSERTIONS = [
  '$ref',
  'type',
  'nullable',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'allOf',
  'anyOf',
  'oneOf',
] as const;
/** Annotations (no effect on validation). */
const ANNOTATIONS = ['title', 'description', 'default', 'example', 'deprecated', 'readOnly', 'writeOnly'];
export const SCHEMA_KEYWORDS: ReadonlySet<string> = new Set<string>([...ASSERTIONS, ...ANNOTATIONS]);

/** Every schema in `schema` (itself included), with its JSON pointer. Follows no `$ref`. */
export function forEachSchema(
  schema: Schema,
  path: string,
  visit: (schema: Schema, path: string) => void,
): void {
  visit(schema, path);
  const child = (value: unknown, at: string) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      forEachSchema(value as Schema, at, visit);
  };
  for (const [name, value] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    child(value, `${path}/properties/${name}`);
  }
  child(schema.items, `${path}/items`);
  child(schema.additionalProperties, `${path}/additionalProperties`);
  child(schema.not, `${path}/not`);
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    for (const [i, item] of list.entries()) child(item, `${path}/${keyword}/${i}`);
  }
}

export type Resolve = (ref: string) => Schema;

/** A resolver for `#/components/schemas/<name>` within `document`; throws on any other reference. */
export function componentResolver(document: { components: { schemas: Record<string, Schema> } }): Resolve {
  return (ref) => {
    const name = /^#\/components\/schemas\/([^/]+)$/.exec(ref)?.[1];
    const target = name === undefined ? undefined : document.components.schemas[name];
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return target;
  };
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** The problems of `value` against `schema` (empty when valid), each with its JSON pointer. */
export function validate(schema: Schema, value: unknown, resolve: Resolve, path = ''): string[] {
  if (typeof schema.$ref === 'string') return validate(resolve(schema.$ref), value, resolve, path);
  const errors: string[] = [];
  const fail = (message: string) => errors.push(`${path || '/'}: ${message}`);
  if (value === null) {
    if (schema.nullable !== true && schema.type !== undefined) fail('is null');
    return errors;
  }
  if (schema.enum !== undefined && !(schema.enum as unknown[]).some((v) => sameValue(v, value))) {
    fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (schema.type !== undefined && !hasType(value, schema.type as string)) {
    fail(`${JSON.stringify(value)} is not of type ${String(schema.type)}`);
    return errors;
  }
  for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[keyword] as Schema[] | undefined;
    if (!list) continue;
    const passing = list.filter((s) => validate(s, value, resolve, path).length === 0).length;
    const ok =
      keyword === 'allOf' ? passing === list.length : keyword === 'anyOf' ? passing > 0 : passing === 1;
    if (!ok) fail(`does not match ${keyword}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) fail('is too short');
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) fail('is too long');
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
      fail(`does not match ${schema.pattern}`);
    }
    if (schema.format === 'date-time' && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) {
      fail('is not a date-time');
    }
  }
  if (typeof value === 'number') {
    const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
    if (minimum !== undefined && (schema.exclusiveMinimum === true ? value <= minimum : value < minimum)) {
      fail(`is below the minimum ${minimum}`);
    }
    if (maximum !== undefined && (schema.exclusiveMaximum === true ? value >= maximum : value > maximum)) {
      fail(`is above the maximum ${maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('has too few items');
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail('has too many items');
    if (schema.items) {
      for (const [i, item] of value.entries()) {
        errors.push(...validate(schema.items as Schema, item, resolve, `${path}/${i}`));
      }
    }
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in record)) fail(`lacks the required ${name}`);
    }
    for (const [name, item] of Object.entries(record)) {
      const at = `${path}/${name}`;
      if (name in properties) errors.push(...validate(properties[name] as Schema, item, resolve, at));
      else if (schema.additionalProperties === false) errors.push(`${at}: is not allowed`);
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...validate(schema.additionalProperties as Schema, item, resolve, at));
      }
    }
  }
  return errors;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
