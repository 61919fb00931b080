import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiJson } from '../shared/api/openapi';

/**
 * Writes docs/openapi.json from the API's zod schemas, then lets Biome format it the
 * way `npm run lint` expects (the unit test compares the parsed document, so the
 * formatting is free to differ from JSON.stringify's).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'openapi.json');
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, openApiJson());
execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', target], {
  stdio: 'inherit',
});
console.log('wrote docs/openapi.json');
