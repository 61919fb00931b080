/**
 * A period report as one self-contained HTML5 page: inline CSS, inline SVG charts, no scripts and no
 * external resources (a Content-Security-Policy of `default-src 'none'` makes sure of it), laid out for
 * a screen of about 1280 px and for A4 print.
 *
 * Every interpolated value goes through the {@link html} template, which escapes it unless it is
 * already {@link Html}: report content (category ids, department ids, bands) comes from data.
 */
import { DateTime } from 'luxon';
import { DURATION_BINS } from '../domain/reporting/contributions';
import type { Report, ReportFigures } from '../domain/reporting/report';
import { SEVERITIES } from '../policy/vocabulary';

export type ReportLanguage = 'zh' | 'en';

export interface RenderReportHtmlOptions {
  /** Labels' language; default English. Data ids (categories, departments) are shown as they are. */
  lang?: ReportLanguage;
}

/** Fill of the chart bars; used by nothing else on the page (the screenshot test counts its pixels). */
export const CHART_BAR_COLOR = '#2f6fdf';
/** Fill of the busiest hours' columns. */
export const CHART_HIGHLIGHT_COLOR = '#e0892b';
/** The `data-chart` names of the page's charts. */
export const REPORT_CHARTS = ['hours', 'channel', 'severity', 'category', 'ageing', 'escalations'] as const;
export type ReportChart = (typeof REPORT_CHARTS)[number];

// ---------------------------------------------------------------------------------------------------
// Escaping

/** Markup that is already safe to insert. */
class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | false | Part[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function part(value: Part): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Template tag: escapes every interpolation except {@link Html}; arrays are concatenated. */
function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += part(values[i] as Part) + (strings[i + 1] ?? '');
  return new Html(out);
}

// ---------------------------------------------------------------------------------------------------
// Labels

const EN = {
  product: 'Complaint management',
  kind: { daily: 'Daily report', weekly: 'Weekly report', monthly: 'Monthly report' },
  period: (first: string, last: string, tz: string) =>
    first === last ? `${first} · ${tz} time` : `${first} – ${last} · ${tz} time`,
  comparedWith: (id: string) => `compared with ${id}`,
  generated: (at: string) => `generated ${at}`,
  partial: 'Provisional: the period is not over yet; figures so far.',
  sections: {
    summary: 'Summary',
    intake: 'Intake',
    service: 'Service level',
    backlog: 'Backlog and escalations',
    departments: 'Departments',
  },
  cards: {
    received: 'Received',
    valid: 'Valid',
    rejected: 'Rejected',
    backlog: 'Open backlog',
    slaAcknowledge: 'SLA · acknowledgement',
    slaFirstResponse: 'SLA · first response',
    slaResolution: 'SLA · resolution',
    fcr: 'First-contact resolution',
    satisfaction: 'Satisfaction',
    satisfied: 'Satisfied customers',
    reopen: 'Reopen rate',
    repeat: 'Repeat rate',
  },
  perDay: (n: string) => `${n} per day`,
  ofReceived: (p: string) => `${p} of received`,
  closed: (n: string) => `${n} closed this period`,
  metBreached: (met: string, breached: string) => `${met} met · ${breached} breached`,
  answers: (n: string) => `${n} survey answers`,
  outOf5: '/ 5',
  satisfiedHint: 'score 4 or 5',
  ofResolved: (part: string, whole: string) => `${part} of ${whole} resolved`,
  repeats: (n: string) => `${n} repeat complaints`,
  prev: 'prev',
  unchanged: 'unchanged',
  pp: 'pp',
  noData: 'No data',
  charts: {
    hours: 'Received by hour of day',
    channel: 'Received by channel',
    severity: 'Valid by severity',
    category: 'Valid by category',
    ageing: 'Open backlog by age',
    escalations: 'Escalations by level',
  },
  busiest: (hours: string) => `busiest hours: ${hours}`,
  total: (n: string) => `${n} in total`,
  level: (n: number) => `Level ${n}`,
  clocks: { acknowledge: 'Acknowledgement', firstResponse: 'First response', resolution: 'Resolution' },
  timesTitle: 'Response times and SLA compliance',
  timesHead: ['Clock', 'Measured', 'Average', 'Median', '90th pct.', 'Met', 'Breached', 'Compliance'],
  timesNote:
    'Median and 90th percentile are upper bounds of duration bins (“≤ 4 h”: at most four hours). Business time zone.',
  recurringTitle: 'Top recurring issues',
  recurringHead: ['Category', 'Repeats', 'Received', 'Repeat share'],
  noRecurring: 'No repeat complaints in this period.',
  departmentsTitle: 'Performance by department',
  departmentsHead: [
    'Department',
    'Assigned',
    'Resolved',
    'Avg. resolution',
    'Resolution SLA',
    'Satisfaction',
  ],
  noDepartments: 'No assignments in this period.',
  footer:
    'Figures are computed from the day aggregates of the period; shares of the charts by channel are of complaints received, by category and severity of valid complaints.',
  duration: { s: ' s', min: ' min', h: ' h', d: ' d', sep: ' ' },
  channels: {
    app: 'App',
    web: 'Web',
    hotline: 'Hotline',
    social_media: 'Social media',
    email: 'Email',
    app_store: 'App store',
    partner_service: 'Partner service',
  } as Record<string, string>,
  severities: { general: 'General', important: 'Important', urgent: 'Urgent', major: 'Major' } as Record<
    string,
    string
  >,
  bands: {} as Record<string, string>,
};

