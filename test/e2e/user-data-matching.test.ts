import { metrics } from '../../functions/shared/platform/observability';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';
import type { LocalStack } from '../../local/stack';
import { gclid } from '../support/click-ids';
import { forgetFakeGoogle, googleAdsSettings, SHOP_SECRET, useFakeGoogle } from '../support/google-ads-e2e';
import { sha } from '../support/hashing';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { bannerConsent, connectShopify, deliverShopify, paidShopifyOrder } from '../support/shopify';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

/**
 * Paid orders without a click id, end to end: a consented buyer with an e-mail and a phone
 * reaches the fake Data Manager API as a userData-only event (validated by the fake as Google's
 * protos define it) and the fake Meta matched on user data, when each integration allows it and
 * not otherwise; Google's "not enabled" refusal parks the tenant's Google conversions and flags
 * the integration, which GET /api/v1/integrations shows, and saving it again sends them.
 */
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15';
const META_TOKEN = 'EAAB-meta-access-token-user-data-0001';
const ADWORDS_ONLY_TOKEN = '1//user-data-refresh-token-adwords-only';
const CUSTOMER = { a: '1112223333', b: '4445556666', c: '7778889999', d: '1231231234' } as const;
const PIXEL = { a: '1000000001', b: '1000000002' } as const;

let stack: LocalStack;
let google: FakeGoogleAds;
let meta: FakeMeta;
/** A: both platforms allow matching on user data; B: neither; C: Google refuses it; D: needs a reconnect. */
let tenants: Record<'a' | 'b' | 'c' | 'd', TestTenant>;
type Row = Record<string, unknown>;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);
const shopOf = (key: string) => `user-data-${key}.myshopify.com`;

beforeAll(async () => {
  google = await startFakeGoogleAds();
  meta = await startFakeMeta();
  useFakeGoogle(google);
  process.env.META_GRAPH_BASE_URL = meta.baseUrl;
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  stack = await startTestStack('udm', { retryDelaySeconds: 0 });
  tenants = {
    a: await createTenant(stack.url, 'User data A'),
    b: await createTenant(stack.url, 'User data B'),
    c: await createTenant(stack.url, 'User data C'),
    d: await createTenant(stack.url, 'User data D'),
  };
  for (const [key, tenant] of Object.entries(tenants)) {
    expect((await connectShopify(stack.url, tenant, shopOf(key), SHOP_SECRET)).status).toBe(200);
  }
  const connect = async (tenant: TestTenant, body: Record<string, unknown>) => {
    const res = await call('PUT', '/api/v1/integrations/google-ads', { token: tenant.admin, body });
    expect(res.status).toBe(200);
    return res.body;
  };
  expect(
    await connect(
      tenants.a,
      googleAdsSettings({ customer_id: CUSTOMER.a, enhanced_conversions_for_leads: true }),
    ),
  ).toMatchObject({ enhanced_conversions_for_leads: true, status: 'connected' });
  // B leaves the setting at its default (off).
  expect(await connect(tenants.b, googleAdsSettings({ customer_id: CUSTOMER.b }))).toMatchObject({
    enhanced_conversions_for_leads: false,
  });
  await connect(
    tenants.c,
    googleAdsSettings({ customer_id: CUSTOMER.c, enhanced_conversions_for_leads: true }),
  );
  for (const [tenant, body] of [
    [tenants.a, { pixel_id: PIXEL.a, access_token: META_TOKEN }],
    [tenants.b, { pixel_id: PIXEL.b, access_token: META_TOKEN, match_by_user_data: false }],
  ] as const) {
    const res = await call('PUT', '/api/v1/integrations/meta', { token: tenant.admin, body });
    expect(res.status).toBe(200);
    expect(res.body.match_by_user_data).toBe(!('match_by_user_data' in body));
  }
});

afterAll(async () => {
  await stack.stop();
  await google.close();
  await meta.close();
  forgetFakeGoogle();
  delete process.env.META_GRAPH_BASE_URL;
});

