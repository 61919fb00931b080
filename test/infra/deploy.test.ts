import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FeatureFlags } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS, FLAGS } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { cdkJsonContext } from '../../infra/cdk-json-context';
import { DEFAULT_POLICY_FILE } from '../../infra/complaint-service-stack';
import { PROJECT_ROOT } from '../../infra/constructs/base-function';
import { backlogMetrics } from '../../shared/metrics/lifecycle-metrics';
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
    const alarms = [...resourcesOfType(template, 'AWS::CloudWatch::Alarm').values()];
    const alarmMetrics = alarms.reduce((n, alarm) => {
      const metrics = alarm.Properties.Metrics as { MetricStat?: unknown }[] | undefined;
      return n + (metrics === undefined ? 1 : metrics.filter((m) => m.MetricStat !== undefined).length);
    }, 0);
    const row = (type: string, value: string | number) => `| \`${type}\` | ${value} |`;
    // The cost table's rows, then the retained-resources table's.
    expect(DEPLOY_DOC).toContain(
      row('AWS::CloudWatch::Alarm', `${alarms.length} alarms, ${alarmMetrics} alarm metrics`),
    );
    expect(DEPLOY_DOC).toContain(row('AWS::CloudWatch::Dashboard', count('AWS::CloudWatch::Dashboard')));
    expect(DEPLOY_DOC).toContain(row('AWS::KMS::Key', count('AWS::KMS::Key')));
    expect(DEPLOY_DOC).toContain(row('AWS::DynamoDB::Table', count('AWS::DynamoDB::Table')));
    expect(DEPLOY_DOC).toContain(row('AWS::Logs::LogGroup', count('AWS::Logs::LogGroup')));
    expect(DEPLOY_DOC).toContain(
      `${Object.keys(template.toJSON().Resources).length} resources with the default context`,
    );
  });

  it('counts the custom metrics an idle deployment publishes: the sweep’s gauges and its own counters', () => {
    const departments = loadPolicyFile(DEFAULT_POLICY_FILE).routing.departments.map((d) => d.id);
    const gauges = backlogMetrics([], departments, new Date()).reduce(
      (n, p) => n + p.dimensionSets.length,
      0,
    );
    const sweep = readFileSync(join(PROJECT_ROOT, 'functions/sla/sweep-handler.ts'), 'utf8');
    const counters = [...sweep.matchAll(/\bmetrics\.addMetric\(/g)].length;
    expect(counters).toBe(2);
    expect(DEPLOY_DOC).toContain(`**${gauges + counters} custom metrics**`);
    expect(RECOMMENDED.length, 'the flag count docs/deploy.md gives').toBe(
      Number(DEPLOY_DOC.match(/`CURRENTLY_RECOMMENDED_FLAGS` of `aws-cdk-lib\/cx-api`, (\d+) flags/)?.[1]),
    );
  });
});
