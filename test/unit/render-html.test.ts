import { describe, expect, it } from 'vitest';
import { parsePeriod, ReportSchema } from '../../shared/domain/reporting/report';
import {
  CHART_BAR_COLOR,
  CHART_HIGHLIGHT_COLOR,
  escapeHtml,
  REPORT_CHARTS,
  renderReportHtml,
} from '../../shared/reporting/render-html';
import { makeReportFixture, reportFixture } from '../support/report-fixture';

const MALICIOUS = '<img src=x onerror=alert(1)>';

/** The opening tag of each `data-chart` SVG. */
const svgTags = (page: string) => [...page.matchAll(/<svg\b[^>]*>/g)].map((m) => m[0]);

describe('report fixture', () => {
  it('is a valid report of an existing ISO week', () => {
    expect(ReportSchema.parse(reportFixture)).toEqual(reportFixture);
    const period = parsePeriod('weekly', reportFixture.period.id, reportFixture.period.timeZone);
    const { days: _days, ...withoutDays } = period;
    expect(reportFixture.period).toEqual(withoutDays);
  });

  it('is internally consistent', () => {
    for (const f of [reportFixture.figures, reportFixture.previous]) {
      expect(f.hours.reduce((a, b) => a + b, 0)).toBe(f.volume.received);
      expect(f.byChannel.reduce((a, s) => a + s.count, 0)).toBe(f.volume.received);
      expect(f.byCategory.reduce((a, s) => a + s.count, 0)).toBe(f.volume.valid);
      expect(f.bySeverity.reduce((a, s) => a + s.count, 0)).toBe(f.volume.valid);
      expect(f.backlog.ageing.reduce((a, s) => a + s.count, 0)).toBe(f.backlog.open);
      expect(f.escalations.byLevel.reduce((a, s) => a + s.count, 0)).toBe(f.escalations.total);
      expect(f.departments.reduce((a, d) => a + d.resolved, 0)).toBe(f.times.resolution.count);
    }
  });
});

