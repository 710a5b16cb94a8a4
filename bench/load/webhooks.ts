import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * Webhook deliveries as the senders make them: the recorded payloads in test/fixtures/webhooks
 * (real sizes: a 4.6 KB Shopify order, a 63 KB one with 100 line items, a 4.2 KB WooCommerce
 * order, a 2 KB GoHighLevel contact), each request made unique (ids, email, delivery id) and
 * signed over its exact bytes.
 */
const FIXTURES = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'webhooks');

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

export interface SignedRequest {
  readonly method: 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A signed request as the API Gateway REST proxy event the deployed API hands a function: the
 * body base64-encoded (binary media type `*\/*`), so the function checks the signature on the
 * exact bytes, as it does behind the gateway.
 */
export function proxyEvent(
  request: SignedRequest,
  resource: string,
  requestContext: { requestId: string; sourceIp: string },
): APIGatewayProxyEvent {
  return {
    resource,
    path: request.path,
    httpMethod: request.method,
    headers: request.headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: Buffer.from(request.body).toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      requestId: requestContext.requestId,
      identity: { sourceIp: requestContext.sourceIp },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

const hmacBase64 = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('base64');

const SHOPIFY_ORDER = fixture('shopify-order-gclid');
const SHOPIFY_BIG_ORDER = fixture('shopify-order-100-line-items');
const WOO_ORDER = fixture('woocommerce-order-processing');
const GHL_CONTACT = fixture('ghl-contact-create');

/** A click id shaped like Google's (`[A-Za-z0-9_-]`, ~90 characters), unique per n. */
export function gclidFor(n: number, run: string): string {
  return `EAIaIQobChMI${run.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}${String(n).padStart(10, '0')}`.padEnd(
    92,
    'x',
  );
}

/** A Shopify `orders/paid` delivery; one in `bigEvery` carries the 100-line-item order. */
export function shopifyOrder(
  shop: { domain: string; secret: string },
  n: number,
  run: string,
  options: { big?: boolean; email?: string } = {},
): SignedRequest {
  const base = options.big ? SHOPIFY_BIG_ORDER : SHOPIFY_ORDER;
  const email = options.email ?? `buyer-${run}-${n}@example.com`;
  const now = new Date().toISOString();
  const body = JSON.stringify({
    ...base,
    id: 5_000_000_000_000 + n,
    email,
    contact_email: email,
    customer: { ...(base.customer as Record<string, unknown>), id: 7_100_000_000_000 + n, email },
    processed_at: now,
    created_at: now,
    landing_site: `/products/linen-shirt?gclid=${gclidFor(n, run)}&utm_source=google&utm_medium=cpc`,
  });
  return {
    method: 'POST',
    path: '/api/v1/shopify/webhook',
    headers: {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': 'orders/paid',
      'X-Shopify-Shop-Domain': shop.domain,
      'X-Shopify-Hmac-Sha256': hmacBase64(shop.secret, body),
      'X-Shopify-Webhook-Id': randomUUID(),
      'X-Shopify-Triggered-At': now,
    },
    body,
  };
}

export function wooOrder(store: { store: string; secret: string }, n: number, run: string): SignedRequest {
  const billing = WOO_ORDER.billing as Record<string, unknown>;
  const body = JSON.stringify({
    ...WOO_ORDER,
    id: 100_000 + n,
    date_created_gmt: new Date().toISOString().slice(0, 19),
    customer_id: 10_000 + n,
    billing: { ...billing, email: `woo-${run}-${n}@example.com` },
  });
  return {
    method: 'POST',
    path: '/api/v1/woocommerce/webhook',
    headers: {
      'Content-Type': 'application/json',
      'X-WC-Webhook-Topic': 'order.created',
      'X-WC-Webhook-Source': store.store,
      'X-WC-Webhook-Signature': hmacBase64(store.secret, body),
      'X-WC-Webhook-Delivery-Id': randomUUID(),
    },
    body,
  };
}

export function ghlContact(ghlPath: string, n: number, run: string): SignedRequest {
  const body = JSON.stringify({
    ...GHL_CONTACT,
    id: `load${run}${n}`.slice(0, 40),
    email: `ghl-${run}-${n}@example.com`,
    webhookId: randomUUID(),
    timestamp: new Date().toISOString(),
  });
  return { method: 'POST', path: ghlPath, headers: { 'Content-Type': 'application/json' }, body };
}

/** A Stripe `customer.subscription.updated` event for the tenant, signed with the endpoint secret. */
export function stripeEvent(secret: string, tenantId: string, n: number, run: string): SignedRequest {
  const created = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    id: `evt_load_${run}_${n}`,
    object: 'event',
    api_version: '2025-09-30.clover',
    created,
    type: 'customer.subscription.updated',
    livemode: false,
    pending_webhooks: 1,
    data: {
      object: {
        id: `sub_load_${run}`,
        object: 'subscription',
        status: 'active',
        customer: `cus_load_${run}`,
        current_period_end: created + 30 * 86_400,
        metadata: { tenant_id: tenantId },
      },
    },
  });
  const v1 = createHmac('sha256', secret).update(`${created}.${body}`, 'utf8').digest('hex');
  return {
    method: 'POST',
    path: '/api/v1/billing/webhooks/stripe',
    headers: { 'Content-Type': 'application/json', 'Stripe-Signature': `t=${created},v1=${v1}` },
    body,
  };
}
