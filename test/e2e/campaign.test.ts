import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCampaign } from '../../infra/local/campaign/campaign';
import { formatCampaign } from '../../infra/local/campaign/table';
import { FAULT_PROFILES } from '../../infra/local/fault-profiles';
import { createFaults } from '../../infra/local/faults';
import { createLocalIssuer } from '../../infra/local/jwt';
import { type LocalRuntime, startLocalRuntime } from '../../infra/local/runtime';

/**
 * CI's fault campaign: a small run of `npm run campaign`'s code on the app as `npm start` runs it,
 * under the `light` fault profile (dependency errors, duplicates, crashes; no outage). The audit reads
 * the table and the queues; the test reads the JSON line the campaign prints last, as a CI job would.
 */

/**
 * Complaints driven: what the local runtime carries on 2 cores with the demo policy's timers still on
 * time (about 75 s in all; at 100 the timers fell a minute behind and journeys timed out). The full
 * campaign is `npm run campaign` (docs/faults.md).
 */
const COMPLAINTS = 50;

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    tableNameSuffix: `-campaign-${Date.now()}`,
    issuer: createLocalIssuer({ dir: mkdtempSync(join(tmpdir(), 'campaign-jwt-')) }),
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
    faults: createFaults(),
    log: () => undefined,
  });
});

afterAll(async () => {
  await runtime?.close();
});

describe('faults on a running runtime', () => {
  it('are set, shown and cleared at /_local/faults on the HTTP API port, and reach the functions through the proxies', async () => {
    const control = (method: string, body?: unknown) =>
      fetch(`${runtime.endpoints.httpApi}/_local/faults`, {
        method,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const submit = () =>
      fetch(`${runtime.endpoints.httpApi}/complaints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          channel: 'web',
          customer: { id: 'faults-e2e', language: 'en' },
          description: 'My parcel arrived empty',
        }),
      });
    const put = await control('PUT', { errors: { dynamodb: 1 } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ profile: { errors: { dynamodb: 1 } }, down: [] });
    // Every DynamoDB call of the intake function fails (after the SDK's retries): "retry later".
    expect((await submit()).status).toBe(503);
    const shown = (await (await control('GET')).json()) as { counts: Record<string, number> };
    expect(
      (shown.counts['dynamodb:ThrottlingException'] ?? 0) +
        (shown.counts['dynamodb:InternalServerError'] ?? 0),
    ).toBeGreaterThanOrEqual(3);
    expect((await control('PUT', { errors: { dynamodb: 7 } })).status).toBe(400);
    expect(await (await control('DELETE')).json()).toMatchObject({ profile: {}, down: [] });
    expect((await submit()).status).toBe(202);
  });
});

describe('the fault campaign (light profile)', () => {
  it('loses, duplicates and double-escalates nothing; every poison payload reaches a DLQ with its reason', async () => {
    const result = await runCampaign(runtime, {
      complaints: COMPLAINTS,
      profile: FAULT_PROFILES.light ?? {},
      profileName: 'light',
      poisonRate: 0.04,
      settleCapMs: 200_000,
    });
    const printed = formatCampaign(result).trim().split('\n');
    console.log(printed.join('\n'));
    const figures = JSON.parse(printed.at(-1) as string);
    expect(figures.submitted).toBe(COMPLAINTS);
    expect(figures.accepted).toBeGreaterThan(COMPLAINTS * 0.9);
    expect(figures.settled).toBe(true);
    expect({
      lost: figures.lost,
      duplicated: figures.duplicated,
      doubleEscalations: figures.doubleEscalations,
      examples: figures.examples,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      doubleEscalations: 0,
      examples: { lost: [], duplicated: [], notInReport: [] },
    });
    expect(figures.stored).toBeGreaterThanOrEqual(figures.accepted);
    expect(figures.poison.sent).toBeGreaterThanOrEqual(2);
    expect(figures.poison.inDlqWithReason).toBe(figures.poison.sent);
    expect(figures.reportVsTable.match).toBe(true);
    // The profile did inject faults (the run is not a fault-free one by accident).
    expect(Object.values(figures.faultsInjected).reduce((a: number, b) => a + Number(b), 0)).toBeGreaterThan(
      0,
    );
    expect(figures.ok).toBe(true);
  }, 600_000);
});
