/**
 * Reading a cloud assembly (`cdk.out`) for the local runtime: the stack's template, each function's
 * bundle directory, and a resolver that turns CloudFormation intrinsics (`Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, pseudo parameters) into the local physical values
 * — table and queue names, queue URLs, ARNs in the local account and region.
 *
 * Physical names follow CloudFormation's habit of deriving them from the stack name and logical id
 * (`<stack>-<logicalId>`) unless the template names the resource; KMS keys get a UUID derived from both. A resource the runtime creates
 * (queues, whose URLs the SQS server assigns) registers its physical id with {@link TemplateResolver.set}.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_ACCOUNT_ID = '123456789012';

export interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is untyped JSON.
  Properties?: Record<string, any>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface StackTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface LoadedStack {
  stackName: string;
  template: StackTemplate;
  /** The cloud assembly directory. */
  assemblyDir: string;
  /** The bundle directory of a function (from the `aws:asset:path` metadata), or undefined. */
  assetDir(logicalId: string): string | undefined;
}

interface Manifest {
  artifacts?: Record<
    string,
    { type: string; displayName?: string; properties?: { templateFile?: string; stackName?: string } }
  >;
}

/**
 * Reads a stack from a cloud assembly directory. Needs the asset metadata (`cdk synth` writes it;
 * an `App` in code needs the context `aws:cdk:enable-asset-metadata: true`).
 */
export function loadStack(assemblyDir: string, stackName?: string): LoadedStack {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw new Error(
      `No cloud assembly in ${assemblyDir} (run cdk synth first): ${error instanceof Error ? error.message : error}`,
    );
  }
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, a]) => a.type === 'aws:cloudformation:stack',
  );
  const found = stackName
    ? stacks.find(([id, a]) => id === stackName || a.properties?.stackName === stackName)
    : stacks.length === 1
      ? stacks[0]
      : undefined;
  if (found === undefined) {
    const names = stacks.map(([id]) => id).join(', ') || 'none';
    throw new Error(
      stackName
        ? `Stack ${stackName} is not in ${assemblyDir} (stacks: ${names})`
        : `Name the stack to run: ${assemblyDir} holds ${names}`,
    );
  }
  const [artifactId, artifact] = found;
  const templateFile = artifact.properties?.templateFile ?? `${artifactId}.template.json`;
  const template = JSON.parse(readFileSync(join(assemblyDir, templateFile), 'utf8')) as StackTemplate;
  return {
    stackName: artifact.properties?.stackName ?? artifactId,
    template,
    assemblyDir,
    assetDir(logicalId) {
      const path = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
      return typeof path === 'string' ? join(assemblyDir, path) : undefined;
    },
  };
}

