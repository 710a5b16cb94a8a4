import { randomBytes } from 'node:crypto';
import { type FakeReply, type FakeRequest, type FakeSurface, json, route } from './http-fake';

/**
 * The two Stripe API calls the platform makes, as the local Stripe fake serves them in Stripe's
 * wire format:
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

export interface StripeApi extends FakeSurface {
  readonly requests: RecordedStripeRequest[];
  readonly customers: Set<string>;
  readonly subscriptions: Map<string, FakeSubscription>;
  /** Every API call answers with this status (503, 500, 429) until `outage(0)`. */
  outage(status: number, seconds?: number): void;
  addSubscription(subscription: FakeSubscription): void;
}

/** A Stripe answer: JSON, with Stripe's `Request-Id` and `Stripe-Version` headers. */
const send = (status: number, body: unknown): FakeReply =>
  json(status, body, {
    'Content-Type': 'application/json',
    'Request-Id': `req_${randomBytes(7).toString('hex')}`,
    'Stripe-Version': '2026-10-28.endive',
  });

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

/** Stripe's answer to a failure of its own. */
export const stripeFailure = (): FakeReply => send(500, stripeError('api_error', 'fake failure'));

export function stripeApi(apiKey: string): StripeApi {
  const requests: RecordedStripeRequest[] = [];
  const customers = new Set<string>();
  const subscriptions = new Map<string, FakeSubscription>();
  let outage: { status: number; until?: number } | undefined;

  const setOutage = (status: number, seconds?: number) => {
    outage = status ? { status, ...(seconds ? { until: Date.now() + seconds * 1000 } : {}) } : undefined;
  };
  const add = (sub: FakeSubscription) => {
    subscriptions.set(sub.id, sub);
    customers.add(sub.customer);
  };

  const api = (
    method: string,
    path: string,
    form: Record<string, string>,
    baseUrl: string,
  ): [number, unknown] => {
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

  /** The commands a test or an operator gives over HTTP when the fake runs beside `npm start`. */
  function command(req: FakeRequest): FakeReply {
    const body = req.text ? (req.json() as Record<string, unknown>) : {};
    if (req.path === '/_fake/outage') {
      setOutage(Number(body.status ?? 0), body.seconds === undefined ? undefined : Number(body.seconds));
      return send(200, { outage });
    }
    if (req.path === '/_fake/subscriptions') {
      add(body as unknown as FakeSubscription);
      return send(201, subscriptionObject(body as unknown as FakeSubscription));
    }
    return send(404, { error: 'unknown command' });
  }

  /** Every API call: the secret key checked, then the call answered and recorded. */
  function call(req: FakeRequest): FakeReply {
    const form = req.form();
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      requests.push({ method: req.method, path: req.path, form, status: 401 });
      return send(
        401,
        stripeError('invalid_request_error', 'Invalid API Key provided.', { code: 'api_key_invalid' }),
      );
    }
    const [status, body] = api(req.method, req.path, form, req.baseUrl);
    requests.push({ method: req.method, path: req.path, form, status });
    return send(status, body);
  }

  return {
    routes: [
      route('*', /\/_fake\/.*/, command),
      route('*', /\/p\/session\/.*/, () => ({
        status: 200,
        headers: { 'Content-Type': 'text/html' },
        body: '<h1>Fake Stripe billing portal</h1>',
      })),
      route('*', /.*/, call),
    ],
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
  };
}
