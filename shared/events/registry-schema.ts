import * as z from 'zod';
import { OWN_SOURCE_PREFIX } from './names';
import { EVENT_CATALOG, type EventDefinition } from './schemas';

/**
 * The event catalog in the form the EventBridge Schema Registry takes: one OpenAPI 3.0 document per
 * event, version and source, shaped like the registry's own schemas (`aws.events`, discovered
 * schemas): `components.schemas.AWSEvent` is the envelope, tagged with `x-amazon-events-source` and
 * `x-amazon-events-detail-type`, and its `detail` refers to a component holding the detail schema.
 * The detail schema is zod's own OpenAPI 3.0 output (`target: 'openapi-3.0'`) of the same zod schema
 * the code validates with, so it cannot drift from `docs/events/*.json` (JSON Schema 2020-12, which
 * the registry does not accept).
 *
 * An event several sources publish gets one document per source (the registry, like EventBridge,
 * identifies an event by source and detail-type: `<source>@<Name>`). An inbound event, which any
 * producer publishes under its own source, has no `x-amazon-events-source`: its envelope's `source`
 * says which sources are accepted instead.
 */

export type JsonObject = { [key: string]: unknown };

export interface RegistrySchema {
  /** The schema's name in a registry, e.g. `complaints.agent@ComplaintClosed.v1` (`[A-Za-z0-9._@-]`). */
  name: string;
  /** Path of the committed document under `docs/`. */
  file: string;
  detailType: string;
  /** The one source of this document; undefined for an inbound event (any producer's source). */
  source: string | undefined;
  /** The event's schema version (`detail.metadata.version`). */
  version: number;
  /** Name of the component under `components.schemas` that holds the detail schema. */
  detailComponent: string;
  definition: EventDefinition;
  document: JsonObject;
}

/** The envelope fields every EventBridge event has, in the order AWS's registry schemas list them. */
export const ENVELOPE_REQUIRED = [
  'detail-type',
  'resources',
  'detail',
  'id',
  'source',
  'time',
  'region',
  'version',
  'account',
] as const;

export const REGISTRY_DIR = 'events/registry';

/** Every catalog event as registry documents: one per event, version and source. */
export function registrySchemas(
  definitions: readonly EventDefinition[] = Object.values(EVENT_CATALOG),
): RegistrySchema[] {
  return definitions.flatMap((definition) => {
    const sources = eventSources(definition);
    return sources.length === 0
      ? [registrySchema(definition, undefined)]
      : sources.map((source) => registrySchema(definition, source));
  });
}

/** The sources a catalog entry names (`a | b` lists several); empty for `*`, any producer's source. */
export function eventSources(definition: EventDefinition): string[] {
  if (definition.source === '*') return [];
  return definition.source.split('|').map((s) => s.trim());
}

