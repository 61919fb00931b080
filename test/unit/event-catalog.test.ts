import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogFiles } from '../../shared/events/catalog';
import { REGISTRY_DIR } from '../../shared/events/registry-schema';
import { ComplaintReportedV1, EVENT_CATALOG } from '../../shared/events/schemas';

describe('event catalog', () => {
  it('matches the committed docs (run `npm run catalog` after changing a schema)', () => {
    for (const [path, content] of catalogFiles()) {
      const committed = readFileSync(new URL(`../../docs/${path}`, import.meta.url), 'utf8');
      expect(committed, `docs/${path} is stale`).toBe(content);
    }
  });

  it('has no committed schema the generator no longer writes (a renamed or removed event)', () => {
    const generated = [...catalogFiles().keys()];
    for (const dir of ['events', REGISTRY_DIR]) {
      const committed = readdirSync(new URL(`../../docs/${dir}/`, import.meta.url))
        .filter((name) => name.endsWith('.json'))
        .map((name) => `${dir}/${name}`);
      expect(committed.sort(), `docs/${dir}`).toEqual(
        generated.filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/')).sort(),
      );
    }
  });

  it('documents every event with its source, detail-type and a JSON Schema', () => {
    const files = catalogFiles();
    for (const definition of Object.values(EVENT_CATALOG)) {
      const file = [...files.entries()].find(([, c]) =>
        c.includes(`"x-detail-type": "${definition.detailType}"`),
      );
      expect(file, definition.detailType).toBeDefined();
      const schema = JSON.parse(file?.[1] ?? '{}');
      expect(schema.properties.metadata.properties.version.const).toBe(1);
      expect(schema.required).toEqual(['metadata', 'data']);
    }
  });

  it('rejects an inbound event with an unknown version or missing message id', () => {
    const data = { channel: 'app', customer: { id: 'c1' }, description: 'cannot log in' };
    expect(ComplaintReportedV1.safeParse({ metadata: { version: 1, messageId: 'm1' }, data }).success).toBe(
      true,
    );
    expect(ComplaintReportedV1.safeParse({ metadata: { version: 2, messageId: 'm1' }, data }).success).toBe(
      false,
    );
    expect(ComplaintReportedV1.safeParse({ metadata: { version: 1 }, data }).success).toBe(false);
  });
});
