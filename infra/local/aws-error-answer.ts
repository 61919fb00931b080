/**
 * AWS error answers in each local endpoint's protocol, for the proxies in front of them
 * (`iam-proxy.ts`): the AccessDenied of an IAM refusal and the overload errors of injected faults
 * (`faults.ts`), shaped so the AWS SDK v3 raises each with AWS's error name and, for the overload
 * errors, retries it as it would in AWS (throttling codes, and statuses 500/502/503/504, are
 * retryable for the SDK's standard retry strategy):
 * - DynamoDB (JSON 1.0): `{"__type":"<namespace>#<Code>","message":…}` (400 for AccessDenied and
 *   ThrottlingException, 500 for InternalServerError);
 * - SQS JSON: the same body plus `x-amzn-query-error: <Code>;Sender|Server`, which the SDK's query
 *   compatibility turns into the error name (AWS's SQS codes: `AccessDenied`, `ServiceUnavailable`);
 *   SQS Query (form bodies): `<ErrorResponse><Error><Type>Sender|Server</Type><Code>…`;
 * - EventBridge and KMS (JSON 1.1): `{"__type":"<Code>","message":…}`;
 * - Scheduler (REST-JSON): `x-amzn-errortype: <Code>`, `{"Message":…}`.
 * Every answer carries an `x-amzn-requestid`.
 */
import { type AwsRequest, type AwsService, isSqsJsonRequest } from './aws-request-actions';

export interface AwsErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface AwsErrorSpec {
  status: number;
  /** AWS's error code, e.g. `ThrottlingException`, `ServiceUnavailable`. */
  code: string;
  message: string;
}

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/** The `__type` namespace AWS JSON services put before the code. */
function dynamodbType(code: string): string {
  if (code === 'AccessDeniedException') return `com.amazon.coral.service#${code}`;
  if (code === 'ThrottlingException') return `com.amazon.coral.availability#${code}`;
  return `com.amazonaws.dynamodb.v20120810#${code}`;
}

/** Status, headers and body of an AWS error answer in the request's protocol. */
export function awsErrorAnswer(
  service: AwsService,
  request: AwsRequest,
  error: AwsErrorSpec,
  requestId: string,
): AwsErrorAnswer {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  const { status, code, message } = error;
  const fault = status >= 500 ? 'Server' : 'Sender';
  switch (service) {
    case 'dynamodb':
      return {
        status,
        headers: { ...headers, 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ __type: dynamodbType(code), message }),
      };
    case 'sqs': {
      // SQS names AccessDenied `AccessDenied` (query code) behind the coral AccessDeniedException type.
      const queryCode = code === 'AccessDeniedException' ? 'AccessDenied' : code;
      if (isSqsJsonRequest(request)) {
        const type =
          code === 'AccessDeniedException' ? `com.amazon.coral.service#${code}` : `com.amazonaws.sqs#${code}`;
        return {
          status,
          headers: {
            ...headers,
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-query-error': `${queryCode};${fault}`,
          },
          body: JSON.stringify({ __type: type, message }),
        };
      }
      return {
        status: code === 'AccessDeniedException' ? 403 : status,
        headers: { ...headers, 'content-type': 'text/xml' },
        body:
          '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>' +
          `<Type>${fault}</Type><Code>${queryCode}</Code><Message>${escapeXml(message)}</Message><Detail/>` +
          `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    }
    case 'events':
    case 'kms':
      return {
        status,
        headers: { ...headers, 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ __type: code, message }),
      };
    case 'scheduler':
      return {
        status: code === 'AccessDeniedException' ? 403 : status,
        headers: { ...headers, 'content-type': 'application/json', 'x-amzn-errortype': code },
        body: JSON.stringify({ Message: message }),
      };
  }
}

const SCHEDULER_OPERATIONS: Record<string, Record<string, string>> = {
  schedules: { POST: 'CreateSchedule', PUT: 'UpdateSchedule', GET: 'GetSchedule', DELETE: 'DeleteSchedule' },
  'schedule-groups': {
    POST: 'CreateScheduleGroup',
    GET: 'GetScheduleGroup',
    DELETE: 'DeleteScheduleGroup',
  },
  tags: { GET: 'ListTagsForResource', POST: 'TagResource', DELETE: 'UntagResource' },
};

/**
 * The API operation of a request (`PutItem`, `SendMessage`, `PutEvents`, `CreateSchedule`,
 * `GenerateMac`…), for per-operation fault rates; `Unknown` when it cannot tell.
 */
export function operationOf(service: AwsService, request: AwsRequest): string {
  const raw = request.headers['x-amz-target'];
  const target = Array.isArray(raw) ? raw[0] : raw;
  if (target?.includes('.')) return target.slice(target.lastIndexOf('.') + 1);
  if (service === 'sqs') {
    const [, query = ''] = request.path.split('?', 2);
    return (
      new URLSearchParams(request.body).get('Action') ?? new URLSearchParams(query).get('Action') ?? 'Unknown'
    );
  }
  if (service === 'scheduler') {
    const [collection, name] = (request.path.split('?', 1)[0] ?? '').split('/').filter((p) => p !== '');
    if (collection === 'schedules' && name === undefined && request.method === 'GET') return 'ListSchedules';
    if (collection === 'schedule-groups' && name === undefined && request.method === 'GET')
      return 'ListScheduleGroups';
    return SCHEDULER_OPERATIONS[collection ?? '']?.[request.method] ?? 'Unknown';
  }
  return 'Unknown';
}
