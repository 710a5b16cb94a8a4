import { Size, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionId } from '../../contract/resources';
import type { RouteDefinition } from '../../contract/routes';
import { SECURITY_HEADERS } from '../../contract/security-headers';
import type { StageSettings } from '../../contract/stages';
import type { Functions } from './functions';
import { logRetention, removalPolicyFor } from './support';

export interface ApiProps {
  readonly settings: StageSettings;
  readonly functions: Functions;
  /** What a route invokes: the function's live alias (default: the function itself). */
  readonly targetOf?: (functionId: FunctionId) => lambda.IFunction;
  readonly routes: readonly RouteDefinition[];
  /** X-Ray tracing of the stage (off unless asked for). */
  readonly tracing?: boolean;
}

interface GatewayErrorDefinition {
  readonly id: string;
  readonly type: apigateway.ResponseType;
  /** Keeps API Gateway's own status when absent (the DEFAULT_* families). */
  readonly statusCode?: string;
  readonly error: string;
  /** A JSON string literal, or API Gateway's own message (already JSON-quoted). */
  readonly message: string;
  readonly extra?: Readonly<Record<string, string | number>>;
  readonly headers?: Readonly<Record<string, string>>;
}

const GATEWAY_MESSAGE = '$context.error.messageString';
const quoted = (text: string) => JSON.stringify(text);

/**
 * API Gateway's own errors (no route, throttled, body too large, integration failure) in the
 * API's error shape (the OpenAPI document's `Error`), with the request id in the body and in X-Request-Id.
 */
export const GATEWAY_ERRORS: readonly GatewayErrorDefinition[] = [
  {
    id: 'NotFound',
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    error: 'not_found',
    message: quoted('No route matches this request'),
  },
  {
    id: 'ResourceNotFound',
    type: apigateway.ResponseType.RESOURCE_NOT_FOUND,
    statusCode: '404',
    error: 'not_found',
    message: quoted('No route matches this request'),
  },
  {
    id: 'Throttled',
    type: apigateway.ResponseType.THROTTLED,
    statusCode: '429',
    error: 'rate_limit_exceeded',
    message: quoted('Too many requests'),
    extra: { retry_after: 1 },
    headers: { 'Retry-After': "'1'" },
  },
  {
    id: 'TooLarge',
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    error: 'payload_too_large',
    message: quoted('The request body is too large'),
  },
  {
    id: 'UnsupportedMediaType',
    type: apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    statusCode: '415',
    error: 'unsupported_media_type',
    message: quoted('The request content type is not supported'),
  },
  {
    id: 'AccessDenied',
    type: apigateway.ResponseType.ACCESS_DENIED,
    statusCode: '403',
    error: 'forbidden',
    message: quoted('Access denied'),
  },
  {
    id: 'Default4xx',
    type: apigateway.ResponseType.DEFAULT_4XX,
    error: 'bad_request',
    message: GATEWAY_MESSAGE,
  },
  {
    id: 'Default5xx',
    type: apigateway.ResponseType.DEFAULT_5XX,
    error: 'internal_error',
    message: quoted('An internal error occurred'),
  },
];

export function gatewayErrorTemplate(definition: GatewayErrorDefinition): string {
  const extra = Object.entries(definition.extra ?? {})
    .map(([name, value]) => `,${quoted(name)}:${JSON.stringify(value)}`)
    .join('');
  return `{"error":${quoted(definition.error)},"message":${definition.message}${extra},"request_id":"$context.requestId"}`;
}

