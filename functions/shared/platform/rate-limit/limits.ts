import { DEFAULT_RATE_LIMITS, type LimitScope, RATE_LIMIT_ENV } from '../../../../contract/rate-limits';
import { ConfigurationError } from '../config/resources';

/**
 * Rate-limit rules; no I/O here.
 *
 * Window semantics: fixed one-hour windows aligned to the hour (UTC epoch). Each check adds one
 * to the counter of (scope, key, window) and is allowed while the count is within the limit.
 * `X-RateLimit-Reset` is the end of the current window, when the counter starts again at zero.
 * A burst of up to twice the limit is possible across a window boundary; in exchange each check
 * is one atomic write and the reset time is exact.
 */

export const WINDOW_SECONDS = 3600;

export type { LimitScope };

export function limitFor(scope: LimitScope, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[RATE_LIMIT_ENV[scope]];
  if (raw === undefined || raw === '') return DEFAULT_RATE_LIMITS[scope];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`${RATE_LIMIT_ENV[scope]} must be a positive integer`);
  }
  return value;
}

export interface Window {
  /** Epoch seconds the window began. */
  start: number;
  /** Epoch seconds the window ends and the counter starts again. */
  reset: number;
}

export function windowAt(nowMs: number): Window {
  const start = Math.floor(nowMs / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS;
  return { start, reset: start + WINDOW_SECONDS };
}

export interface LimitResult {
  scope: LimitScope;
  limit: number;
  /** Requests counted in this window, this one included. */
  count: number;
  reset: number;
  allowed: boolean;
}

export function evaluate(scope: LimitScope, limit: number, count: number, window: Window): LimitResult {
  return { scope, limit, count, reset: window.reset, allowed: count <= limit };
}

export function remaining(result: Pick<LimitResult, 'limit' | 'count'>): number {
  return Math.max(0, result.limit - result.count);
}

/** The limit closest to refusing: least remaining, then the smallest limit. */
export function tightest(results: readonly LimitResult[]): LimitResult | undefined {
  return [...results].sort((x, y) => remaining(x) - remaining(y) || x.limit - y.limit)[0];
}

export function rateLimitHeaders(
  result: Pick<LimitResult, 'limit' | 'count' | 'reset'>,
): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(result.limit),
    'X-RateLimit-Remaining': String(remaining(result)),
    'X-RateLimit-Reset': String(result.reset),
  };
}

export function retryAfterSeconds(result: LimitResult, nowMs: number): number {
  return Math.max(1, result.reset - Math.floor(nowMs / 1000));
}
