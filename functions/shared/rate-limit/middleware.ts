import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RouteDefinition } from '../../../lib/definitions/routes';
import { stage } from '../config';
import { HttpError } from '../errors';
import { metrics } from '../observability';
import type { HttpRequest, RequestContext } from '../request';
import { RateLimiter, rateLimitExceeded } from './limiter';
import { type LimitResult, type LimitScope, rateLimitHeaders, tightest } from './limits';

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>;

/** Routes under /api/v1 are rate limited; /health is not. */
export function isLimited(route: RouteDefinition): boolean {
  return route.path.startsWith('/api/v1/');
}

/** Routes that prove a tenant before any data is touched: limited per tenant once verified. */
function isTenantRoute(route: RouteDefinition): boolean {
  return route.auth === 'jwt' || route.auth === 'platformAdmin';
}

/** Refuses to build a function whose configuration the limiter would refuse at every request. */
export function assertRateLimitConfig(env: NodeJS.ProcessEnv = process.env): void {
  if (env.RATE_LIMIT_STORE === 'memory' && stage() !== 'dev') {
    throw new Error(
      `RATE_LIMIT_STORE=memory is for the dev stage only; stage ${stage()} must use the DynamoDB rate-limit table`,
    );
  }
}

async function enforce(
  limiter: RateLimiter,
  context: RequestContext,
  scope: LimitScope,
  key: string,
  now: () => number,
): Promise<LimitResult> {
  const result = await limiter.check(scope, key);
  context.rateLimits = [...(context.rateLimits ?? []), result];
  if (!result.allowed) {
    metrics.addMetric('RateLimitExceeded', 'Count', 1);
    throw rateLimitExceeded(result, now());
  }
  return result;
}

/** Adds the tightest applied limit's headers to a response. */
export function withRateLimitHeaders(
  response: APIGatewayProxyResult | undefined,
  context: RequestContext,
): APIGatewayProxyResult | undefined {
  const result = tightest(context.rateLimits ?? []);
  if (!response || !result) return response;
  return { ...response, headers: { ...rateLimitHeaders(result), ...response.headers } };
}

let shared: RateLimiter | undefined;
const defaultLimiter = () => {
  shared ??= new RateLimiter();
  return shared;
};

/**
 * Per-IP limit (the gateway's source IP, never a forwarded header) on every /api/v1 route that is
 * not a verified tenant's: public routes, the API-key exchange and webhooks, checked before
 * anything else. On tenant routes a request that fails authentication counts against its IP, so
 * guessing tokens is limited too, while verified tenant traffic counts against the tenant.
 */
export function ipRateLimit(
  limiter: RateLimiter = defaultLimiter(),
  now: () => number = Date.now,
): Middleware {
  assertRateLimitConfig();
  return {
    before: async (request) => {
      const route = request.context.route;
      if (!route || !isLimited(route) || isTenantRoute(route)) return;
      await enforce(limiter, request.context, 'ip', request.event.requestContext.identity.sourceIp, now);
    },
    onError: async (request) => {
      const route = request.context.route;
      const error = request.error;
      if (!route || !isLimited(route) || !isTenantRoute(route)) return;
      if (!(error instanceof HttpError) || error.status !== 401) return;
      try {
        await enforce(limiter, request.context, 'ip', request.event.requestContext.identity.sourceIp, now);
      } catch (limited) {
        request.error = limited as Error;
      }
    },
  };
}

/** Per-tenant limit on routes of a verified tenant; runs after authentication. */
export function tenantRateLimit(
  limiter: RateLimiter = defaultLimiter(),
  now: () => number = Date.now,
): Middleware {
  return {
    before: async (request) => {
      const { route, auth } = request.context;
      if (!route || !auth || !isLimited(route) || !isTenantRoute(route)) return;
      await enforce(limiter, request.context, 'tenant', auth.tenantId, now);
    },
  };
}

/**
 * For handlers: a limit that can only be checked inside the handler, such as a webhook source's,
 * which counts only once the signature has been verified.
 */
export async function enforceLimit(
  request: HttpRequest,
  scope: LimitScope,
  key: string,
  limiter: RateLimiter = defaultLimiter(),
): Promise<LimitResult> {
  return enforce(limiter, request.context, scope, key, Date.now);
}
