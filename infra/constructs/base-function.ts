import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel as EsbuildLogLevel,
  type ICommandHooks,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_DEADLINE_SHARDS, ENV } from '../../shared/config';
import { writeBundledPolicy } from '../../shared/policy/bundled';
import { loadPolicyFile } from '../../shared/policy/load';
import { DataKey } from './data-key';
import { registerBusPublisher } from './messaging';
import { leadingKeysOf, type TableAccess, WRITE_ACTIONS } from './table-access';
import type { Timers } from './timers';

/** Repository root: entry points, the lock file and the default policy are resolved against it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The newest Node.js runtime aws-cdk-lib 2.276 knows (cdk-nag AwsSolutions-L1 checks the same). The
 * project builds, tests and runs locally on the same major (`node-<platform>` packages in
 * package.json's optionalDependencies put Node 24 first on every npm script's PATH).
 */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild target: the Lambda runtime's major, which the local runtime also runs the bundles on. */
export const BUNDLE_TARGET = 'node24';

/** The SDK's default credential chain, which the bundles replace by {@link LAMBDA_CREDENTIALS_MODULE}. */
export const SDK_CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
/** Relative to the project root, where esbuild runs. */
export const LAMBDA_CREDENTIALS_MODULE = './shared/clients/lambda-credentials.ts';

/** CloudWatch namespace of every Powertools metric the service emits. */
export const METRICS_NAMESPACE = 'ComplaintService';

/** Name of the validated policy document inside every bundle; handlers resolve it against their own directory. */
export const POLICY_FILE_IN_BUNDLE = 'policy.json';

/** Where synth writes the normalised policies the bundles carry (one file per distinct policy). */
const BUNDLED_POLICY_DIR = join(PROJECT_ROOT, '.cache', 'policy');

