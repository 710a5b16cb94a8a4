import { METRICS } from '../../../../contract/metrics';
import { ConfigurationError } from '../config/resources';
import { RateLimitRefusedError } from '../errors/domain';
import { logger, metrics } from '../observability';
import {
  type CounterStore,
  counterStoreFromEnv,
  LOCAL_EMULATOR_STORE_TIMEOUT_MS,
  storeIsLocalEmulator,
} from './dynamo';
import { evaluate, type LimitResult, type LimitScope, limitFor, retryAfterSeconds, windowAt } from './limits';

/** The longest a check waits for the store before refusing the request. */
export const STORE_TIMEOUT_MS = 300;
/** Bounds of RATE_LIMIT_STORE_TIMEOUT_MS (a slower local emulator may need more than AWS). */
export const STORE_TIMEOUT_RANGE_MS = { min: 50, max: 5_000 } as const;

/**
 * The store timeout: RATE_LIMIT_STORE_TIMEOUT_MS when set (within range), else
 * LOCAL_EMULATOR_STORE_TIMEOUT_MS when the store is the local emulator, else STORE_TIMEOUT_MS.
 */
export function storeTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RATE_LIMIT_STORE_TIMEOUT_MS;
  if (raw === undefined || raw === '')
    return storeIsLocalEmulator(env) ? LOCAL_EMULATOR_STORE_TIMEOUT_MS : STORE_TIMEOUT_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < STORE_TIMEOUT_RANGE_MS.min || value > STORE_TIMEOUT_RANGE_MS.max) {
    throw new ConfigurationError(
      `RATE_LIMIT_STORE_TIMEOUT_MS must be an integer from ${STORE_TIMEOUT_RANGE_MS.min} to ${STORE_TIMEOUT_RANGE_MS.max}`,
    );
  }
  return value;
}

/** What a caller refused because the store is unavailable is told to wait. */
export const UNAVAILABLE_RETRY_SECONDS = 60;

export function rateLimitExceeded(result: LimitResult, nowMs: number): RateLimitRefusedError {
  return new RateLimitRefusedError(
    'rate_limited',
    'rate_limit_exceeded',
    'Rate limit exceeded. Try again later.',
    result,
    retryAfterSeconds(result, nowMs),
  );
}

function unavailable(limit: number, reset: number): RateLimitRefusedError {
  return new RateLimitRefusedError(
    'unavailable',
    'rate_limit_config_error',
    'Service temporarily unavailable',
    { limit, count: limit, reset },
    UNAVAILABLE_RETRY_SECONDS,
  );
}

class StoreTimeout extends Error {
  override readonly name = 'StoreTimeout';
}

/**
 * Checks limits against the counter store and fails closed: no store, a store error or a store
 * slower than its bound (`storeTimeoutMs`) refuses the request with 503 `rate_limit_config_error`, logs the
 * cause and counts `RateLimitStoreError` (which pages on-call). Never lets a request through
 * uncounted.
 */
export class RateLimiter {
  private store: CounterStore | undefined;

  constructor(
    private readonly storeFactory: () => CounterStore = counterStoreFromEnv,
    private readonly now: () => number = Date.now,
    /** Read when checking, so a bad setting refuses requests (503) instead of failing the function's start. */
    private readonly timeoutMs?: number,
  ) {}

  async check(scope: LimitScope, key: string): Promise<LimitResult> {
    const nowMs = this.now();
    const window = windowAt(nowMs);
    let limit = 0;
    let timer: NodeJS.Timeout | undefined;
    const controller = new AbortController();
    try {
      limit = limitFor(scope);
      const timeoutMs = this.timeoutMs ?? storeTimeoutMs();
      this.store ??= this.storeFactory();
      const store = this.store;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new StoreTimeout(`rate-limit store gave no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const count = await Promise.race([
        store.increment(`${scope}#${key}`, window.start, controller.signal),
        deadline,
      ]);
      return evaluate(scope, limit, count, window);
    } catch (error) {
      logger.error('Rate-limit store unavailable; request refused', { scope, cause: error });
      metrics.addMetric(METRICS.rateLimitStoreError, 'Count', 1);
      throw unavailable(limit, window.reset);
    } finally {
      clearTimeout(timer);
    }
  }
}
