/**
 * Function logs (Powertools JSON lines, EMF metrics) go to a file, as CloudWatch Logs would hold
 * them, so the console shows what the command itself prints. The function instances' output reaches
 * this process's `process.stdout.write`/`process.stderr.write` line by line (`lambda/instance.ts`),
 * which is what this replaces.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function divertFunctionLogs(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      if (text.startsWith('{') || text.startsWith('No application metrics')) {
        appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
