/**
 * A loopback stand-in for a Shopify storefront, for the storefront script in a real browser:
 * pages that load `window.Shopify` (with `loadFeatures` and a Customer Privacy API whose answers
 * the test sets) and then the script, `GET /cart.js` and a `POST /cart/update.js` that records
 * what it receives. Shapes follow Shopify's documentation:
 * - Customer Privacy API: https://shopify.dev/docs/api/customer-privacy (loadFeatures with
 *   `consent-tracking-api` 0.1, currentVisitorConsent() with 'yes' | 'no' | '' per purpose,
 *   shouldShowBanner(), marketingAllowed(), saleOfDataAllowed(), the visitorConsentCollected event);
 * - Ajax Cart API: https://shopify.dev/docs/api/ajax/reference/cart (cart.js, cart/update.js).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const SCRIPT_SOURCE_PATH = path.resolve(
  __dirname,
  '..',
  '..',
  'functions',
  'shared',
  'features',
  'storefront',
  'storefront.js',
);

export type Answer = 'yes' | 'no' | '';

/** What the stand-in Customer Privacy API answers. */
export interface Privacy {
  /** Whether the shop's settings and the visitor's location require consent (an EEA visitor). */
  consentRequired: boolean;
  marketing: Answer;
  saleOfData: Answer;
}

export interface StandInShop {
  readonly url: string;
  privacy: Privacy;
  /** The cart's attributes, as /cart.js answers them. */
  attributes: Record<string, string>;
  /** Every body POSTed to /cart/update.js, parsed. */
  readonly updates: Array<{ attributes?: Record<string, string> }>;
  /** Every path the stand-in served, in order. */
  readonly served: string[];
  close(): Promise<void>;
}

/**
 * The browser side of the stand-in: Shopify's global with `routes.root` and `loadFeatures`, which
 * defines `customerPrivacy` asynchronously as Shopify's loader does. `__chooseInBanner(answer)`
 * plays the visitor answering the banner: the consent changes and `visitorConsentCollected` fires.
 */
function shopifyGlobal(privacy: Privacy): string {
  return `(() => {
  const state = ${JSON.stringify(privacy)};
  const allowed = (answer) => answer === 'yes' || (!state.consentRequired && answer !== 'no');
  const api = {
    currentVisitorConsent: () => ({ marketing: state.marketing, analytics: state.marketing, preferences: state.marketing, sale_of_data: state.saleOfData }),
    shouldShowBanner: () => state.consentRequired && state.marketing === '',
    marketingAllowed: () => allowed(state.marketing),
    analyticsProcessingAllowed: () => allowed(state.marketing),
    saleOfDataAllowed: () => allowed(state.marketing) && state.saleOfData !== 'no',
  };
  window.Shopify = {
    shop: 'standin.myshopify.com',
    routes: { root: '/' },
    loadFeatures(features, callback) {
      const known = features.length === 1 && features[0].name === 'consent-tracking-api' && features[0].version === '0.1';
      setTimeout(() => {
        if (known) window.Shopify.customerPrivacy = api;
        callback(known ? undefined : new Error('unknown feature'));
      }, 10);
    },
  };
  window.__chooseInBanner = (answer) => {
    state.marketing = answer;
    document.dispatchEvent(new CustomEvent('visitorConsentCollected', { detail: {
      marketingAllowed: api.marketingAllowed(), analyticsAllowed: api.analyticsProcessingAllowed(),
      preferencesAllowed: api.marketingAllowed(), saleOfDataAllowed: api.saleOfDataAllowed() } }));
  };
})();`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the stand-in on 127.0.0.1. `scriptUrl` is where its pages load the storefront script
 * from: the local stack's route, or (by default) the committed file served by the stand-in.
 */
export async function startStandInShop(scriptUrl = '/storefront.js'): Promise<StandInShop> {
  const shop = {
    url: '',
    privacy: { consentRequired: true, marketing: '', saleOfData: '' } as Privacy,
    attributes: {} as Record<string, string>,
    updates: [] as Array<{ attributes?: Record<string, string> }>,
    served: [] as string[],
  };
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };
  const cart = () =>
    JSON.stringify({ token: 'c1-standin', item_count: 0, items: [], attributes: shop.attributes });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin.invalid');
    shop.served.push(url.pathname);
    if (url.pathname === '/shopify-standin.js') {
      send(res, 200, 'text/javascript', shopifyGlobal(shop.privacy));
    } else if (url.pathname === '/storefront.js') {
      send(res, 200, 'text/javascript', readFileSync(SCRIPT_SOURCE_PATH, 'utf8'));
    } else if (url.pathname === '/cart.js' && req.method === 'GET') {
      send(res, 200, 'application/json', cart());
    } else if (url.pathname === '/cart/update.js' && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as { attributes?: Record<string, string> };
      shop.updates.push(body);
      Object.assign(shop.attributes, body.attributes ?? {});
      send(res, 200, 'application/json', cart());
    } else if (url.pathname === '/favicon.ico') {
      send(res, 404, 'text/plain', '');
    } else {
      send(
        res,
        200,
        'text/html; charset=utf-8',
        `<!doctype html><html><head><title>Stand-in shop</title><script src="/shopify-standin.js"></script><script src="${scriptUrl}" defer></script></head><body><h1>${url.pathname}</h1></body></html>`,
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  shop.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(shop, {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Debian's Chromium, headless, with a fresh profile and no background traffic of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
