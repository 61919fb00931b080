import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../shared/domain/business-calendar';
import { type Complaint, ComplaintSubmissionSchema } from '../../shared/domain/complaint';
import { eventJsonSchema } from '../../shared/events/catalog';
import { DETAIL_TYPES, SOURCES } from '../../shared/events/names';
import {
  componentName,
  ENVELOPE_REQUIRED,
  eventSources,
  type RegistrySchema,
  registrySchemas,
} from '../../shared/events/registry-schema';
import { EVENT_CATALOG, type EventDefinition, type OutboundEvent } from '../../shared/events/schemas';
import { StaticServiceKeys } from '../../shared/security/service-keys';
import { classifyComplaint } from '../../shared/services/classification';
import type { ComplaintStore, ComplaintUpdate } from '../../shared/storage/ports';
import {
  complaintRecord,
  defaultPolicy,
  RecordingPublisher,
  RecordingScheduler,
  submission,
} from '../support/fixtures';
import {
  componentResolver,
  forEachSchema,
  SCHEMA_KEYWORDS,
  type Schema,
  validate,
} from '../support/openapi-schema';

/**
 * The registry documents (`docs/events/registry/`, `shared/events/registry-schema.ts`): OpenAPI 3.0
 * in the shape of the EventBridge Schema Registry's own schemas, nothing of JSON Schema 2020-12, the
 * same constraints as the JSON Schema catalog, and real events valid against them.
 */

type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, unknown>;
  components: { schemas: Record<string, Schema> };
};

const definitions = Object.values(EVENT_CATALOG) as EventDefinition[];
const schemas = registrySchemas();
const documentOf = (schema: RegistrySchema) => schema.document as unknown as Document;
const bySourceAndType = (source: string, detailType: string) => {
  const found = schemas.find((s) => s.source === source && s.detailType === detailType);
  if (!found) throw new Error(`no registry schema for ${source} ${detailType}`);
  return found;
};

/** Keywords of JSON Schema drafts after OpenAPI 3.0's (draft-04/05 based) dialect, or absent from it. */
const NOT_OPENAPI_30 = [
  '$schema',
  '$id',
  '$defs',
  '$anchor',
  '$dynamicRef',
  'definitions',
  'const',
  'prefixItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'patternProperties',
  'dependentRequired',
  'dependentSchemas',
  'contains',
  'examples',
  'if',
  'then',
  'else',
];

