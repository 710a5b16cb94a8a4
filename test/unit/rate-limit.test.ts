import { DEFAULT_RATE_LIMITS } from '../../contract/rate-limits';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';
import { RateLimitRefusedError } from '../../functions/shared/platform/errors/domain';
import { errorResult } from '../../functions/shared/platform/http/handler';
import {
  type CounterStore,
  counterStoreFromEnv,
  DynamoCounterStore,
  LOCAL_EMULATOR_STORE_TIMEOUT_MS,
  MemoryCounterStore,
  storeIsLocalEmulator,
} from '../../functions/shared/platform/rate-limit/dynamo';
import {
  RateLimiter,
  STORE_TIMEOUT_MS,
  storeTimeoutMs,
} from '../../functions/shared/platform/rate-limit/limiter';
import {
  evaluate,
  limitFor,
  rateLimitHeaders,
  remaining,
  retryAfterSeconds,
  tightest,
  WINDOW_SECONDS,
  windowAt,
} from '../../functions/shared/platform/rate-limit/limits';

const HOUR = 3600_000;
const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

async function refusal(promise: Promise<unknown>): Promise<RateLimitRefusedError & { status: number }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RateLimitRefusedError)
      return Object.assign(error, { status: errorResult(error, 'req').statusCode });
    throw error;
  }
  throw new Error('not refused');
}

describe('limit rules', () => {
  it('uses fixed windows aligned to the hour, resetting at the window end', () => {
    expect(windowAt(T0 + 59 * 60_000)).toEqual({ start: T0 / 1000, reset: T0 / 1000 + WINDOW_SECONDS });
    expect(windowAt(T0 + HOUR).start).toBe(T0 / 1000 + 3600);
  });

  it('allows up to the limit and reports what remains', () => {
    const w = windowAt(T0);
    expect(evaluate('ip', 100, 100, w)).toMatchObject({ allowed: true });
    const over = evaluate('ip', 100, 101, w);
    expect(over.allowed).toBe(false);
    expect(remaining(over)).toBe(0);
    expect(rateLimitHeaders(evaluate('tenant', 1000, 1, w))).toEqual({
      'X-RateLimit-Limit': '1000',
      'X-RateLimit-Remaining': '999',
      'X-RateLimit-Reset': String(w.reset),
    });
    expect(retryAfterSeconds(over, T0 + 1000)).toBe(3599);
    expect(retryAfterSeconds(over, T0 + HOUR + 5000)).toBe(1);
  });

  it('reports the tightest of several limits', () => {
    const w = windowAt(T0);
    const ip = evaluate('ip', 100, 95, w);
    const tenant = evaluate('tenant', 1000, 10, w);
    expect(tightest([tenant, ip])).toBe(ip);
    expect(tightest([])).toBeUndefined();
  });

  it('reads limits from the environment and refuses nonsense', () => {
    expect(limitFor('ip', {})).toBe(DEFAULT_RATE_LIMITS.ip);
    expect(limitFor('source', { RATE_LIMIT_SHOP_PER_HOUR: '50' })).toBe(50);
    expect(() => limitFor('tenant', { RATE_LIMIT_TENANT_PER_HOUR: '0' })).toThrow('positive integer');
    expect(() => limitFor('tenant', { RATE_LIMIT_TENANT_PER_HOUR: 'lots' })).toThrow('positive integer');
  });
});

describe('RateLimiter', () => {
  const store = (increment: CounterStore['increment']): CounterStore => ({ kind: 'dynamodb', increment });

  it('counts one increment per check and evaluates against the limit', async () => {
    const calls: string[] = [];
    const limiter = new RateLimiter(
      () =>
        store(async (key, start) => {
          calls.push(`${key}@${start}`);
          return 7;
        }),
      () => T0,
    );
    expect(await limiter.check('ip', '203.0.113.1')).toMatchObject({ scope: 'ip', limit: 100, count: 7 });
    expect(calls).toEqual([`ip#203.0.113.1@${T0 / 1000}`]);
  });

  it('fails closed with 503 when the store errors', async () => {
    const limiter = new RateLimiter(() =>
      store(async () => {
        throw new Error('ResourceNotFoundException');
      }),
    );
    const error = await refusal(limiter.check('ip', 'x'));
    expect(error.status).toBe(503);
    expect(error.code).toBe('rate_limit_config_error');
    expect(error.message).toBe('Service temporarily unavailable');
    expect(error.extra).toEqual({ retry_after: 60 });
    expect(errorResult(error, 'req').headers).toMatchObject({
      'Retry-After': '60',
      'X-RateLimit-Remaining': '0',
    });
  });

  it('fails closed when the store cannot be built, and tries again next time', async () => {
    let attempts = 0;
    const limiter = new RateLimiter(() => {
      attempts += 1;
      throw new Error('RATE_LIMIT_TABLE is not set');
    });
    expect((await refusal(limiter.check('tenant', 't'))).status).toBe(503);
    expect((await refusal(limiter.check('tenant', 't'))).status).toBe(503);
    expect(attempts).toBe(2);
  });

  it('fails closed when the store is slower than its bound, and aborts the call', async () => {
    let aborted = false;
    const limiter = new RateLimiter(
      () =>
        store(
          (_key, _start, signal) =>
            new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                aborted = true;
              });
              setTimeout(() => resolve(1), 5_000).unref();
            }),
        ),
      Date.now,
      30,
    );
    expect((await refusal(limiter.check('ip', 'slow'))).status).toBe(503);
    expect(aborted).toBe(true);
    expect(STORE_TIMEOUT_MS).toBe(300);
  });
});

