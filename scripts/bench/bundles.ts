/**
 * `npm run bench` figures of the function bundles, from the app synthesized as for a deployment (the
 * default policy):
 *
 * - **size** of each bundle's `index.mjs` (the code Lambda loads; the source map sits beside it);
 * - **module init**: CPU time of `import()` of the bundle in a fresh Node process with the function's
 *   environment from the template (tokens replaced by placeholders, so nothing is called), median of
 *   `BENCH_INIT_RUNS` runs (default 7), next to an empty module's in the same run. The difference is
 *   what the bundle itself costs at a cold start on this machine.
 *
 * Nothing here asserts a figure: compare runs on the same machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { synthLocalAssembly } from '../../infra/local/demo-assembly';

interface FunctionResource {
  Type: string;
  Properties: { Description?: string; Environment?: { Variables?: Record<string, unknown> } };
  Metadata?: Record<string, unknown>;
}

/** What a token in the template stands for, good enough for a cold start that calls nothing. */
function placeholder(name: string): string {
  if (name.endsWith('_ARN')) return 'arn:aws:lambda:us-east-1:123456789012:function:placeholder';
  if (name.endsWith('_URL')) return 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder';
  return 'placeholder';
}

/** CPU and wall milliseconds of importing `file` in a fresh process with `env`. */
function measureImport(file: string, env: Record<string, string>): { cpu: number; wall: number } {
  const probe =
    'const c0 = process.cpuUsage(); const t0 = performance.now();' +
    `await import(${JSON.stringify(pathToFileURL(file).href)});` +
    'const c = process.cpuUsage(c0);' +
    'console.log(JSON.stringify({ cpu: (c.user + c.system) / 1000, wall: performance.now() - t0 }));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export async function benchBundles(options: { runs?: number } = {}): Promise<void> {
  const runs = options.runs ?? 7;
  const outdir = mkdtempSync(join(tmpdir(), 'complaints-bundles-'));
  try {
    console.log('\nFunction bundles (the app as deployed with the default policy)');
    synthLocalAssembly(outdir, DEFAULT_POLICY_FILE);
    const template = JSON.parse(readFileSync(join(outdir, 'ComplaintService.template.json'), 'utf8')) as {
      Resources: Record<string, FunctionResource>;
    };
    const baselineDir = mkdtempSync(join(tmpdir(), 'complaints-empty-'));
    const baselineFile = join(baselineDir, 'index.mjs');
    writeFileSync(baselineFile, 'export const handler = async () => undefined;\n');
    const common = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const baseline = median(Array.from({ length: runs }, () => measureImport(baselineFile, common).cpu));
    rmSync(baselineDir, { recursive: true, force: true });
    console.log(
      `${'function'.padEnd(44)} ${'index.mjs'.padStart(10)} ${'init CPU'.padStart(9)} ${'− empty'.padStart(9)}`,
    );
    const rows: { size: number; init: number }[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string') continue;
      const file = join(outdir, assetPath, 'index.mjs');
      const env: Record<string, string> = { ...common };
      for (const [name, value] of Object.entries(resource.Properties.Environment?.Variables ?? {})) {
        env[name] = typeof value === 'string' ? value : placeholder(name);
      }
      const size = statSync(file).size;
      const init = median(Array.from({ length: runs }, () => measureImport(file, env).cpu));
      rows.push({ size, init });
      const name = logicalId.replace(/Function[0-9A-F]{8}$/, '').replace(/^ComplaintService/, '');
      console.log(
        `${name.padEnd(44)} ${`${(size / 1024).toFixed(0)} KB`.padStart(10)} ${`${init.toFixed(0)} ms`.padStart(9)} ${`${(init - baseline).toFixed(0)} ms`.padStart(9)}`,
      );
    }
    const largest = Math.max(...rows.map((r) => r.size));
    const slowest = Math.max(...rows.map((r) => r.init - baseline));
    console.log(
      `${rows.length} bundles: largest ${(largest / 1024).toFixed(0)} KB, slowest init ${slowest.toFixed(0)} ms ` +
        `beyond an empty module (${baseline.toFixed(0)} ms CPU; median of ${runs}, Node ${process.versions.node})`,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
