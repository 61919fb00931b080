/**
 * Fault profiles by name or from a JSON file, and the check every profile passes before it is
 * applied (the `--faults` flag of `npm start` and of the campaign, and `PUT /_local/faults`).
 *
 * Named profiles:
 * - `none`: no fault;
 * - `light`: what CI's small campaign runs — a few DynamoDB errors, a few duplicates and crashes,
 *   no outage;
 * - `default`: the campaign profile — 10 % DynamoDB errors, 5 % duplicate deliveries,
 *   2 % function crashes, a 15 s SQS outage and a 15 s DynamoDB outage (the 1 % poison payloads are
 *   the campaign driver's, not the runtime's).
 *
 * A JSON file holds one {@link FaultProfile} object (see `docs/faults.md`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { FAULT_SERVICES, type FaultProfile, type FaultService } from './faults';

export const FAULT_PROFILES: Readonly<Record<string, FaultProfile>> = {
  none: {},
  light: {
    errors: { dynamodb: 0.02, events: 0.01, sqs: 0.01 },
    duplicateRate: 0.02,
    crashRate: 0.01,
    seed: 11,
  },
  default: {
    errors: { dynamodb: 0.1 },
    duplicateRate: 0.05,
    crashRate: 0.02,
    outages: [
      { service: 'sqs', afterSeconds: 20, forSeconds: 15 },
      { service: 'dynamodb', afterSeconds: 60, forSeconds: 15 },
    ],
    seed: 11,
  },
};

/** Thrown for a profile that is not one: the message says which field and why. */
export class InvalidFaultProfileError extends Error {
  override name = 'InvalidFaultProfileError';
}

const KEYS = new Set([
  'errors',
  'crashRate',
  'timeoutRate',
  'functions',
  'duplicateRate',
  'outages',
  'clockSkewMs',
  'seed',
]);

const isRate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a parsed JSON value and returns it as a profile; throws {@link InvalidFaultProfileError}. */
export function parseFaultProfile(value: unknown): FaultProfile {
  const fail = (message: string): never => {
    throw new InvalidFaultProfileError(message);
  };
  if (!isObject(value)) return fail('a fault profile is a JSON object');
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) fail(`unknown field "${key}" (expected one of ${[...KEYS].join(', ')})`);
  }
  const profile: FaultProfile = {};
  if (value.errors !== undefined) {
    if (!isObject(value.errors)) fail('errors: an object of rates, e.g. {"dynamodb": 0.1}');
    const errors: Record<string, number> = {};
    for (const [key, rate] of Object.entries(value.errors as Record<string, unknown>)) {
      const service = key.split(':')[0] as FaultService;
      if (!FAULT_SERVICES.includes(service))
        fail(`errors.${key}: the service must be one of ${FAULT_SERVICES.join(', ')}`);
      if (!isRate(rate)) fail(`errors.${key}: a rate between 0 and 1`);
      errors[key] = rate as number;
    }
    profile.errors = errors;
  }
  for (const key of ['crashRate', 'timeoutRate', 'duplicateRate'] as const) {
    if (value[key] === undefined) continue;
    if (!isRate(value[key])) fail(`${key}: a rate between 0 and 1`);
    profile[key] = value[key] as number;
  }
  if (value.functions !== undefined) {
    if (!Array.isArray(value.functions) || !value.functions.every((f) => typeof f === 'string'))
      fail('functions: an array of function logical id prefixes');
    profile.functions = value.functions as string[];
  }
  if (value.outages !== undefined) {
    if (!Array.isArray(value.outages)) fail('outages: an array of {service, afterSeconds, forSeconds}');
    profile.outages = (value.outages as unknown[]).map((outage, i) => {
      if (!isObject(outage)) return fail(`outages[${i}]: an object`);
      const { service, afterSeconds, forSeconds } = outage;
      if (!FAULT_SERVICES.includes(service as FaultService))
        fail(`outages[${i}].service: one of ${FAULT_SERVICES.join(', ')}`);
      for (const [name, n] of [
        ['afterSeconds', afterSeconds],
        ['forSeconds', forSeconds],
      ] as const) {
        if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
          fail(`outages[${i}].${name}: a number of seconds ≥ 0`);
      }
      return {
        service: service as FaultService,
        afterSeconds: afterSeconds as number,
        forSeconds: forSeconds as number,
      };
    });
  }
  for (const key of ['clockSkewMs', 'seed'] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'number' || !Number.isFinite(value[key])) fail(`${key}: a number`);
    profile[key] = value[key] as number;
  }
  return profile;
}

/**
 * A profile by name (`none`, `light`, `default`) or from a JSON file path; throws with the names
 * and the reason when it is neither.
 */
export function loadFaultProfile(nameOrFile: string): FaultProfile {
  const named = FAULT_PROFILES[nameOrFile];
  if (named !== undefined) return structuredClone(named);
  if (!existsSync(nameOrFile)) {
    throw new InvalidFaultProfileError(
      `"${nameOrFile}" is neither a fault profile (${Object.keys(FAULT_PROFILES).join(', ')}) nor a JSON file`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(nameOrFile, 'utf8'));
  } catch (error) {
    throw new InvalidFaultProfileError(
      `${nameOrFile}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  try {
    return parseFaultProfile(parsed);
  } catch (error) {
    throw new InvalidFaultProfileError(`${nameOrFile}: ${(error as Error).message}`);
  }
}
