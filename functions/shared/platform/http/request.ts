import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { RouteDefinition } from '../../../../contract/routes';
import type { AuthContext } from '../auth/context';
import type { LimitResult } from '../rate-limit/limits';

/**
 * The shapes of a request as the HTTP layer and its middlewares see it. They live apart from
 * `http.ts` so that the middlewares `http.ts` assembles can use them without importing it.
 */

/** The Lambda context, plus what the middlewares learned about the request. */
export interface RequestContext extends Context {
  route?: RouteDefinition;
  auth?: AuthContext;
  /** Set when the verified caller lacks the route's role: `auth` is known, the request refused. */
  refused?: boolean;
  /** Every limit checked for this request; the tightest one's headers go on the response. */
  rateLimits?: LimitResult[];
  /** When routing began (ms), for the request's latency metric. */
  startedAt?: number;
}

export interface HttpRequest {
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly route: RouteDefinition;
  /** Set on every route whose auth kind is not `none` or `signature`. */
  readonly auth?: AuthContext;
  readonly requestId: string;
  /** The gateway's view of the caller's address; never a forwarded header. */
  readonly sourceIp: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, string>>;
  /** The body exactly as the caller sent it. */
  readonly rawBody: Buffer;
}

export interface HttpResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** A body sent as it is rather than as JSON; `headers` name its Content-Type. */
  readonly text?: string;
  /**
   * Cache-Control of a public answer that holds no tenant data (the storefront script). Every
   * other answer keeps the security headers' `no-store`.
   */
  readonly cacheControl?: string;
}

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;
