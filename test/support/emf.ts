import { vi } from 'vitest';

/**
 * Captures the EMF documents (the JSON lines with an `_aws` key that CloudWatch Logs turns into
 * metrics) written to stdout, letting every other write through. `lines` collects them until
 * `restore()` is called.
 */
export function captureEmf(lines: string[]): { restore: () => void } {
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) {
      lines.push(...text.split('\n').filter((l) => l.trim() !== ''));
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  return { restore: () => spy.mockRestore() };
}
