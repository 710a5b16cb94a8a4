import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RouteDefinition } from '../../../lib/definitions/routes';
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

/** Webhook routes: the handler verifies a signature, then counts the source too. */
function isSignatureRoute(route: RouteDefinition): boolean {
  return route.auth === 'signature';
}

/**
 * IP checks started for a webhook request and not yet awaited, per invocation context. The
 * handler awaits them together with the source's check (one round trip for both writes); the
 * middleware awaits whatever the handler did not, so no request escapes its IP limit.
 */
const pendingIpChecks = new WeakMap<object, Promise<LimitResult>>();

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
  return {
    before: async (request) => {
      const route = request.context.route;
      if (!route || !isLimited(route) || isTenantRoute(route)) return;
      const check = enforce(
        limiter,
        request.context,
        'ip',
        request.event.requestContext.identity.sourceIp,
        now,
      );
      if (isSignatureRoute(route)) {
        // Started now, awaited with the source's check or at the latest after the handler.
        check.catch(() => undefined);
        pendingIpChecks.set(request.context, check);
        return;
      }
      await check;
    },
    after: async (request) => {
      await settleIpLimit(request.context);
    },
    onError: async (request) => {
      const route = request.context.route;
      if (route && isSignatureRoute(route)) {
        // An over-limit IP is told so (429) whatever else went wrong, as if checked first.
        try {
          await settleIpLimit(request.context);
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
 * Waits for the IP check started for this request, if one is pending; throws its refusal (429,
 * or 503 when the store is unavailable). Webhook handlers call it before any lookup that a
 * stranger could make them repeat (a source not yet cached), so an over-limit IP costs no reads.
 */
export async function settleIpLimit(context: HttpRequest['context']): Promise<void> {
  const pending = pendingIpChecks.get(context);
  if (!pending) return;
  pendingIpChecks.delete(context);
  await pending;
}

/**
 * For handlers: a limit that can only be checked inside the handler, such as a webhook source's,
 * which counts only once the signature has been verified. A pending IP check of the same request
 * is awaited together with it: both writes are in flight at once, one round trip of latency.
 * The IP's refusal wins over the source's.
 */
export async function enforceLimit(
  request: HttpRequest,
  scope: LimitScope,
  key: string,
  limiter: RateLimiter = defaultLimiter(),
): Promise<LimitResult> {
  const pending = pendingIpChecks.get(request.context);
  pendingIpChecks.delete(request.context);
  const own = enforce(limiter, request.context, scope, key, Date.now);
  if (!pending) return own;
  const [ip, mine] = await Promise.allSettled([pending, own]);
  if (ip.status === 'rejected') throw ip.reason;
  if (mine.status === 'rejected') throw mine.reason;
  return mine.value;
}