/** The resources of one type, as `[logicalId, resource]` pairs. */
export function resourcesOfType(template: StackTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

interface Physical {
  ref: string;
  attributes: Record<string, string>;
}

/** Turns template values into local physical values. */
export class TemplateResolver {
  private readonly physical = new Map<string, Physical>();

  constructor(
    private readonly stack: { stackName: string; template: StackTemplate },
    readonly region: string,
    readonly accountId: string = LOCAL_ACCOUNT_ID,
  ) {}

  /** Registers (or overrides) the physical id and attributes of a resource the runtime created. */
  set(logicalId: string, ref: string, attributes: Record<string, string> = {}): void {
    this.physical.set(logicalId, { ref, attributes });
  }

  /** The physical name a resource gets locally: the template's name, else `<stack>-<logicalId>`. */
  physicalName(logicalId: string, maxLength = 64): string {
    const resource = this.resource(logicalId);
    const p = resource.Properties ?? {};
    // A schedule's GroupName names the group it belongs to, not the schedule.
    const groupName = resource.Type === 'AWS::Scheduler::Schedule' ? undefined : p.GroupName;
    const named =
      p.TableName ?? p.QueueName ?? p.FunctionName ?? p.RoleName ?? p.Name ?? p.TopicName ?? groupName;
    if (named !== undefined) return String(this.resolve(named));
    return `${this.stack.stackName}-${logicalId}`.slice(0, maxLength);
  }

  /** `Ref` of a logical id or pseudo parameter. */
  ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.accountId,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stack.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stack.stackName}/local`,
    };
    const p = pseudo[logicalId];
    if (p !== undefined) return p;
    return this.describe(logicalId).ref;
  }

  /** `Fn::GetAtt` of a resource. */
  getAtt(logicalId: string, attribute: string): string {
    const value = this.describe(logicalId).attributes[attribute];
    if (value === undefined) {
      throw new Error(
        `The local runtime cannot resolve ${logicalId}.${attribute} (${this.resource(logicalId).Type})`,
      );
    }
    return value;
  }

  /** Resolves every intrinsic in `value` (deeply); plain values stay as they are. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
          return this.getAtt(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return String(this.resolve(source)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = Array.isArray(arg)
            ? (arg as [string, Record<string, unknown>])
            : [String(arg), {}];
          return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            if (name in variables) return String(this.resolve(variables[name]));
            const [id, attribute] = name.split(/\.(.*)/);
            return attribute ? this.getAtt(String(id), attribute) : this.ref(String(id));
          });
        }
        default:
          if (key.startsWith('Fn::')) throw new Error(`The local runtime does not support ${key}`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  /** A resolved string (throws when the value resolves to something else). */
  string(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`Expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.stack.template.Resources[logicalId];
    if (resource === undefined) throw new Error(`No resource ${logicalId} in the template`);
    return resource;
  }

  /** The registered physical id, else the one derived from the resource type. */
  private describe(logicalId: string): Physical {
    const registered = this.physical.get(logicalId);
    if (registered !== undefined) return registered;
    const { region: r, accountId: a } = this;
    const type = this.resource(logicalId).Type;
    const name = this.physicalName(logicalId);
    const derived: Record<string, () => Physical> = {
      'AWS::DynamoDB::Table': () => ({
        ref: name,
        attributes: { Arn: `arn:aws:dynamodb:${r}:${a}:table/${name}` },
      }),
      'AWS::Lambda::Function': () => ({
        ref: name,
        attributes: { Arn: `arn:aws:lambda:${r}:${a}:function:${name}` },
      }),
      'AWS::IAM::Role': () => ({
        ref: name,
        attributes: { Arn: `arn:aws:iam::${a}:role/${name}`, RoleId: `AROALOCAL${logicalId.slice(0, 12)}` },
      }),
      'AWS::Events::EventBus': () => ({
        ref: name,
        attributes: { Arn: `arn:aws:events:${r}:${a}:event-bus/${name}`, Name: name },
      }),
      'AWS::Events::Rule': () => {
        const bus = this.resource(logicalId).Properties?.EventBusName;
        const busName = bus === undefined ? 'default' : String(this.resolve(bus));
        const path = busName === 'default' ? name : `${busName}/${name}`;
        return { ref: name, attributes: { Arn: `arn:aws:events:${r}:${a}:rule/${path}` } };
      },
      'AWS::Scheduler::ScheduleGroup': () => ({
        ref: name,
        attributes: { Arn: `arn:aws:scheduler:${r}:${a}:schedule-group/${name}` },
      }),
      // Key ids are UUIDs; a stable one per stack and logical id keeps ARNs the same across restarts.
      'AWS::KMS::Key': () => {
        const keyId = stableUuid(`${this.stack.stackName}/${logicalId}`);
        return { ref: keyId, attributes: { Arn: `arn:aws:kms:${r}:${a}:key/${keyId}`, KeyId: keyId } };
      },
      'AWS::SNS::Topic': () => ({
        ref: `arn:aws:sns:${r}:${a}:${name}`,
        attributes: { TopicName: name, TopicArn: `arn:aws:sns:${r}:${a}:${name}` },
      }),
      'AWS::ApiGatewayV2::Api': () => ({
        ref: `local${logicalId.slice(0, 6).toLowerCase()}`,
        attributes: {},
      }),
    };
    const derive = derived[type];
    if (derive === undefined) {
      // Anything else resolves to its logical id (enough for descriptions, dashboards, alarms).
      return { ref: logicalId, attributes: { Arn: `arn:aws:local:${r}:${a}:${logicalId}` } };
    }
    return derive();
  }
}

/** A UUID-shaped id (version 4 layout) derived from `seed`. */
function stableUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
