/**
 * The rate limiter with the counter store its environment chooses: DynamoDB by default, memory
 * only in the dev stage; any other choice refuses requests (503) instead of letting them through
 * uncounted.
 */
import { RateLimitRefusedError } from '../../functions/shared/platform/errors/domain';
import { errorResult } from '../../functions/shared/platform/http/handler';
import { RateLimiter } from '../../functions/shared/platform/rate-limit/limiter';
import { freshResources } from '../support/emulator';

const HOUR = 3_600_000;

describe('rate-limit counter store from the environment', () => {
  let env: Record<string, string>;
  const saved = { ...process.env };

  beforeAll(async () => {
    env = await freshResources({ RATE_LIMIT_IP_PER_HOUR: '2' });
  });
  afterEach(() => {
    for (const name of ['RATE_LIMIT_STORE', 'STAGE', 'RATE_LIMIT_TABLE']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    Object.assign(process.env, { RATE_LIMIT_TABLE: env.RATE_LIMIT_TABLE });
  });

  async function refusal(limiter: RateLimiter): Promise<unknown> {
    return limiter.check('ip', '203.0.113.5').then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it('counts in DynamoDB by default, per window', async () => {
    delete process.env.RATE_LIMIT_STORE;
    let now = Date.UTC(2026, 2, 1, 10, 15);
    const limiter = new RateLimiter(undefined, () => now);
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await limiter.check('ip', '203.0.113.1')).allowed);
    expect(counts).toEqual([true, true, false]);
    now += HOUR;
    expect(await limiter.check('ip', '203.0.113.1')).toMatchObject({ allowed: true, count: 1 });
  });

  it('counts in memory in the dev stage, and forgets past windows', async () => {
    Object.assign(process.env, { RATE_LIMIT_STORE: 'memory', STAGE: 'dev' });
    let now = Date.UTC(2026, 2, 1, 10, 15);
    const limiter = new RateLimiter(undefined, () => now);
    expect((await limiter.check('ip', '203.0.113.2')).count).toBe(1);
    expect((await limiter.check('ip', '203.0.113.2')).count).toBe(2);
    expect((await limiter.check('ip', '203.0.113.3')).count).toBe(1);
    expect((await limiter.check('ip', '203.0.113.2')).allowed).toBe(false);
    now += HOUR;
    expect(await limiter.check('ip', '203.0.113.2')).toMatchObject({ allowed: true, count: 1 });
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['memory outside the dev stage', { RATE_LIMIT_STORE: 'memory', STAGE: 'prod' }],
    ['an unknown store', { RATE_LIMIT_STORE: 'redis', STAGE: 'dev' }],
    ['DynamoDB without its table', { RATE_LIMIT_STORE: 'dynamodb', RATE_LIMIT_TABLE: undefined }],
  ])('refuses requests with 503 for %s', async (_, settings) => {
    for (const [name, value] of Object.entries(settings)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const error = await refusal(new RateLimiter());
    expect(error).toBeInstanceOf(RateLimitRefusedError);
    expect(errorResult(error as RateLimitRefusedError, 'req')).toMatchObject({ statusCode: 503 });
    expect(JSON.parse(errorResult(error as RateLimitRefusedError, 'req').body as string)).toMatchObject({
      error: 'rate_limit_config_error',
    });
  });
});
