/**
 * A realistic weekly report (2026-W47, Asia/Shanghai) and the week before it, internally consistent the
 * way `computeFigures` makes them: shares of channels are of received, of categories and severities of
 * valid complaints; hours add up to received; ageing bands add up to the open backlog.
 */
import type { Report, ReportFigures } from '../../shared/domain/reporting/report';

type Share = ReportFigures['byChannel'][number];

const round = (n: number | null, digits = 4) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;
const rate = (part: number, whole: number) => (whole === 0 ? null : round(part / whole));

/** `total` split by weights (largest remainder), as sorted shares like `computeFigures` produces. */
function split(total: number, weights: Record<string, number>, base = total): Share[] {
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  const raw = Object.entries(weights).map(([key, w]) => ({ key, exact: (total * w) / sum }));
  const counts = raw.map((r) => ({ key: r.key, count: Math.floor(r.exact), rest: r.exact % 1 }));
  let missing = total - counts.reduce((a, c) => a + c.count, 0);
  for (const c of [...counts].sort((a, b) => b.rest - a.rest)) {
    if (missing-- <= 0) break;
    c.count += 1;
  }
  return counts
    .filter((c) => c.count !== 0)
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
    .map((c) => ({ key: c.key, count: c.count, share: rate(c.count, base) }));
}

interface Week {
  hours: number[];
  rejected: number;
  days: number;
  channels: Record<string, number>;
  categories: Record<string, number>;
  severities: Record<string, number>;
  times: ReportFigures['times'];
  sla: Record<'acknowledge' | 'firstResponse' | 'resolution', [met: number, breached: number]>;
  resolved: number;
  firstContact: number;
  reopened: number;
  survey: { answers: number; sum: number; satisfied: number };
  recurring: Record<string, number>;
  escalations: number[];
  ageing: number[];
  departments: Array<
    [
      string,
      assigned: number,
      resolved: number,
      avgSeconds: number,
      met: number,
      breached: number,
      satisfaction: number,
    ]
  >;
  closed: number;
}

const BANDS = ['< 1 day', '1–3 days', '3–7 days', '7–30 days', '≥ 30 days'];

function figures(w: Week): ReportFigures {
  const received = w.hours.reduce((a, b) => a + b, 0);
  const valid = received - w.rejected;
  const byCategory = split(valid, w.categories);
  const repeats = Object.values(w.recurring).reduce((a, b) => a + b, 0);
  const open = w.ageing.reduce((a, b) => a + b, 0);
  const compliance = ([met, breached]: [number, number]) => ({
    met,
    breached,
    compliance: rate(met, met + breached),
  });
  return {
    volume: { received, valid, rejected: w.rejected, perDay: round(received / w.days, 2) as number },
    byChannel: split(received, w.channels),
    byCategory,
    bySeverity: split(valid, w.severities),
    times: w.times,
    sla: {
      acknowledge: compliance(w.sla.acknowledge),
      firstResponse: compliance(w.sla.firstResponse),
      resolution: compliance(w.sla.resolution),
    },
    firstContactResolution: {
      resolved: w.resolved,
      firstContact: w.firstContact,
      rate: rate(w.firstContact, w.resolved),
    },
    satisfaction: {
      answers: w.survey.answers,
      average: round(w.survey.answers === 0 ? null : w.survey.sum / w.survey.answers, 2),
      satisfiedShare: rate(w.survey.satisfied, w.survey.answers),
    },
    repeat: { repeats, rate: rate(repeats, valid) },
    reopen: { resolved: w.resolved, reopened: w.reopened, rate: rate(w.reopened, w.resolved) },
    escalations: {
      total: w.escalations.reduce((a, b) => a + b, 0),
      byLevel: w.escalations.map((count, i) => ({ level: i + 1, count })).filter((e) => e.count !== 0),
    },
    backlog: { open, ageing: BANDS.map((band, i) => ({ band, count: w.ageing[i] ?? 0 })) },
    hours: w.hours,
    busiestHours: w.hours
      .map((count, hour) => ({ hour, count }))
      .filter((h) => h.count > 0)
      .sort((a, b) => b.count - a.count || a.hour - b.hour)
      .slice(0, 3),
    topRecurring: Object.entries(w.recurring)
      .map(([category, n]) => ({
        category,
        repeats: n,
        received: byCategory.find((c) => c.key === category)?.count ?? 0,
      }))
      .sort((a, b) => b.repeats - a.repeats || (a.category < b.category ? -1 : 1))
      .slice(0, 5),
    departments: [...w.departments]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([department, assigned, resolved, avg, met, breached, satisfaction]) => ({
        department,
        assigned,
        resolved,
        averageResolutionSeconds: resolved === 0 ? null : avg,
        resolutionCompliance: rate(met, met + breached),
        satisfaction,
      })),
    closed: w.closed,
  };
}

