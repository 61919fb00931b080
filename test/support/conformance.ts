import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import JSON5 from 'json5';
import { expect } from 'vitest';

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

/**
 * Runs one case through `TestEventPattern` on an EventBridge endpoint with the AWS SDK and expects
 * what AWS answered: `_NEG` cases do not match, `_EXC` cases are invalid patterns, the rest match.
 */
export async function expectCaseThroughSdk(events: EventBridgeClient, name: string): Promise<void> {
  const text = caseText(name);
  const doc = JSON5.parse(text) as Record<string, unknown>;
  if (!('EventPattern' in doc)) {
    // complex_multi_key_event_pattern.json is a bare pattern with a duplicated key (its event is not
    // shared); AWS accepts it and a JSON parser keeps the last key. Sent as written, duplicate included.
    const { Result } = await events.send(
      new TestEventPatternCommand({
        EventPattern: text,
        Event: JSON.stringify({ ...BASE_EVENT, detail: { location: 'us-west-2' } }),
      }),
    );
    expect(Result, name).toBe(true);
    return;
  }
  const stem = name.replace(/\.json5?$/, '');
  const call = events.send(
    new TestEventPatternCommand({
      EventPattern: JSON.stringify(doc.EventPattern),
      Event: JSON.stringify(doc.Event),
    }),
  );
  if (stem.endsWith('_EXC')) {
    await expect(call, name).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
    return;
  }
  expect((await call).Result, name).toBe(!stem.endsWith('_NEG'));
}
