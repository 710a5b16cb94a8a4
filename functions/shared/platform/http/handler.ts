import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { METRICS, routeGroupOf, statusClassOf } from '../../../../contract/metrics';
import type { FunctionId } from '../../../../contract/resources';
import { type RouteDefinition, routeKey, routesOf } from '../../../../contract/routes';
import { SECURITY_HEADERS } from '../../../../contract/security-headers';
import type { AuthContext } from '../auth/context';
import { type Authenticator, authentication, standing } from '../auth/middleware';
import { ConfigurationError } from '../config/resources';
import { describeProblems, type SettingsProblem, settingsProblems } from '../config/settings';
import { DOMAIN_ERROR_STATUS, DomainError, RateLimitRefusedError } from '../errors/domain';
import { emitMetric, logger, metrics, withCorrelation } from '../observability';
import { type RateLimiter, UNAVAILABLE_RETRY_SECONDS } from '../rate-limit/limiter';
import { rateLimitHeaders } from '../rate-limit/limits';
import { ipRateLimit, tenantRateLimit, withRateLimitHeaders } from '../rate-limit/middleware';
import { errorBody, HttpError } from './errors';
import type { HttpRequest, HttpResponse, RequestContext, RouteHandler } from './request';

export type { HttpRequest, HttpResponse, RequestContext, RouteHandler } from './request';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, body, headers };
}

export function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

export function rawBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function toRequest(
  event: APIGatewayProxyEvent,
  context: RequestContext,
  route: RouteDefinition,
): HttpRequest {
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) params[k] = v;
  return {
    event,
    context,
    route,
    ...(context.auth ? { auth: context.auth } : {}),
    requestId: requestIdOf(event, context),
    sourceIp: event.requestContext.identity.sourceIp,
    headers: lowerCaseHeaders(event.headers),
    query,
    params,
    rawBody: rawBody(event),
  };
}

/** Request count per route group and status class, and latency per route group (low cardinality). */
function recordRequest(routeTemplate: string, status: number, startedAt: number | undefined): void {
  const route_group = routeGroupOf(routeTemplate);
  emitMetric(METRICS.apiRequests, 1, { route_group, status_class: statusClassOf(status) });
  if (startedAt !== undefined) emitMetric(METRICS.apiLatency, Date.now() - startedAt, { route_group });
}

function toResult(response: HttpResponse, requestId: string): APIGatewayProxyResult {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    ...response.headers,
    ...SECURITY_HEADERS,
    ...(response.cacheControl !== undefined ? { 'Cache-Control': response.cacheControl } : {}),
    'X-Request-Id': requestId,
  };
  return {
    statusCode: response.status,
    headers,
    body: response.text ?? (response.body === undefined ? '' : JSON.stringify(response.body)),
  };
}

/**
 * Maps any error to the API's error shape (the OpenAPI document's `Error`); internals never reach
 * the caller.
 */
export function errorResult(error: unknown, requestId: string): APIGatewayProxyResult {
  if (error instanceof HttpError) {
    if (error.status >= 500) logger.error('Request failed', { code: error.code, error });
    return toResult(
      json(error.status, errorBody(error.code, error.message, requestId, error.extra), error.headers),
      requestId,
    );
  }
  if (error instanceof DomainError) {
    const status = DOMAIN_ERROR_STATUS[error.kind];
    if (status >= 500) logger.warn('Request refused by the domain', { code: error.code });
    const retryAfter = error.extra.retry_after;
    const headers: Record<string, string> = {
      ...(typeof retryAfter === 'number' ? { 'Retry-After': String(retryAfter) } : {}),
      ...(error instanceof RateLimitRefusedError ? rateLimitHeaders(error.result) : {}),
    };
    return toResult(
      json(status, errorBody(error.code, error.message, requestId, error.extra), headers),
      requestId,
    );
  }
  if (error instanceof ConfigurationError) {
    logger.error('Configuration error', { error });
    metrics.addMetric(METRICS.configurationError, 'Count', 1);
    return toResult(
      json(503, errorBody('service_unavailable', 'Service temporarily unavailable', requestId)),
      requestId,
    );
  }
  logger.error('Unhandled error', { error });
  metrics.addMetric(METRICS.unhandledError, 'Count', 1);
  return toResult(json(500, errorBody('internal_error', 'An internal error occurred', requestId)), requestId);
}

function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId ?? context.awsRequestId;
}

