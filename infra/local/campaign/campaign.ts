/**
 * A fault campaign on a running local runtime: apply a fault profile, drive a realistic mix through
 * the public interfaces (`drive.ts`), let the system settle (`settle.ts`), audit from the store and
 * the queues (`audit.ts`). `npm run campaign` (scripts/campaign.ts) starts the runtime and prints the
 * result (`table.ts`); the end-to-end test runs a small one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS } from '../dynamodb-local';
import type { FaultProfile } from '../faults';
import type { LocalRuntime } from '../runtime';
import { audit, type CampaignFigures } from './audit';
import { type DriveResult, drive, driveTarget, newRunId } from './drive';
import {
  awaitingClassification,
  runtimeProbe,
  type SettleResult,
  type SettleSnapshot,
  settle,
} from './settle';

export interface CampaignOptions {
  complaints: number;
  /** The profile to apply for the drive (its outage times count from the drive's start). */
  profile: FaultProfile;
  /** Its name, for the result. */
  profileName?: string;
  poisonRate?: number;
  concurrency?: number;
  agentShare?: number;
  seed?: number;
  /** Longest wait for the system to settle after the drive. @default 180 000 ms */
  settleCapMs?: number;
  log?: (message: string) => void;
}

export interface CampaignResult extends CampaignFigures {
  profile: string;
  runId: string;
  settled: boolean;
  settleSeconds: number;
  /** What the last look before the audit saw: why the system did not settle, when it did not. */
  settleLast?: SettleSnapshot;
  journeys: DriveResult['journeys'];
  faultsInjected: Record<string, number>;
  /** True when nothing was lost, duplicated or escalated twice. */
  ok: boolean;
}

/** The business time zone of the policy in the functions' bundles (`policy.json`). */
export function policyTimeZone(runtime: Pick<LocalRuntime, 'stack' | 'functions'>): string {
  for (const fn of runtime.functions.values()) {
    const dir = runtime.stack.assetDir(fn.logicalId);
    const file = dir === undefined ? undefined : join(dir, 'policy.json');
    if (file !== undefined && existsSync(file)) {
      return String(JSON.parse(readFileSync(file, 'utf8')).calendar.timeZone);
    }
  }
  throw new Error('No function bundle carries a policy.json: cannot tell the business time zone');
}

/** The table holding complaints (the template's single table). */
function complaintTable(runtime: Pick<LocalRuntime, 'endpoints'>): string {
  const tables = Object.values(runtime.endpoints.tables);
  if (tables.length !== 1) throw new Error(`Expected one table, found ${tables.length}`);
  return tables[0] as string;
}

export async function runCampaign(runtime: LocalRuntime, options: CampaignOptions): Promise<CampaignResult> {
  const log = options.log ?? (() => undefined);
  const runId = newRunId();
  const tableName = complaintTable(runtime);
  const timeZone = policyTimeZone(runtime);
  const base = new DynamoDBClient({
    endpoint: runtime.endpoints.dynamodb,
    region: runtime.endpoints.region,
    credentials: LOCAL_CREDENTIALS,
  });
  const dynamodb = DynamoDBDocumentClient.from(base);
  try {
    runtime.faults.set(options.profile);
    log(`campaign ${runId}: ${options.complaints} complaints, faults "${options.profileName ?? 'custom'}"`);
    const driven = await drive({
      ...driveTarget(runtime, dynamodb, tableName),
      complaints: options.complaints,
      runId,
      log,
      ...(options.poisonRate !== undefined && { poisonRate: options.poisonRate }),
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      ...(options.agentShare !== undefined && { agentShare: options.agentShare }),
      ...(options.seed !== undefined && { seed: options.seed }),
    });
    // Faults stop with the drive: settling measures recovery, not more injection. The counts stay.
    const faultsInjected = runtime.faults.counts();
    runtime.faults.clear();
    log('campaign: drive done; letting the system settle');
    const settled: SettleResult = await settle(
      runtimeProbe(runtime, awaitingClassification(dynamodb, tableName)),
      {
        capMs: options.settleCapMs ?? 180_000,
        log,
      },
    );
    log(
      `campaign: ${settled.settled ? 'settled' : 'NOT settled'} after ${settled.seconds.toFixed(0)} s; auditing`,
    );
    const admin = runtime.issuer.tokenFor({ role: 'admin' });
    const figures = await audit({
      drive: driven,
      dynamodb,
      tableName,
      sqs: runtime.sqs,
      queues: runtime.queues.values(),
      timeZone,
      report: async (day) => {
        const response = await fetch(`${runtime.endpoints.httpApi}/reports/daily/${day}`, {
          headers: { authorization: `Bearer ${admin}`, accept: 'application/json' },
        });
        if (!response.ok) return undefined;
        const report = (await response.json()) as {
          figures: { volume: { received: number }; closed: number };
        };
        return { received: report.figures.volume.received, closed: report.figures.closed };
      },
    });
    return {
      profile: options.profileName ?? 'custom',
      runId,
      ...figures,
      settled: settled.settled,
      settleSeconds: Math.round(settled.seconds),
      ...(settled.last !== undefined && { settleLast: settled.last }),
      journeys: driven.journeys,
      faultsInjected,
      ok: figures.lost === 0 && figures.duplicated === 0 && figures.doubleEscalations === 0,
    };
  } finally {
    base.destroy();
  }
}
