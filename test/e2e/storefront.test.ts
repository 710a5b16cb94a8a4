/**
 * The storefront script end to end: served by the local stack at GET /api/v1/storefront.js,
 * loaded by a stand-in Shopify storefront in Chromium, its cart attributes carried by a signed
 * `orders/paid` delivery to a conversion uploaded to the fake Google Data Manager API.
 */
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import type { LocalStack } from '../../local/stack';
import { fbclid, gclid } from '../support/click-ids';
import { forgetFakeGoogle, googleAdsSettings, type Row, useFakeGoogle } from '../support/google-ads-e2e';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { connectShopify, deliverShopify } from '../support/shopify';
import {
  launchChromium,
  SCRIPT_SOURCE_PATH,
  type StandInShop,
  startStandInShop,
} from '../support/storefront';
import { createTenant, type TestTenant } from '../support/tenants';

const SHOP = 'storefront-a.myshopify.com';
const SHOP_SECRET = 'shopify-webhook-secret-storefront-a';
const FBP = 'fb.1.1764583200000.2093847561';

let stack: LocalStack;
let fake: FakeGoogleAds;
let browser: Browser;
let shop: StandInShop;
let a: TestTenant;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

beforeAll(async () => {
  fake = await startFakeGoogleAds();
  useFakeGoogle(fake);
  stack = await startTestStack('storefront', { retryDelaySeconds: 0 });
  a = await createTenant(stack.url, 'Agency A');
  expect((await connectShopify(stack.url, a, SHOP, SHOP_SECRET)).status).toBe(200);
  expect(
    (await call('PUT', '/api/v1/integrations/google-ads', { token: a.admin, body: googleAdsSettings() }))
      .status,
  ).toBe(200);
  browser = await launchChromium();
  shop = await startStandInShop(`${stack.url}/api/v1/storefront.js`);
});

afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await stack?.stop();
  await fake?.close();
  forgetFakeGoogle();
});

describe('GET /api/v1/storefront.js', () => {
  it('serves the committed script, cacheable, with an ETag that answers 304', async () => {
    const res = await fetch(`${stack.url}/api/v1/storefront.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(readFileSync(SCRIPT_SOURCE_PATH, 'utf8'));
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // Rate limited like every unauthenticated /api/v1 route.
    expect(res.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);

    const again = await fetch(`${stack.url}/api/v1/storefront.js`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    const stale = await fetch(`${stack.url}/api/v1/storefront.js`, { headers: { 'If-None-Match': '"old"' } });
    expect(stale.status).toBe(200);
  });
});

describe('from a consented click to an uploaded conversion', () => {
  it('the cart attributes the script wrote reach Google with the click id and consent of the visit', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await context.addCookies([{ name: '_fbp', value: FBP, url: shop.url }]);
    shop.privacy = { consentRequired: true, marketing: 'yes', saleOfData: '' };

    await page.goto(`${shop.url}/products/lamp?gclid=${gclid(61)}&fbclid=${fbclid(61)}&utm_source=google`);
    await page.waitForLoadState('networkidle');
    await page.goto(`${shop.url}/products/mug`);
    await page.waitForLoadState('networkidle');
    await context.close();

    // The script came from the stack (or the browser's cache); everything else from the shop.
    expect(new Set(requested.filter((u) => !u.startsWith(`${shop.url}/`)))).toEqual(
      new Set([`${stack.url}/api/v1/storefront.js`]),
    );
    // The cart was written once: the second page found nothing to change.
    expect(shop.updates).toHaveLength(1);
    const attributes = shop.attributes;
    expect(attributes).toMatchObject({ gclid: gclid(61), consent_status: 'granted', fbp: FBP });

    // Checkout: Shopify copies the cart's attributes into the order's note_attributes. The order
    // follows the shape of Shopify's sample Order (https://shopify.dev/docs/api/admin-rest/latest/resources/order)
    // as the orders/paid webhook delivers it (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/paid).
    // Paid now, after the click (Google refuses a conversion before its click).
    const processedAt = new Date().toISOString();
    const order = {
      id: 450789469,
      admin_graphql_api_id: 'gid://shopify/Order/450789469',
      name: '#1001',
      order_number: 1001,
      email: 'bob.norman@mail.example.com',
      created_at: processedAt,
      processed_at: processedAt,
      currency: 'EUR',
      presentment_currency: 'EUR',
      total_price: '598.94',
      current_total_price: '598.94',
      subtotal_price: '597.00',
      financial_status: 'paid',
      buyer_accepts_marketing: false,
      landing_site: '/products/lamp',
      referring_site: 'https://www.google.com/',
      source_name: 'web',
      order_status_url: `https://${SHOP}/548380009/orders/b1946ac92492d2347c6235b4d2611184/authenticate`,
      note_attributes: Object.entries(attributes).map(([name, value]) => ({ name, value })),
      client_details: { browser_ip: '203.0.113.41', user_agent: 'Mozilla/5.0 (Macintosh) Safari/605.1.15' },
      customer: {
        id: 207119551,
        email: 'bob.norman@mail.example.com',
        first_name: 'Bob',
        last_name: 'Norman',
      },
      billing_address: {
        first_name: 'Bob',
        last_name: 'Norman',
        country_code: 'DE',
        phone: '+49 151 23456780',
      },
      line_items: [
        { id: 466157049, title: 'IPod Nano - 8gb', quantity: 1, price: '199.00', sku: 'IPOD2008GREEN' },
      ],
    };
    const body = JSON.stringify(order);
    const delivery = await deliverShopify(stack.url, body, {
      topic: 'orders/paid',
      shop: SHOP,
      secret: SHOP_SECRET,
      webhookId: 'storefront-450789469',
    });
    expect(delivery.status).toBe(202);
    // Google's conversion (Meta, with the fbclid, waits: it is not connected here).
    const conversion = await eventually(async () => {
      const res = await call('GET', '/api/v1/conversions?limit=100', { token: a.viewer });
      const items = (res.body.items as Row[] | undefined) ?? [];
      return items.find(
        (c) => c.order_id === String(order.id) && c.platform === 'google_ads' && c.status !== 'queued',
      );
    }, 'the Google conversion of the order');
    expect(conversion).toMatchObject({
      status: 'uploaded',
      click_id_type: 'gclid',
      click_time: attributes.click_time,
    });
    type Event = { adIdentifiers?: { gclid?: string }; consent?: Record<string, string> };
    const accepted = fake.ingests
      .filter((u) => u.status === 200)
      .flatMap((u) => (u.body as { events?: Event[] }).events ?? [])
      .filter((e) => e.adIdentifiers?.gclid === gclid(61));
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.consent).toMatchObject({ adUserData: 'CONSENT_GRANTED' });

    const lead = await eventually(async () => {
      const res = await call('GET', '/api/v1/leads?limit=100', { token: a.viewer });
      return (res.body.items as Row[] | undefined)?.find((l) => l.gclid === gclid(61));
    }, 'the lead of the order');
    expect(lead).toMatchObject({
      fbclid: fbclid(61),
      fbp: FBP,
      click_time: attributes.click_time,
      landing_page: attributes.landing_page,
      consent: {
        status: 'granted',
        method: 'cookie_banner',
        timestamp: attributes.consent_timestamp,
        ad_user_data: 'granted',
        ad_personalization: 'granted',
      },
    });
  });
});
