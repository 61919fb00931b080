import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, PolicyValidationError, parsePolicy } from '../../shared/policy/load';
import { defaultPolicy } from '../support/fixtures';

const clone = () => structuredClone(defaultPolicy) as Record<string, any>;

function problemsOf(document: unknown): string[] {
  try {
    parsePolicy(document);
  } catch (error) {
    if (error instanceof PolicyValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('policy document', () => {
  it('ships a default policy with the six categories and the spec targets', () => {
    expect(defaultPolicy.categories.map((c) => c.id).sort()).toEqual([
      'billing_dispute',
      'information_security',
      'other',
      'product_experience',
      'service_quality',
      'technical_fault',
    ]);
    const tech = defaultPolicy.sla.targets.find((r) => r.category === 'technical_fault');
    expect(tech?.firstResponse).toEqual({ value: 12, unit: 'hours', time: 'calendar' });
    expect(tech?.resolution).toEqual({ value: 72, unit: 'hours', time: 'calendar' });
    const major = defaultPolicy.sla.targets.find((r) => r.severity === 'major');
    expect(major?.firstResponse).toEqual({ value: 1, unit: 'hours', time: 'calendar' });
  });

  it('reports broken cross-references with their paths', () => {
    const p = clone();
    p.routing.rules[0].lead = 'nowhere';
    p.sla.targets[0].category = 'unknown_category';
    p.fallbackCategory = 'missing';
    const problems = problemsOf(p);
    expect(problems).toEqual(
      expect.arrayContaining([
        'routing.rules.0.lead: unknown department "nowhere"',
        'sla.targets.0.category: unknown category "unknown_category"',
        'fallbackCategory: unknown category "missing"',
      ]),
    );
  });

  it('requires a catch-all SLA row', () => {
    const p = clone();
    p.sla.targets = p.sla.targets.filter(
      (r: { category: string; severity: string; tier: string }) =>
        !(r.category === '*' && r.severity === '*' && r.tier === '*'),
    );
    expect(problemsOf(p).join('\n')).toContain('catch-all');
  });

  it('requires customer texts in both languages and a valid time zone', () => {
    const p = clone();
    p.messages.acknowledgement = { zh: '收到' };
    p.calendar.timeZone = 'Mars/Olympus';
    const problems = problemsOf(p).join('\n');
    expect(problems).toContain('messages.acknowledgement.en');
    expect(problems).toContain('calendar.timeZone');
  });

  it('takes IANA names only: a UTC offset (which Node 22+ Intl accepts) has no daylight-saving rules', () => {
    for (const zone of ['+08:00', '+0800', '-05:00']) {
      const p = clone();
      p.calendar.timeZone = zone;
      expect(problemsOf(p).join('\n'), zone).toContain('calendar.timeZone');
    }
    for (const zone of ['Etc/GMT-8', 'UTC', 'America/Argentina/Buenos_Aires']) {
      const p = clone();
      p.calendar.timeZone = zone;
      expect(problemsOf(p).join('\n'), zone).not.toContain('calendar.timeZone');
    }
  });

  it('refuses unknown fields (a typo must not be silently ignored)', () => {
    const p = clone();
    p.survey.sendAfterr = p.survey.sendAfter;
    expect(problemsOf(p).join()).toContain('sendAfterr');
  });

  it('names the file and the JSON problem when loading from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const path = join(dir, 'policy.json');
    writeFileSync(path, '{ "policyVersion": 1,');
    expect(() => loadPolicyFile(path)).toThrow(/policy\.json[\s\S]*not valid JSON/);
    expect(() => loadPolicyFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });
});
