import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { METRICS } from '../../../../contract/metrics';
import type { RouteDefinition } from '../../../../contract/routes';
import { HttpError } from '../http/errors';
import type { HttpRequest, RequestContext } from '../http/request';
import { lazy } from '../lazy';
import { metrics } from '../observability';
import { RateLimiter, rateLimitExceeded } from './limiter';
import { type LimitResult, type LimitScope, rateLimitHeaders, tightest } from './limits';

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, RequestContext>;

/** Routes under /api/v1 are rate limited; /health is not. */
export function isLimited(route: RouteDefinition): boolean {
  return route.path.startsWith('/api/v1/');
}

/** Webhook routes: the handler verifies a signature, then counts the delivery against its source. */
function isSignatureRoute(route: RouteDefinition): boolean {
  return route.auth === 'signature';
}

/** Webhook requests already counted against their IP (so an error after the count is not counted twice). */
const ipCounted = new WeakSet<object>();

/** Routes that prove a tenant before any data is touched: limited per tenant once verified. */
function isTenantRoute(route: RouteDefinition): boolean {
  return route.auth === 'jwt' || route.auth === 'platformAdmin';
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
    metrics.addMetric(METRICS.rateLimitExceeded, 'Count', 1);
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

const defaultLimiter = lazy(() => new RateLimiter());

/**
 * Counts a webhook request the handler did not verify against its IP: an unknown source, a bad
 * or missing signature, an unsigned ping, a body refused before verification. A verified delivery
 * has counted against its source (enforceLimit) and is never counted against, or refused by, the
 * IP's limit: senders deliver for many merchants from few addresses.
 */
async function countUnverified(
  limiter: RateLimiter,
  context: RequestContext,
  sourceIp: string,
  now: () => number,
): Promise<void> {
  if (context.rateLimits?.length || ipCounted.has(context)) return;
  ipCounted.add(context);
  await enforce(limiter, context, 'ip', sourceIp, now);
}

/**
 * Per-IP limit (the gateway's source IP, never a forwarded header) on every /api/v1 route that is
 * not a verified tenant's or a verified webhook delivery's: public routes and the API-key exchange
 * are checked before anything else; on tenant routes a request that fails authentication counts
 * against its IP, so guessing tokens is limited too, while verified tenant traffic counts against
 * the tenant; on webhook routes what the handler did not verify counts against the IP once the
 * handler has answered (429 instead of its answer when the IP is over its limit).
 */
export function ipRateLimit(
  limiter: RateLimiter = defaultLimiter(),
  now: () => number = Date.now,
): Middleware {
  return {
    before: async (request) => {
      const route = request.context.route;
      if (!route || !isLimited(route) || isTenantRoute(route) || isSignatureRoute(route)) return;
      await enforce(limiter, request.context, 'ip', request.event.requestContext.identity.sourceIp, now);
    },
    after: async (request) => {
      const route = request.context.route;
      if (!route || !isLimited(route) || !isSignatureRoute(route)) return;
      await countUnverified(limiter, request.context, request.event.requestContext.identity.sourceIp, now);
    },
    onError: async (request) => {
      const route = request.context.route;
      if (route && isLimited(route) && isSignatureRoute(route)) {
        // An over-limit IP is told so (429) whatever else went wrong with an unverified request.
        try {
          await countUnverified(
            limiter,
            request.context,
            request.event.requestContext.identity.sourceIp,
            now,
          );
        } catch (limited) {
          request.error = limited as Error;
        }
        return;
      }
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

/**
 * Per-tenant limit on routes of a verified tenant; runs after authentication. A verified caller
 * refused for its role (403) counts against its tenant too, and gets the limit's headers.
 */
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
    onError: async (request) => {
      const { route, auth, refused } = request.context;
      if (!route || !auth || !refused || !isLimited(route) || !isTenantRoute(route)) return;
      try {
        await enforce(limiter, request.context, 'tenant', auth.tenantId, now);
      } catch (limited) {
        request.error = limited as Error;
      }
    },
  };
}

/**
 * For webhook handlers: counts a verified delivery against its source (shop domain, store URL,
 * GoHighLevel location, Stripe account), one write; 429 when the source is over its limit. Called
 * only once the signature verified, so the IP is neither counted nor consulted.
 */
export async function enforceLimit(
  request: HttpRequest,
  scope: LimitScope,
  key: string,
  limiter: RateLimiter = defaultLimiter(),
): Promise<LimitResult> {
  return enforce(limiter, request.context, scope, key, Date.now);
}
