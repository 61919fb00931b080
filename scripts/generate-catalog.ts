import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogFiles } from '../shared/events/catalog';
import { REGISTRY_DIR } from '../shared/events/registry-schema';

/** Writes docs/event-catalog.md, docs/events/*.json and docs/events/registry/*.json from the zod schemas. */
const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
// Generated only: a document whose event or source went away must not stay behind.
rmSync(join(docs, REGISTRY_DIR), { recursive: true, force: true });
for (const [path, content] of catalogFiles()) {
  const target = join(docs, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote docs/${path}`);
}
