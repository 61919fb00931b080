import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The CDK CLI's configuration file of this project (beside `infra/`). */
export const CDK_JSON_FILE = fileURLToPath(new URL('../cdk.json', import.meta.url));

/**
 * The `context` of `cdk.json`: the feature flags (every flag aws-cdk-lib recommends, see
 * `docs/deploy.md`) and any other value a deployer keeps there.
 *
 * The CDK CLI reads `cdk.json` and hands its context to `infra/app.ts`; an `App` built in process
 * (`new App()` in the tests, an in-process synth) does not, and would synthesize with the flags'
 * old defaults. Such apps pass `{ context: { ...cdkJsonContext(), ...their own } }`, so that what
 * they synthesize is what `cdk deploy` deploys.
 */
export function cdkJsonContext(file: string = CDK_JSON_FILE): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (parsed === null || typeof parsed !== 'object') throw new TypeError(`${file}: not a JSON object`);
  const context: unknown = (parsed as { context?: unknown }).context;
  if (context === undefined) return {};
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new TypeError(`${file}: "context" must be an object`);
  }
  return { ...(context as Record<string, unknown>) };
}