/**
 * A signed Shopify `orders/paid` whose buyer came back without a click id (the landing page has
 * none), consented in the cookie banner, with e-mail, phone, browser and landing page; or, with
 * `click`, one that carries a gclid.
 */
async function paidOrder(key: string, id: number, email: string, click?: string) {
  const at = new Date(Date.now() - 3600_000).toISOString();
  const landing = `https://${shopOf(key)}/products/lamp${click ? `?gclid=${click}` : ''}`;
  const body = JSON.stringify(
    paidShopifyOrder(
      {
        id,
        email,
        at,
        landingSite: click ? `/products/lamp?gclid=${click}` : '/products/lamp',
        notes: [...bannerConsent(at), { name: 'landing_page', value: landing }],
      },
      { client_details: { user_agent: UA, browser_ip: '198.51.100.23' } },
    ),
  );
  const res = await deliverShopify(stack.url, body, {
    topic: 'orders/paid',
    shop: shopOf(key),
    secret: SHOP_SECRET,
    webhookId: `udm-${id}`,
  });
  expect(res.status).toBe(202);
}

/** The tenant's conversions of an order, once `done` says they are there. */
const conversionsOf = (tenant: TestTenant, orderId: number, done: (rows: Row[]) => boolean) =>
  eventually(async () => {
    const res = await call('GET', '/api/v1/conversions?limit=100', { token: tenant.viewer });
    if (res.status !== 200) return undefined;
    const rows = (res.body.items as Row[]).filter((c) => c.order_id === String(orderId));
    return done(rows) ? rows : undefined;
  }, `the conversions of order ${orderId}`);

const leadOf = (tenant: TestTenant, email: string, done: (lead: Row) => boolean) =>
  eventually(async () => {
    const res = await call('GET', '/api/v1/leads?limit=100', { token: tenant.viewer });
    const found = (res.body.items as Row[] | undefined)?.find((l) => l.email === email);
    return found && done(found) ? found : undefined;
  }, `the lead ${email}`);

type Ingested = { events?: Array<Record<string, unknown>>; destinations?: Array<Row> };
/** Data Manager requests to an account, whatever Google answered. */
const ingestsTo = (customer: string) =>
  google.ingests.filter(
    (i) =>
      ((i.body as Ingested).destinations?.[0]?.operatingAccount as { accountId?: string } | undefined)
        ?.accountId === customer,
  );

