import * as z from 'zod';

/** Shards of the open-deadline index (docs/access-patterns.md); writers and the sweep must agree. */
export const DEFAULT_DEADLINE_SHARDS = 8;

/** A JWT claim name the stack may name as the role claim, e.g. `cognito:groups`, `role`, `https://example.com/roles`. */
export const ROLE_CLAIM_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * Runtime configuration every function reads once at cold start.
 *
 * The CDK stack sets exactly these variables (see `infra/constructs/base-function.ts`);
 * a missing or malformed one fails the cold start loudly instead of running with a
 * silent default.
 */
export const RuntimeConfigSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVENT_BUS_NAME: z.string().min(1),
  /** Path of the validated policy document copied into the bundle at synth time. */
  POLICY_FILE: z.string().min(1),
  /** SHA-256 of that file as synth wrote it (`shared/policy/bundled.ts`): checked at cold start. */
  POLICY_SHA256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'),
  /** Number of shards of the open-deadline index (see docs/access-patterns.md). */
  DEADLINE_SHARDS: z.coerce.number().int().min(1).max(64).default(DEFAULT_DEADLINE_SHARDS),
  /** SQS consumers only: where a poison message goes at once, with the reason as attributes. */
  DEAD_LETTER_QUEUE_URL: z.string().url().optional(),
  /** Functions that schedule SLA and survey timers: the EventBridge Scheduler group. */
  SCHEDULE_GROUP_NAME: z.string().min(1).optional(),
  /** Role EventBridge Scheduler assumes to invoke the timer targets. */
  SCHEDULER_ROLE_ARN: z.string().startsWith('arn:').optional(),
  /** Timer targets. A function that is itself a target learns its own ARN from the Lambda context. */
  SLA_FUNCTION_ARN: z.string().startsWith('arn:').optional(),
  SURVEY_FUNCTION_ARN: z.string().startsWith('arn:').optional(),
  /** Where Scheduler puts a timer it could not deliver after its retries. */
  TIMER_DLQ_ARN: z.string().startsWith('arn:').optional(),
  /** Precision of the scheduler in seconds (60 on AWS); timer times are rounded up to it. */
  TIMER_PRECISION_SECONDS: z.coerce.number().int().min(1).max(60).optional(),
  /** The stack's KMS HMAC key: the root of the service's own secrets (`shared/security/service-keys.ts`). */
  SERVICE_KEY_ARN: z.string().startsWith('arn:').optional(),
  /** API functions with a JWT authorizer: the one claim roles are read from (`shared/auth/principal.ts`). */
  ROLE_CLAIM: z.string().regex(ROLE_CLAIM_PATTERN).optional(),
  /** Privacy functions: the queue of the erasure worker (continuation messages name an erasure id). */
  ERASURE_QUEUE_URL: z.string().url().optional(),
  /** Items one erasure round may erase before handing over to a continuation message. */
  ERASURE_CHUNK_ITEMS: z.coerce.number().int().min(1).max(1000).default(200),
});

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** Environment variable names, shared by the CDK constructs and the handlers. */
export const ENV = {
  tableName: 'TABLE_NAME',
  eventBusName: 'EVENT_BUS_NAME',
  policyFile: 'POLICY_FILE',
  policySha256: 'POLICY_SHA256',
  deadlineShards: 'DEADLINE_SHARDS',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  scheduleGroupName: 'SCHEDULE_GROUP_NAME',
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  slaFunctionArn: 'SLA_FUNCTION_ARN',
  surveyFunctionArn: 'SURVEY_FUNCTION_ARN',
  timerDlqArn: 'TIMER_DLQ_ARN',
  timerPrecisionSeconds: 'TIMER_PRECISION_SECONDS',
  serviceKeyArn: 'SERVICE_KEY_ARN',
  roleClaim: 'ROLE_CLAIM',
  erasureQueueUrl: 'ERASURE_QUEUE_URL',
  erasureChunkItems: 'ERASURE_CHUNK_ITEMS',
} as const satisfies Record<string, keyof RuntimeConfig>;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** Parses `env` (default `process.env`) and throws a `ConfigurationError` naming every bad variable. */
export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigurationError(`Invalid runtime configuration: ${problems}`);
  }
  return parsed.data;
}
