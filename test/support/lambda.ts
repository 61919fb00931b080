import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2, Context, SQSRecord } from 'aws-lambda';

let counter = 0;

/** A Lambda context good enough for middy and Powertools. */
export function lambdaContext(functionName = 'test-function'): Context {
  counter++;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${counter}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An HTTP API (payload v2) request. */
export function apiRequest(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    isBase64Encoded: false,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `api-${++counter}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

/** The SQS record a rule → queue target produces for an EventBridge event. */
export function sqsRecordForEvent(
  entry: { source: string; detailType: string; detail: unknown },
  messageId = `msg-${++counter}`,
): SQSRecord {
  const body = {
    version: '0',
    id: `evt-${counter}`,
    'detail-type': entry.detailType,
    source: entry.source,
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: entry.detail,
  };
  return sqsRecord(JSON.stringify(body), messageId);
}

export function sqsRecord(body: string, messageId = `msg-${++counter}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:test-queue',
    awsRegion: 'us-east-1',
  };
}

/** PutEvents entries as the source/detailType/detail triples the next hop consumes. */
export function toEvents(entries: PutEventsRequestEntry[]) {
  return entries.map((e) => ({
    source: String(e.Source),
    detailType: String(e.DetailType),
    detail: JSON.parse(String(e.Detail)) as Record<string, any>,
  }));
}
