import { resolve } from 'node:path';
import { Aspects, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { registrySchemas } from '../shared/events/registry-schema';
import { loadPolicyFile } from '../shared/policy/load';
import type { Policy } from '../shared/policy/schema';
import { AgentApi } from './constructs/agent-api';
import { AssignmentService } from './constructs/assignment-service';
import { Auth } from './constructs/auth';
import { PROJECT_ROOT } from './constructs/base-function';
import { ClassificationService } from './constructs/classification-service';
import { CustomerApi } from './constructs/customer-api';
import { DataKey, ENCRYPTION_MODES, type EncryptionMode } from './constructs/data-key';
import { EventSchemaRegistry } from './constructs/event-schema-registry';
import { type RouteGroup, ServiceApi } from './constructs/http-api';
import { IntakeService } from './constructs/intake-service';
import { Keys } from './constructs/keys';
import { Messaging } from './constructs/messaging';
import { Observability } from './constructs/observability';
import { BoundMessageRetention, PrivacyService } from './constructs/privacy-service';
import { ReportingService } from './constructs/reporting-service';
import { SlaService } from './constructs/sla-service';
import { ComplaintStore } from './constructs/storage';
import { SurveyService } from './constructs/survey-service';
import { Timers } from './constructs/timers';

/** The policy shipped with the service; a deployer replaces it with `-c policyFile=...`. */
export const DEFAULT_POLICY_FILE = resolve(PROJECT_ROOT, 'policy/default-policy.json');

export interface ComplaintServiceStackProps extends StackProps {
  /**
   * Policy document (categories, SLA matrix, calendar, routing…). Validated at synth: an invalid file
   * fails the synth with the list of problems. Relative paths resolve against the working directory.
   * @default {@link DEFAULT_POLICY_FILE}
   */
  readonly policyFile?: string;
  /** Existing SNS topic for alarm notifications. @default - no notifications */
  readonly alarmTopicArn?: string;
  /** The HTTP API stage's default throttle, for routes without their own. @default 50 requests/s, bursts of 100 */
  readonly apiThrottle?: ThrottleSettings;
  /**
   * Per-route throttles by group: `intake` (the public `POST /complaints`), `customer` (tracking,
   * replies, surveys), `agent` (agent console and reports); each route its own bucket. Falls back
   * to the `routeThrottles` context value (JSON, e.g. `{"intake":{"rateLimit":5,"burstLimit":10}}`).
   * @default intake 10/s (burst 20), customer 20/s (40), agent 50/s (100)
   */
  readonly routeThrottles?: Partial<Record<RouteGroup, ThrottleSettings>>;
  /**
   * Reserved concurrency of the intake API function, or `'none'`. Falls back to the
   * `intakeReservedConcurrency` context value. Reserving takes from the account's concurrency
   * (1,000 per Region by default; Lambda keeps at least 100 unreserved, so a new account with a
   * lower quota must ask for more or set `none`).
   * @default 20
   */
  readonly intakeReservedConcurrency?: number | 'none';
  /** Browser origins allowed to call the HTTP API. @default - CORS disabled */
  readonly corsAllowOrigins?: string[];
  /**
   * Issuer of the agents' JWTs when the company has its own identity provider; set with
   * {@link jwtAudience}. Falls back to the `jwtIssuer` context value.
   * @default - a Cognito user pool created by the stack issues them
   */
  readonly jwtIssuer?: string;
  /**
   * Precision of the scheduler in seconds (timer times are rounded up to it). Falls back to the
   * `timerPrecisionSeconds` context value. Only the local runtime sets it (to 1).
   * @default - one minute, EventBridge Scheduler's precision
   */
  readonly timerPrecisionSeconds?: number;
  /** Accepted audiences of the external issuer. Falls back to the `jwtAudience` context value (comma-separated). */
  readonly jwtAudience?: string[];
  /**
   * The one JWT claim roles are read from (see `AuthProps.roleClaim`). Falls back to the `roleClaim`
   * context value.
   * @default - `cognito:groups` with the stack's user pool, `role` with an external issuer
   */
  readonly roleClaim?: string;
  /**
   * Encryption of the data at rest (table, queues, log groups, event bus): the stack's own
   * customer-managed KMS key (rotated, retained, with a key policy separating administration from
   * use, see `DataKey`), or the AWS-managed keys (`aws-managed`). Falls back to the `encryption`
   * context value.
   * @default 'customer-managed'
   */
  readonly encryption?: EncryptionMode;
  /**
   * Publish the event schemas (the OpenAPI 3.0 documents of `docs/events/registry/`) in an EventBridge
   * Schema Registry created by the stack. Falls back to the `eventSchemaRegistry` context value
   * (`true` or `false`).
   * @default false
   */
  readonly eventSchemaRegistry?: boolean;
}

/**
 * The complaint service: intake, classification, assignment, SLA clocks with escalation, the agent and
 * customer APIs and the survey loop, around one table, one bus and one schedule group.
 *
 * Environment-agnostic (no lookups), so `cdk synth` needs no AWS credentials.
 */
export class ComplaintServiceStack extends Stack {
  /** The validated policy the functions are bundled with. */
  readonly policy: Policy;
  readonly policyFile: string;
  readonly keys: Keys;
  readonly encryption: EncryptionMode;
  /** The customer-managed key of the data at rest; undefined with AWS-managed keys. */
  readonly dataKey: DataKey | undefined;
  readonly store: ComplaintStore;
  readonly messaging: Messaging;
  readonly intake: IntakeService;
  readonly classification: ClassificationService;
  readonly assignment: AssignmentService;
  readonly timers: Timers;
  readonly survey: SurveyService;
  readonly sla: SlaService;
  readonly auth: Auth;
  readonly httpApi: ServiceApi;
  readonly agentApi: AgentApi;
  readonly customerApi: CustomerApi;
  readonly reporting: ReportingService;
  readonly privacy: PrivacyService;
  readonly observability: Observability;
  /** The event schemas in a Schema Registry; undefined unless `eventSchemaRegistry` is on. */
  readonly eventSchemas: EventSchemaRegistry | undefined;

  constructor(scope: Construct, id: string, props: ComplaintServiceStackProps = {}) {
    super(scope, id, {
      description:
        'Complaint service: intake, classification, assignment, SLA clocks, agent and customer APIs, surveys',
      ...props,
    });
    this.policyFile = resolve(props.policyFile ?? DEFAULT_POLICY_FILE);
    // Throws PolicyValidationError (every problem with its path) before any bundling starts.
    this.policy = loadPolicyFile(this.policyFile);

    this.keys = new Keys(this, 'Keys');
    // Before anything it encrypts: the table, queues and log groups find it with DataKey.of().
    this.encryption = encryptionMode(this, props);
    this.dataKey = this.encryption === 'customer-managed' ? new DataKey(this, 'DataKey') : undefined;
    this.store = new ComplaintStore(this, 'Store');
    // Archived events (without personal data, see Messaging) are still kept no longer than personal data.
    this.messaging = new Messaging(this, 'Messaging', {
      archiveRetention: Duration.days(Math.min(365, this.policy.privacy.retentionDays)),
    });
    const shared = {
      table: this.store.table,
      bus: this.messaging.bus,
      deliveryDeadLetterQueue: this.messaging.deliveryDeadLetterQueue,
      policyFile: this.policyFile,
    };
    const routeThrottles = props.routeThrottles ?? routeThrottlesFromContext(this);
    this.httpApi = new ServiceApi(this, 'HttpApi', {
      ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}),
      ...(routeThrottles ? { routeThrottles } : {}),
      ...(props.corsAllowOrigins ? { corsAllowOrigins: props.corsAllowOrigins } : {}),
    });
    const reserved = intakeReservedConcurrency(this, props);
    this.intake = new IntakeService(this, 'Intake', {
      ...shared,
      api: this.httpApi.api,
      serviceKey: this.keys.serviceKey,
      ...(reserved === undefined ? {} : { apiReservedConcurrency: reserved }),
    });

    // Timer targets first, survey before SLA: a function only gets the ARNs of targets registered
    // before it, and the SLA function may need the survey function's ARN (not the reverse).
    const precision = props.timerPrecisionSeconds ?? this.node.tryGetContext('timerPrecisionSeconds');
    this.timers = new Timers(this, 'Timers', {
      ...(precision !== undefined ? { precisionSeconds: Number(precision) } : {}),
    });
    const withTimers = { ...shared, timers: this.timers };
    this.survey = new SurveyService(this, 'Survey', withTimers);
    const sweepInterval = sweepIntervalFromContext(this);
    this.sla = new SlaService(this, 'Sla', {
      ...withTimers,
      serviceKey: this.keys.serviceKey,
      ...(sweepInterval !== undefined ? { sweepInterval } : {}),
    });
    this.classification = new ClassificationService(this, 'Classification', withTimers);
    this.assignment = new AssignmentService(this, 'Assignment', shared);

    this.auth = new Auth(this, 'Auth', jwtSettings(this, props));
    this.agentApi = new AgentApi(this, 'AgentApi', {
      ...withTimers,
      api: this.httpApi.api,
      authorizer: this.auth.authorizer,
      roleClaim: this.auth.roleClaim,
      serviceKey: this.keys.serviceKey,
    });
    this.customerApi = new CustomerApi(this, 'CustomerApi', { ...withTimers, api: this.httpApi.api });
    this.reporting = new ReportingService(this, 'Reporting', {
      ...withTimers,
      timeZone: this.policy.calendar.timeZone,
      api: this.httpApi.api,
      authorizer: this.auth.authorizer,
      roleClaim: this.auth.roleClaim,
    });
    this.privacy = new PrivacyService(this, 'Privacy', {
      ...shared,
      retentionDays: this.policy.privacy.retentionDays,
      api: this.httpApi.api,
      authorizer: this.auth.authorizer,
      roleClaim: this.auth.roleClaim,
    });
    // No queue (dead-letter queues included) keeps a message longer than the retention period.
    Aspects.of(this).add(new BoundMessageRetention(this.policy.privacy.retentionDays));

    // Every route exists now: each gets its group's throttle.
    this.httpApi.throttleRoutes();

    this.observability = new Observability(this, 'Observability', {
      api: this.httpApi.api,
      // Where each function's failures end up alarmed (the sweep and the retention run: their own alarm).
      functions: [
        { label: 'IntakeApi', fn: this.intake.apiFunction, failuresReach: 'api' },
        { label: 'IntakeInbound', fn: this.intake.inboundFunction, failuresReach: 'deadLetterQueue' },
        { label: 'Classification', fn: this.classification.function, failuresReach: 'deadLetterQueue' },
        { label: 'Assignment', fn: this.assignment.function, failuresReach: 'deadLetterQueue' },
        { label: 'SlaTimer', fn: this.sla.timerFunction, failuresReach: 'deadLetterQueue' },
        { label: 'SlaSweep', fn: this.sla.sweepFunction },
        { label: 'SurveyTimer', fn: this.survey.function, failuresReach: 'deadLetterQueue' },
        { label: 'AgentApi', fn: this.agentApi.function, failuresReach: 'api' },
        { label: 'CustomerApi', fn: this.customerApi.function, failuresReach: 'api' },
        { label: 'ReportAggregator', fn: this.reporting.aggregator, failuresReach: 'deadLetterQueue' },
        { label: 'ReportGenerator', fn: this.reporting.generator, failuresReach: 'deadLetterQueue' },
        { label: 'ReportsApi', fn: this.reporting.apiFunction, failuresReach: 'api' },
        { label: 'PrivacyApi', fn: this.privacy.apiFunction, failuresReach: 'api' },
        { label: 'ErasureWorker', fn: this.privacy.worker, failuresReach: 'deadLetterQueue' },
        { label: 'Retention', fn: this.privacy.retentionFunction },
      ],
      consumers: [
        { label: 'IntakeInbound', consumer: this.intake.inbound },
        { label: 'Classification', consumer: this.classification.consumer },
        { label: 'Assignment', consumer: this.assignment.consumer },
        { label: 'ReportAggregator', consumer: this.reporting.consumer },
        { label: 'ErasureWorker', consumer: this.privacy.consumer },
      ],
      otherDeadLetterQueues: [
        { label: 'EventDelivery', queue: this.messaging.deliveryDeadLetterQueue },
        {
          label: 'Timers',
          queue: this.timers.deadLetterQueue,
          description:
            'A timer (SLA deadline, escalation or survey) could not be delivered, or its target function kept failing on it. ' +
            'The body is the timer payload (complaintId, kind, clock, at). The backstop sweep still applies a missed SLA deadline; ' +
            'fix the cause, then invoke the target with the payload or let the sweep catch up, and purge the queue.',
        },
      ],
      ...(props.alarmTopicArn ? { alarmTopicArn: props.alarmTopicArn } : {}),
    });

    // EventBridge may use the data key for the stack's rules only: those on the project bus, and the
    // ones CloudFormation names after the stack on the default bus (the SLA sweep, whose DLQ is a queue).
    const busName = (this.messaging.bus.node.defaultChild as events.CfnEventBus).name;
    this.dataKey?.allowEventRules([
      this.formatArn({ service: 'events', resource: 'rule', resourceName: `${busName}/*` }),
      this.formatArn({ service: 'events', resource: 'rule', resourceName: `${this.stackName}-*` }),
    ]);

    this.eventSchemas = eventSchemaRegistryEnabled(this, props)
      ? new EventSchemaRegistry(this, 'EventSchemas', {
          schemas: registrySchemas(),
          busName: this.messaging.bus.eventBusName,
        })
      : undefined;

    new CfnOutput(this, 'ApiUrl', { description: 'HTTP API base URL', value: this.httpApi.stage.url });
    new CfnOutput(this, 'TableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.messaging.bus.eventBusName });
    new CfnOutput(this, 'EventBusArn', { value: this.messaging.bus.eventBusArn });
    new CfnOutput(this, 'ScheduleGroupName', { value: this.timers.scheduleGroup.scheduleGroupName });
    new CfnOutput(this, 'ServiceKeyArn', {
      description: 'KMS HMAC key the service keys derive from (the history import: --service-key)',
      value: this.keys.serviceKey.keyArn,
    });
    new CfnOutput(this, 'JwtIssuer', {
      description: 'Issuer of the agent API tokens',
      value: this.auth.issuer,
    });
    if (this.eventSchemas) {
      new CfnOutput(this, 'EventSchemaRegistryName', {
        description: 'EventBridge Schema Registry holding the event schemas (OpenAPI 3.0)',
        value: this.eventSchemas.registry.attrRegistryName,
      });
    }
    if (this.auth.userPool && this.auth.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', {
        description: 'App client of the agent console (the JWT audience)',
        value: this.auth.userPoolClient.userPoolClientId,
      });
    }
  }
}