describe('counter stores', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('keeps memory counters per key and window', async () => {
    const memory = new MemoryCounterStore();
    const signal = new AbortController().signal;
    expect(await memory.increment('a', 1, signal)).toBe(1);
    expect(await memory.increment('a', 1, signal)).toBe(2);
    expect(await memory.increment('b', 1, signal)).toBe(1);
    expect(await memory.increment('a', 2, signal)).toBe(1);
    expect(await memory.increment('a', 1, signal)).toBe(1);
  });

  it('uses memory only in dev, and DynamoDB otherwise', () => {
    expect(counterStoreFromEnv({ RATE_LIMIT_STORE: 'memory' }).kind).toBe('memory');
    expect(counterStoreFromEnv({ RATE_LIMIT_TABLE: 'rl' })).toBeInstanceOf(DynamoCounterStore);
    expect(() => counterStoreFromEnv({})).toThrow('RATE_LIMIT_TABLE is not set');
    expect(() => counterStoreFromEnv({ RATE_LIMIT_STORE: 'redis' })).toThrow('dynamodb or memory');
    process.env.STAGE = 'prod';
    expect(() => counterStoreFromEnv({ RATE_LIMIT_STORE: 'memory' })).toThrow('dev stage only');
  });
});

describe('store timeout', () => {
  it('is 300 ms unless RATE_LIMIT_STORE_TIMEOUT_MS sets one within its range', () => {
    expect(storeTimeoutMs({})).toBe(STORE_TIMEOUT_MS);
    expect(storeTimeoutMs({ RATE_LIMIT_STORE_TIMEOUT_MS: '' })).toBe(STORE_TIMEOUT_MS);
    expect(storeTimeoutMs({ RATE_LIMIT_STORE_TIMEOUT_MS: '3000' })).toBe(3000);
    for (const bad of ['49', '5001', '1.5', 'soon']) {
      expect(() => storeTimeoutMs({ RATE_LIMIT_STORE_TIMEOUT_MS: bad })).toThrow(ConfigurationError);
    }
  });

  it('is the local emulator bound when DynamoDB is on a loopback address; the setting still wins', () => {
    const local = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' };
    expect(storeTimeoutMs(local)).toBe(LOCAL_EMULATOR_STORE_TIMEOUT_MS);
    expect(LOCAL_EMULATOR_STORE_TIMEOUT_MS).toBeGreaterThan(STORE_TIMEOUT_MS);
    expect(storeTimeoutMs({ ...local, RATE_LIMIT_STORE_TIMEOUT_MS: '400' })).toBe(400);
    expect(storeTimeoutMs({ AWS_ENDPOINT_URL_DYNAMODB: 'http://localhost:4566' })).toBe(
      LOCAL_EMULATOR_STORE_TIMEOUT_MS,
    );
    expect(storeTimeoutMs({ AWS_ENDPOINT_URL: 'http://[::1]:5000' })).toBe(LOCAL_EMULATOR_STORE_TIMEOUT_MS);
    // AWS, or an endpoint elsewhere, keeps the production bound.
    for (const endpoint of [
      'https://dynamodb.eu-west-1.amazonaws.com',
      'http://10.0.0.5:8000',
      'not a url',
    ]) {
      expect(storeIsLocalEmulator({ AWS_ENDPOINT_URL: endpoint })).toBe(false);
      expect(storeTimeoutMs({ AWS_ENDPOINT_URL: endpoint })).toBe(STORE_TIMEOUT_MS);
    }
    // The DynamoDB-specific endpoint is the one the SDK uses for the store.
    expect(
      storeIsLocalEmulator({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.eu-west-1.amazonaws.com',
      }),
    ).toBe(false);
  });
});
