import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthLocalAssembly } from '/work/main/infra/local/demo-assembly';
import { startLocalRuntime } from '/work/main/infra/local/runtime.ts';

const out = synthLocalAssembly(mkdtempSync(join(tmpdir(), 'dbg-')));
const rt = await startLocalRuntime({ assemblyDir: out, functionEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
const seen: string[] = [];
rt.onEvent(({ event }) => seen.push(event['detail-type']));
for (let i = 0; i < 3; i++) {
  const r = await fetch(`${rt.endpoints.httpApi}/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `dbg-key-${Date.now()}-${i}` },
    body: JSON.stringify({
      channel: 'web',
      customer: { id: 'c1' },
      description: 'I was charged twice for my subscription this month',
    }),
  });
  console.log(r.status, await r.text());
}
await new Promise((r) => setTimeout(r, 8000));
console.log(seen);
console.log(JSON.stringify(rt.status().functions).slice(0, 800));
await rt.close();
