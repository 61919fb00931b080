/**
 * The printout of `npm run cost`: tables for people, then, as the last line, one JSON object with
 * every figure for machines (`usdPer1000`, `fixedUsdPerMonth`, …).
 */
import type { CostRow } from './cost-model';
import type { CostEstimate } from './cost-run';
import { ASSUMPTIONS } from './prices';

const usd = (value: number, digits = 4) => `$${value.toFixed(digits)}`;
const quantity = (value: number) =>
  value === 0 ? '0' : value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export function formatCostEstimate(e: CostEstimate): string {
  const lines: string[] = [];
  const c = e.complaints;
  lines.push(
    '',
    `Per complaint — ${c.accepted} complaints accepted, ${c.worked} worked by an agent, ${c.resolved} resolved, ` +
      `${c.surveyed} surveys answered${e.settled ? '' : ' (the system did NOT settle: figures are partial)'}`,
    ...Object.entries(c.abandoned).map(([reason, n]) => `  stopped short: ${n} × ${reason}`),
    ...(e.replayFailures > 0
      ? [`  ${e.replayFailures} transactions could not be replayed: billed at DynamoDB Local's higher figure`]
      : []),
    '',
    ...table(
      ['service', 'per complaint', 'unit', 'per 1,000 complaints'],
      e.perComplaintRows.map((r) => [r.service, quantity(r.quantity), r.unit, usd(r.usd * 1000)]),
    ),
    `${'total'.padEnd(24)} ${usd(e.usdPer1000)} per 1,000 complaints`,
    '',
    'DynamoDB write units per complaint, by function:',
    ...Object.entries(e.writeUnitsByFunction)
      .sort(([, a], [, b]) => b - a)
      .map(([fn, units]) => `  ${fn.padEnd(32)} ${units.toFixed(1)}`),
    '',
    'Lambda per complaint, by function: invocations × handler ms (measured here), cold starts ' +
      `(priced at ${ASSUMPTIONS.coldStartInitMs} ms of init each):`,
    ...Object.entries(e.lambdaByFunction)
      .sort(([, a], [, b]) => b.invocations * b.billedMs - a.invocations * a.billedMs)
      .map(
        ([fn, f]) =>
          `  ${fn.padEnd(32)} ${f.invocations.toFixed(2)} × ${f.billedMs.toFixed(0)} ms, ${f.coldStarts.toFixed(2)} cold starts`,
      ),
    '',
    `Stored: ${(e.storageBytesPer1000 / 1024 ** 2).toFixed(1)} MB per 1,000 complaints (table and indexes, ` +
      `upper bound): ${usd(e.storageUsdPer1000PerMonth)} per month they are kept`,
    `Items by kind (count, average and largest bytes): ${Object.entries(e.items)
      .map(([kind, v]) => `${kind} ${v.items} × ${v.averageBytes} (max ${v.maxBytes})`)
      .join(', ')}`,
    `The record item (META), average bytes per attribute: ${Object.entries(e.recordAttributes)
      .map(([name, bytes]) => `${name} ${bytes}`)
      .join(', ')}`,
    '',
    'Fixed, per month, whatever the volume:',
    ...table(
      ['what', 'count', 'unit', 'per month'],
      [...e.fixedRows, ...atRest(e.atRestRows)].map((r) => [
        r.service,
        quantity(r.quantity),
        r.unit,
        usd(r.usd, 2),
      ]),
    ),
    `${'total'.padEnd(24)} ${usd(e.fixedUsdPerMonth, 2)} per month`,
    `Recurring jobs: ${e.recurring.map((j) => `${j.name} ${j.runsPerMonth}×${usd(j.usdPerRun, 6)}`).join(', ')}`,
    `Assumptions: ${ASSUMPTIONS.platformLogBytesPerInvocation} bytes of Lambda platform log lines per invocation; ` +
      `${ASSUMPTIONS.idleReceivesPerMappingMonth} empty receives per event source mapping and month; ` +
      'one X-Ray trace per invocation with active tracing (the sampling reservoir covers a desk’s volume).',
    JSON.stringify({
      usdPer1000: round(e.usdPer1000, 5),
      fixedUsdPerMonth: round(e.fixedUsdPerMonth, 2),
      complaints: e.complaints,
      perComplaint: Object.fromEntries(Object.entries(e.perComplaint).map(([k, v]) => [k, round(v, 3)])),
      writeUnitsByFunction: Object.fromEntries(
        Object.entries(e.writeUnitsByFunction).map(([k, v]) => [k, round(v, 2)]),
      ),
      customMetrics: e.customMetrics,
      storageUsdPer1000PerMonth: round(e.storageUsdPer1000PerMonth, 5),
      settled: e.settled,
      replayFailures: e.replayFailures,
    }),
  );
  return lines.join('\n');
}

/** The recurring jobs' usage in a month, priced, as rows of the fixed table (zero rows left out). */
function atRest(rows: readonly CostRow[]): CostRow[] {
  return rows.filter((r) => r.usd > 0).map((r) => ({ ...r, service: `${r.service} (recurring jobs)` }));
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
