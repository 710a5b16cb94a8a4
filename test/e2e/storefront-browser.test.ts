/**
 * The storefront script in a real browser (Debian's Chromium through playwright-core) on a
 * loopback stand-in for a Shopify storefront (test/support/storefront.ts): what it keeps in its
 * cookie and writes into the cart's attributes, by the visitor's consent and region, and that it
 * calls nothing but the shop's own cart.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { fbclid, gclid } from '../support/click-ids';
import { launchChromium, type Privacy, type StandInShop, startStandInShop } from '../support/storefront';

const COOKIE = '_ae_click';
const FBP = 'fb.1.1764583200000.1098115397';
const CONSENT_NAMES = [
  'consent_status',
  'consent_timestamp',
  'consent_method',
  'ad_user_data',
  'ad_personalization',
];

let browser: Browser;
let shop: StandInShop;
let context: BrowserContext;
let page: Page;
/** Every URL the page asked for, whoever asked. */
let requested: string[];

beforeAll(async () => {
  browser = await launchChromium();
  shop = await startStandInShop();
});

afterAll(async () => {
  await browser?.close();
  await shop?.close();
});

beforeEach(async () => {
  shop.attributes = {};
  shop.updates.length = 0;
  shop.served.length = 0;
  requested = [];
  context = await browser.newContext();
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
});

afterEach(async () => {
  // Nothing but the shop's own pages, its Shopify global, the script and its cart (and the browser's favicon).
  const allowed =
    /^\/(?:|products\/[\w-]+|collections\/[\w-]+|shopify-standin\.js|storefront\.js|cart\.js|cart\/update\.js|favicon\.ico)$/;
  const foreign = requested.filter((url) => {
    const parsed = new URL(url);
    return parsed.origin !== shop.url || !allowed.test(parsed.pathname);
  });
  expect(foreign).toEqual([]);
  await context.close();
});

/** Opens a page of the shop and waits until the script's requests are over. */
async function visit(pathAndQuery: string, privacy?: Partial<Privacy>): Promise<void> {
  if (privacy) shop.privacy = { ...shop.privacy, ...privacy };
  await page.goto(`${shop.url}${pathAndQuery}`);
  await page.waitForLoadState('networkidle');
}

async function clickCookie() {
  return (await context.cookies()).find((c) => c.name === COOKIE);
}

const cartRequests = () => shop.served.filter((p) => p.startsWith('/cart'));