/** The encryption mode: the prop, else the `encryption` context value, else customer-managed. */
function encryptionMode(scope: Construct, props: ComplaintServiceStackProps): EncryptionMode {
  const value: unknown = props.encryption ?? scope.node.tryGetContext('encryption') ?? 'customer-managed';
  if (!ENCRYPTION_MODES.includes(value as EncryptionMode)) {
    throw new TypeError(
      `encryption must be one of ${ENCRYPTION_MODES.join(', ')}, not ${JSON.stringify(value)}`,
    );
  }
  return value as EncryptionMode;
}

/** The prop, else the `eventSchemaRegistry` context value (`true` or `false`), else off. */
function eventSchemaRegistryEnabled(scope: Construct, props: ComplaintServiceStackProps): boolean {
  const value: unknown = props.eventSchemaRegistry ?? scope.node.tryGetContext('eventSchemaRegistry');
  if (value === undefined || value === null || value === '' || value === false || value === 'false')
    return false;
  if (value === true || value === 'true') return true;
  throw new TypeError(`eventSchemaRegistry must be true or false, got ${String(value)}`);
}

/**
 * External issuer settings: the props, else the `jwtIssuer` / `jwtAudience` / `roleClaim` context
 * values (the audience comma-separated). Neither issuer nor audience set → the stack creates a user pool.
 */
