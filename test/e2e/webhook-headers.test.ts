import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalStack } from '../../local/stack';
import { request, send } from '../support/http';
import { capturedOutput, outputMark } from '../support/leak-capture';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

/**
 * Webhook headers are bounded at the door: a signed Shopify delivery with a 300-character
 * `X-Shopify-Topic` answered 503 (a zod error in an ERROR log) and Shopify would have retried it
 * for two days. It is now 400 validation_failed, logged once at WARN, and nothing is queued.
 */
const SHOP = 'header-shop.myshopify.com';
const SHOP_SECRET = 'shopify-header-secret-0123456789';
const STORE = 'https://header-store.example.com';
const WOO_SECRET = 'woocommerce-header-secret-0123456';
const fixture = (name: string) =>
  readFileSync(path.join(__dirname, '..', 'fixtures', 'webhooks', name), 'utf8');
// Shopify's orders/create sample shape (https://shopify.dev/docs/api/webhooks?reference=toml#list-orders-create).
const ORDER = fixture('shopify-order-gclid.json');
// WooCommerce's order shape (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties).
const WOO_ORDER = fixture('woocommerce-order-processing.json');
const hmac = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('base64');

let stack: LocalStack;
let a: TestTenant;

const shopifyHeaders = (extra: Record<string, string> = {}) => ({
  'Content-Type': 'application/json',
  'X-Shopify-Topic': 'orders/create',
  'X-Shopify-Hmac-Sha256': hmac(SHOP_SECRET, ORDER),
  'X-Shopify-Shop-Domain': SHOP,
  'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  'X-Shopify-Triggered-At': '2026-03-01T09:15:03.123456789Z',
  'X-Shopify-Event-Id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  ...extra,
});
const wooHeaders = (extra: Record<string, string> = {}) => ({
  'Content-Type': 'application/json',
  'X-WC-Webhook-Source': `${STORE}/`,
  'X-WC-Webhook-Topic': 'order.created',
  'X-WC-Webhook-Delivery-ID': 'e5b6f3a0c5d14f2c9a1d2b3c4d5e6f70',
  'X-WC-Webhook-Signature': hmac(WOO_SECRET, WOO_ORDER),
  ...extra,
});

/** The structured log lines written since `mark`. */
function logLines(mark: number): Array<Record<string, unknown>> {
  return capturedOutput(mark)
    .split('\n')
    .filter((line) => line.startsWith('{"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('webhook headers bounded at the door', () => {
  beforeAll(async () => {
    stack = await startTestStack('headers', { withoutConsumers: ['webhooks'] });
    a = await createTenant(stack.url, 'Header Agency');
    for (const [kind, body] of [
      ['shopify', { shop_domain: SHOP, webhook_secret: SHOP_SECRET }],
      ['woocommerce', { store_url: STORE, webhook_secret: WOO_SECRET }],
    ] as const) {
      const put = await request(stack.url, 'PUT', `/api/v1/integrations/${kind}`, { token: a.admin, body });
      expect(put.status).toBe(200);
    }
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('answers a signed delivery with a 300-character topic 400, logged once at WARN, never 5xx', async () => {
    const mark = outputMark();
    const res = await send(
      stack.url,
      'POST',
      '/api/v1/shopify/webhook',
      ORDER,
      shopifyHeaders({ 'X-Shopify-Topic': `orders/${'x'.repeat(293)}` }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'validation_failed',
      details: [{ path: 'headers.x-shopify-topic', message: 'Longer than 128 characters' }],
    });
    const lines = logLines(mark);
    const warned = lines.filter((l) => l.message === 'Webhook refused: header out of bounds');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      level: 'WARN',
      source: 'shopify',
      headers: [{ header: 'x-shopify-topic', reason: 'too_long', length: 300 }],
    });
    expect(lines.filter((l) => l.level === 'ERROR')).toEqual([]);
    expect(capturedOutput(mark)).not.toContain('x'.repeat(100));

    // The same delivery with the headers Shopify sends is received.
    const ok = await send(stack.url, 'POST', '/api/v1/shopify/webhook', ORDER, shopifyHeaders());
    expect(ok.status).toBe(202);
  });

  it.each([
    ['a 300-character webhook id', { 'X-Shopify-Webhook-Id': 'w'.repeat(300) }, 'x-shopify-webhook-id'],
    ['an event id with spaces', { 'X-Shopify-Event-Id': 'not an id' }, 'x-shopify-event-id'],
    ['a triggered-at that is no time', { 'X-Shopify-Triggered-At': 'yesterday' }, 'x-shopify-triggered-at'],
    ['an empty topic', { 'X-Shopify-Topic': '' }, 'x-shopify-topic'],
    ['a topic that is no topic', { 'X-Shopify-Topic': 'orders' }, 'x-shopify-topic'],
    ['a 1,000-character signature', { 'X-Shopify-Hmac-Sha256': 'A'.repeat(1000) }, 'x-shopify-hmac-sha256'],
    [
      'a 300-character shop domain',
      { 'X-Shopify-Shop-Domain': `${'s'.repeat(290)}.myshopify.com` },
      'x-shopify-shop-domain',
    ],
  ])('refuses a Shopify delivery with %s: 400 naming the header', async (_case, extra, header) => {
    const res = await send(stack.url, 'POST', '/api/v1/shopify/webhook', ORDER, shopifyHeaders(extra));
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ path: `headers.${header}`, message: expect.any(String) }]);
  });

  it('keeps a wrong signature of a plausible length a 401, as the contract says', async () => {
    const res = await send(
      stack.url,
      'POST',
      '/api/v1/shopify/webhook',
      ORDER,
      shopifyHeaders({ 'X-Shopify-Hmac-Sha256': hmac('another-secret', ORDER) }),
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_signature');
  });

  it('bounds WooCommerce, HighLevel and Stripe headers the same way', async () => {
    const woo = (extra: Record<string, string>) =>
      send(stack.url, 'POST', '/api/v1/woocommerce/webhook', WOO_ORDER, wooHeaders(extra));
    expect((await woo({})).status).toBe(202);
    for (const extra of [
      { 'X-WC-Webhook-Delivery-ID': 'd'.repeat(300) },
      { 'X-WC-Webhook-Topic': `order.${'c'.repeat(300)}` },
      { 'X-WC-Webhook-Source': `${STORE}/${'p'.repeat(3000)}` },
      { 'X-WC-Webhook-Signature': 'A'.repeat(1000) },
    ] as Array<Record<string, string>>) {
      const res = await woo(extra);
      expect([Object.keys(extra)[0], res.status, res.body.error]).toEqual([
        Object.keys(extra)[0],
        400,
        'validation_failed',
      ]);
    }
    const stripe = await send(stack.url, 'POST', '/api/v1/billing/webhooks/stripe', '{"id":"evt_1"}', {
      'Content-Type': 'application/json',
      'Stripe-Signature': `t=1,v1=${'a'.repeat(3000)}`,
    });
    expect([stripe.status, stripe.body.details]).toEqual([
      400,
      [{ path: 'headers.stripe-signature', message: 'Longer than 2048 characters' }],
    ]);
    const ghl = await send(stack.url, 'POST', `/api/v1/ghl/webhook/${'t'.repeat(43)}`, '{}', {
      'Content-Type': 'application/json',
      'X-GHL-Signature': 'A'.repeat(2000),
    });
    expect(ghl.status).toBe(400);
  });
});