/**
 * Banner that gives ESM bundles a CommonJS `require`, needed by bundled CJS dependencies that
 * `require()` Node built-ins.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

const MIN_MEMORY_MB = 256;
const MAX_MEMORY_MB = 512;

/** A function was configured outside the limits this project allows. */
export class FunctionConfigurationError extends Error {
  override name = 'FunctionConfigurationError';
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface ComplaintFunctionProps {
  /** Handler file relative to the repository root, e.g. `functions/intake/api-handler.ts` (exports `handler`). */
  readonly entry: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`), e.g. `intake`. */
  readonly serviceName: string;
  readonly description: string;
  /** Absolute path of the policy document, already validated; copied into the bundle as `policy.json`. */
  readonly policyFile: string;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** Between 256 and 512 MB. @default 256 */
  readonly memorySize?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** @default 'INFO' */
  readonly logLevel?: LogLevel;
  /** @default {@link DEFAULT_DEADLINE_SHARDS} */
  readonly deadlineShards?: number;
}

/**
 * The one way this project defines a Lambda function.
 *
 * Fixes what every function shares: Node {@link FUNCTION_RUNTIME} on arm64, X-Ray tracing (`tracing` context), ESM
 * bundle (`index.mjs`) minified with source maps and the AWS SDK bundled (so the deployed code runs
 * the exact SDK versions of the lock file, the same code the local runtime executes), an explicit log
 * group with retention, and the policy document copied into the bundle (the asset hash, hence the
 * deployment, changes with the policy).
 *
 * The role has no managed policy: instead of `AWSLambdaBasicExecutionRole` (logs on `*`) it may only
 * write to its own log group. Access to other resources goes through {@link useTable},
 * {@link useEventBus}, {@link useTimers} and {@link useServiceKey}, which grant and set the matching environment variable together so that a
 * function can never hold a variable for a resource it may not use (or the reverse).
 */
export class ComplaintFunction extends Construct implements iam.IGrantable {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly timeout: Duration;
  readonly grantPrincipal: iam.IPrincipal;
  /** The event sources it may publish ({@link useEventBus}); empty when it publishes nothing. */
  publishedSources: readonly string[] = [];

  constructor(scope: Construct, id: string, props: ComplaintFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? MIN_MEMORY_MB;
    if (memorySize < MIN_MEMORY_MB || memorySize > MAX_MEMORY_MB) {
      throw new FunctionConfigurationError(
        `${this.node.path}: memorySize must be between ${MIN_MEMORY_MB} and ${MAX_MEMORY_MB} MB, got ${memorySize}`,
      );
    }
    this.timeout = props.timeout ?? Duration.seconds(10);

    const dataKey = DataKey.of(this);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(dataKey ? { encryptionKey: dataKey.key } : {}),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;

    const policy = new CopyPolicyIntoBundle(props.policyFile);
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: this.timeout,
      tracing: tracingMode(this),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [ENV.policyFile]: POLICY_FILE_IN_BUNDLE,
        [ENV.policySha256]: policy.policySha256,
        [ENV.deadlineShards]: String(props.deadlineShards ?? DEFAULT_DEADLINE_SHARDS),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        bundleAwsSDK: true,
        // Powertools' tracer and the X-Ray SDK only when asked for (shared/handlers/observability.ts).
        define: { 'process.env.COMPLAINTS_SDK_TRACING': JSON.stringify(String(sdkTracing(this))) },
        // Credentials from the environment only, as Lambda gives them (shared/clients/lambda-credentials.ts).
        esbuildArgs: { [`--alias:${SDK_CREDENTIAL_CHAIN}`]: LAMBDA_CREDENTIALS_MODULE },
        logLevel: EsbuildLogLevel.ERROR,
        commandHooks: policy,
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no ' +
        'resource-level permissions; test/infra asserts that no other action is granted on "*".',
    });
  }

  /**
   * Grants the table access of `access` (see `table-access.ts`) and sets `TABLE_NAME`: each item grant
   * becomes one statement on the table ARN with its actions, conditioned on `dynamodb:LeadingKeys`
   * (`ForAllValues:StringLike` on the grant's key patterns, and present: `Null` false); each index it
   * queries gets `dynamodb:Query` on that index ARN. When the table is encrypted with a customer
   * managed key, the function may use the key through DynamoDB only (`kms:ViaService`): decrypt for
   * readers, encrypt and generate data keys too for writers.
   */
  useTable(table: dynamodb.Table, access: TableAccess): this {
    for (const grant of access.grants) {
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: grant.actions.map((action) => `dynamodb:${action}`),
        resourceArns: [table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeysOf(grant.items) },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      });
    }
    if (access.indexes !== undefined && access.indexes.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: ['dynamodb:Query'],
        resourceArns: access.indexes.map((index) => `${table.tableArn}/index/${index}`),
      });
    }
    if (table.encryptionKey !== undefined) {
      const writes = access.grants.some((g) => g.actions.some((a) => WRITE_ACTIONS.includes(a)));
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: writes
          ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
          : ['kms:Decrypt', 'kms:DescribeKey'],
        resourceArns: [table.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      });
    }
    this.function.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /**
   * Grants `events:PutEvents` on this bus only, and only with one of `sources` as the event source
   * (`events:source` condition: each function publishes only what it owns), registers the role as one
   * of the service's own publishers (exempt from the bus policy's denials of internal sources and
   * detail-types, see `messaging.ts`) and sets `EVENT_BUS_NAME`.
   */
  useEventBus(bus: events.IEventBus, options: { sources: readonly string[] }): this {
    if (options.sources.length === 0) {
      throw new FunctionConfigurationError(`${this.node.path}: useEventBus needs the sources it publishes`);
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': [...options.sources] } },
      }),
    );
    registerBusPublisher(bus, this.role);
    this.publishedSources = [...options.sources];
    this.function.addEnvironment(ENV.eventBusName, bus.eventBusName);
    return this;
  }

  /**
   * Lets the function derive the service's keys (`shared/security/service-keys.ts`): grants
   * `kms:GenerateMac` on this one key — no other KMS action, so it can neither verify, describe nor
   * use the key in any other way — and sets `SERVICE_KEY_ARN`.
   */
  useServiceKey(key: kms.IKey): this {
    key.grant(this, 'kms:GenerateMac');
    this.function.addEnvironment(ENV.serviceKeyArn, key.keyArn);
    return this;
  }

  /**
   * Lets the function schedule per-complaint timers: create/update/delete/get schedules of the timer
   * group only, `iam:PassRole` on the Scheduler role only (to Scheduler only); sets
   * `SCHEDULE_GROUP_NAME`, `SCHEDULER_ROLE_ARN` and `TIMER_DLQ_ARN`, plus `SLA_FUNCTION_ARN` /
   * `SURVEY_FUNCTION_ARN` for each target registered on `timers` before this call — except the
   * function itself (a target learns its own ARN from its Lambda context) and a target that already
   * holds this function's ARN (that would be a CloudFormation cycle).
   */
  useTimers(timers: Timers): this {
    timers.grantScheduling(this);
    this.function.addEnvironment(ENV.scheduleGroupName, timers.scheduleGroup.scheduleGroupName);
    this.function.addEnvironment(ENV.schedulerRoleArn, timers.schedulerRole.roleArn);
    this.function.addEnvironment(ENV.timerDlqArn, timers.deadLetterQueue.queueArn);
    if (timers.precisionSeconds !== undefined) {
      this.function.addEnvironment(ENV.timerPrecisionSeconds, String(timers.precisionSeconds));
    }
    for (const [target, arn] of timers.targetArnsFor(this)) {
      this.function.addEnvironment(target === 'sla' ? ENV.slaFunctionArn : ENV.surveyFunctionArn, arn);
    }
    const groupName = Stack.of(this).resolve(timers.scheduleGroup.scheduleGroupName) as string;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*]`,
      reason:
        'Timer schedules are created at run time, one per complaint deadline, with deterministic names: ' +
        'the wildcard spans the schedules of this one schedule group only.',
    });
    return this;
  }
}