/**
 * The JSON access log line: who called what, the answer, and how long it took. The route is its
 * template (`$context.resourcePath`, e.g. `/api/v1/ghl/webhook/{webhookToken}`), never the raw
 * path or query string: those can hold a webhook token or a subject id, and access logs are kept
 * for months. No header value is logged but the user agent.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: apigateway.AccessLogField.contextRequestId(),
  extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
  ip: apigateway.AccessLogField.contextIdentitySourceIp(),
  userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
  requestTime: apigateway.AccessLogField.contextRequestTime(),
  method: apigateway.AccessLogField.contextHttpMethod(),
  resourcePath: apigateway.AccessLogField.contextResourcePath(),
  protocol: apigateway.AccessLogField.contextProtocol(),
  status: apigateway.AccessLogField.contextStatus(),
  responseLength: apigateway.AccessLogField.contextResponseLength(),
  latency: apigateway.AccessLogField.contextResponseLatency(),
  integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
  integrationStatus: apigateway.AccessLogField.contextIntegrationStatus(),
  errorMessage: apigateway.AccessLogField.contextErrorMessage(),
  errorType: apigateway.AccessLogField.contextErrorResponseType(),
  integrationError: apigateway.AccessLogField.contextIntegrationErrorMessage(),
};

/** The REST API, built from the route table: one resource per path, one proxy integration per function. */
export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly stage: apigateway.Stage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { settings } = props;
    // Access logs serve security investigations, longer than function logs (stages.ts).
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logRetention(settings, 'access'),
      removalPolicy: removalPolicyFor(settings),
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: `adsengineer-${settings.stage}`,
      description: `AdsEngineer ${settings.stage} API`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Every body reaches the functions base64-encoded and byte-exact, so webhook signatures
      // are verified over exactly what the sender signed (functions/shared/platform/http/handler.ts rawBody()).
      binaryMediaTypes: ['*/*'],
      // Answers of 1 KB or more go out compressed to clients that accept it (the storefront script,
      // lists, the OpenAPI document). Request bodies are untouched: API Gateway decompresses a
      // request only when it says Content-Encoding, whatever this setting.
      minCompressionSize: Size.kibibytes(1),
      cloudWatchRole: false,
      deployOptions: {
        stageName: settings.stage,
        throttlingRateLimit: settings.throttlingRateLimit,
        throttlingBurstLimit: settings.throttlingBurstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        tracingEnabled: props.tracing ?? false,
      },
    });
    this.stage = this.restApi.deploymentStage;

    const integrations = new Map<FunctionId, apigateway.LambdaIntegration>();
    const integrationFor = (functionId: FunctionId) => {
      let integration = integrations.get(functionId);
      if (!integration) {
        // One API-scoped invoke permission per function instead of one per method: the
        // function's resource policy stays small however many routes it serves.
        const target = props.targetOf?.(functionId) ?? props.functions.functions.get(functionId).fn;
        integration = new apigateway.LambdaIntegration(target, {
          proxy: true,
          scopePermissionToMethod: false,
        });
        integrations.set(functionId, integration);
      }
      return integration;
    };
    for (const route of props.routes) {
      this.restApi.root.resourceForPath(route.path).addMethod(route.method, integrationFor(route.functionId));
    }

    for (const definition of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(definition.id, {
        type: definition.type,
        ...(definition.statusCode ? { statusCode: definition.statusCode } : {}),
        responseHeaders: {
          'X-Request-Id': 'context.requestId',
          ...Object.fromEntries(
            Object.entries(SECURITY_HEADERS).map(([name, value]) => [name, `'${value}'`]),
          ),
          ...definition.headers,
        },
        templates: { 'application/json': gatewayErrorTemplate(definition) },
      });
    }

    this.acknowledge();
  }

  private acknowledge(): void {
    const authInFunction =
      'Authentication happens in the function for every route of the route table: HS256 JWT verification with kid-based secret rotation, tenant API keys, and webhook HMACs over the raw body cannot be done by an API Gateway or Cognito authorizer; /health and /api/v1/openapi.json are public by contract.';
    Validations.of(this.restApi).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: authInFunction },
      { id: 'AwsSolutions-COG4', reason: authInFunction },
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Request bodies are validated in the functions by the zod schemas that also generate the OpenAPI document (one schema, no API Gateway model duplicating it); bodies pass through as binary so webhook signatures can be checked byte-exact.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'Execution logging needs the account-wide API Gateway CloudWatch role, a per-region singleton this stack does not own (@aws-cdk/aws-apigateway:disableCloudWatchRole); the JSON access log records request id, status, latency, integration status and error for every request.',
      },
    );
  }
}