type Labels = typeof EN;

const ZH: Labels = {
  product: '投诉管理',
  kind: { daily: '日报', weekly: '周报', monthly: '月报' },
  period: (first, last, tz) => (first === last ? `${first}（${tz}）` : `${first} 至 ${last}（${tz}）`),
  comparedWith: (id) => `对比上期 ${id}`,
  generated: (at) => `生成于 ${at}`,
  partial: '临时数据：统计期尚未结束，以下为截至目前的数据。',
  sections: {
    summary: '概览',
    intake: '受理',
    service: '服务时效',
    backlog: '积压与升级',
    departments: '部门表现',
  },
  cards: {
    received: '收到投诉',
    valid: '有效投诉',
    rejected: '驳回',
    backlog: '未结积压',
    slaAcknowledge: 'SLA 达标率 · 受理确认',
    slaFirstResponse: 'SLA 达标率 · 首次响应',
    slaResolution: 'SLA 达标率 · 解决',
    fcr: '首次解决率',
    satisfaction: '满意度',
    satisfied: '满意客户占比',
    reopen: '重开率',
    repeat: '重复投诉率',
  },
  perDay: (n) => `日均 ${n}`,
  ofReceived: (p) => `占收到的 ${p}`,
  closed: (n) => `本期关闭 ${n}`,
  metBreached: (met, breached) => `达标 ${met} · 超时 ${breached}`,
  answers: (n) => `${n} 份问卷`,
  outOf5: '/ 5',
  satisfiedHint: '评分 4 或 5',
  ofResolved: (part, whole) => `已解决 ${whole} 件中 ${part} 件`,
  repeats: (n) => `重复投诉 ${n} 件`,
  prev: '上期',
  unchanged: '持平',
  pp: '个百分点',
  noData: '无数据',
  charts: {
    hours: '按小时分布（收到）',
    channel: '按渠道分布（收到）',
    severity: '按严重程度分布（有效）',
    category: '按类别分布（有效）',
    ageing: '未结积压账龄',
    escalations: '按级别统计升级',
  },
  busiest: (hours) => `最繁忙时段：${hours}`,
  total: (n) => `共 ${n} 次`,
  level: (n) => `第 ${n} 级`,
  clocks: { acknowledge: '受理确认', firstResponse: '首次响应', resolution: '解决' },
  timesTitle: '处理时长与 SLA 达标',
  timesHead: ['环节', '样本数', '平均', '中位数', '90 分位', '达标', '超时', '达标率'],
  timesNote: '中位数与 90 分位为时长分档的上限（“≤ 4 小时”即不超过四小时）。时间按业务时区计算。',
  recurringTitle: '高频重复问题',
  recurringHead: ['类别', '重复投诉', '收到', '重复占比'],
  noRecurring: '本期无重复投诉。',
  departmentsTitle: '各部门处理情况',
  departmentsHead: ['部门', '分派', '已解决', '平均解决时长', '解决 SLA 达标率', '满意度'],
  noDepartments: '本期无分派。',
  footer: '数据按统计期内的日汇总计算；渠道占比以收到的投诉为基数，类别与严重程度占比以有效投诉为基数。',
  duration: { s: '秒', min: '分钟', h: '小时', d: '天', sep: '' },
  channels: {
    app: 'App',
    web: '网站',
    hotline: '热线',
    social_media: '社交媒体',
    email: '邮件',
    app_store: '应用商店',
    partner_service: '合作方客服',
  },
  severities: { general: '一般', important: '重要', urgent: '紧急', major: '重大' },
  bands: {
    '< 1 day': '< 1 天',
    '1–3 days': '1–3 天',
    '3–7 days': '3–7 天',
    '7–30 days': '7–30 天',
    '≥ 30 days': '≥ 30 天',
  },
};