/**
 * Puts the policy into the bundle as `policy.json` after esbuild ran: validated and normalised here,
 * at synth (defaults filled in), and written under `.cache/policy/` named by its SHA-256, which the
 * function gets as `POLICY_SHA256` and checks at its cold start instead of validating again
 * (`shared/policy/bundled.ts`).
 *
 * Its fields are part of the asset staging cache key (CDK hashes the bundling options as JSON, which
 * drops functions), so two stacks with different policies in one process never share a bundle.
 */
class CopyPolicyIntoBundle implements ICommandHooks {
  readonly policySha256: string;
  private readonly bundledFile: string;

  constructor(policyFile: string) {
    const { file, sha256 } = bundledPolicyOf(policyFile);
    this.bundledFile = file;
    this.policySha256 = sha256;
  }

  beforeBundling(): string[] {
    return [];
  }

  beforeInstall(): string[] {
    return [];
  }

  afterBundling(inputDir: string, outputDir: string): string[] {
    // Inside the project (always, under .cache/) the path is taken relative to inputDir, so Docker
    // bundling (which mounts the project root) would find it as well.
    const fromRoot = relative(PROJECT_ROOT, this.bundledFile);
    const source =
      fromRoot.startsWith('..') || isAbsolute(fromRoot) ? this.bundledFile : `${inputDir}/${fromRoot}`;
    return [`cp ${shellQuote(source)} ${shellQuote(`${outputDir}/${POLICY_FILE_IN_BUNDLE}`)}`];
  }
}

/**
 * The `tracing` context. `pass-through` (default): an invocation is traced when what triggered it
 * carries a sampled trace (a producer's traced `PutEvents`, say), so nothing is recorded on its own;
 * `active`: Lambda samples every function's invocations itself (1 a second and 5 % beyond, which at a
 * support desk's volume is every invocation: about $0.05 per 1,000 complaints in X-Ray traces,
 * `npm run cost`). Lambda's sampling cannot be configured with X-Ray sampling rules.
 */
function tracingMode(scope: Construct): lambda.Tracing {
  const value: unknown = scope.node.tryGetContext('tracing');
  if (value === undefined || value === null || value === '' || value === 'pass-through')
    return lambda.Tracing.PASS_THROUGH;
  if (value === 'active') return lambda.Tracing.ACTIVE;
  throw new FunctionConfigurationError(`tracing must be active or pass-through, got ${String(value)}`);
}

/**
 * The `sdkTracing` context: `true` bundles Powertools' tracer (a handler subsegment and cold start
 * annotation per invocation, the X-Ray SDK in every bundle). Off by default: Lambda's active tracing
 * records the invocations without it.
 */
function sdkTracing(scope: Construct): boolean {
  const value: unknown = scope.node.tryGetContext('sdkTracing');
  if (value === undefined || value === null || value === '' || value === false || value === 'false')
    return false;
  if (value === true || value === 'true') return true;
  throw new FunctionConfigurationError(`sdkTracing must be true or false, got ${String(value)}`);
}

/** One validation per policy file and content in a synth, however many functions carry it. */
const bundledPolicies = new Map<string, { file: string; sha256: string }>();

function bundledPolicyOf(policyFile: string): { file: string; sha256: string } {
  const raw = readFileSync(policyFile, 'utf8');
  const key = `${policyFile}\0${raw}`;
  let bundled = bundledPolicies.get(key);
  if (bundled === undefined || !existsSync(bundled.file)) {
    bundled = writeBundledPolicy(loadPolicyFile(policyFile), BUNDLED_POLICY_DIR);
    bundledPolicies.set(key, bundled);
  }
  return bundled;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
