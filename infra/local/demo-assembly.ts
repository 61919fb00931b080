/**
 * Synthesizes the app in-process the way `npm start` runs it locally: the demo policy (deadlines in
 * seconds), the local scheduler's one-second precision and the local JWT issuer. Used by the
 * end-to-end setup, the campaign and the benchmarks (`npm start` runs the `cdk` CLI instead, so its
 * synth output shows cdk-nag as a deployer sees it).
 */
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../cdk-json-context';
import { ComplaintServiceStack } from '../complaint-service-stack';
import { PROJECT_ROOT } from '../constructs/base-function';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_URL, LOCAL_ROLE_CLAIM } from './jwt';

export const DEMO_POLICY_FILE = join(PROJECT_ROOT, 'policy', 'demo-policy.json');

/** Writes the cloud assembly into `outdir` (stack `ComplaintService`) and returns `outdir`. */
export function synthLocalAssembly(
  outdir: string,
  policyFile: string = DEMO_POLICY_FILE,
  context: Record<string, string> = {},
): string {
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(), // the feature flags `cdk deploy` applies
      'aws:cdk:enable-asset-metadata': true,
      timerPrecisionSeconds: '1',
      sweepIntervalMinutes: '1',
      jwtIssuer: LOCAL_ISSUER_URL,
      jwtAudience: LOCAL_AUDIENCE,
      roleClaim: LOCAL_ROLE_CLAIM,
      ...context,
    },
  });
  new ComplaintServiceStack(app, 'ComplaintService', { policyFile });
  app.synth();
  return outdir;
}