describe('a consented order without a click id', () => {
  it('reaches Google as a userData-only event and Meta matched on user data; match is user_data', async () => {
    await paidOrder('a', 9101, 'Jane.Doe+lamp@GMail.com');
    const rows = await conversionsOf(
      tenants.a,
      9101,
      (r) => r.filter((c) => c.status === 'uploaded').length === 2,
    );
    expect(rows.map((c) => [c.platform, c.match, c.status]).sort()).toEqual([
      ['google_ads', 'user_data', 'uploaded'],
      ['meta', 'user_data', 'uploaded'],
    ]);
    // Google: accepted by the fake, which checks the body against the Data Manager protos.
    const accepted = ingestsTo(CUSTOMER.a).filter((i) => i.status === 200);
    const event = accepted
      .flatMap((i) => (i.body as Ingested).events ?? [])
      .find((e) => e.transactionId === '9101');
    // Spelled out in full on purpose, as the oracle of the event Google receives.
    expect(event).toEqual({
      transactionId: '9101',
      eventTimestamp: expect.any(String),
      eventSource: 'WEB',
      conversionValue: 149.9,
      currency: 'EUR',
      consent: { adUserData: 'CONSENT_GRANTED' },
      userData: {
        // https://developers.google.com/data-manager/api/devguides/concepts/formatting
        userIdentifiers: [{ emailAddress: sha('janedoe@gmail.com') }, { phoneNumber: sha('+4915123456789') }],
      },
    });
    // Meta: the same person matched on hashed e-mail, phone and lead id, with IP and browser.
    const lead = await leadOf(tenants.a, 'jane.doe+lamp@gmail.com', () => true);
    // Every connected platform got its conversion: nothing to explain.
    expect(lead.conversions_not_planned).toBeUndefined();
    const metaRow = rows.find((c) => c.platform === 'meta') as Row;
    const sent = meta.received.find((r) => r.event.event_id === metaRow.id);
    expect(sent?.pixelId).toBe(PIXEL.a);
    expect(sent?.event.user_data).toEqual({
      em: [sha('jane.doe+lamp@gmail.com')],
      ph: [sha('4915123456789')],
      // The lead id, and the shop's own customer id the lead carries.
      external_id: [sha(metaRow.lead_id as string), sha(lead.external_id as string)],
      client_ip_address: '198.51.100.23',
      client_user_agent: UA,
    });
    expect(sent?.event.action_source).toBe('website');
  });

  it('an order with a gclid keeps match click_id for Google, and user data for Meta', async () => {
    await paidOrder('a', 9102, 'clicker@example.com', gclid(9102));
    const rows = await conversionsOf(
      tenants.a,
      9102,
      (r) => r.filter((c) => c.status === 'uploaded').length === 2,
    );
    expect(rows.map((c) => [c.platform, c.match]).sort()).toEqual([
      ['google_ads', 'click_id'],
      ['meta', 'user_data'],
    ]);
    const single = await call('GET', `/api/v1/conversions/${(rows[0] as Row).id}`, {
      token: tenants.a.viewer,
    });
    expect(single.body.match).toBe((rows[0] as Row).match);
  });

  it('is sent nowhere when neither integration allows it, and the lead says why', async () => {
    await paidOrder('b', 9201, 'nomatch@example.com');
    const lead = await leadOf(tenants.b, 'nomatch@example.com', (l) =>
      Array.isArray(l.conversions_not_planned),
    );
    expect(lead.conversions_not_planned).toEqual([
      { platform: 'google_ads', reason: expect.stringContaining('enhanced_conversions_for_leads') },
      { platform: 'meta', reason: expect.stringContaining('match_by_user_data') },
    ]);
    const res = await call('GET', '/api/v1/conversions?limit=100', { token: tenants.b.viewer });
    expect((res.body.items as Row[]).filter((c) => c.order_id === '9201')).toEqual([]);
    expect(ingestsTo(CUSTOMER.b)).toEqual([]);
    expect(meta.received.filter((r) => r.pixelId === PIXEL.b)).toEqual([]);
    // The same buyer's next order carries a gclid: Google gets it, and only Meta's note is left.
    await paidOrder('b', 9202, 'nomatch@example.com', gclid(9202));
    const [google] = await conversionsOf(tenants.b, 9202, (r) => r.length === 1);
    expect(google).toMatchObject({ platform: 'google_ads', match: 'click_id' });
    const again = await leadOf(
      tenants.b,
      'nomatch@example.com',
      (l) => (l.conversions_not_planned as Row[]).length === 1,
    );
    expect(again.conversions_not_planned).toEqual([
      { platform: 'meta', reason: expect.stringContaining('match_by_user_data') },
    ]);
  });
});

