/*! AdsEngineer storefront script (docs/storefront.md). Keeps the latest ad click (gclid, gbraid,
 * wbraid, fbclid, its time and landing page) in a first-party cookie for 90 days and writes it,
 * Meta's _fbp and the visitor's consent into the cart's attributes, which reach the order as
 * note_attributes. Nothing is stored or written before consent where Shopify's Customer Privacy
 * API says consent is required; the only requests go to the shop's own cart.
 * Customer Privacy API: https://shopify.dev/docs/api/customer-privacy
 * Cart attributes (Ajax API): https://shopify.dev/docs/api/ajax/reference/cart#update-cart-attributes
 */
(() => {
  const w = window;
  const d = document;
  const shopify = w.Shopify;
  if (!shopify || w.__adsengineerStorefront) return;
  w.__adsengineerStorefront = 1;

  const COOKIE = '_ae_click';
  const MAX_AGE = 90 * 86400;
  const GOOGLE = /^[\w-]{20,200}$/;
  const IDS = { gclid: GOOGLE, gbraid: GOOGLE, wbraid: GOOGLE, fbclid: /^[\w-]{10,500}$/ };
  const FBP = /^fb\.\d\.\d{10,13}\.[\w.-]{1,128}$/;
  const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
  const KEEP = /^(gclid|gbraid|wbraid|fbclid|utm_\w+)$/;
  const NAMES = [
    'consent_status',
    'consent_timestamp',
    'consent_method',
    'ad_user_data',
    'ad_personalization',
    'gclid',
    'gbraid',
    'wbraid',
    'fbclid',
    'fbp',
    'click_time',
    'landing_page',
  ];
  const root = shopify.routes?.root || '/';

  const cookie = (name) => {
    const found = d.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    try {
      return found ? decodeURIComponent(found[1]) : '';
    } catch {
      return '';
    }
  };
  const setCookie = (value, maxAge) => {
    // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing from older Safari and Firefox.
    d.cookie = `${COOKIE}=${encodeURIComponent(value)}; Max-Age=${maxAge}; Path=/; SameSite=Lax${
      location.protocol === 'https:' ? '; Secure' : ''
    }`;
  };

  // Only what the server's schema accepts leaves the cookie; one Google click id at most.
  const is = (pattern, value) => typeof value === 'string' && pattern.test(value);
  const valid = (click) => {
    const out = {};
    for (const name in IDS) if (is(IDS[name], click[name])) out[name] = click[name];
    if (out.gclid) delete out.gbraid;
    if (out.gclid || out.gbraid) delete out.wbraid;
    if (is(TIME, click.click_time)) out.click_time = click.click_time;
    if (is(/^https?:\/\/.{1,1000}$/, click.landing_page)) out.landing_page = click.landing_page;
    return out;
  };

  // The latest ad click: this page's when its URL carries a click id (the landing), else the cookie's.
  const latestClick = () => {
    let stored = {};
    try {
      stored = valid(JSON.parse(cookie(COOKIE) || '{}'));
    } catch {}
    const query = new URLSearchParams(location.search);
    const landed = {};
    for (const name in IDS) landed[name] = query.get(name);
    const kept = [...query].filter(([name]) => KEEP.test(name));
    landed.landing_page =
      location.origin + location.pathname + (kept.length ? `?${new URLSearchParams(kept)}` : '');
    if (landed.landing_page.length > 1000) landed.landing_page = location.origin + location.pathname;
    const click = valid(landed);
    if (!Object.keys(IDS).some((name) => click[name])) return stored;
    const same = Object.keys(IDS).every((name) => click[name] === stored[name]);
    click.click_time = same && stored.click_time ? stored.click_time : new Date().toISOString();
    setCookie(JSON.stringify(click), MAX_AGE);
    return click;
  };

  // The attributes the cart should hold, or null while consent is required and not yet given.
  const wanted = (privacy) => {
    const marketing = privacy.currentVisitorConsent()?.marketing;
    const decided = marketing === 'yes' || marketing === 'no';
    if (!decided && privacy.shouldShowBanner()) return null;
    const method = decided ? 'cookie_banner' : '';
    if (marketing === 'no' || !privacy.marketingAllowed()) {
      if (cookie(COOKIE)) setCookie('', 0);
      return {
        consent_status: 'denied',
        consent_method: method,
        ad_user_data: 'denied',
        ad_personalization: 'denied',
      };
    }
    const fbp = cookie('_fbp');
    return Object.assign(
      decided
        ? {
            consent_status: 'granted',
            consent_method: method,
            ad_user_data: 'granted',
            ad_personalization: privacy.saleOfDataAllowed() ? 'granted' : 'denied',
          }
        : {},
      latestClick(),
      is(FBP, fbp) ? { fbp } : {},
    );
  };

  const cartCall = (path, body) =>
    fetch(root + path, {
      method: body ? 'POST' : 'GET',
      credentials: 'same-origin',
      headers: body
        ? { 'Content-Type': 'application/json', Accept: 'application/json' }
        : { Accept: 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    }).then((response) => {
      if (!response.ok) throw new Error(`cart ${response.status}`);
      return response.json();
    });

  const sync = async () => {
    const privacy = shopify.customerPrivacy;
    const want = privacy && wanted(privacy);
    if (!want) return;
    const have = (await cartCall('cart.js')).attributes || {};
    want.consent_timestamp = !want.consent_status
      ? ''
      : want.consent_status === have.consent_status && have.consent_timestamp
        ? have.consent_timestamp
        : new Date().toISOString();
    const changed = {};
    for (const name of NAMES) if ((have[name] || '') !== (want[name] || '')) changed[name] = want[name] || '';
    if (Object.keys(changed).length) await cartCall('cart/update.js', { attributes: changed });
  };

  let queue = Promise.resolve();
  const schedule = () => {
    queue = queue.then(sync).catch(() => {});
  };
  d.addEventListener('visitorConsentCollected', schedule);
  if (shopify.customerPrivacy) schedule();
  else if (shopify.loadFeatures)
    shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (error) => {
      if (!error) schedule();
    });
})();