describe('where consent is required (an EEA visitor)', () => {
  const eea = { consentRequired: true, saleOfData: '' as const };

  it('consent granted: keeps the click for 90 days and writes it with the consent, once', async () => {
    await context.addCookies([{ name: '_fbp', value: FBP, url: shop.url }]);
    const landing = `/products/lamp?gclid=${gclid(21)}&fbclid=${fbclid(21)}&utm_source=google&email=jane%40example.com`;
    await visit(landing, { ...eea, marketing: 'yes' });

    const cookie = await clickCookie();
    expect(cookie).toBeDefined();
    // A 90-day cookie, first-party, not readable across sites.
    const days = ((cookie?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
    expect(cookie).toMatchObject({ path: '/', sameSite: 'Lax', domain: '127.0.0.1' });

    expect(shop.updates).toHaveLength(1);
    const written = shop.updates[0]?.attributes ?? {};
    expect(written).toMatchObject({
      consent_status: 'granted',
      consent_method: 'cookie_banner',
      ad_user_data: 'granted',
      ad_personalization: 'granted',
      gclid: gclid(21),
      fbclid: fbclid(21),
      fbp: FBP,
      // The landing page keeps click ids and UTM parameters, never anything else (an e-mail here).
      landing_page: `${shop.url}/products/lamp?gclid=${gclid(21)}&fbclid=${fbclid(21)}&utm_source=google`,
    });
    expect(written.click_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(written.consent_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(written).not.toHaveProperty('gbraid');
    const firstClick = written.click_time;

    // A later page without the click id: the cookie's click, and the cart already holds it.
    await visit('/collections/all');
    // The landing page again (a reload): the same click, its first click time, nothing to write.
    await visit(landing);
    expect(shop.updates).toHaveLength(1);
    expect(shop.attributes.click_time).toBe(firstClick);
    expect(cartRequests()).toEqual(['/cart.js', '/cart/update.js', '/cart.js', '/cart.js']);
  });

  it('a later page writes the kept click into a new cart (after a checkout)', async () => {
    await visit(`/?gclid=${gclid(22)}`, { ...eea, marketing: 'yes' });
    expect(shop.updates).toHaveLength(1);
    shop.attributes = {};
    await visit('/products/mug');
    expect(shop.updates).toHaveLength(2);
    expect(shop.updates[1]?.attributes).toMatchObject({
      gclid: gclid(22),
      landing_page: `${shop.url}/?gclid=${gclid(22)}`,
      click_time: shop.updates[0]?.attributes?.click_time,
    });
  });

  it('consent not yet given: no cookie, no request to the cart, until the visitor accepts', async () => {
    await visit(`/products/lamp?gclid=${gclid(23)}`, { ...eea, marketing: '' });
    expect(await clickCookie()).toBeUndefined();
    expect(cartRequests()).toEqual([]);

    // A later page, still undecided: still nothing.
    await visit('/products/mug');
    expect(await clickCookie()).toBeUndefined();
    expect(cartRequests()).toEqual([]);

    // The visitor accepts in the banner on this page (it carries no click id: the first was not kept).
    await chooseInBanner('yes');
    await page.waitForLoadState('networkidle');
    await expectUpdates(1);
    expect(shop.updates[0]?.attributes).toMatchObject({ consent_status: 'granted', ad_user_data: 'granted' });
    expect(shop.updates[0]?.attributes).not.toHaveProperty('gclid');
    expect(await clickCookie()).toBeUndefined();
  });

  it('consent given in the banner on the landing page: the click of that page is kept', async () => {
    await visit(`/products/lamp?gclid=${gclid(24)}`, { ...eea, marketing: '' });
    expect(cartRequests()).toEqual([]);
    await chooseInBanner('yes');
    await expectUpdates(1);
    expect(shop.updates[0]?.attributes).toMatchObject({ consent_status: 'granted', gclid: gclid(24) });
    expect(await clickCookie()).toBeDefined();
  });

  it('consent denied: no cookie and no click id; the denial is written, once', async () => {
    await context.addCookies([{ name: '_fbp', value: FBP, url: shop.url }]);
    await visit(`/products/lamp?gclid=${gclid(25)}`, { ...eea, marketing: 'no' });
    expect(await clickCookie()).toBeUndefined();
    expect(shop.updates).toHaveLength(1);
    const written = shop.updates[0]?.attributes ?? {};
    expect(Object.keys(written).sort()).toEqual([...CONSENT_NAMES].sort());
    expect(written).toMatchObject({
      consent_status: 'denied',
      consent_method: 'cookie_banner',
      ad_user_data: 'denied',
      ad_personalization: 'denied',
    });
    await visit('/collections/all');
    expect(shop.updates).toHaveLength(1);
  });

  it('consent withdrawn: the cookie goes and the cart forgets the click', async () => {
    await visit(`/?gclid=${gclid(26)}`, { ...eea, marketing: 'yes' });
    expect(await clickCookie()).toBeDefined();
    await chooseInBanner('no');
    await expectUpdates(2);
    expect(await clickCookie()).toBeUndefined();
    expect(shop.updates[1]?.attributes).toMatchObject({
      consent_status: 'denied',
      ad_user_data: 'denied',
      gclid: '',
      click_time: '',
      landing_page: '',
    });
    expect(shop.attributes).toMatchObject({ consent_status: 'denied', gclid: '' });
  });
});

describe('where consent is not required (a US visitor)', () => {
  const us = { consentRequired: false, saleOfData: '' as const };

  it('not asked: keeps and writes the click with no consent signal (the tenant policy decides)', async () => {
    await visit(`/products/lamp?gbraid=0AAAAA${'x'.repeat(28)}`, { ...us, marketing: '' });
    expect(await clickCookie()).toBeDefined();
    expect(shop.updates).toHaveLength(1);
    const written = shop.updates[0]?.attributes ?? {};
    expect(written).toMatchObject({ gbraid: `0AAAAA${'x'.repeat(28)}` });
    for (const name of CONSENT_NAMES) expect(written).not.toHaveProperty(name);
    await visit('/products/mug');
    expect(shop.updates).toHaveLength(1);
  });

  it('opted out of the sale of data after granting: ads personalisation denied', async () => {
    await visit(`/?gclid=${gclid(27)}`, { ...us, marketing: 'yes', saleOfData: 'no' });
    expect(shop.updates[0]?.attributes).toMatchObject({
      consent_status: 'granted',
      ad_user_data: 'granted',
      ad_personalization: 'denied',
      gclid: gclid(27),
    });
  });

  it('declined in the banner: denied here too, nothing kept', async () => {
    await visit(`/?gclid=${gclid(28)}`, { ...us, marketing: 'no' });
    expect(await clickCookie()).toBeUndefined();
    expect(shop.updates[0]?.attributes).toMatchObject({ consent_status: 'denied' });
    expect(shop.updates[0]?.attributes).not.toHaveProperty('gclid');
  });
});

describe('robustness', () => {
  it('ignores malformed click ids and keeps one Google click id at most', async () => {
    await visit(`/?gclid=${gclid(29)}&wbraid=Cl${'y'.repeat(118)}`, {
      consentRequired: true,
      marketing: 'yes',
    });
    const written = shop.updates[0]?.attributes ?? {};
    expect(written.gclid).toBe(gclid(29));
    expect(written).not.toHaveProperty('wbraid');
    await context.clearCookies();
    shop.attributes = {};
    await visit('/?gclid=short&fbclid=has%20spaces%20in%20it');
    expect(await clickCookie()).toBeUndefined();
    expect(shop.updates[1]?.attributes).not.toHaveProperty('gclid');
    expect(shop.updates[1]?.attributes).not.toHaveProperty('fbclid');
  });

  it('a tampered cookie is not written to the cart', async () => {
    await context.addCookies([
      {
        name: COOKIE,
        value: encodeURIComponent(
          JSON.stringify({ gclid: '<script>', click_time: 'yesterday', landing_page: 'javascript:alert(1)' }),
        ),
        url: shop.url,
      },
    ]);
    await visit('/', { consentRequired: true, marketing: 'yes' });
    const written = shop.updates[0]?.attributes ?? {};
    expect(written).toMatchObject({ consent_status: 'granted' });
    for (const name of ['gclid', 'click_time', 'landing_page']) expect(written).not.toHaveProperty(name);
  });
});

/** The visitor answers the consent banner on the open page. */
async function chooseInBanner(answer: 'yes' | 'no'): Promise<void> {
  await page.evaluate(`window.__chooseInBanner(${JSON.stringify(answer)})`);
}

async function expectUpdates(count: number): Promise<void> {
  for (let i = 0; i < 100 && shop.updates.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  expect(shop.updates).toHaveLength(count);
}
