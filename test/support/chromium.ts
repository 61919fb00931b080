/**
 * Headless Chromium for the browser tests, brought by the project itself: `@sparticuz/chromium` ships a
 * brotli-compressed Chromium build inside its npm package, with the few shared libraries it needs beyond
 * glibc (NSS, NSPR, expat), fonts and SwiftShader, so no apt step and no browser download is needed. It
 * is unpacked once into `.cache/chromium/<version>/` and driven over the DevTools protocol with
 * `puppeteer-core` (which downloads nothing).
 *
 * That build exists for Linux x64 only. Elsewhere set `CHROMIUM_PATH` to a Chrome or Chromium binary.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** `<repo>/.cache/chromium` (git-ignored, like DynamoDB Local's and Node's caches). */
const CACHE_DIR = fileURLToPath(new URL('../../.cache/chromium', import.meta.url));

export interface ChromiumBinary {
  executablePath: string;
  /** Environment the binary needs (its bundled libraries and fonts). */
  env: Record<string, string>;
}

function packageVersion(): string {
  // The package exports no `./package.json`: its entry is `<package>/build/index.js`.
  const manifest = join(dirname(dirname(require.resolve('@sparticuz/chromium'))), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Environment for a build unpacked in `dir`: its libraries first on the loader path, its fonts. */
function bundledEnv(dir: string): Record<string, string> {
  const libs = join(dir, 'al2023', 'lib');
  return {
    LD_LIBRARY_PATH: [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    FONTCONFIG_PATH: join(dir, 'fonts'),
  };
}

/**
 * Unpacks the packaged build into a private folder, then renames it into place, so a run that is
 * interrupted or races another never leaves a half-written browser behind. The package unpacks into
 * `os.tmpdir()`, so a child process does it with `TMPDIR` pointed at that folder; `AWS_EXECUTION_ENV`
 * makes it unpack the bundled libraries too, which a machine without a system Chromium lacks.
 */
async function unpack(target: string): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const partial = mkdtempSync(`${target}.partial-`);
  try {
    await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { default: chromium } = await import('@sparticuz/chromium'); await chromium.executablePath();",
      ],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, TMPDIR: partial, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' },
        timeout: 120_000,
      },
    );
    if (!existsSync(join(partial, 'chromium'))) throw new Error(`nothing was unpacked into ${partial}`);
    // The packaged fonts.conf names Lambda's folders (/tmp/fonts); point it at the unpacked fonts, then
    // the machine's own (CJK glyphs, where installed).
    writeFileSync(
      join(partial, 'fonts', 'fonts.conf'),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        `  <dir>${join(target, 'fonts', 'fonts')}</dir>`,
        '  <dir>/usr/share/fonts</dir>',
        `  <cachedir>${join(target, 'fonts-cache')}</cachedir>`,
        '</fontconfig>',
        '',
      ].join('\n'),
    );
    try {
      renameSync(partial, target);
    } catch (error) {
      if (!existsSync(join(target, 'chromium'))) throw error; // else another run finished first
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

let pending: Promise<ChromiumBinary> | undefined;

/** The Chromium binary to test with, unpacked on first use. Fails with what to do; never skips. */
export function chromiumBinary(): Promise<ChromiumBinary> {
  pending ??= (async () => {
    const override = process.env.CHROMIUM_PATH;
    if (override) return { executablePath: override, env: {} };
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(
        `The packaged Chromium (@sparticuz/chromium) is built for Linux x64 only; this is ${process.platform}-` +
          `${process.arch}. Set CHROMIUM_PATH to a Chrome or Chromium binary to run the browser tests.`,
      );
    }
    const dir = join(CACHE_DIR, packageVersion());
    if (!existsSync(join(dir, 'chromium'))) await unpack(dir);
    return { executablePath: join(dir, 'chromium'), env: bundledEnv(dir) };
  })();
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

/**
 * A headless browser with a private profile (no writes to ~/.config; runs side by side), no sandbox
 * (CI runs as root) and nothing that reaches for the network on its own (this machine has none).
 */
export async function launchChromium(): Promise<Browser> {
  const { executablePath, env } = await chromiumBinary();
  return puppeteer.launch({
    executablePath,
    headless: 'shell',
    pipe: true,
    timeout: 60_000,
    env: { ...process.env, ...env },
    args: [
      '--no-sandbox',
      '--no-zygote',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
