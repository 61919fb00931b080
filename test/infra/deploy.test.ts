import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FeatureFlags } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS, FLAGS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../infra/cdk-json-context';
import { DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { PROJECT_ROOT } from '../../infra/constructs/base-function';
import {
  backlogMetrics,
  customMetricCount,
  METRICS,
  type MetricPoint,
} from '../../shared/metrics/lifecycle-metrics';
import {
  OPERATIONAL_COUNTERS,
  type OperationalCounter,
  OperationalCounters,
} from '../../shared/metrics/operational-counters';
import { loadPolicyFile } from '../../shared/policy/load';
import { resourcesOfType, type SynthesizedStack, synthesizeStack, testApp } from './template-helpers';

/**
 * What a platform engineer deploys with: the feature flags of `cdk.json`, the npm scripts around the
 * CDK CLI, and `docs/deploy.md`, which must name every stack output and context key and give the
 * template's resource counts behind its cost figures.
 */

const DEPLOY_DOC = readFileSync(join(PROJECT_ROOT, 'docs/deploy.md'), 'utf8');
const RECOMMENDED = Object.entries(CURRENTLY_RECOMMENDED_FLAGS as Record<string, unknown>);

/** The CDK app's own sources (the local runtime in `infra/local/` is no part of a deployment). */
function infraSources(): { file: string; text: string }[] {
  const dir = join(PROJECT_ROOT, 'infra');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('local/'))
    .map((file) => ({
      file: relative(PROJECT_ROOT, join(dir, file)),
      text: readFileSync(join(dir, file), 'utf8'),
    }));
}

/** `` `name` `` somewhere in docs/deploy.md. */
const documented = (name: string) => DEPLOY_DOC.includes(`\`${name}\``);

let synthesized: SynthesizedStack;

beforeAll(() => {
  synthesized = synthesizeStack({}, { bundle: false, id: 'DeployDocTest' });
}, 90_000);

describe('feature flags', () => {
  it('cdk.json sets every flag aws-cdk-lib recommends, to the recommended value', () => {
    // An upgrade of aws-cdk-lib that recommends a new flag fails here until cdk.json sets it
    // (`npx cdk flags --unstable=flags` lists the unset ones).
    expect(RECOMMENDED.length).toBeGreaterThan(80);
    const context = cdkJsonContext();
    const wrong = RECOMMENDED.filter(
      ([flag, value]) => JSON.stringify(context[flag]) !== JSON.stringify(value),
    );
    expect(wrong.map(([flag, value]) => `${flag} should be ${JSON.stringify(value)}`)).toEqual([]);
  });

  it('cdk.json names no flag aws-cdk-lib does not know (a typo or a removed flag does nothing)', () => {
    const unknown = Object.keys(cdkJsonContext()).filter(
      (key) => key.startsWith('@aws-cdk') && !(key in FLAGS),
    );
    expect(unknown).toEqual([]);
  });

  it('the test apps carry them, as the CLI hands them to infra/app.ts', () => {
    for (const app of [testApp(), synthesized.app]) {
      for (const [flag, value] of RECOMMENDED) expect(app.node.tryGetContext(flag), flag).toEqual(value);
      expect(FeatureFlags.of(app).isEnabled('@aws-cdk/core:validateAgainstDefaultRules')).toBe(true);
    }
  });
});

describe('npm scripts', () => {
  const scripts = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

  it('wrap cdk diff, deploy and destroy, and are the ones docs/deploy.md uses', () => {
    expect(scripts.diff).toMatch(/^cdk diff(\s|$)/);
    expect(scripts.deploy).toMatch(/^cdk deploy(\s|$)/);
    expect(scripts.destroy).toMatch(/^cdk destroy(\s|$)/);
    for (const name of ['synth', 'diff', 'deploy', 'destroy']) {
      expect(DEPLOY_DOC, name).toContain(`npm run ${name}`);
      expect(DEPLOY_DOC, name).toContain(`\`${scripts[name]}\``);
    }
  });

  it('deploy asks before broadening permissions, and destroy asks before deleting', () => {
    expect(scripts.deploy).toContain('--require-approval broadening');
    for (const name of ['deploy', 'destroy']) {
      expect(scripts[name]).not.toMatch(/--require-approval[ =]never|--force|(^|\s)(-f|--yes|-y)(\s|$)/);
    }
  });
});

