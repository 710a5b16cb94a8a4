import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { gzipSync } from 'node:zlib';
import { FUNCTIONS } from '../../contract/resources';
import { findRoute } from '../../contract/routes';
import {
  loadStorefrontScript,
  matchesEtag,
  STOREFRONT_BUDGET_GZIP_BYTES,
  STOREFRONT_CACHE_CONTROL,
  STOREFRONT_SCRIPT_FILE,
  storefrontResponse,
  storefrontScript,
} from '../../functions/shared/features/storefront/service';
import { extractShopify } from '../../functions/shared/features/webhooks/rules/extract/shopify';
import { httpHandler } from '../../functions/shared/platform/http/handler';
import { fbclid, gbraid, gclid, wbraid } from '../support/click-ids';
import { apiEvent, lambdaContext } from '../support/events';

const root = path.resolve(__dirname, '..', '..');
const scriptPath = path.join(root, 'functions', 'shared', 'features', 'storefront', STOREFRONT_SCRIPT_FILE);
const source = readFileSync(scriptPath, 'utf8');

describe('the storefront script', () => {
  it('stays within its budget of 3 KB gzipped', () => {
    expect(gzipSync(Buffer.from(source), { level: 9 }).length).toBeLessThanOrEqual(
      STOREFRONT_BUDGET_GZIP_BYTES,
    );
  });

  it('is public, served by the api function, and copied next to its bundle', () => {
    expect(findRoute('GET', '/api/v1/storefront.js')).toMatchObject({ functionId: 'api', auth: 'none' });
    const api = FUNCTIONS.find((f) => f.id === 'api');
    expect(api?.files).toEqual([path.relative(root, scriptPath)]);
  });

  it('calls nothing but the cart of the shop it runs on', () => {
    const urls = [...source.matchAll(/\b(?:fetch|XMLHttpRequest|sendBeacon|WebSocket|EventSource)\b/g)].map(
      (m) => m[0],
    );
    expect(urls).toEqual(['fetch']);
    expect(source).not.toMatch(/https?:\/\/(?!shopify\.dev\/)/);
    expect(source).toMatch(/fetch\(root \+ path/);
  });

  it('writes exactly the cart attributes the order extractor reads', () => {
    const names = [...source.matchAll(/^ {4}'([a-z_]+)',$/gm)].map((m) => m[1]);
    expect(names).toEqual(CART_ATTRIBUTES_READ.filter(readByShopifyExtractor));
  });
});

/**
 * Cart attributes with a value the lead schema accepts: the consent fields and the attribution
 * the Shopify order extractor takes from `note_attributes`.
 */
const CART_VALUES: Record<string, string> = {
  consent_status: 'granted',
  consent_timestamp: '2026-11-24T08:00:00.000Z',
  consent_method: 'cookie_banner',
  ad_user_data: 'granted',
  ad_personalization: 'denied',
  gclid: gclid(7),
  gbraid: gbraid(7),
  wbraid: wbraid(7),
  fbclid: fbclid(7),
  fbp: 'fb.1.1732435200000.1234567890',
  click_time: '2026-11-24T07:55:00.000Z',
  landing_page: 'https://shop.example/products/lamp',
};
const CART_ATTRIBUTES_READ = Object.keys(CART_VALUES);

/** The Shopify extractor's reading of a paid order carrying these cart attributes. */
const paidOrderWith = (attributes: Record<string, string>) =>
  extractShopify('orders/paid', {
    id: 450789469,
    email: 'buyer@example.com',
    financial_status: 'paid',
    total_price: '199.00',
    currency: 'EUR',
    note_attributes: Object.entries(attributes).map(([name, value]) => ({ name, value })),
  });

function extractedWith(names: readonly string[]): unknown {
  const extraction = paidOrderWith(Object.fromEntries(names.map((name) => [name, CART_VALUES[name] ?? 'x'])));
  return extraction.kind === 'lead' ? extraction.lead : extraction;
}

/**
 * Whether the extractor reads an attribute: adding it alone to a cart changes the lead (the other
 * consent fields count only next to a `consent_status`).
 */
function readByShopifyExtractor(name: string): boolean {
  const base = name === 'consent_status' ? [] : ['consent_status'];
  return !isDeepStrictEqual(extractedWith([...base, name]), extractedWith(base));
}

describe('CI', () => {
  it("installs Debian's chromium before the tests when the machine has none", () => {
    const run = readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    const install = run.indexOf('apt-get install -y -qq --no-install-recommends chromium');
    expect(run).toContain('! command -v chromium');
    expect(install).toBeGreaterThan(0);
    expect(install).toBeLessThan(run.indexOf('npm test'));
  });
});

describe('serving it', () => {
  it('reads the committed file once and names its version by a content hash', () => {
    const script = loadStorefrontScript();
    expect(script.source).toBe(source);
    expect(loadStorefrontScript()).toBe(script);
    expect(script.etag).toMatch(/^"[\w-]{27}"$/);
    expect(storefrontScript(source).etag).toBe(script.etag);
    expect(storefrontScript(`${source} `).etag).not.toBe(script.etag);
  });

  it('answers 304 when If-None-Match names this version, weak, listed or *', () => {
    const script = storefrontScript('x');
    for (const header of [script.etag, `W/${script.etag}`, `"other", ${script.etag}`, '*']) {
      expect(matchesEtag(header, script.etag)).toBe(true);
    }
    for (const header of [undefined, '"other"', script.etag.slice(1, -1)]) {
      expect(matchesEtag(header, script.etag)).toBe(false);
    }
    expect(storefrontResponse(script, script.etag)).toMatchObject({ status: 304, text: '' });
    expect(storefrontResponse(script, '"old"')).toMatchObject({ status: 200, text: 'x' });
  });

  it('goes out as cacheable JavaScript, with the other security headers kept', async () => {
    const script = storefrontScript('console.log(1);');
    // Any route will do to see the HTTP layer's answer; /health is not rate limited (no I/O).
    const handler = httpHandler('health', {
      'GET /health': async (request) => storefrontResponse(script, request.headers['if-none-match']),
    });
    const fresh = await handler(apiEvent({ path: '/health' }), lambdaContext());
    expect(fresh.statusCode).toBe(200);
    expect(fresh.body).toBe('console.log(1);');
    expect(fresh.headers).toMatchObject({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': STOREFRONT_CACHE_CONTROL,
      ETag: script.etag,
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    });
    const cached = await handler(
      apiEvent({ path: '/health', headers: { 'If-None-Match': script.etag } }),
      lambdaContext(),
    );
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');
    expect(cached.headers).toMatchObject({ ETag: script.etag, 'Cache-Control': STOREFRONT_CACHE_CONTROL });
  });
});

describe('the Shopify order extractor reads what the script writes', () => {
  it('takes click ids, click time, landing page, fbp and consent from note_attributes', () => {
    const attributes = {
      consent_status: 'granted',
      consent_timestamp: '2026-12-01T10:00:00.000Z',
      consent_method: 'cookie_banner',
      ad_user_data: 'granted',
      ad_personalization: 'denied',
      gclid: 'Cj0KCQiA2eKtBhDcARIsAEGTG40GvW9ekxwFZ_w9Rz2lQn3vGQ',
      fbclid: 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgE',
      fbp: 'fb.1.1764583200000.1234567890',
      click_time: '2026-12-01T09:58:00.000Z',
      landing_page:
        'https://shop.example/products/mug?gclid=Cj0KCQiA2eKtBhDcARIsAEGTG40GvW9ekxwFZ_w9Rz2lQn3vGQ',
    };
    const extraction = paidOrderWith(attributes);
    expect(extraction.kind).toBe('lead');
    if (extraction.kind !== 'lead') return;
    expect(extraction.lead).toMatchObject({
      gclid: attributes.gclid,
      fbclid: attributes.fbclid,
      fbp: attributes.fbp,
      // The click time the script captured becomes the lead's (Google's window, Meta's fbc).
      click_time: attributes.click_time,
      landing_page: attributes.landing_page,
      consent: {
        status: 'granted',
        timestamp: attributes.consent_timestamp,
        method: 'cookie_banner',
        ad_user_data: 'granted',
        ad_personalization: 'denied',
      },
    });
  });
});
