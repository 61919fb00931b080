import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every bundle carries its own AWS SDK, and each prints the notice that Node 22 is needed from
    // 2027 (tracked in NOTES.md); the tests need it once at most.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/handlers/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          // The files only synthesize stacks: sharing one module graph loads aws-cdk-lib (and warms
          // its lazily loaded modules) once instead of once per file.
          isolate: false,
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts one DynamoDB Local for the whole run and provides its endpoint (inject('dynamoDbEndpoint')).
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Synthesizes the app once (as `npm start` does) and starts one DynamoDB Local.
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