// ---------------------------------------------------------------------------------------------------
// Number formats

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const TWO_DECIMALS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const DASH = '—';

const int = (n: number) => INTEGER.format(n);
const percent = (rate: number | null) => (rate === null ? DASH : `${ONE_DECIMAL.format(rate * 100)}%`);
const score = (n: number | null) => (n === null ? DASH : TWO_DECIMALS.format(n));

/** `45 s`, `25 min`, `3 h 20 min`, `2 d 4 h` (minutes below a day, hours above). */
function duration(seconds: number, t: Labels): string {
  const u = t.duration;
  if (seconds < 60) return `${Math.round(seconds)}${u.s}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}${u.min}`;
  if (minutes < 24 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m === 0 ? `${h}${u.h}` : `${h}${u.h}${u.sep}${m}${u.min}`;
  }
  const hours = Math.round(seconds / 3600);
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  return h === 0 ? `${d}${u.d}` : `${d}${u.d}${u.sep}${h}${u.h}`;
}

const LAST_BIN = DURATION_BINS[DURATION_BINS.length - 1] as number;

/** A percentile (upper bound of its bin): `≤ 4 h`; `> 30 d` in the open-ended bin; `—` without data. */
function percentileText(seconds: number | null, count: number, t: Labels): string {
  if (count === 0) return DASH;
  return seconds === null ? `> ${duration(LAST_BIN, t)}` : `≤ ${duration(seconds, t)}`;
}

const shortLabel = (text: string, max = 24) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// ---------------------------------------------------------------------------------------------------
// Headline cards

type Better = 'higher' | 'lower' | 'neither';
type Measure = 'count' | 'rate' | 'score';

function change(
  current: number | null,
  previous: number | null,
  measure: Measure,
  better: Better,
  t: Labels,
) {
  const shown = (n: number | null) =>
    measure === 'count' ? (n === null ? DASH : int(n)) : measure === 'rate' ? percent(n) : score(n);
  const prev = html`<span class="prev">${t.prev} ${shown(previous)}</span>`;
  if (current === null || previous === null) {
    return html`<div class="delta neutral"><span class="mark">${DASH}</span> ${prev}</div>`;
  }
  // Compare what is displayed, so a change too small to show reads as unchanged.
  const diff =
    measure === 'count'
      ? current - previous
      : measure === 'rate'
        ? Math.round((current - previous) * 1000) / 10
        : Math.round((current - previous) * 100) / 100;
  if (diff === 0)
    return html`<div class="delta neutral"><span class="mark">=</span> ${t.unchanged} · ${prev}</div>`;
  const up = diff > 0;
  const amount =
    measure === 'count'
      ? int(Math.abs(diff))
      : measure === 'rate'
        ? `${ONE_DECIMAL.format(Math.abs(diff))} ${t.pp}`
        : TWO_DECIMALS.format(Math.abs(diff));
  const tone = better === 'neither' ? 'neutral' : up === (better === 'higher') ? 'good' : 'bad';
  return html`<div class="delta ${tone}"><span class="mark">${up ? '▲' : '▼'}</span> ${amount} · ${prev}</div>`;
}

