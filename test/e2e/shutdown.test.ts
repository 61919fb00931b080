import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/base-function';

/**
 * `npm start` as a user runs it (on the already synthesized assembly, without the scenario): it
 * serves, writes its endpoints, and on Ctrl-C stops every child process and server and exits 0.
 */

let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

async function until<T>(read: () => T | undefined, what: () => string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('serves until SIGINT, then shuts every child process down and exits 0', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'complaints-start-'));
    let output = '';
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'infra/local/start.ts',
        '--assembly',
        inject('assemblyDir'),
        '--no-demo',
        '--state-dir',
        stateDir,
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => {
      output += String(d);
    });
    child.stderr?.on('data', (d) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    const file = join(stateDir, 'endpoints.json');
    const endpoints = await until(
      () =>
        existsSync(file) && output.includes('Serving until Ctrl-C')
          ? JSON.parse(readFileSync(file, 'utf8'))
          : undefined,
      () => `the endpoints in ${file} (output so far: ${output})`,
      150_000,
    );
    expect(Object.keys(endpoints)).toEqual(
      expect.arrayContaining([
        'httpApi',
        'eventBridge',
        'scheduler',
        'sqs',
        'dynamodb',
        'eventBusName',
        'tokenCommand',
      ]),
    );
    expect(endpoints.childPids).toHaveLength(1);
    expect(alive(endpoints.childPids[0])).toBe(true);

    const response = await fetch(`${endpoints.httpApi}/complaints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: 'web',
        customer: { id: 'shutdown-1', language: 'en' },
        description: 'Refund me',
      }),
    });
    expect(response.status).toBe(202);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopped.');
    await until(
      () => (alive(endpoints.childPids[0]) ? undefined : true),
      () => 'DynamoDB Local to exit',
      10_000,
    );
    for (const url of [endpoints.httpApi, endpoints.eventBridge, endpoints.scheduler, endpoints.sqs]) {
      await expect(fetch(url), url).rejects.toThrow();
    }
  }, 240_000);
});
