import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { TestProject } from 'vitest/node';
import { ComplaintServiceStack } from '../../infra/complaint-service-stack';
import { PROJECT_ROOT } from '../../infra/constructs/base-function';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { LOCAL_AUDIENCE, LOCAL_ISSUER_URL, LOCAL_ROLE_CLAIM } from '../../infra/local/jwt';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cloud assembly the end-to-end tests run: the app as `npm start` synthesizes it. */
    assemblyDir: string;
  }
}

/**
 * Synthesizes the app once for the end-to-end files, exactly as `npm start` does (demo policy, the
 * local scheduler's one-second precision, the local JWT issuer), and starts one DynamoDB Local.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outdir = mkdtempSync(join(tmpdir(), 'complaints-e2e-'));
  const app = new App({
    outdir,
    context: {
      'aws:cdk:enable-asset-metadata': true,
      timerPrecisionSeconds: '1',
      jwtIssuer: LOCAL_ISSUER_URL,
      jwtAudience: LOCAL_AUDIENCE,
      roleClaim: LOCAL_ROLE_CLAIM,
    },
  });
  new ComplaintServiceStack(app, 'ComplaintService', {
    policyFile: join(PROJECT_ROOT, 'policy', 'demo-policy.json'),
  });
  app.synth();
  const dynamoDb = await startDynamoDbLocal({ port: 0 });
  project.provide('assemblyDir', outdir);
  project.provide('dynamoDbEndpoint', dynamoDb.endpoint);
  return async () => {
    await dynamoDb.stop();
    rmSync(outdir, { recursive: true, force: true });
  };
}