interface Card {
  label: string;
  value: string;
  unit?: string;
  sub: string;
  current: number | null;
  previous: number | null;
  measure: Measure;
  better: Better;
}

function card(c: Card, t: Labels): Html {
  return html`<div class="card">
<div class="card-label">${c.label}</div>
<div class="card-value">${c.value}${c.unit ? html` <span class="unit">${c.unit}</span>` : ''}</div>
<div class="card-sub">${c.sub}</div>
${change(c.current, c.previous, c.measure, c.better, t)}
</div>`;
}

function cards(f: ReportFigures, p: ReportFigures, t: Labels): Html {
  const rateOf = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  const list: Card[] = [
    {
      label: t.cards.received,
      value: int(f.volume.received),
      sub: t.perDay(ONE_DECIMAL.format(f.volume.perDay)),
      current: f.volume.received,
      previous: p.volume.received,
      measure: 'count',
      better: 'neither',
    },
    {
      label: t.cards.valid,
      value: int(f.volume.valid),
      sub: t.ofReceived(percent(rateOf(f.volume.valid, f.volume.received))),
      current: f.volume.valid,
      previous: p.volume.valid,
      measure: 'count',
      better: 'neither',
    },
    {
      label: t.cards.rejected,
      value: int(f.volume.rejected),
      sub: t.ofReceived(percent(rateOf(f.volume.rejected, f.volume.received))),
      current: f.volume.rejected,
      previous: p.volume.rejected,
      measure: 'count',
      better: 'neither',
    },
    {
      label: t.cards.backlog,
      value: int(f.backlog.open),
      sub: t.closed(int(f.closed)),
      current: f.backlog.open,
      previous: p.backlog.open,
      measure: 'count',
      better: 'lower',
    },
    ...(
      [
        ['acknowledge', t.cards.slaAcknowledge],
        ['firstResponse', t.cards.slaFirstResponse],
        ['resolution', t.cards.slaResolution],
      ] as const
    ).map(
      ([clock, label]): Card => ({
        label,
        value: percent(f.sla[clock].compliance),
        sub: t.metBreached(int(f.sla[clock].met), int(f.sla[clock].breached)),
        current: f.sla[clock].compliance,
        previous: p.sla[clock].compliance,
        measure: 'rate',
        better: 'higher',
      }),
    ),
    {
      label: t.cards.fcr,
      value: percent(f.firstContactResolution.rate),
      sub: t.ofResolved(int(f.firstContactResolution.firstContact), int(f.firstContactResolution.resolved)),
      current: f.firstContactResolution.rate,
      previous: p.firstContactResolution.rate,
      measure: 'rate',
      better: 'higher',
    },
    {
      label: t.cards.satisfaction,
      value: score(f.satisfaction.average),
      unit: f.satisfaction.average === null ? '' : t.outOf5,
      sub: t.answers(int(f.satisfaction.answers)),
      current: f.satisfaction.average,
      previous: p.satisfaction.average,
      measure: 'score',
      better: 'higher',
    },
    {
      label: t.cards.satisfied,
      value: percent(f.satisfaction.satisfiedShare),
      sub: t.satisfiedHint,
      current: f.satisfaction.satisfiedShare,
      previous: p.satisfaction.satisfiedShare,
      measure: 'rate',
      better: 'higher',
    },
    {
      label: t.cards.reopen,
      value: percent(f.reopen.rate),
      sub: t.ofResolved(int(f.reopen.reopened), int(f.reopen.resolved)),
      current: f.reopen.rate,
      previous: p.reopen.rate,
      measure: 'rate',
      better: 'lower',
    },
    {
      label: t.cards.repeat,
      value: percent(f.repeat.rate),
      sub: t.repeats(int(f.repeat.repeats)),
      current: f.repeat.rate,
      previous: p.repeat.rate,
      measure: 'rate',
      better: 'lower',
    },
  ];
  return html`<div class="cards">${list.map((c) => card(c, t))}</div>`;
}