describe('renderReportHtml', () => {
  const page = renderReportHtml(reportFixture);

  it('is a complete HTML5 document in UTF-8', () => {
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toMatch(/<html lang="en">/);
    expect(page).toContain('</html>');
    expect(page).toContain('<title>Weekly report 2026-W47');
    expect(page).toContain('<h1>Weekly report 2026-W47</h1>');
    expect(page).toContain('2026-11-16 – 2026-11-22 · Asia/Shanghai time');
    expect(page).toContain('compared with 2026-W46');
    // 2026-11-22T18:05:12Z in Shanghai.
    expect(page).toContain('generated 2026-11-23 02:05');
  });

  it('is self-contained: no scripts, links, external resources or URLs', () => {
    for (const forbidden of [
      'http://',
      'https://',
      '//cdn',
      'src=',
      'href=',
      '<script',
      '<link',
      '@import',
      'url(',
    ]) {
      expect(page.toLowerCase(), forbidden).not.toContain(forbidden);
    }
    expect(page).toMatch(/<style>[\s\S]+<\/style>/);
    // Even a missed resource would be blocked.
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('contains every chart as an accessible inline SVG', () => {
    const tags = svgTags(page);
    expect(tags.map((t) => /data-chart="([^"]+)"/.exec(t)?.[1]).sort()).toEqual([...REPORT_CHARTS].sort());
    for (const tag of tags) {
      expect(tag).toContain('role="img"');
      expect(tag).toMatch(/aria-label="[^"]{10,}"/);
      expect(tag).toMatch(/viewBox="0 0 \d+ \d+"/);
    }
    expect(page).toContain('aria-label="Received by channel: App 450 (38.0%), Hotline 273 (23.0%)');
  });

  it('draws a bar of non-zero width for every non-zero value, in the bar colour only', () => {
    const bars = [...page.matchAll(/<rect class="bar(?:-hot)?"[^>]*>/g)].map((m) => m[0]);
    const f = reportFixture.figures;
    const nonZero =
      f.byChannel.length +
      f.byCategory.length +
      f.bySeverity.length +
      f.hours.filter((h) => h > 0).length +
      f.backlog.ageing.filter((a) => a.count > 0).length +
      f.escalations.byLevel.length;
    expect(bars).toHaveLength(nonZero);
    for (const bar of bars) {
      const size = /width="([\d.]+)" height="([\d.]+)"/.exec(bar);
      expect(Number(size?.[1])).toBeGreaterThan(0);
      expect(Number(size?.[2])).toBeGreaterThan(0);
    }
    // The bar colour appears nowhere else (the screenshot test counts its pixels).
    const colourUses = page.split(CHART_BAR_COLOR).length - 1;
    expect(colourUses).toBe(bars.filter((b) => b.includes(CHART_BAR_COLOR)).length);
    // The three busiest hours are highlighted.
    expect(bars.filter((b) => b.includes(CHART_HIGHLIGHT_COLOR))).toHaveLength(3);
    expect(page).toContain('busiest hours: 10:00, 14:00, 15:00');
  });

  it('keeps a tiny value visible next to a huge one', () => {
    const report = makeReportFixture();
    report.figures.escalations.byLevel = [
      { level: 1, count: 100_000 },
      { level: 2, count: 1 },
      { level: 3, count: 0 },
    ];
    const chart =
      /<svg[^>]*data-chart="escalations"[\s\S]*?<\/svg>/.exec(renderReportHtml(report))?.[0] ?? '';
    const widths = [...chart.matchAll(/<rect class="bar"[^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(2);
  });

  it('escapes every string from the data', () => {
    const report = makeReportFixture();
    report.figures.byCategory[0] = { ...report.figures.byCategory[0]!, key: MALICIOUS };
    report.figures.topRecurring[0] = { ...report.figures.topRecurring[0]!, category: MALICIOUS };
    report.figures.departments[0] = { ...report.figures.departments[0]!, department: `"><script>x</script>` };
    report.figures.backlog.ageing[0] = { band: `a'b"c&d`, count: 3 };
    report.period.timeZone = 'Asia/Shanghai<b>';
    const out = renderReportHtml(report);
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<script');
    expect(out).not.toContain('<b>');
    expect(out).toContain(escapeHtml(MALICIOUS));
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('&quot;&gt;&lt;script&gt;x&lt;/script&gt;');
    expect(out).toContain('a&#39;b&quot;c&amp;d');
    // Also inside attributes: the aria-label of the category chart stays one attribute.
    const tag = svgTags(out).find((t) => t.includes('data-chart="category"')) ?? '';
    expect(tag).toMatch(/^<svg role="img" aria-label="[^"<>]*" data-chart="category"/);
  });

  it('formats durations, percentile bounds and rates', () => {
    // Acknowledge: average 1,268 s, p50 ≤ 900 s, p90 ≤ 3,600 s; resolution: 151,260 s, ≤ 1 d, ≤ 7 d.
    expect(page).toMatch(
      /<td class="num">21 min<\/td>\s*<td class="num">≤ 15 min<\/td>\s*<td class="num">≤ 1 h<\/td>/,
    );
    expect(page).toContain('<td class="num">2 h 44 min</td>');
    expect(page).toMatch(
      /<td class="num">1 d 18 h<\/td>\s*<td class="num">≤ 1 d<\/td>\s*<td class="num">≤ 7 d<\/td>/,
    );
    expect(page).toContain('97.5%'); // acknowledgement compliance 1,104 / 1,132
    const report = makeReportFixture();
    report.figures.times.resolution.p90Seconds = null; // open-ended bin
    expect(renderReportHtml(report)).toContain('&gt; 30 d');
  });

  it('shows — for null rates and averages, and for changes that cannot be computed', () => {
    const report = makeReportFixture();
    report.figures.satisfaction = { answers: 0, average: null, satisfiedShare: null };
    report.figures.reopen = { resolved: 0, reopened: 0, rate: null };
    report.previous.firstContactResolution = { resolved: 0, firstContact: 0, rate: null };
    report.figures.departments[0] = {
      ...report.figures.departments[0]!,
      averageResolutionSeconds: null,
      resolutionCompliance: null,
      satisfaction: null,
    };
    report.figures.times.acknowledge = { count: 0, averageSeconds: null, p50Seconds: null, p90Seconds: null };
    const out = renderReportHtml(report);
    const card = (label: string) =>
      new RegExp(`<div class="card-label">${label}</div>[\\s\\S]*?</div>\\s*</div>`).exec(out)?.[0] ?? '';
    expect(card('Satisfaction')).toContain('<div class="card-value">—</div>');
    expect(card('Satisfaction')).toContain('<span class="mark">—</span> <span class="prev">prev 4.08</span>');
    expect(card('Satisfied customers')).toContain('<div class="card-value">—</div>');
    expect(card('Reopen rate')).toContain('<div class="card-value">—</div>');
    expect(card('First-contact resolution')).toContain('<span class="prev">prev —</span>');
    expect(out).toMatch(
      /<td class="num">0<\/td>\s*<td class="num">—<\/td>\s*<td class="num">—<\/td>\s*<td class="num">—<\/td>/,
    );
    expect(out).not.toMatch(/NaN|null|undefined|Infinity/);
  });

  it('marks each change with its direction, the previous value and whether it is good news', () => {
    // Received 1,185 vs 1,104: up, neutral.
    expect(page).toContain(
      '<div class="delta neutral"><span class="mark">▲</span> 81 · <span class="prev">prev 1,104</span></div>',
    );
    // Backlog 413 vs 400: up, and a growing backlog is bad.
    expect(page).toContain(
      '<div class="delta bad"><span class="mark">▲</span> 13 · <span class="prev">prev 400</span></div>',
    );
    // Resolution SLA 89.9% vs 87.9%: up 2.0 pp, good.
    expect(page).toContain(
      '<div class="delta good"><span class="mark">▲</span> 2.0 pp · <span class="prev">prev 87.9%</span></div>',
    );
    // Reopen rate 3.0% vs 3.8%: down, good.
    expect(page).toMatch(
      /<div class="delta good"><span class="mark">▼<\/span> 0\.7 pp · <span class="prev">prev 3\.8%<\/span>/,
    );
    const report = makeReportFixture();
    report.previous.volume.rejected = report.figures.volume.rejected;
    expect(renderReportHtml(report)).toContain(
      `<span class="mark">=</span> unchanged · <span class="prev">prev ${report.figures.volume.rejected}</span>`,
    );
  });

  it('has Chinese labels with lang zh', () => {
    const zh = renderReportHtml(reportFixture, { lang: 'zh' });
    expect(zh).toMatch(/<html lang="zh-CN">/);
    expect(zh).toContain('<h1>周报 2026-W47</h1>');
    expect(zh).toContain('2026-11-16 至 2026-11-22（Asia/Shanghai）');
    for (const label of [
      '收到投诉',
      '有效投诉',
      '未结积压',
      '首次解决率',
      '满意度',
      '重开率',
      '重复投诉率',
      '上期',
    ]) {
      expect(zh).toContain(label);
    }
    expect(zh).toContain('aria-label="按渠道分布（收到）: App 450');
    expect(zh).toContain('2小时44分钟');
    expect(zh).toContain('≤ 1天');
    expect(zh).toContain('&lt; 1 天');
    // Category ids are shown as they are.
    expect(zh).toContain('billing_dispute');
    expect(zh).not.toContain('Weekly report');
    expect(
      renderReportHtml(
        { ...reportFixture, period: { ...reportFixture.period, kind: 'monthly', id: '2026-11' } },
        { lang: 'zh' },
      ),
    ).toContain('<h1>月报 2026-11</h1>');
  });

  it('says so when the period is not over', () => {
    expect(page).not.toContain('class="partial"');
    const partial = renderReportHtml({ ...reportFixture, partial: true });
    expect(partial).toContain('Provisional: the period is not over yet');
    expect(renderReportHtml({ ...reportFixture, partial: true }, { lang: 'zh' })).toContain('统计期尚未结束');
  });

  it('renders empty figures without errors', () => {
    const report = makeReportFixture();
    const f = report.figures;
    f.byChannel = [];
    f.byCategory = [];
    f.bySeverity = [];
    f.hours = Array.from({ length: 24 }, () => 0);
    f.busiestHours = [];
    f.escalations = { total: 0, byLevel: [] };
    f.backlog = { open: 0, ageing: f.backlog.ageing.map((a) => ({ ...a, count: 0 })) };
    f.topRecurring = [];
    f.departments = [];
    const out = renderReportHtml(ReportSchema.parse(report));
    expect(svgTags(out)).toHaveLength(REPORT_CHARTS.length);
    expect(out).not.toContain('class="bar');
    expect(out).toContain('No data');
    expect(out).toContain('No repeat complaints in this period.');
    expect(out).not.toMatch(/NaN|Infinity/);
  });
});
