/**
 * Shopify as the e2e tests talk to it: signed webhook deliveries to POST /api/v1/shopify/webhook
 * (the body's base64 HMAC-SHA256 under the app's secret, as Shopify signs it:
 * https://shopify.dev/docs/apps/build/webhooks/subscribe/https),
 * a paid order as its `orders/paid` webhook carries it, a tenant connecting a shop, and the
 * tenant's leads as the API lists them.
 */
import { createHmac } from 'node:crypto';
import { type JsonResponse, request, send } from './http';
import { eventually } from './local-stack';
import type { TestTenant } from './tenants';

/** The `X-Shopify-Hmac-Sha256` of a body signed with `secret`. */
export const shopifyHmac = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('base64');

export interface ShopifyDelivery {
  topic: string;
  shop: string;
  /** The secret the delivery is signed with. */
  secret: string;
  webhookId: string;
  /** Further headers (such as `X-Shopify-Triggered-At`). */
  headers?: Record<string, string>;
}

/** The headers Shopify sends with a delivery of `body`. */
export function shopifyHeaders(body: string, delivery: ShopifyDelivery): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': delivery.topic,
    'X-Shopify-Hmac-Sha256': shopifyHmac(delivery.secret, body),
    'X-Shopify-Shop-Domain': delivery.shop,
    'X-Shopify-Webhook-Id': delivery.webhookId,
    ...delivery.headers,
  };
}

/** POSTs a signed delivery of `body` to the stack's Shopify webhook. */
export function deliverShopify(
  baseUrl: string,
  body: string,
  delivery: ShopifyDelivery,
): Promise<JsonResponse> {
  return send(baseUrl, 'POST', '/api/v1/shopify/webhook', body, shopifyHeaders(body, delivery));
}

/** The tenant's admin connects a shop with its webhook secret. */
export function connectShopify(
  baseUrl: string,
  tenant: TestTenant,
  shop: string,
  secret: string,
): Promise<JsonResponse> {
  return request(baseUrl, 'PUT', '/api/v1/integrations/shopify', {
    token: tenant.admin,
    body: { shop_domain: shop, webhook_secret: secret },
  });
}

/** The tenant's first 100 leads. */
export async function listLeads(
  baseUrl: string,
  tenant: TestTenant,
): Promise<Array<Record<string, unknown>>> {
  const res = await request(baseUrl, 'GET', '/api/v1/leads?limit=100', { token: tenant.viewer });
  return res.body.items as Array<Record<string, unknown>>;
}

/** The tenant's lead for this email, once it is there (and, with `status`, has reached it). */
export const waitForLead = (baseUrl: string, tenant: TestTenant, email: string, status?: string) =>
  eventually(
    async () =>
      (await listLeads(baseUrl, tenant)).find((l) => l.email === email && (!status || l.status === status)),
    `a lead for ${email}`,
  );

export interface ShopifyNote {
  name: string;
  value: string;
}

/** The note attributes of a buyer who answered the cookie banner at `at` (granted by default). */
export const bannerConsent = (at: string, status = 'granted'): ShopifyNote[] => [
  { name: 'consent_status', value: status },
  { name: 'consent_method', value: 'cookie_banner' },
  { name: 'consent_timestamp', value: at },
];

export interface PaidOrder {
  id: number;
  email: string;
  /** When it was paid (`processed_at`). */
  at: string;
  /** The path the buyer landed on, with the click id if any (`landing_site`). */
  landingSite: string;
  /** The note attributes; consent granted in the cookie banner at `at` by default. */
  notes?: ShopifyNote[];
}

/**
 * The `orders/paid` payload of order `id`: paid 149.90 EUR by `email`, a German buyer with a
 * billing phone, reduced to the fields the webhook worker reads; `fields` add to or replace them.
 */
export function paidShopifyOrder(
  { id, email, at, landingSite, notes = bannerConsent(at) }: PaidOrder,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    email,
    financial_status: 'paid',
    currency: 'EUR',
    total_price: '149.90',
    current_total_price: '149.90',
    processed_at: at,
    landing_site: landingSite,
    note_attributes: notes,
    customer: { id: id + 1000, email },
    billing_address: { country_code: 'DE', phone: '+49 151 23456789' },
    ...fields,
  };
}