/**
 * The refusal of every request by a function whose settings are unusable: the documented 503
 * (`rate_limit_config_error` when the rate limits cannot be enforced), never a crash or a default.
 */
function misconfigured(problems: readonly SettingsProblem[]): Error {
  if (problems.some((p) => p.area === 'rate_limit')) {
    return new DomainError('unavailable', 'rate_limit_config_error', 'Service temporarily unavailable', {
      retry_after: UNAVAILABLE_RETRY_SECONDS,
    });
  }
  return new ConfigurationError(`Invalid configuration: ${describeProblems(problems)}`);
}

/** Finds the route of the request in the route table; maps every error to the API's error shape. */
function routing(
  routes: readonly RouteDefinition[],
  problems: readonly SettingsProblem[],
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext> {
  return {
    before: (request) => {
      const { event, context } = request;
      if (problems.length) {
        const refusal = misconfigured(problems);
        // errorResult counts a ConfigurationError itself.
        if (!(refusal instanceof ConfigurationError))
          metrics.addMetric(METRICS.configurationError, 'Count', 1);
        throw refusal;
      }
      const requestId = requestIdOf(event, context);
      const key = routeKey(event.httpMethod, event.resource);
      const route = routes.find((r) => routeKey(r.method, r.path) === key);
      context.startedAt = Date.now();
      if (!route) {
        recordRequest('', 404, context.startedAt);
        return toResult(
          json(404, errorBody('not_found', 'No route matches this request', requestId)),
          requestId,
        );
      }
      context.route = route;
      logger.appendKeys({ request_id: requestId, route: key });
      return undefined;
    },
    after: (request) => {
      logger.removeKeys(['request_id', 'route']);
      recordRequest(
        request.context.route?.path ?? '',
        request.response?.statusCode ?? 200,
        request.context.startedAt,
      );
      request.response = withRateLimitHeaders(
        request.response ?? undefined,
        request.context,
      ) as APIGatewayProxyResult;
    },
    onError: (request) => {
      logger.removeKeys(['request_id', 'route']);
      const response = errorResult(request.error, requestIdOf(request.event, request.context));
      recordRequest(request.context.route?.path ?? '', response.statusCode, request.context.startedAt);
      request.response = withRateLimitHeaders(response, request.context) as APIGatewayProxyResult;
    },
  };
}

export interface HttpHandlerOptions {
  /** Replaces the default authenticator (tests). */
  authenticator?: Authenticator;
  /** Replaces the default rate limiter (tests). */
  limiter?: RateLimiter;
}

/**
 * Builds the Lambda handler of an HTTP function: one handler per route of the route table that
 * belongs to this function (checked when the module loads), Powertools logging and metrics,
 * rate limits, authentication and role checks from the route table, and contract-shaped errors with
 * `X-Request-Id` on every response.
 */
export function httpHandler(
  functionId: FunctionId,
  handlers: Readonly<Record<string, RouteHandler>>,
  options: HttpHandlerOptions = {},
) {
  const routes = routesOf(functionId);
  // Checked once, when the function starts; names and reasons only, never values.
  const problems = settingsProblems();
  if (problems.length) logger.error('Invalid configuration: every request is refused', { problems });
  const declared = new Set(routes.map((r) => routeKey(r.method, r.path)));
  for (const key of Object.keys(handlers)) {
    if (!declared.has(key))
      throw new Error(`${functionId}: handler for ${key} has no route in the route table`);
  }
  for (const key of declared) {
    if (!handlers[key]) throw new Error(`${functionId}: route ${key} has no handler`);
  }

  const dispatch = async (
    event: APIGatewayProxyEvent,
    context: RequestContext,
  ): Promise<APIGatewayProxyResult> => {
    const route = context.route as RouteDefinition;
    const handler = handlers[routeKey(route.method, route.path)] as RouteHandler;
    const request = toRequest(event, context, route);
    return toResult(await withCorrelation(request.requestId, () => handler(request)), request.requestId);
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(routing(routes, problems))
    .use(ipRateLimit(options.limiter))
    .use(authentication(options.authenticator))
    .use(tenantRateLimit(options.limiter))
    .use(standing(options.authenticator))
    .handler(dispatch);
}

/** The verified caller of a route that requires authentication. */
export function authOf(request: HttpRequest): AuthContext {
  if (!request.auth) throw new Error(`route ${request.route.path} has no verified caller`);
  return request.auth;
}
