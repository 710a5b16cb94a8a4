import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOCAL_STRIPE_API_KEY } from './bootstrap';

/**
 * A fake of the two Stripe API calls the platform makes, speaking Stripe's wire format, for tests
 * and for `STRIPE_FAKE=1 npm start`, on 127.0.0.1 and a free port:
 * - `POST /v1/billing_portal/sessions` (form-encoded `customer`, `return_url`) → a
 *   `billing_portal.session` with its `url`; an unknown customer is 400 `resource_missing`.
 * - `GET /v1/subscriptions/{id}` → the subscription (period on its items, as since 2025-03-31);
 *   an unknown one is 404 `resource_missing`.
 * Requests need `Authorization: Bearer sk_test_...` (else 401). On command it answers every API
 * call with 5xx (`api_error`) or 429 (`rate_limit`) until told otherwise, and records every request.
 * `POST /_fake/outage {status, seconds?}` and `POST /_fake/subscriptions {...}` give the same
 * commands over HTTP when it runs beside `npm start`.
 */
export interface FakeSubscription {
  id: string;
  customer: string;
  status: string;
  tenant_id?: string;
  current_period_end?: number;
  cancel_at_period_end?: boolean;
}

export interface RecordedStripeRequest {
  method: string;
  path: string;
  form: Record<string, string>;
  status: number;
}

export interface FakeStripe {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: RecordedStripeRequest[];
  readonly customers: Set<string>;
  readonly subscriptions: Map<string, FakeSubscription>;
  /** Every API call answers with this status (503, 500, 429) until `outage(0)`. */
  outage(status: number, seconds?: number): void;
  addSubscription(subscription: FakeSubscription): void;
  reset(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Request-Id': `req_${randomBytes(7).toString('hex')}`,
    'Stripe-Version': '2026-10-28.endive',
  });
  res.end(JSON.stringify(body));
}

function stripeError(type: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { type, message, ...extra } };
}

function subscriptionObject(sub: FakeSubscription) {
  const end = sub.current_period_end ?? Math.floor(Date.now() / 1000) + 30 * 86400;
  return {
    id: sub.id,
    object: 'subscription',
    customer: sub.customer,
    status: sub.status,
    cancel_at_period_end: sub.cancel_at_period_end ?? false,
    created: end - 30 * 86400,
    livemode: false,
    metadata: sub.tenant_id ? { tenant_id: sub.tenant_id } : {},
    items: {
      object: 'list',
      data: [
        {
          id: `si_${sub.id.slice(4)}`,
          object: 'subscription_item',
          current_period_start: end - 30 * 86400,
          current_period_end: end,
          quantity: 1,
          subscription: sub.id,
        },
      ],
      has_more: false,
      url: `/v1/subscription_items?subscription=${sub.id}`,
    },
  };
}

export async function startFakeStripe(apiKey = LOCAL_STRIPE_API_KEY): Promise<FakeStripe> {
  const requests: RecordedStripeRequest[] = [];
  const customers = new Set<string>();
  const subscriptions = new Map<string, FakeSubscription>();
  let outage: { status: number; until?: number } | undefined;
  let baseUrl = '';

  const setOutage = (status: number, seconds?: number) => {
    outage = status ? { status, ...(seconds ? { until: Date.now() + seconds * 1000 } : {}) } : undefined;
  };
  const add = (sub: FakeSubscription) => {
    subscriptions.set(sub.id, sub);
    customers.add(sub.customer);
  };

  const api = (method: string, path: string, form: Record<string, string>): [number, unknown] => {
    if (outage && outage.until !== undefined && Date.now() >= outage.until) outage = undefined;
    if (outage?.status === 429)
      return [
        429,
        stripeError('invalid_request_error', 'Too many requests hit the API too quickly.', {
          code: 'rate_limit',
        }),
      ];
    if (outage) return [outage.status, stripeError('api_error', 'An unknown error occurred on our servers.')];
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      const customer = form.customer;
      if (!customer)
        return [
          400,
          stripeError('invalid_request_error', 'Missing required param: customer.', { param: 'customer' }),
        ];
      if (!customers.has(customer))
        return [
          400,
          stripeError('invalid_request_error', `No such customer: '${customer}'`, {
            code: 'resource_missing',
            param: 'customer',
          }),
        ];
      const id = `bps_${randomBytes(12).toString('hex')}`;
      return [
        200,
        {
          id,
          object: 'billing_portal.session',
          configuration: 'bpc_fake',
          created: Math.floor(Date.now() / 1000),
          customer,
          flow: null,
          livemode: false,
          locale: null,
          on_behalf_of: null,
          return_url: form.return_url ?? null,
          url: `${baseUrl}/p/session/test_${randomBytes(16).toString('hex')}`,
        },
      ];
    }
    const match = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && match) {
      const sub = subscriptions.get(match[1] as string);
      if (!sub)
        return [
          404,
          stripeError('invalid_request_error', `No such subscription: '${match[1]}'`, {
            code: 'resource_missing',
            param: 'id',
          }),
        ];
      return [200, subscriptionObject(sub)];
    }
    return [404, stripeError('invalid_request_error', `Unrecognized request URL (${method}: ${path}).`)];
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = await readBody(req);
      if (url.pathname.startsWith('/_fake/')) {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        if (url.pathname === '/_fake/outage') {
          setOutage(Number(body.status ?? 0), body.seconds === undefined ? undefined : Number(body.seconds));
          return send(res, 200, { outage });
        }
        if (url.pathname === '/_fake/subscriptions') {
          add(body as unknown as FakeSubscription);
          return send(res, 201, subscriptionObject(body as unknown as FakeSubscription));
        }
        return send(res, 404, { error: 'unknown command' });
      }
      if (url.pathname.startsWith('/p/session/')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<h1>Fake Stripe billing portal</h1>');
      }
      const form = Object.fromEntries(new URLSearchParams(raw));
      const method = req.method ?? 'GET';
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        requests.push({ method, path: url.pathname, form, status: 401 });
        return send(
          res,
          401,
          stripeError('invalid_request_error', 'Invalid API Key provided.', { code: 'api_key_invalid' }),
        );
      }
      const [status, body] = api(method, url.pathname, form);
      requests.push({ method, path: url.pathname, form, status });
      send(res, status, body);
    })().catch(() => {
      if (!res.headersSent) send(res, 500, stripeError('api_error', 'fake failure'));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    apiKey,
    requests,
    customers,
    subscriptions,
    outage: setOutage,
    addSubscription: add,
    reset() {
      requests.length = 0;
      customers.clear();
      subscriptions.clear();
      outage = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