/** `Complaint SLA Breached` → `ComplaintSLABreached` (the registry's naming of detail components). */
export function componentName(detailType: string): string {
  return detailType
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

export function registrySchema(definition: EventDefinition, source: string | undefined): RegistrySchema {
  const detail = detailSchema(definition);
  const version = schemaVersion(detail.schema, definition);
  const detailComponent = componentName(definition.detailType);
  const name = `${source ? `${source}@` : ''}${detailComponent}.v${version}`;
  const envelope: JsonObject = {
    type: 'object',
    required: [...ENVELOPE_REQUIRED],
    'x-amazon-events-detail-type': definition.detailType,
    ...(source ? { 'x-amazon-events-source': source } : {}),
    properties: {
      detail: { $ref: componentRef(detailComponent) },
      account: { type: 'string' },
      'detail-type': { type: 'string', enum: [definition.detailType] },
      id: { type: 'string' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      source: source
        ? { type: 'string', enum: [source] }
        : {
            type: 'string',
            description: `The producer's own source: any source not starting with "${OWN_SOURCE_PREFIX}".`,
            pattern: `^(?!${OWN_SOURCE_PREFIX.replaceAll('.', '\\.')})`,
          },
      time: { type: 'string', format: 'date-time' },
      version: { type: 'string' },
    },
  };
  const components: JsonObject = {
    AWSEvent: envelope,
    [detailComponent]: detail.schema,
    ...detail.definitions,
  };
  return {
    name,
    file: `${REGISTRY_DIR}/${name}.json`,
    detailType: definition.detailType,
    source,
    version,
    detailComponent,
    definition,
    document: {
      openapi: '3.0.0',
      info: { version: `${version}.0.0`, title: definition.detailType, description: definition.description },
      paths: {},
      components: { schemas: components },
    },
  };
}

/**
 * The detail as an OpenAPI 3.0 Schema Object, plus the schemas it refers to (`$ref` to
 * `#/components/schemas/<name>`): zod's `definitions` (schemas it extracted, e.g. a recursive one) and
 * the values of enum-keyed records (see {@link enumKeyedRecords}).
 */
function detailSchema(definition: EventDefinition): { schema: JsonObject; definitions: JsonObject } {
  const extracted = new Map<string, unknown>();
  const converted = z.toJSONSchema(definition.schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'openapi-3.0',
    override: (ctx) => enumKeyedRecords(ctx, extracted),
  }) as JsonObject;
  const { definitions = {}, ...schema } = converted as JsonObject & { definitions?: JsonObject };
  const detailComponent = componentName(definition.detailType);
  const components: JsonObject = {};
  const add = (name: string, value: unknown) => {
    if (name in components || name === detailComponent || name === 'AWSEvent') {
      throw new Error(`${definition.detailType}: component ${name} is defined twice`);
    }
    components[name] = value;
  };
  const rewrite = (ref: string): string => {
    if (ref === '#') return componentRef(detailComponent);
    if (ref.startsWith('#/components/schemas/')) return ref;
    const id = /^#\/definitions\/(.+)$/.exec(ref)?.[1];
    if (id === undefined) throw new Error(`${definition.detailType}: unexpected $ref ${ref}`);
    return componentRef(componentName(decodeURIComponent(id)));
  };
  for (const [id, value] of Object.entries(definitions)) add(componentName(id), rewriteRefs(value, rewrite));
  // Cloned: zod's output is a fresh copy, these were taken from its working tree.
  for (const [name, value] of extracted) add(name, rewriteRefs(structuredClone(value), rewrite));
  return {
    schema: { ...(rewriteRefs(schema, rewrite) as JsonObject), description: definition.description },
    definitions: components,
  };
}

/**
 * OpenAPI 3.0 has no `propertyNames`, so zod's OpenAPI output of a record keyed by an enum (e.g.
 * `deadlines`: acknowledge / firstResponse / resolution) would accept any key. Listing the keys as
 * properties, no others allowed, says what the JSON Schema catalog's `propertyNames` says; the value
 * schema becomes one component (`deadlines` → `Deadline`) that each key refers to.
 */
function enumKeyedRecords(
  ctx: { zodSchema: unknown; jsonSchema: JsonObject; path: (string | number)[] },
  extracted: Map<string, unknown>,
): void {
  const def = (
    ctx.zodSchema as { _zod: { def: { type: string; keyType?: { _zod: { values?: Set<unknown> } } } } }
  )._zod.def;
  const keys = def.type === 'record' ? def.keyType?._zod.values : undefined;
  const value = ctx.jsonSchema.additionalProperties;
  const property = ctx.path.at(-1);
  if (!keys || typeof value !== 'object' || value === null || typeof property !== 'string') return;
  if (![...keys].every((key) => typeof key === 'string')) return;
  const name = componentName(property.replace(/s$/, ''));
  const known = extracted.get(name);
  if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) {
    throw new Error(`two different record values would be component ${name}`);
  }
  extracted.set(name, value);
  ctx.jsonSchema.properties = Object.fromEntries(
    [...keys].map((key) => [key as string, { $ref: componentRef(name) }]),
  );
  ctx.jsonSchema.additionalProperties = false;
}

function schemaVersion(detail: JsonObject, definition: EventDefinition): number {
  const version = (
    detail as { properties?: { metadata?: { properties?: { version?: { enum?: unknown[] } } } } }
  ).properties?.metadata?.properties?.version?.enum;
  if (version?.length !== 1 || typeof version[0] !== 'number') {
    throw new Error(`${definition.detailType}: detail.metadata.version is not a single literal`);
  }
  return version[0];
}

function componentRef(name: string): string {
  return `#/components/schemas/${name}`;
}

function rewriteRefs(node: unknown, rewrite: (ref: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rewrite));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? rewrite(value) : rewriteRefs(value, rewrite),
    ]),
  );
}
