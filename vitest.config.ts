import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other: first the files that run in process (unit, handlers, infra,
 * integration; two at a time, as they wait on DynamoDB Local and sockets as much as they compute),
 * then the end-to-end files one at a time (each runs the whole app in child processes, which is
 * all two cores can carry).
 */
const IN_PROCESS = { sequence: { groupOrder: 0 }, maxWorkers: 2 } as const;

/** Unit files that need a module graph of their own (see the `handlers` project). */
const ISOLATED_UNIT_FILES = ['test/unit/aws-clients.test.ts'];

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
          ...IN_PROCESS,
          include: ['test/unit/**/*.test.ts'],
          exclude: [...ISOLATED_UNIT_FILES],
          // Pure modules: one module graph for all files (about half the time on 2 cores).
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          // Handlers read their configuration at import and their tests mock clients and the
          // environment: each file gets its own module graph. So do unit files that make real SDK
          // calls (a client class another file stubbed with aws-sdk-client-mock would answer them).
          name: 'handlers',
          ...IN_PROCESS,
          include: ['test/handlers/**/*.test.ts', ...ISOLATED_UNIT_FILES],
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          ...IN_PROCESS,
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
          ...IN_PROCESS,
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
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
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
