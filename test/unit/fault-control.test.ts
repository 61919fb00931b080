import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { doubleEscalationsOf, percentile } from '../../infra/local/campaign/audit';
import { createFaultControl } from '../../infra/local/fault-control';
import {
  FAULT_PROFILES,
  InvalidFaultProfileError,
  loadFaultProfile,
  parseFaultProfile,
} from '../../infra/local/fault-profiles';
import { createFaults, type Faults } from '../../infra/local/faults';

let faults: Faults | undefined;
afterEach(() => faults?.close());

describe('fault profiles', () => {
  it('names the issue default: 10 % DynamoDB errors, 5 % duplicates, 2 % crashes, 15 s SQS and DynamoDB outages', () => {
    expect(FAULT_PROFILES.default).toMatchObject({
      errors: { dynamodb: 0.1 },
      duplicateRate: 0.05,
      crashRate: 0.02,
      outages: [
        { service: 'sqs', forSeconds: 15 },
        { service: 'dynamodb', forSeconds: 15 },
      ],
    });
    expect(FAULT_PROFILES.none).toEqual({});
    expect(FAULT_PROFILES.light?.outages).toBeUndefined();
  });

  it('loads a profile by name (a copy) or from a JSON file, and refuses anything else with the reason', () => {
    const light = loadFaultProfile('light');
    light.crashRate = 0.9;
    expect(FAULT_PROFILES.light?.crashRate).toBe(0.01);
    const dir = mkdtempSync(join(tmpdir(), 'faults-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify({ errors: { 'sqs:SendMessage': 0.5 }, clockSkewMs: -500 }));
    expect(loadFaultProfile(file)).toEqual({ errors: { 'sqs:SendMessage': 0.5 }, clockSkewMs: -500 });
    writeFileSync(file, '{"crashRate": 2}');
    expect(() => loadFaultProfile(file)).toThrow(/crashRate: a rate between 0 and 1/);
    expect(() => loadFaultProfile('heavy')).toThrow(/neither a fault profile \(none, light, default\)/);
  });

  it.each([
    [[], /a JSON object/],
    [{ errors: { s3: 0.1 } }, /errors.s3: the service must be one of/],
    [{ errors: { dynamodb: -1 } }, /errors.dynamodb: a rate/],
    [{ outages: [{ service: 'sqs', afterSeconds: 1 }] }, /outages\[0\].forSeconds/],
    [{ outages: [{ service: 'lambda', afterSeconds: 1, forSeconds: 1 }] }, /outages\[0\].service/],
    [{ functions: 'Sla' }, /functions: an array/],
    [{ crashrate: 0.1 }, /unknown field "crashrate"/],
  ])('refuses %j', (value, message) => {
    expect(() => parseFaultProfile(value)).toThrow(InvalidFaultProfileError);
    expect(() => parseFaultProfile(value)).toThrow(message);
  });
});

describe('the /_local/faults control', () => {
  it('GET shows the profile, outages and counts; PUT applies a profile or a name; DELETE clears', async () => {
    faults = createFaults();
    const control = createFaultControl(faults);
    expect(control('GET', undefined)).toEqual({ status: 200, body: { profile: {}, down: [], counts: {} } });

    const put = control('PUT', JSON.stringify({ errors: { dynamodb: 1 } }));
    expect(put.status).toBe(200);
    expect(faults.dependencyFault('dynamodb', 'PutItem')).toBeDefined();
    expect(control('GET', undefined).body).toMatchObject({
      profile: { errors: { dynamodb: 1 } },
      counts: { 'dynamodb:ThrottlingException': expect.any(Number) },
    });

    control('PUT', JSON.stringify({ outages: [{ service: 'sqs', afterSeconds: 0, forSeconds: 60 }] }));
    await new Promise((r) => setTimeout(r, 20));
    expect(control('GET', undefined).body).toMatchObject({ down: ['sqs'] });
    expect(faults.dependencyFault('dynamodb', 'PutItem')).toBeUndefined();

    expect(control('PUT', '"light"').body).toMatchObject({ profile: FAULT_PROFILES.light, down: [] });
    expect(control('DELETE', undefined).body).toMatchObject({ profile: {}, down: [] });
  });

  it('answers 400 with the reason for a bad profile (and keeps the one in force), 405 for other methods', () => {
    faults = createFaults({ crashRate: 0.5 });
    const control = createFaultControl(faults);
    expect(control('PUT', '{"duplicateRate": 5}')).toEqual({
      status: 400,
      body: { error: 'InvalidFaultProfile', message: 'duplicateRate: a rate between 0 and 1' },
    });
    expect(control('PUT', 'not json').status).toBe(400);
    expect(control('PUT', '"heavy"').status).toBe(400);
    expect(faults.profile()).toEqual({ crashRate: 0.5 });
    expect(control('POST', '{}').status).toBe(405);
  });
});

describe('campaign audit helpers', () => {
  const entry = (clock: string, event: string, level?: number) => ({
    at: '2026-01-01T00:00:00Z',
    clock,
    event,
    ...(level !== undefined ? { detail: { level } } : {}),
  });

  it('counts an escalation repeated for one clock and level, not one after the clock restarted', () => {
    expect(
      doubleEscalationsOf({
        clockLog: [
          entry('acknowledge', 'started'),
          entry('acknowledge', 'escalated', 1),
          entry('acknowledge', 'escalated', 2),
          entry('resolution', 'escalated', 1),
          entry('acknowledge', 'recomputed'),
          entry('acknowledge', 'escalated', 1),
        ],
      }),
    ).toBe(0);
    expect(
      doubleEscalationsOf({
        clockLog: [
          entry('acknowledge', 'started'),
          entry('acknowledge', 'escalated', 1),
          entry('acknowledge', 'escalated', 1),
        ],
      }),
    ).toBe(1);
  });

  it('takes percentiles by rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
  });
});