const CURRENT: Week = {
  // Received per hour, Asia/Shanghai: quiet nights, a morning peak at 10:00 and an afternoon one.
  hours: [8, 4, 2, 1, 1, 3, 7, 20, 48, 87, 114, 102, 64, 78, 107, 111, 95, 79, 61, 54, 50, 42, 30, 17],
  rejected: 41,
  days: 7,
  channels: { app: 38, hotline: 23, web: 16, social_media: 9, email: 7, app_store: 4, partner_service: 3 },
  categories: {
    technical_fault: 31,
    billing_dispute: 24,
    service_quality: 19,
    product_experience: 14,
    other: 8,
    information_security: 4,
  },
  severities: { general: 56, important: 29, urgent: 12, major: 3 },
  times: {
    acknowledge: { count: 1_132, averageSeconds: 1_268, p50Seconds: 900, p90Seconds: 3_600 },
    firstResponse: { count: 1_109, averageSeconds: 9_840, p50Seconds: 7_200, p90Seconds: 28_800 },
    resolution: { count: 958, averageSeconds: 151_260, p50Seconds: 86_400, p90Seconds: 604_800 },
  },
  sla: { acknowledge: [1_104, 28], firstResponse: [1_031, 78], resolution: [861, 97] },
  resolved: 958,
  firstContact: 603,
  reopened: 29,
  survey: { answers: 412, sum: 1_702, satisfied: 326 },
  recurring: {
    billing_dispute: 31,
    technical_fault: 24,
    service_quality: 17,
    product_experience: 9,
    other: 6,
  },
  escalations: [44, 17, 5],
  ageing: [118, 141, 93, 52, 9],
  departments: [
    ['customer_service', 402, 371, 97_200, 341, 30, 4.21],
    ['technical_support', 348, 287, 201_600, 244, 43, 3.98],
    ['billing', 262, 231, 158_400, 207, 24, 4.05],
    ['product', 101, 48, 367_200, 41, 7, 3.74],
    ['security', 31, 14, 64_800, 14, 0, 4.5],
    ['public_relations', 19, 7, 118_800, 6, 1, 4.0],
  ],
  closed: 912,
};

const PREVIOUS: Week = {
  hours: [6, 3, 3, 1, 0, 2, 8, 18, 45, 80, 106, 99, 67, 75, 97, 101, 88, 73, 57, 52, 45, 38, 26, 14],
  rejected: 44,
  days: 7,
  channels: { app: 36, hotline: 25, web: 17, social_media: 8, email: 8, app_store: 3, partner_service: 3 },
  categories: {
    technical_fault: 33,
    billing_dispute: 21,
    service_quality: 20,
    product_experience: 13,
    other: 9,
    information_security: 4,
  },
  severities: { general: 58, important: 28, urgent: 11, major: 3 },
  times: {
    acknowledge: { count: 1_040, averageSeconds: 1_410, p50Seconds: 900, p90Seconds: 3_600 },
    firstResponse: { count: 1_021, averageSeconds: 10_920, p50Seconds: 7_200, p90Seconds: 28_800 },
    resolution: { count: 901, averageSeconds: 163_080, p50Seconds: 172_800, p90Seconds: 604_800 },
  },
  sla: { acknowledge: [1_009, 31], firstResponse: [926, 95], resolution: [792, 109] },
  resolved: 901,
  firstContact: 541,
  reopened: 34,
  survey: { answers: 388, sum: 1_583, satisfied: 298 },
  recurring: {
    billing_dispute: 26,
    technical_fault: 27,
    service_quality: 15,
    product_experience: 8,
    other: 7,
  },
  escalations: [49, 21, 7],
  ageing: [109, 137, 101, 47, 6],
  departments: [
    ['customer_service', 371, 350, 104_400, 318, 32, 4.12],
    ['technical_support', 339, 270, 216_000, 223, 47, 3.91],
    ['billing', 236, 204, 162_000, 179, 25, 4.02],
    ['product', 96, 55, 345_600, 48, 7, 3.81],
    ['security', 27, 16, 75_600, 15, 1, 4.4],
    ['public_relations', 15, 6, 129_600, 5, 1, 3.83],
  ],
  closed: 866,
};

/** A fresh copy of the fixture report (tests may change it). */
export function makeReportFixture(): Report {
  return {
    period: {
      kind: 'weekly',
      id: '2026-W47',
      timeZone: 'Asia/Shanghai',
      firstDay: '2026-11-16',
      lastDay: '2026-11-22',
      start: '2026-11-15T16:00:00.000Z',
      end: '2026-11-22T16:00:00.000Z',
    },
    previousPeriodId: '2026-W46',
    generatedAt: '2026-11-22T18:05:12.000Z',
    figures: figures(CURRENT),
    previous: figures(PREVIOUS),
  };
}

export const reportFixture: Report = makeReportFixture();