describe('a lead won through the API without a click id', () => {
  const capture = async (tenant: TestTenant, email: string) => {
    const res = await call('POST', '/api/v1/leads', {
      token: tenant.member,
      body: {
        email,
        phone: '+1 (650) 555-1212',
        value: 80,
        currency: 'USD',
        consent: { status: 'granted', method: 'form_checkbox', timestamp: new Date().toISOString() },
      },
    });
    expect(res.status).toBe(201);
    return (res.body.lead_ids as string[])[0] as string;
  };

  it('PATCH won queues user_data conversions where allowed, and says why elsewhere', async () => {
    const id = await capture(tenants.a, 'api-lead@example.com');
    const won = await call('PATCH', `/api/v1/leads/${id}`, {
      token: tenants.a.member,
      body: { status: 'won' },
    });
    expect(won.status).toBe(200);
    expect((won.body.conversions_queued as Row[]).map((c) => c.platform)).toEqual(['google_ads', 'meta']);
    expect(won.body.conversions_not_planned).toBeUndefined();
    const rows = await eventually(async () => {
      const res = await call('GET', '/api/v1/conversions?limit=100', { token: tenants.a.viewer });
      const mine = (res.body.items as Row[]).filter((c) => c.lead_id === id);
      return mine.length === 2 && mine.every((c) => c.status === 'uploaded') ? mine : undefined;
    }, 'the API lead to reach both platforms');
    expect(rows.map((c) => c.match)).toEqual(['user_data', 'user_data']);

    const other = await capture(tenants.b, 'api-lead-b@example.com');
    const refused = await call('PATCH', `/api/v1/leads/${other}`, {
      token: tenants.b.member,
      body: { status: 'won' },
    });
    expect(refused.body.conversions_queued).toEqual([]);
    expect((refused.body.conversions_not_planned as Row[]).map((n) => n.platform)).toEqual([
      'google_ads',
      'meta',
    ]);
    const read = await call('GET', `/api/v1/leads/${other}`, { token: tenants.b.viewer });
    expect(read.body.conversions_not_planned).toEqual(refused.body.conversions_not_planned);
  });

  it('POST /api/v1/conversions {lead_id} queues the same, or answers 400 with the reason per platform', async () => {
    const id = await capture(tenants.a, 'api-conversion@example.com');
    const queued = await call('POST', '/api/v1/conversions', {
      token: tenants.a.member,
      body: { lead_id: id },
    });
    expect(queued.status).toBe(202);
    const other = await capture(tenants.b, 'api-conversion-b@example.com');
    const refused = await call('POST', '/api/v1/conversions', {
      token: tenants.b.member,
      body: { lead_id: other },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([
      { path: 'lead_id', message: 'The lead has no click id of an ad platform' },
      {
        path: 'lead_id',
        message: expect.stringMatching(/^google_ads: No click id, .*enhanced_conversions_for_leads/),
      },
      { path: 'lead_id', message: expect.stringMatching(/^meta: No click id, .*match_by_user_data/) },
    ]);
  });
});

describe("Google's refusal: the account is not enabled for enhanced conversions for leads", () => {
  it('parks the Google conversions, flags the integration with the reason and an alarm metric; saving again sends them', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    google.commands.userDataRefusals.set(CUSTOMER.c, 'not_enabled');
    await paidOrder('c', 9301, 'refused@example.com');
    const [waiting] = await conversionsOf(
      tenants.c,
      9301,
      (r) => r.length === 1 && typeof r[0]?.last_error === 'string',
    );
    expect(waiting).toMatchObject({ platform: 'google_ads', match: 'user_data', status: 'queued' });
    expect(waiting?.last_error).toContain('DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS');
    const listed = await eventually(async () => {
      const res = await call('GET', '/api/v1/integrations', { token: tenants.c.viewer });
      const item = (res.body.items as Row[]).find((i) => i.kind === 'google_ads');
      return item?.status === 'needs_configuration' ? item : undefined;
    }, 'the integration to need configuration');
    expect(listed.status_reason).toContain('not enabled for enhanced conversions for leads');
    await eventually(
      async () => (emitted.mock.calls.some((x) => x[0] === 'GoogleAdsNeedsConfiguration') ? true : undefined),
      'the GoogleAdsNeedsConfiguration metric',
    );
    // Nothing dead-lettered.
    const dlq = await call('GET', '/api/v1/admin/dlq?queue=conversions', {
      token: await tokenFor('platform', 'admin'),
    });
    expect(dlq.status).toBe(200);
    expect(dlq.body.items).toEqual([]);
    // The account is fixed; saving the integration again queues the waiting conversion.
    google.commands.userDataRefusals.delete(CUSTOMER.c);
    const put = await call('PUT', '/api/v1/integrations/google-ads', {
      token: tenants.c.admin,
      body: googleAdsSettings({ customer_id: CUSTOMER.c, enhanced_conversions_for_leads: true }),
    });
    expect(put.body.status).toBe('connected');
    const [uploaded] = await conversionsOf(tenants.c, 9301, (r) => r[0]?.status === 'uploaded');
    expect(uploaded?.match).toBe('user_data');
    expect(ingestsTo(CUSTOMER.c).map((i) => i.status)).toEqual([400, 200]);
  });
});

describe('connecting Google Ads again through OAuth after the refusal', () => {
  it('queues the conversions that waited for the account', async () => {
    google.commands.userDataRefusals.set(CUSTOMER.c, 'terms_not_signed');
    await paidOrder('c', 9311, 'terms@example.com');
    const [waiting] = await conversionsOf(
      tenants.c,
      9311,
      (r) => typeof r[0]?.last_error === 'string' && r[0].last_error.includes('TERMS_NOT_SIGNED'),
    );
    expect(waiting?.status).toBe('queued');
    google.commands.userDataRefusals.delete(CUSTOMER.c);
    const start = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start`, {
      headers: { Authorization: `Bearer ${tenants.c.admin}` },
      redirect: 'manual',
    });
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const done = await call(
      'GET',
      `/api/v1/integrations/google-ads/oauth/callback?code=good-udm&state=${state}`,
    );
    expect(done.body).toMatchObject({ status: 'connected', enhanced_conversions_for_leads: true });
    const [uploaded] = await conversionsOf(tenants.c, 9311, (r) => r[0]?.status === 'uploaded');
    expect(uploaded?.match).toBe('user_data');
  });
});

describe('GET /api/v1/integrations', () => {
  it("shows each connection's status and reason, secrets left out; a viewer may read it; tenants see only their own", async () => {
    // D connected before Google asked for the Data Manager permission: its first upload says so.
    google.commands.adwordsOnlyRefreshTokens.add(ADWORDS_ONLY_TOKEN);
    const put = await call('PUT', '/api/v1/integrations/google-ads', {
      token: tenants.d.admin,
      body: googleAdsSettings({ customer_id: CUSTOMER.d, refresh_token: ADWORDS_ONLY_TOKEN }),
    });
    expect(put.status).toBe(200);
    await paidOrder('d', 9401, 'reconnect@example.com', gclid(9401));
    const items = await eventually(async () => {
      const res = await call('GET', '/api/v1/integrations', { token: tenants.d.viewer });
      const listed = res.body.items as Row[];
      return listed.find((i) => i.kind === 'google_ads')?.status === 'needs_reconnect' ? listed : undefined;
    }, 'the integration to need a reconnect');
    expect(items.map((i) => [i.kind, i.status])).toEqual([
      ['google_ads', 'needs_reconnect'],
      ['shopify', 'connected'],
    ]);
    expect((items[0] as Row).status_reason).toContain('connect it again');
    expect(items[1]).toEqual({
      kind: 'shopify',
      status: 'connected',
      updated_at: expect.any(String),
      shop_domain: shopOf('d'),
    });
    const text = JSON.stringify(items);
    for (const secret of [ADWORDS_ONLY_TOKEN, 'gads-client-secret', SHOP_SECRET, 'sealed'])
      expect(text).not.toContain(secret);

    const a = await call('GET', '/api/v1/integrations', { token: tenants.a.viewer });
    expect((a.body.items as Row[]).map((i) => [i.kind, i.status])).toEqual([
      ['google_ads', 'connected'],
      ['meta', 'connected'],
      ['shopify', 'connected'],
    ]);
    expect((a.body.items as Row[])[1]).toMatchObject({ pixel_id: PIXEL.a, match_by_user_data: true });
    expect(JSON.stringify(a.body)).not.toContain(META_TOKEN);
    expect((await call('GET', '/api/v1/integrations')).status).toBe(401);
  });
});
