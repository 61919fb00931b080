import { readFileSync } from 'node:fs';
import { type Policy, PolicySchema } from './schema';

export class PolicyValidationError extends Error {
  override name = 'PolicyValidationError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid complaint policy ${source}:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Validates an already-parsed policy document; throws `PolicyValidationError` listing every problem with its path. */
export function parsePolicy(document: unknown, source = '(inline)'): Policy {
  const result = PolicySchema.safeParse(document);
  if (!result.success) {
    throw new PolicyValidationError(
      source,
      result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** Reads and validates a policy file (used by `cdk synth` and at cold start). */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyValidationError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyValidationError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parsePolicy(document, path);
}
