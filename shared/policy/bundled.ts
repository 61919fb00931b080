import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from './schema';

/**
 * The policy as a function carries it: validated and normalised at synth (`loadPolicyFile`, defaults
 * filled in), serialised into the bundle as `policy.json`, its SHA-256 set as `POLICY_SHA256`. A cold
 * start checks the digest and parses the JSON — no schema is built and nothing is validated again on
 * the hot path (issue #12), and a file that is not the one synth validated (edited in the console, a
 * bundle of another deployment) fails the cold start instead of running.
 */

export class PolicyIntegrityError extends Error {
  override name = 'PolicyIntegrityError';
}

export function policyDigest(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bundled form of a validated policy. */
export function bundledPolicyText(policy: Policy): string {
  return `${JSON.stringify(policy)}\n`;
}

/** Writes the bundled form of `policy` into `dir` (named by its digest); returns the file and the digest. */
export function writeBundledPolicy(policy: Policy, dir: string): { file: string; sha256: string } {
  const text = bundledPolicyText(policy);
  const sha256 = policyDigest(text);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${sha256}.json`);
  writeFileSync(file, text);
  return { file, sha256 };
}

/** Reads the bundled policy, refusing a file whose digest is not `sha256`. */
export function loadBundledPolicy(path: string, sha256: string): Policy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new PolicyIntegrityError(`Cannot read the bundled policy ${path}: ${(error as Error).message}`);
  }
  const actual = policyDigest(bytes);
  if (actual !== sha256) {
    throw new PolicyIntegrityError(
      `The bundled policy ${path} is not the one this function was synthesized with ` +
        `(sha256 ${actual.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`,
    );
  }
  return JSON.parse(bytes.toString('utf8')) as Policy;
}
