import { existsSync, readdirSync, readFileSync } from 'node:fs';
import JSON5 from 'json5';

/**
 * The shared EventBridge pattern cases (checked against AWS's TestEventPattern),
 * from the workplace `shared/` folder beside the project root, as CI provides it.
 */
export const CASES_DIR = new URL('../../../shared/conformance/eventbridge-patterns/cases/', import.meta.url);

if (!existsSync(CASES_DIR)) {
  throw new Error(
    `The EventBridge conformance cases are missing at ${CASES_DIR.pathname}: ` +
      'the tests expect the workplace shared/ folder beside the project root (as CI provides it).',
  );
}

export const CASE_FILES = readdirSync(CASES_DIR)
  .filter((name) => name.endsWith('.json5') || name.endsWith('.json'))
  .sort();

/** The raw text of a case file (one case keeps a duplicate key that JSON parsing would lose). */
export function caseText(name: string): string {
  return readFileSync(new URL(name, CASES_DIR), 'utf8');
}

export function loadCase(name: string): Record<string, unknown> {
  return JSON5.parse(caseText(name)) as Record<string, unknown>;
}

/** The event the cases without their own use (the AWS documentation's example). */
export const BASE_EVENT = {
  id: '1',
  source: 'test-source',
  'detail-type': 'test-detail-type',
  account: '123456789012',
  region: 'us-east-2',
  time: '2022-07-13T13:48:01Z',
};