// ---------------------------------------------------------------------------------------------------
// Charts

const fix = (n: number) => Math.round(n * 10) / 10;

interface BarRow {
  label: string;
  count: number;
  /** Shown after the count, e.g. the share. */
  note?: string;
}

function svgOpen(name: ReportChart, aria: string, width: number, height: number): Html {
  return html`<svg role="img" aria-label="${aria}" data-chart="${name}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`;
}

function chartDescription(title: string, rows: BarRow[], t: Labels): string {
  if (rows.length === 0) return `${title}: ${t.noData}`;
  return `${title}: ${rows.map((r) => `${r.label} ${int(r.count)}${r.note ? ` (${r.note})` : ''}`).join(', ')}`;
}

/** Horizontal bars, one row per entry, scaled to the largest count. */
function barChart(name: ReportChart, title: string, rows: BarRow[], t: Labels, width = 520): Html {
  const rowHeight = 28;
  const barHeight = 16;
  const labelWidth = 150;
  const valueWidth = 118;
  const track = width - labelWidth - valueWidth;
  if (rows.length === 0) {
    return html`${svgOpen(name, chartDescription(title, rows, t), width, 44)}<text class="empty" x="0" y="26">${t.noData}</text></svg>`;
  }
  const height = rows.length * rowHeight + 4;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const body = rows.map((r, i) => {
    const y = i * rowHeight + 2;
    const mid = fix(y + rowHeight / 2);
    const w = r.count > 0 ? Math.max(2, (r.count / max) * track) : 0;
    const barY = fix(y + (rowHeight - barHeight) / 2);
    return html`<g><title>${r.label}: ${int(r.count)}${r.note ? ` (${r.note})` : ''}</title>
<text class="lbl" x="${labelWidth - 10}" y="${mid}" dy="0.35em" text-anchor="end">${shortLabel(r.label)}</text>
<rect class="track" x="${labelWidth}" y="${barY}" width="${track}" height="${barHeight}" fill="#eef1f5"/>
${w > 0 ? html`<rect class="bar" x="${labelWidth}" y="${barY}" width="${fix(w)}" height="${barHeight}" fill="${CHART_BAR_COLOR}"/>` : ''}
<text class="val" x="${width}" y="${mid}" dy="0.35em" text-anchor="end"><tspan class="strong">${int(r.count)}</tspan>${r.note ? html`<tspan class="muted"> · ${r.note}</tspan>` : ''}</text></g>`;
  });
  return html`${svgOpen(name, chartDescription(title, rows, t), width, height)}${body}</svg>`;
}

/** 24 columns, the busiest hours highlighted. */
function hoursChart(f: ReportFigures, title: string, t: Labels): Html {
  const width = 1086;
  const height = 200;
  const top = 22;
  const base = 168;
  const left = 4;
  const step = (width - left * 2) / 24;
  const barWidth = step * 0.68;
  const max = Math.max(1, ...f.hours);
  const busiest = new Set(f.busiestHours.map((h) => h.hour));
  const rows = f.hours.map((count, hour) => ({ label: `${String(hour).padStart(2, '0')}:00`, count }));
  const columns = f.hours.map((count, hour) => {
    const x = fix(left + hour * step + (step - barWidth) / 2);
    const h = count > 0 ? Math.max(2, (count / max) * (base - top)) : 0;
    const hot = busiest.has(hour);
    const cx = fix(left + hour * step + step / 2);
    return html`<g><title>${String(hour).padStart(2, '0')}:00–${String(hour).padStart(2, '0')}:59: ${int(count)}</title>
${h > 0 ? html`<rect class="${hot ? 'bar-hot' : 'bar'}" x="${x}" y="${fix(base - h)}" width="${fix(barWidth)}" height="${fix(h)}" fill="${hot ? CHART_HIGHLIGHT_COLOR : CHART_BAR_COLOR}"/>` : ''}
${count > 0 ? html`<text class="${hot ? 'col-val hot' : 'col-val'}" x="${cx}" y="${fix(base - h - 6)}" text-anchor="middle">${int(count)}</text>` : ''}
<text class="axis" x="${cx}" y="${base + 18}" text-anchor="middle">${String(hour).padStart(2, '0')}</text></g>`;
  });
  const grid = [0.5, 1].map((q) => {
    const y = fix(base - q * (base - top));
    return html`<line x1="0" x2="${width}" y1="${y}" y2="${y}" stroke="#e4e7eb" stroke-dasharray="3 3"/>`;
  });
  return html`${svgOpen('hours', chartDescription(title, rows, t), width, height)}${grid}
<line x1="0" x2="${width}" y1="${base}" y2="${base}" stroke="#9aa5b1"/>${columns}</svg>`;
}