describe('docs/deploy.md', () => {
  it('names every stack output: those of the default deployment and every CfnOutput in the code', () => {
    const synthesizedOutputs = Object.keys(synthesized.template.findOutputs('*'));
    expect(synthesizedOutputs).toContain('ApiUrl');
    // Outputs created only under some option (the user pool's, the schema registry's) too.
    const declared = infraSources().flatMap(({ text }) =>
      [...text.matchAll(/new CfnOutput\(\s*this,\s*'([^']+)'/g)].map((m) => m[1] as string),
    );
    expect(declared.length).toBeGreaterThanOrEqual(synthesizedOutputs.length);
    const missing = [...new Set([...synthesizedOutputs, ...declared])].filter((name) => !documented(name));
    expect(missing).toEqual([]);
  });

  it('names every context key the app reads', () => {
    const keys = new Set<string>();
    for (const { text } of infraSources()) {
      // `node.tryGetContext('key')`, and the stack's and app's `context('key')` helpers.
      for (const m of text.matchAll(/(?:tryGetContext|\bcontext)\(\s*'([A-Za-z][A-Za-z0-9]*)'\s*\)/g)) {
        keys.add(m[1] as string);
      }
    }
    for (const key of ['policyFile', 'stackName', 'alarmTopicArn', 'encryption', 'jwtIssuer']) {
      expect(keys, key).toContain(key);
    }
    expect([...keys].filter((key) => !documented(key))).toEqual([]);
  });

  it('names the type of every resource deleting the stack keeps', () => {
    const kept = new Set(
      Object.values(
        synthesized.template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>,
      )
        .filter((r) => r.DeletionPolicy === 'Retain')
        .map((r) => r.Type),
    );
    expect(kept).toContain('AWS::DynamoDB::Table');
    expect([...kept].filter((type) => !documented(type))).toEqual([]);
  });

  it('gives the template’s counts of alarms, alarm metrics, dashboards, KMS keys and log groups', () => {
    const { template } = synthesized;
    const count = (type: string) => resourcesOfType(template, type).size;
    const row = (type: string, value: string | number) => `| \`${type}\` | ${value} |`;
    const { alarms, alarmMetrics } = alarmCounts();
    // The cost table's rows, then the retained-resources table's.
    expect(DEPLOY_DOC).toContain(
      row('AWS::CloudWatch::Alarm', `${alarms} alarms, ${alarmMetrics} alarm metrics`),
    );
    expect(DEPLOY_DOC).toContain(row('AWS::CloudWatch::Dashboard', count('AWS::CloudWatch::Dashboard')));
    expect(DEPLOY_DOC).toContain(row('AWS::KMS::Key', count('AWS::KMS::Key')));
    expect(DEPLOY_DOC).toContain(row('AWS::DynamoDB::Table', count('AWS::DynamoDB::Table')));
    expect(DEPLOY_DOC).toContain(row('AWS::Logs::LogGroup', count('AWS::Logs::LogGroup')));
    expect(DEPLOY_DOC).toContain(
      `${Object.keys(template.toJSON().Resources).length} resources with the default context`,
    );
    expect(RECOMMENDED.length, 'the flag count docs/deploy.md gives').toBe(
      Number(DEPLOY_DOC.match(/`CURRENTLY_RECOMMENDED_FLAGS` of `aws-cdk-lib\/cx-api`, (\d+) flags/)?.[1]),
    );
  });

  it('gives the dashboard’s metric count, within the free tier’s 50, and its Logs Insights widgets', () => {
    const { metrics, logWidgets } = dashboardCounts();
    expect(metrics).toBeLessThanOrEqual(50);
    expect(DEPLOY_DOC).toContain(`it graphs ${metrics} metrics, so it fits the free tier`);
    expect(DEPLOY_DOC).toContain(`its ${logWidgets} Logs Insights widgets`);
    expect(DEPLOY_DOC).toContain(`runs its ${logWidgets} log widgets' queries`);
    expect(DEPLOY_DOC).toContain(`**Dashboard (${metrics} metrics).**`);
  });

  it('counts the custom metrics the code can publish at the default policy, with complaints and without', () => {
    // Business figures: only the catalogue's `metric` definitions, each its total (no dimension).
    const withTraffic = customMetricCount() + powertoolsMetricsOutsideTheSink().length;
    expect(powertoolsMetricsOutsideTheSink()).toEqual([]);
    // An idle month: the sweep's gauges for the default policy's departments, and its counters.
    const departments = loadPolicyFile(DEFAULT_POLICY_FILE).routing.departments.map((d) => d.id);
    const idle = backlogMetrics([], departments, new Date()).filter((p) => p.metric).length;
    const emitted: MetricPoint[] = [];
    const counters = new OperationalCounters({ emit: (points) => emitted.push(...points) }, 'sla');
    for (const name of Object.keys(OPERATIONAL_COUNTERS) as OperationalCounter[]) counters.count(name);
    expect(emitted.filter((p) => p.metric)).toEqual([]);
    expect(DEPLOY_DOC).toContain(
      `**${withTraffic} custom metrics** with complaints, **${idle} custom metrics** without`,
    );
    const logOnly = Object.keys(METRICS).length - customMetricCount();
    expect(DEPLOY_DOC).toContain(
      `the other ${logOnly} business figures\n  and the ${Object.keys(OPERATIONAL_COUNTERS).length} operational counters are log-only`,
    );
    expect(DEPLOY_DOC).toContain(`**Custom metrics (${withTraffic}).**`);
  });

  it('adds the fixed monthly cost up from the counts and the list prices it gives', () => {
    const { template } = synthesized;
    const { alarmMetrics } = alarmCounts();
    const keys = resourcesOfType(template, 'AWS::KMS::Key').size;
    const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard').size;
    const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
    // In cents: $0.10 per alarm metric, $3.00 per dashboard, $1.00 per key, $0.30 per custom metric.
    const fixed = alarmMetrics * 10 + dashboards * 300 + keys * 100;
    const metricsCents = customMetricCount() * 30;
    expect(DEPLOY_DOC).toContain(`| ${dollars(alarmMetrics * 10)} |\n`);
    expect(DEPLOY_DOC).toContain(`| ${dollars(metricsCents)} |\n`);
    expect(DEPLOY_DOC).toContain(
      `**${dollars(fixed + metricsCents)}** in the first year (${dollars(fixed)} in a month without complaints)`,
    );
    expect(fixed + metricsCents, 'the target of issue #12: about $8 a month at most').toBeLessThanOrEqual(
      800,
    );
    // The free tier: 10 alarm metrics and 10 custom metrics; the dashboard's ≤ 50 metrics.
    const free =
      Math.max(0, alarmMetrics - 10) * 10 + keys * 100 + Math.max(0, customMetricCount() - 10) * 30;
    expect(DEPLOY_DOC).toContain(`= **${dollars(free)}** in the\n  first year`);
  });
});

/** Alarms of the template, and the metrics they read (metric math reads several). */
function alarmCounts(): { alarms: number; alarmMetrics: number } {
  const alarms = [...resourcesOfType(synthesized.template, 'AWS::CloudWatch::Alarm').values()];
  const alarmMetrics = alarms.reduce((n, alarm) => {
    const metrics = alarm.Properties.Metrics as { MetricStat?: unknown }[] | undefined;
    return n + (metrics === undefined ? 1 : metrics.filter((m) => m.MetricStat !== undefined).length);
  }, 0);
  return { alarms: alarms.length, alarmMetrics };
}

/**
 * The dashboard's metric rows (`[namespace, name, …]` in a graph's `metrics`, those a math expression
 * reads included; an expression row is no metric) and its Logs Insights widgets.
 */
function dashboardCounts(): { metrics: number; logWidgets: number } {
  const dashboard = [...resourcesOfType(synthesized.template, 'AWS::CloudWatch::Dashboard').values()][0];
  const body = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  // References become a JSON string placeholder wherever they stand (alone, or inside a string).
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
  const widgets = (
    JSON.parse(text.replaceAll('"REF"', '"ref"')) as {
      widgets: { type: string; properties: { metrics?: unknown[][] } }[];
    }
  ).widgets;
  const metrics = widgets
    .filter((w) => w.type === 'metric')
    .flatMap((w) => (w.properties.metrics ?? []).filter((row) => typeof row[0] === 'string')).length;
  return { metrics, logWidgets: widgets.filter((w) => w.type === 'log').length };
}

/**
 * Places that could publish a metric besides the sink's EMF documents: Powertools `Metrics` built
 * elsewhere, its middleware (which flushes per invocation and captures `ColdStart`), single metrics.
 */
function powertoolsMetricsOutsideTheSink(): string[] {
  const sink = join('shared', 'metrics', 'emf-sink.ts');
  const found: string[] = [];
  for (const dir of ['functions', 'shared']) {
    for (const file of readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      const path = join(dir, file);
      if (!path.endsWith('.ts') || path === sink) continue;
      const text = readFileSync(join(PROJECT_ROOT, path), 'utf8');
      if (/@aws-lambda-powertools\/metrics|captureColdStartMetric|singleMetric\(|\.addMetric\(/.test(text)) {
        found.push(path);
      }
    }
  }
  return found;
}
