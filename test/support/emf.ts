import { vi } from 'vitest';
import { METRICS } from '../../shared/metrics/lifecycle-metrics';
import { OPERATIONAL_COUNTERS } from '../../shared/metrics/operational-counters';

/** Every figure a metric document can hold: the catalogue's and the operational counters'. */
const FIGURES: ReadonlySet<string> = new Set([
  ...Object.values(METRICS).map((d) => d.name),
  ...Object.keys(OPERATIONAL_COUNTERS),
]);

/**
 * A metric document: an EMF document (a JSON line with an `_aws` key, which CloudWatch Logs turns
 * into metrics), or a log-only one (a JSON object holding a figure of the catalogue as a number).
 */
function isMetricDocument(line: string): boolean {
  if (line.includes('"_aws"')) return true;
  if (!line.trimStart().startsWith('{')) return false;
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    return Object.entries(parsed).some(([key, value]) => FIGURES.has(key) && typeof value === 'number');
  } catch {
    return false;
  }
}

/**
 * Captures the metric documents written to stdout (EMF and log-only ones), letting every other
 * write through. `lines` collects them until `restore()` is called.
 */
export function captureEmf(lines: string[]): { restore: () => void } {
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    const documents = text.split('\n').filter((l) => l.trim() !== '' && isMetricDocument(l));
    if (documents.length > 0) {
      lines.push(...documents);
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write);
  return { restore: () => spy.mockRestore() };
}
