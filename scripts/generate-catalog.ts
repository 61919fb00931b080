import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogFiles } from '../shared/events/catalog';

/** Writes docs/event-catalog.md and docs/events/*.json from the zod schemas. */
const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
for (const [path, content] of catalogFiles()) {
  const target = join(docs, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`wrote docs/${path}`);
}