function jwtSettings(
  scope: Construct,
  props: ComplaintServiceStackProps,
): { jwtIssuer?: string; jwtAudience?: string[]; roleClaim?: string } {
  const context = (key: string): unknown => {
    const value: unknown = scope.node.tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : value;
  };
  const issuer = props.jwtIssuer ?? context('jwtIssuer');
  const audience = props.jwtAudience ?? context('jwtAudience');
  const roleClaim = props.roleClaim ?? context('roleClaim');
  if (issuer !== undefined && typeof issuer !== 'string') throw new TypeError('jwtIssuer must be a string');
  if (roleClaim !== undefined && typeof roleClaim !== 'string')
    throw new TypeError('roleClaim must be a string');
  const audiences =
    audience === undefined
      ? undefined
      : Array.isArray(audience)
        ? audience.map(String)
        : String(audience)
            .split(',')
            .map((a) => a.trim())
            .filter((a) => a !== '');
  return {
    ...(issuer !== undefined ? { jwtIssuer: issuer } : {}),
    ...(audiences !== undefined ? { jwtAudience: audiences } : {}),
    ...(roleClaim !== undefined ? { roleClaim } : {}),
  };
}

/**
 * The `sweepIntervalMinutes` context (1–60), else the construct's default. The local runtime's
 * assembly sweeps every minute, so a lost hand-off or timer is repaired while a developer watches.
 */
