import type { APIGatewayProxyEvent, Context, SQSRecord } from 'aws-lambda';

export interface ApiEventInput {
  method?: string;
  resource?: string;
  path?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: string | Buffer;
  base64?: boolean;
  sourceIp?: string;
  requestId?: string;
}

/** An API Gateway REST proxy event, shaped as the deployed API and the local gateway send it. */
export function apiEvent(input: ApiEventInput = {}): APIGatewayProxyEvent {
  const body = input.body === undefined ? null : Buffer.from(input.body);
  const base64 = input.base64 ?? true;
  const resource = input.resource ?? '/health';
  return {
    resource,
    path: input.path ?? resource,
    httpMethod: input.method ?? 'GET',
    headers: input.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: input.params ?? null,
    stageVariables: null,
    body: body ? (base64 ? body.toString('base64') : body.toString('utf8')) : null,
    isBase64Encoded: body ? base64 : false,
    requestContext: {
      requestId: input.requestId ?? 'req-1',
      identity: { sourceIp: input.sourceIp ?? '203.0.113.9' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(name = 'test-fn'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: 'aws-req-1',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** One SQS record as a Lambda event source mapping delivers it. */
export function sqsRecord(messageId: string, body: string, queue = 'test-queue'): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
    awsRegion: 'us-east-1',
  };
}