describe('EventBridge Schema Registry documents', () => {
  it('cover every catalog event once per source, under names the registry accepts', () => {
    for (const definition of definitions) {
      const own = schemas.filter((s) => s.definition === definition);
      const sources = eventSources(definition);
      expect(own.map((s) => s.source)).toEqual(sources.length === 0 ? [undefined] : sources);
    }
    const names = schemas.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._@-]{1,385}$/);
    expect(bySourceAndType(SOURCES.agent, DETAIL_TYPES.closed).name).toBe(
      'complaints.agent@ComplaintClosed.v1',
    );
    expect(schemas.filter((s) => s.detailType === DETAIL_TYPES.customerNotificationRequested)).toHaveLength(
      5,
    );
  });

  it('are OpenAPI 3.0 documents shaped like AWS’s: AWSEvent envelope, detail as a component', () => {
    for (const schema of schemas) {
      const document = documentOf(schema);
      expect(document.openapi, schema.name).toBe('3.0.0');
      expect(document.info).toMatchObject({ title: schema.detailType, version: `${schema.version}.0.0` });
      expect(document.paths).toEqual({});
      const envelope = document.components.schemas.AWSEvent as Schema & {
        properties: Record<string, Schema>;
      };
      expect(envelope.type).toBe('object');
      expect(new Set(envelope.required as string[])).toEqual(new Set(ENVELOPE_REQUIRED));
      expect(Object.keys(envelope.properties).sort()).toEqual([...ENVELOPE_REQUIRED].sort());
      expect(envelope.properties.detail).toEqual({
        $ref: `#/components/schemas/${componentName(schema.detailType)}`,
      });
      expect(envelope.properties.time).toEqual({ type: 'string', format: 'date-time' });
      expect(envelope.properties.resources).toEqual({ type: 'array', items: { type: 'string' } });
      expect(document.components.schemas[schema.detailComponent]?.type).toBe('object');
    }
  });

  it('name the catalog’s source and detail-type in the envelope', () => {
    for (const schema of schemas) {
      const envelope = documentOf(schema).components.schemas.AWSEvent as Schema & {
        properties: Record<string, Schema>;
      };
      expect(envelope['x-amazon-events-detail-type']).toBe(schema.definition.detailType);
      expect(envelope.properties['detail-type']?.enum).toEqual([schema.definition.detailType]);
      if (schema.definition.direction === 'outbound') {
        expect(schema.definition.source.split(' | ')).toContain(envelope['x-amazon-events-source']);
        expect(envelope.properties.source?.enum).toEqual([envelope['x-amazon-events-source']]);
      } else {
        // Inbound: any producer's own source, so no one source to name.
        expect(schema.definition.source).toBe('*');
        expect(envelope['x-amazon-events-source']).toBeUndefined();
        const pattern = new RegExp(envelope.properties.source?.pattern as string);
        expect(pattern.test('app.backend')).toBe(true);
        expect(pattern.test('complaints.intake')).toBe(false);
      }
    }
  });

  it('use only OpenAPI 3.0 schema keywords, nothing of JSON Schema 2020-12', () => {
    for (const schema of schemas) {
      for (const [name, component] of Object.entries(documentOf(schema).components.schemas)) {
        forEachSchema(component, `${schema.name}#/components/schemas/${name}`, (node, path) => {
          const keywords = Object.keys(node).filter((k) => !k.startsWith('x-'));
          expect(
            keywords.filter((k) => NOT_OPENAPI_30.includes(k)),
            path,
          ).toEqual([]);
          expect(
            keywords.filter((k) => !SCHEMA_KEYWORDS.has(k)),
            path,
          ).toEqual([]);
          if ('type' in node) expect(typeof node.type, `${path}/type`).toBe('string');
          for (const bound of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
            if (bound in node) expect(typeof node[bound], `${path}/${bound}`).toBe('boolean');
          }
          if ('nullable' in node) expect(node.nullable, `${path}/nullable`).toBe(true);
          if (typeof node.$ref === 'string')
            expect(keywords, `${path}: $ref with siblings`).toEqual(['$ref']);
        });
      }
    }
  });

  it('resolve every $ref inside the document, and use every component', () => {
    for (const schema of schemas) {
      const document = documentOf(schema);
      const resolve = componentResolver(document);
      const used = new Set(['AWSEvent']);
      const follow = (component: Schema) =>
        forEachSchema(component, '', (node) => {
          if (typeof node.$ref !== 'string') return;
          const name = node.$ref.replace('#/components/schemas/', '');
          expect(() => resolve(node.$ref as string), `${schema.name}: ${node.$ref}`).not.toThrow();
          if (!used.has(name)) {
            used.add(name);
            follow(resolve(node.$ref as string));
          }
        });
      follow(document.components.schemas.AWSEvent as Schema);
      expect([...used].sort(), schema.name).toEqual(Object.keys(document.components.schemas).sort());
    }
  });

  it('say what the JSON Schema catalog says about every detail (required fields, types, enums, bounds)', () => {
    for (const schema of schemas) {
      const document = documentOf(schema);
      const fromRegistry = inlineRefs(
        document.components.schemas[schema.detailComponent] as Schema,
        document,
      );
      const fromCatalog = as30(eventJsonSchema(schema.definition));
      expect(withoutRootAnnotations(fromRegistry), schema.name).toEqual(withoutRootAnnotations(fromCatalog));
    }
  });

  it('accept real events: what classification publishes, and the README’s inbound example', async () => {
    const published = [...(await classificationEvents()), ...(await classificationEvents(SPAM))];
    expect(published.map((e) => e.detailType).sort()).toEqual(
      [
        DETAIL_TYPES.complaintClassified,
        DETAIL_TYPES.complaintRejected,
        DETAIL_TYPES.customerNotificationRequested,
      ].sort(),
    );
    const classified = published.find(
      (e) => e.detailType === DETAIL_TYPES.complaintClassified,
    ) as OutboundEvent;
    expect(Object.keys(classified.detail.data.deadlines as object).length).toBeGreaterThan(0);
    for (const event of published) {
      expect(problems(bySourceAndType(event.source, event.detailType), envelope(event))).toEqual([]);
    }
    expect(problems(inbound(), envelope(readmeExample()))).toEqual([]);
  });

  it('refuse events that break the contract (the checks above can fail)', async () => {
    const classified = (await classificationEvents()).find(
      (e) => e.detailType === DETAIL_TYPES.complaintClassified,
    ) as OutboundEvent;
    const registry = bySourceAndType(SOURCES.classification, DETAIL_TYPES.complaintClassified);
    const broken = (change: (event: Record<string, unknown>) => void) => {
      const event = envelope(classified);
      change(event);
      return problems(registry, event);
    };
    const detail = (event: Record<string, unknown>) =>
      event.detail as { metadata: Record<string, unknown>; data: Record<string, unknown> };
    expect(broken((e) => delete detail(e).data.severity)).toEqual([
      '/detail/data: lacks the required severity',
    ]);
    expect(broken((e) => (detail(e).metadata.version = 2))).toEqual([
      '/detail/metadata/version: 2 is not one of [1]',
    ]);
    expect(broken((e) => ((detail(e).data.deadlines as Record<string, unknown>).sooner = {}))).toEqual([
      '/detail/data/deadlines/sooner: is not allowed',
    ]);
    expect(broken((e) => (e.source = SOURCES.agent))).toEqual([
      `/source: "${SOURCES.agent}" is not one of ["${SOURCES.classification}"]`,
    ]);
    expect(broken((e) => delete e.account)).toEqual(['/: lacks the required account']);
    expect(problems(inbound(), { ...envelope(readmeExample()), source: 'complaints.intake' })).toHaveLength(
      1,
    );
  });
});

