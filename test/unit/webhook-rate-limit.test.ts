import { HttpError } from '../../functions/shared/platform/http/errors';
import {
  type HttpRequest,
  httpHandler,
  json,
  type RouteHandler,
} from '../../functions/shared/platform/http/handler';
import type { CounterStore } from '../../functions/shared/platform/rate-limit/dynamo';
import { RateLimiter } from '../../functions/shared/platform/rate-limit/limiter';
import { enforceLimit } from '../../functions/shared/platform/rate-limit/middleware';
import { apiEvent, lambdaContext } from '../support/events';

/**
 * A counter store whose increments wait until the test releases them, so the test sees which
 * writes are in flight together. Counts start at `start[key]`.
 */
class GatedStore implements CounterStore {
  readonly kind = 'memory';
  readonly inFlight = new Set<string>();
  readonly started: string[] = [];
  maxInFlight = 0;
  private readonly counts = new Map<string, number>();
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly start: Record<string, number> = {}) {}

  async increment(key: string): Promise<number> {
    this.started.push(key);
    this.inFlight.add(key);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight.delete(key);
    const next = (this.counts.get(key) ?? this.start[key.split('#').slice(0, 2).join('#')] ?? 0) + 1;
    this.counts.set(key, next);
    return next;
  }

  /** Lets every waiting increment finish, again and again until the handler is done. */
  autoRelease(): () => void {
    const timer = setInterval(() => {
      for (const release of this.waiting.splice(0)) release();
    }, 1);
    return () => clearInterval(timer);
  }
}

const IP = '203.0.113.9';
const LIMITS = { RATE_LIMIT_IP_PER_HOUR: '10', RATE_LIMIT_SHOP_PER_HOUR: '10' };

type LimitedHandler = (request: HttpRequest, limiter: RateLimiter) => Promise<ReturnType<typeof json>>;

function ingestWith(route: LimitedHandler, store: GatedStore) {
  const limiter = new RateLimiter(() => store, Date.now, 5_000);
  const shopify: RouteHandler = (request) => route(request, limiter);
  const other: RouteHandler = async () => json(202, {});
  return httpHandler(
    'ingest',
    {
      'POST /api/v1/shopify/webhook': shopify,
      'POST /api/v1/woocommerce/webhook': other,
      'POST /api/v1/ghl/webhook/{webhookToken}': other,
      'POST /api/v1/billing/webhooks/stripe': other,
    },
    { limiter },
  );
}

async function call(handler: ReturnType<typeof ingestWith>, store: GatedStore) {
  const stop = store.autoRelease();
  try {
    return await handler(
      apiEvent({ method: 'POST', resource: '/api/v1/shopify/webhook', body: '{}', sourceIp: IP }),
      lambdaContext('ingest'),
    );
  } finally {
    stop();
  }
}

describe('webhook rate limits: verified deliveries by source, the rest by IP', () => {
  const saved = { ...process.env };
  beforeEach(() => Object.assign(process.env, LIMITS));
  afterEach(() => {
    process.env = { ...saved };
  });

  const verified: LimitedHandler = async (request, limiter) => {
    await enforceLimit(request, 'source', 'shop', limiter);
    return json(202, { status: 'received' });
  };
  const bucket = (key: string) => key.split('#').slice(0, 2).join('#');

  it('counts a verified delivery against its source only, one write, with its headers', async () => {
    const store = new GatedStore({ 'source#shop': 7 });
    const result = await call(ingestWith(verified, store), store);
    expect(result.statusCode).toBe(202);
    expect(store.started.map(bucket)).toEqual(['source#shop']);
    expect(result.headers).toMatchObject({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '2' });
  });

  it("never refuses a verified delivery for its IP's limit, however far over it the IP is", async () => {
    const store = new GatedStore({ [`ip#${IP}`]: 500 });
    const result = await call(ingestWith(verified, store), store);
    expect(result.statusCode).toBe(202);
    expect(store.started.map(bucket)).toEqual(['source#shop']);
  });

  it("refuses with the source's 429 when the source is over its limit, without counting the IP", async () => {
    const store = new GatedStore({ 'source#shop': 10 });
    const result = await call(ingestWith(verified, store), store);
    expect(result.statusCode).toBe(429);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'rate_limit_exceeded' });
    expect(result.headers).toMatchObject({ 'X-RateLimit-Remaining': '0' });
    expect(store.started.map(bucket)).toEqual(['source#shop']);
  });

  it('counts an answer the handler gave without verifying (a ping) against the IP', async () => {
    const store = new GatedStore({ [`ip#${IP}`]: 10 });
    const handler = ingestWith(async () => json(200, { status: 'ok' }), store);
    expect((await call(handler, store)).statusCode).toBe(429);
    const within = new GatedStore();
    const result = await call(
      ingestWith(async () => json(200, {}), within),
      within,
    );
    expect(result.statusCode).toBe(200);
    expect(within.started.map(bucket)).toEqual([`ip#${IP}`]);
    expect(result.headers).toMatchObject({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '9' });
  });

  it('answers 429 rather than 401 to an over-limit IP with a bad signature, 401 within the limit', async () => {
    const refuse: LimitedHandler = async () => {
      throw new HttpError(401, 'invalid_signature', 'The webhook signature could not be verified');
    };
    const over = new GatedStore({ [`ip#${IP}`]: 10 });
    expect((await call(ingestWith(refuse, over), over)).statusCode).toBe(429);
    const within = new GatedStore();
    const result = await call(ingestWith(refuse, within), within);
    expect(result.statusCode).toBe(401);
    expect(within.started.map(bucket)).toEqual([`ip#${IP}`]);
  });

  it('does not count the IP of a verified delivery that failed after its source was counted', async () => {
    const store = new GatedStore({ [`ip#${IP}`]: 10 });
    const unavailable: LimitedHandler = async (request, limiter) => {
      await enforceLimit(request, 'source', 'shop', limiter);
      throw new HttpError(503, 'service_unavailable', 'The webhook could not be accepted now; retry later');
    };
    const result = await call(ingestWith(unavailable, store), store);
    expect(result.statusCode).toBe(503);
    expect(store.started.map(bucket)).toEqual(['source#shop']);
  });

  it('fails closed with 503 when the store fails, verified or not', async () => {
    const broken: CounterStore = {
      kind: 'dynamodb',
      increment: async () => {
        throw new Error('store down');
      },
    };
    const limiter = new RateLimiter(() => broken, Date.now, 5_000);
    const ok: RouteHandler = async (request) => {
      await enforceLimit(request, 'source', 'shop', limiter);
      return json(202, {});
    };
    const refused: RouteHandler = async () => {
      throw new HttpError(401, 'invalid_signature', 'The webhook signature could not be verified');
    };
    const handler = httpHandler(
      'ingest',
      {
        'POST /api/v1/shopify/webhook': ok,
        'POST /api/v1/woocommerce/webhook': refused,
        'POST /api/v1/ghl/webhook/{webhookToken}': ok,
        'POST /api/v1/billing/webhooks/stripe': ok,
      },
      { limiter },
    );
    for (const resource of ['/api/v1/shopify/webhook', '/api/v1/woocommerce/webhook']) {
      const result = await handler(
        apiEvent({ method: 'POST', resource, body: '{}', sourceIp: IP }),
        lambdaContext('ingest'),
      );
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body)).toMatchObject({ error: 'rate_limit_config_error' });
    }
  });
});
