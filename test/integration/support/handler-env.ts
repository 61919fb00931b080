import { inject } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/dynamodb-local';
import { bundledPolicyEnv } from '../../support/fixtures';

/** The timer configuration the stack gives a scheduling function, with test ARNs. */
export const TEST_TIMERS = {
  group: 'complaint-timers',
  roleArn: 'arn:aws:iam::123456789012:role/complaint-scheduler',
  slaArn: 'arn:aws:lambda:us-east-1:123456789012:function:complaints-sla',
  surveyArn: 'arn:aws:lambda:us-east-1:123456789012:function:complaints-survey',
  dlqArn: 'arn:aws:sqs:us-east-1:123456789012:complaint-timers-dlq',
} as const;

/**
 * Sets the environment the stack gives a function — table, bus, policy, timers, service key —
 * pointed at DynamoDB Local and the local KMS endpoint (keys derived the real way, by GenerateMac), before a handler module is imported (its cold start
 * reads it). `overrides` adds or replaces variables (e.g. a log level).
 */
export function setHandlerEnvironment(tableName: string, overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: 'complaints-test',
    ...bundledPolicyEnv(),
    DEADLINE_SHARDS: '4',
    SCHEDULE_GROUP_NAME: TEST_TIMERS.group,
    SCHEDULER_ROLE_ARN: TEST_TIMERS.roleArn,
    SLA_FUNCTION_ARN: TEST_TIMERS.slaArn,
    SURVEY_FUNCTION_ARN: TEST_TIMERS.surveyArn,
    TIMER_DLQ_ARN: TEST_TIMERS.dlqArn,
    // What the stack sets with its own user pool (API functions only; others ignore it).
    ROLE_CLAIM: 'cognito:groups',
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
    AWS_ENDPOINT_URL_KMS: inject('kmsEndpoint'),
    SERVICE_KEY_ARN: inject('serviceKeyArn'),
    POWERTOOLS_SERVICE_NAME: 'complaints-test',
    POWERTOOLS_METRICS_NAMESPACE: 'ComplaintServiceTest',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...overrides,
  });
}