const shareRows = (shares: ReportFigures['byChannel'], label: (key: string) => string): BarRow[] =>
  shares.map((s) => ({ label: label(s.key), count: s.count, note: percent(s.share) }));

function severityOrder(shares: ReportFigures['bySeverity']): ReportFigures['bySeverity'] {
  const rank = (key: string) => {
    const i = (SEVERITIES as readonly string[]).indexOf(key);
    return i === -1 ? SEVERITIES.length : i;
  };
  return [...shares].sort((a, b) => rank(b.key) - rank(a.key) || b.count - a.count);
}

function panel(title: string, body: Html, aside?: Html | string): Html {
  return html`<section class="panel"><div class="panel-head"><h3>${title}</h3>${aside ? html`<div class="aside">${aside}</div>` : ''}</div>${body}</section>`;
}

// ---------------------------------------------------------------------------------------------------
// Tables

function timesTable(f: ReportFigures, t: Labels): Html {
  const clocks = ['acknowledge', 'firstResponse', 'resolution'] as const;
  const rows = clocks.map((clock) => {
    const d = f.times[clock];
    const s = f.sla[clock];
    return html`<tr><th scope="row">${t.clocks[clock]}</th>
<td class="num">${int(d.count)}</td>
<td class="num">${d.averageSeconds === null ? DASH : duration(d.averageSeconds, t)}</td>
<td class="num">${percentileText(d.p50Seconds, d.count, t)}</td>
<td class="num">${percentileText(d.p90Seconds, d.count, t)}</td>
<td class="num">${int(s.met)}</td>
<td class="num">${int(s.breached)}</td>
<td class="num strong">${percent(s.compliance)}</td></tr>`;
  });
  return html`<table class="data"><thead><tr>${t.timesHead.map((h, i) => html`<th scope="col"${i > 0 ? html` class="num"` : ''}>${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table><p class="note">${t.timesNote}</p>`;
}

function recurringTable(f: ReportFigures, t: Labels): Html {
  if (f.topRecurring.length === 0) return html`<p class="empty-text">${t.noRecurring}</p>`;
  const rows = f.topRecurring.map(
    (r) => html`<tr><th scope="row"><code>${r.category}</code></th><td class="num">${int(r.repeats)}</td>
<td class="num">${int(r.received)}</td><td class="num">${percent(r.received === 0 ? null : r.repeats / r.received)}</td></tr>`,
  );
  return html`<table class="data"><thead><tr>${t.recurringHead.map((h, i) => html`<th scope="col"${i > 0 ? html` class="num"` : ''}>${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table>`;
}

function departmentsTable(f: ReportFigures, t: Labels): Html {
  if (f.departments.length === 0) return html`<p class="empty-text">${t.noDepartments}</p>`;
  // Busiest first: the order a manager reads them in.
  const departments = [...f.departments].sort(
    (a, b) => b.assigned - a.assigned || (a.department < b.department ? -1 : 1),
  );
  const rows = departments.map(
    (d) => html`<tr><th scope="row"><code>${d.department}</code></th>
<td class="num">${int(d.assigned)}</td>
<td class="num">${int(d.resolved)}</td>
<td class="num">${d.averageResolutionSeconds === null ? DASH : duration(d.averageResolutionSeconds, t)}</td>
<td class="num">${percent(d.resolutionCompliance)}</td>
<td class="num">${score(d.satisfaction)}</td></tr>`,
  );
  return html`<table class="data"><thead><tr>${t.departmentsHead.map((h, i) => html`<th scope="col"${i > 0 ? html` class="num"` : ''}>${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------------
// Page

const STYLE = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f3f5f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1200px;margin:0 auto;padding:28px 40px 40px}
.head{display:flex;justify-content:space-between;align-items:flex-end;gap:24px;border-bottom:3px solid #1f2933;padding-bottom:12px}
.eyebrow{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:#616e7c;margin:0 0 2px}
h1{font-size:28px;line-height:1.2;margin:0;font-weight:650;letter-spacing:-.01em}
.meta{margin:0;text-align:right;color:#52606d;font-size:13px;line-height:1.6}
h2{font-size:12px;font-weight:650;letter-spacing:.08em;text-transform:uppercase;color:#52606d;margin:26px 0 10px;padding-bottom:6px;border-bottom:1px solid #d3d9e0}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:11px 14px 10px}
.card-label{font-size:12px;color:#52606d;font-weight:600}
.card-value{font-size:26px;font-weight:650;line-height:1.25;margin-top:2px;color:#102a43}
.card-value .unit{font-size:14px;font-weight:500;color:#7b8794}
.card-sub{font-size:12px;color:#7b8794;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.delta{font-size:12px;margin-top:6px;padding-top:6px;border-top:1px solid #eef1f4;font-weight:600}
.delta .prev{color:#7b8794;font-weight:400}
.mark{display:inline-block;min-width:1em}
.good{color:#1e7b4f}.bad{color:#b42318}.neutral{color:#52606d}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:12px}
.grid:first-child{margin-top:0}
.panel{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:12px 16px 14px;break-inside:avoid;page-break-inside:avoid}
.panel-head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;margin-bottom:8px}
h3{font-size:14px;margin:0;font-weight:650}
.aside{font-size:12px;color:#616e7c}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;background:${CHART_HIGHLIGHT_COLOR};margin-right:5px;vertical-align:-1px}
svg{display:block;width:100%;height:auto;overflow:visible}
svg text{font-family:inherit;font-size:12px;fill:#3e4c59}
svg .lbl{fill:#323f4b}
svg .strong{font-weight:650;fill:#1f2933}
svg .muted{fill:#7b8794}
svg .axis{font-size:11px;fill:#7b8794}
svg .col-val{font-size:11px;fill:#616e7c}
svg .col-val.hot{font-weight:700;fill:#1f2933}
svg .empty{fill:#7b8794}
table.data{width:100%;border-collapse:collapse;font-size:13px}
table.data th,table.data td{padding:6px 8px;border-bottom:1px solid #edf0f3;text-align:left;font-weight:400}
table.data thead th{font-size:12px;font-weight:600;color:#52606d;border-bottom:1px solid #c5ccd4;white-space:nowrap}
table.data tbody th{font-weight:600}
table.data tbody tr:last-child th,table.data tbody tr:last-child td{border-bottom:none}
table.data .num{text-align:right;white-space:nowrap}
table.data .strong{font-weight:650}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px;background:#f3f5f8;border-radius:3px;padding:1px 5px;font-weight:500;word-break:break-all}
.partial{margin:14px 0 0;padding:8px 12px;border:1px solid #e8c27a;border-left-width:4px;border-radius:4px;background:#fdf7ea;color:#7a4b00;font-size:13px;font-weight:600}
.note{font-size:12px;color:#7b8794;margin:8px 0 0}
.empty-text{color:#7b8794;margin:6px 0}
footer{margin-top:28px;padding-top:10px;border-top:1px solid #d3d9e0;font-size:12px;color:#7b8794}
@media screen and (max-width:820px){main{padding:20px 16px}.cards{grid-template-columns:repeat(2,1fr)}.grid{grid-template-columns:1fr}.head{flex-direction:column;align-items:flex-start}.meta{text-align:left}}
@media print{
@page{size:A4;margin:12mm}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:12px}
main{max-width:none;padding:0}
.card,.panel{border-color:#c5ccd4}
.card-value{font-size:20px}
.grid{grid-template-columns:1fr}
h2{break-after:avoid;page-break-after:avoid}
}
`;

/** The report as a complete, self-contained HTML5 document. */
export function renderReportHtml(report: Report, options: RenderReportHtmlOptions = {}): string {
  const lang: ReportLanguage = options.lang ?? 'en';
  const t = lang === 'zh' ? ZH : EN;
  const { period, figures: f, previous: p } = report;
  const title = `${t.kind[period.kind]} ${period.id}`;
  const generated = DateTime.fromISO(report.generatedAt, { zone: 'utc' }).setZone(period.timeZone);
  const generatedText = generated.isValid ? generated.toFormat('yyyy-MM-dd HH:mm') : report.generatedAt;
  const channel = (key: string) => t.channels[key] ?? key;
  const severity = (key: string) => t.severities[key] ?? key;
  const band = (key: string) => t.bands[key] ?? key;
  const busiest = [...f.busiestHours]
    .sort((a, b) => a.hour - b.hour)
    .map((h) => `${String(h.hour).padStart(2, '0')}:00`)
    .join(', ');

  const page = html`<!DOCTYPE html>
<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light">
<title>${title} · ${t.product}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main>
<header class="head">
<div><p class="eyebrow">${t.product}</p><h1>${title}</h1></div>
<p class="meta">${t.period(period.firstDay, period.lastDay, period.timeZone)}<br>${t.comparedWith(report.previousPeriodId)} · ${t.generated(generatedText)}</p>
</header>
${report.partial ? html`<p class="partial" role="note">${t.partial}</p>` : ''}

<h2>${t.sections.summary}</h2>
${cards(f, p, t)}

<h2>${t.sections.intake}</h2>
${panel(
  t.charts.hours,
  hoursChart(f, t.charts.hours, t),
  busiest ? html`<span class="swatch"></span>${t.busiest(busiest)}` : undefined,
)}
<div class="grid">
${panel(t.charts.channel, barChart('channel', t.charts.channel, shareRows(f.byChannel, channel), t))}
${panel(t.charts.severity, barChart('severity', t.charts.severity, shareRows(severityOrder(f.bySeverity), severity), t))}
</div>
<div class="grid">
${panel(
  t.charts.category,
  barChart(
    'category',
    t.charts.category,
    shareRows(f.byCategory, (k) => k),
    t,
  ),
)}
${panel(t.recurringTitle, recurringTable(f, t))}
</div>

<h2>${t.sections.service}</h2>
${panel(t.timesTitle, timesTable(f, t))}

<h2>${t.sections.backlog}</h2>
<div class="grid">
${panel(
  t.charts.ageing,
  barChart(
    'ageing',
    t.charts.ageing,
    f.backlog.ageing.map((a) => ({
      label: band(a.band),
      count: a.count,
      note: percent(f.backlog.open === 0 ? null : a.count / f.backlog.open),
    })),
    t,
  ),
  t.total(int(f.backlog.open)),
)}
${panel(
  t.charts.escalations,
  barChart(
    'escalations',
    t.charts.escalations,
    [...f.escalations.byLevel]
      .sort((a, b) => a.level - b.level)
      .map((e) => ({ label: t.level(e.level), count: e.count })),
    t,
  ),
  t.total(int(f.escalations.total)),
)}
</div>

<h2>${t.sections.departments}</h2>
${panel(t.departmentsTitle, departmentsTable(f, t))}

<footer>${t.footer}</footer>
</main>
</body>
</html>
`;
  return page.text;
}
