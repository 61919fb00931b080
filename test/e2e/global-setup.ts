import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthLocalAssembly } from '../../infra/local/demo-assembly';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';

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
  synthLocalAssembly(outdir);
  const dynamoDb = await startDynamoDbLocal({ port: 0 });
  project.provide('assemblyDir', outdir);
  project.provide('dynamoDbEndpoint', dynamoDb.endpoint);
  return async () => {
    await dynamoDb.stop();
    rmSync(outdir, { recursive: true, force: true });
  };
}