function sweepIntervalFromContext(scope: Construct): Duration | undefined {
  const raw: unknown = scope.node.tryGetContext('sweepIntervalMinutes');
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 60) {
    throw new TypeError(`sweepIntervalMinutes must be an integer from 1 to 60, got ${String(raw)}`);
  }
  return Duration.minutes(n);
}

const DEFAULT_INTAKE_RESERVED_CONCURRENCY = 20;

/** The props' value, else the `intakeReservedConcurrency` context (a number or `none`), else 20. */
function intakeReservedConcurrency(scope: Construct, props: ComplaintServiceStackProps): number | undefined {
  const raw: unknown =
    props.intakeReservedConcurrency ?? scope.node.tryGetContext('intakeReservedConcurrency');
  if (raw === undefined || raw === null || raw === '') return DEFAULT_INTAKE_RESERVED_CONCURRENCY;
  if (raw === 'none') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new TypeError(`intakeReservedConcurrency must be a positive integer or "none", got ${String(raw)}`);
  }
  return n;
}

/** The `routeThrottles` context value: an object (cdk.json) or its JSON (`-c routeThrottles=...`). */
function routeThrottlesFromContext(
  scope: Construct,
): Partial<Record<RouteGroup, ThrottleSettings>> | undefined {
  const raw: unknown = scope.node.tryGetContext('routeThrottles');
  if (raw === undefined || raw === null || raw === '') return undefined;
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (value === null || typeof value !== 'object') throw new TypeError('routeThrottles must be an object');
  const result: Partial<Record<RouteGroup, ThrottleSettings>> = {};
  for (const [group, limit] of Object.entries(value)) {
    if (group !== 'intake' && group !== 'customer' && group !== 'agent') {
      throw new TypeError(`routeThrottles: unknown group "${group}" (intake, customer, agent)`);
    }
    const { rateLimit, burstLimit } = (limit ?? {}) as Record<string, unknown>;
    for (const [name, n] of Object.entries({ rateLimit, burstLimit })) {
      if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) {
        throw new TypeError(`routeThrottles.${group}.${name} must be a non-negative number`);
      }
    }
    result[group] = {
      ...(rateLimit === undefined ? {} : { rateLimit: rateLimit as number }),
      ...(burstLimit === undefined ? {} : { burstLimit: burstLimit as number }),
    };
  }
  return result;
}