/** The event as EventBridge delivers it (JSON, in the envelope a registry schema describes). */
function envelope(event: { source: string; detailType: string; detail: unknown }): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': event.detailType,
    source: event.source,
    account: '111122223333',
    time: '2026-11-24T02:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: JSON.parse(JSON.stringify(event.detail)), // as on the wire
  };
}

function problems(schema: RegistrySchema, event: unknown): string[] {
  const document = documentOf(schema);
  return validate(document.components.schemas.AWSEvent as Schema, event, componentResolver(document));
}

function inbound(): RegistrySchema {
  const found = schemas.find((s) => s.detailType === DETAIL_TYPES.complaintReported);
  if (!found) throw new Error('no registry schema for Complaint Reported');
  return found;
}

/** The inbound example of the README ("Publishing a complaint from another service"). */
function readmeExample() {
  return {
    source: 'app.backend',
    detailType: DETAIL_TYPES.complaintReported,
    detail: {
      metadata: { version: 1, messageId: 'order-svc-8812' },
      data: {
        channel: 'app',
        customer: { id: 'u-42', language: 'zh' },
        description: '支付成功但订单显示未支付，被扣款两次',
      },
    },
  };
}

/** More links than the default policy's `validity.spam.maxLinks` (3): rejected as spam. */
const SPAM = 'cheap offers http://a.example http://b.example http://c.example http://d.example';

/** What the classification service publishes for a stored complaint (a real run, store in memory). */
async function classificationEvents(description?: string): Promise<OutboundEvent[]> {
  let stored: Complaint = complaintRecord(
    description === undefined
      ? {}
      : { submission: ComplaintSubmissionSchema.parse(submission({ description })) },
  );
  const store = {
    get: async (id: string) => (id === stored.id ? structuredClone(stored) : undefined),
    recentByCustomer: async () => [],
    update: async (update: ComplaintUpdate) => {
      stored = structuredClone(update.next);
    },
  } as unknown as ComplaintStore;
  const publisher = new RecordingPublisher();
  await classifyComplaint(
    {
      policy: defaultPolicy,
      calendar: new BusinessCalendar(defaultPolicy.calendar),
      store,
      publisher,
      scheduler: new RecordingScheduler(),
      keys: new StaticServiceKeys('event-registry-schema'),
      now: () => new Date('2026-11-24T02:00:00.000Z'),
    },
    stored.id,
  );
  return publisher.events;
}

/** The detail schema with every `$ref` replaced by its target (the documents have no cycles). */
function inlineRefs(schema: Schema, document: Document): Schema {
  const resolve = componentResolver(document);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as Schema).$ref;
    if (typeof ref === 'string') return walk(resolve(ref));
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(schema) as Schema;
}

/**
 * A JSON Schema 2020-12 document of the catalog rewritten the way OpenAPI 3.0 says the same thing:
 * `const` → a one-value `enum`, a type array with null → `nullable`, a numeric exclusive bound →
 * the bound plus a boolean, `propertyNames` enum + `additionalProperties` → one property per key.
 */
function as30(schema: Record<string, unknown>): Schema {
  if (schema.$defs !== undefined) throw new Error('the catalog schema has $defs: extend as30()');
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const out: Schema = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    if ('const' in out) {
      out.enum = [out.const];
      delete out.const;
    }
    if (Array.isArray(out.type)) {
      const types = (out.type as string[]).filter((t) => t !== 'null');
      if (types.length !== 1) throw new Error(`type ${JSON.stringify(out.type)}: extend as30()`);
      out.type = types[0];
      out.nullable = true;
    }
    for (const [exclusive, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      if (typeof out[exclusive] === 'number') {
        out[bound] = out[exclusive];
        out[exclusive] = true;
      }
    }
    const names = out.propertyNames as Schema | undefined;
    if (names !== undefined) {
      out.properties = Object.fromEntries((names.enum as string[]).map((k) => [k, out.additionalProperties]));
      out.additionalProperties = false;
      delete out.propertyNames;
    }
    return out;
  };
  return walk(schema) as Schema;
}

function withoutRootAnnotations(schema: Schema): Schema {
  const { $schema, $id, title, description, ...rest } = schema;
  return Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('x-')));
}
