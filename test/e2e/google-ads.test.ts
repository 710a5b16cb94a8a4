import { metrics } from '../../functions/shared/platform/observability';
import { GoogleAdsIntegrationStore } from '../../functions/shared/providers/google-ads/integration';
import type { FakeGoogleAds } from '../../local/fake-google-ads';
import type { LocalStack } from '../../local/stack';
import { gclid } from '../support/click-ids';
import {
  CLIENT_SECRET,
  expectUploadedWithOwnToken,
  conversionForOrder as findConversion,
  firstUpload,
  googleAdsSettings,
  paidOrder as placePaidOrder,
  processedAt,
  REFRESH_TOKEN,
  type Row,
  SHOP_SECRET,
  settledOrders,
  sharedTransportScenarios,
  useGoogleStack,
} from '../support/google-ads-e2e';
import { sha } from '../support/hashing';
import { invalidFields, request } from '../support/http';
import { eventually } from '../support/local-stack';
import { connectShopify, deliverShopify } from '../support/shopify';
import { createTenant, type TestTenant } from '../support/tenants';

const SHOP_E = 'gads-e.myshopify.com';
const ADWORDS_ONLY_TOKEN = '1//gads-refresh-token-e-adwords-only';

/** The stack with a fake Google, uploading through the Data Manager API; its parts by name below. */
const google = useGoogleStack('gads', { ADJUSTMENT_WAIT_SECONDS: '1' });
let stack: LocalStack;
let fake: FakeGoogleAds;
let a: TestTenant;
let c: TestTenant;
/** Tenant E, on a store of its own (`SHOP_E`); `shopA` is the store of A. */
let e: TestTenant;
let shopA: string;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

async function shopifyWebhook(shop: string, topic: string, deliveryId: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const res = await deliverShopify(stack.url, body, {
    topic,
    shop,
    secret: SHOP_SECRET,
    webhookId: deliveryId,
  });
  expect({ status: res.status, body: res.status === 202 ? undefined : res.body }).toEqual({
    status: 202,
    body: undefined,
  });
}

const refund = (shop: string, refundId: number, orderId: number, amount: string) =>
  shopifyWebhook(shop, 'refunds/create', `refund-${refundId}`, {
    id: refundId,
    order_id: orderId,
    created_at: new Date().toISOString(),
    transactions: [{ id: refundId + 1, kind: 'refund', status: 'success', amount, currency: 'EUR' }],
  });

const paidOrder = (shop: string, id: number, email: string, at: string) =>
  placePaidOrder(stack.url, shop, id, email, at);
const conversionForOrder = (tenant: TestTenant, orderId: number | string, statuses: string[]) =>
  findConversion(stack.url, tenant, orderId, statuses);

type IngestBody = { events?: Array<{ adIdentifiers?: { gclid?: string } }> };
/** Every events:ingest request that carried this click id, whatever Google answered. */
const ingestsWith = (click: string) =>
  fake.ingests.filter((u) =>
    ((u.body as IngestBody).events ?? []).some((e) => e.adIdentifiers?.gclid === click),
  );
/** The requests Google accepted with this click id. */
const acceptedWith = (click: string) => ingestsWith(click).filter((u) => u.status === 200);

beforeAll(async () => {
  ({ stack, fake } = google);
  ({ a, c } = google.tenants);
  shopA = google.shops.a;
  e = await createTenant(stack.url, 'Agency E');
  expect((await connectShopify(stack.url, e, SHOP_E, SHOP_SECRET)).status).toBe(200);
});

describe('connecting Google Ads', () => {
  it('stores normalised ids, seals the secrets and never returns them; admins only; 400 with details', async () => {
    const res = await call('PUT', '/api/v1/integrations/google-ads', {
      token: a.admin,
      body: googleAdsSettings(),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      customer_id: '1234567890',
      conversion_action_id: '555000111',
      login_customer_id: '9998887777',
      client_id: 'client-id.apps.googleusercontent.com',
      currency: 'EUR',
      time_zone: 'Europe/Berlin',
      enhanced_conversions_for_leads: false,
      status: 'connected',
      updated_at: expect.any(String),
    });
    const stored = await new GoogleAdsIntegrationStore().get(a.id);
    expect(JSON.stringify(stored)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(stored)).not.toContain(REFRESH_TOKEN);
    expect(stored?.sealed_refresh_token).toEqual(expect.any(String));

    const member = await call('PUT', '/api/v1/integrations/google-ads', {
      token: a.member,
      body: googleAdsSettings(),
    });
    expect(member.status).toBe(403);
    const bad = await call('PUT', '/api/v1/integrations/google-ads', {
      token: a.admin,
      body: googleAdsSettings({ customer_id: '12-34', time_zone: 'Nowhere/Else', refresh_token: '' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(invalidFields(bad)).toEqual(['customer_id', 'refresh_token', 'time_zone']);
  });
});

describe('OAuth connect flow', () => {
  it('redirects with a signed single-use state bound to tenant and user; the callback stores the new refresh token', async () => {
    const start = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start`, {
      headers: { Authorization: `Bearer ${a.admin}` },
      redirect: 'manual',
    });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: 'client-id.apps.googleusercontent.com',
      redirect_uri: `${stack.url}/api/v1/integrations/google-ads/oauth/callback`,
      response_type: 'code',
      scope: 'https://www.googleapis.com/auth/datamanager https://www.googleapis.com/auth/adwords',
      access_type: 'offline',
    });
    const state = location.searchParams.get('state') ?? '';
    expect(state).not.toContain(a.id);
    const member = await call('GET', '/api/v1/integrations/google-ads/oauth/start', { token: a.member });
    expect(member.status).toBe(403);

    const tampered = await call(
      'GET',
      `/api/v1/integrations/google-ads/oauth/callback?code=good-1&state=${state.slice(0, -2)}AA`,
    );
    expect(tampered.status).toBe(400);
    const bad = await call(
      'GET',
      `/api/v1/integrations/google-ads/oauth/callback?code=bad-code&state=${state}`,
    );
    expect(bad.status).toBe(400);
    // The state was consumed by the failed exchange: a new one is needed.
    const again = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start`, {
      headers: { Authorization: `Bearer ${a.admin}` },
      redirect: 'manual',
    });
    const fresh = new URL(again.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const done = await call(
      'GET',
      `/api/v1/integrations/google-ads/oauth/callback?code=good-abc&state=${fresh}`,
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ customer_id: '1234567890', status: 'connected' });
    expect(JSON.stringify(done.body)).not.toContain('refresh');
    const replay = await call(
      'GET',
      `/api/v1/integrations/google-ads/oauth/callback?code=good-abc&state=${fresh}`,
    );
    expect(replay.status).toBe(400);
    const exchange = fake.tokenRequests.find(
      (t) => t.form.grant_type === 'authorization_code' && t.status === 200,
    );
    expect(exchange?.form).toMatchObject({ code: 'good-abc', client_secret: CLIENT_SECRET });
    // Uploads now use the refresh token from the code.
    await paidOrder(shopA, 7601, 'oauth@example.com', processedAt());
    await conversionForOrder(a, 7601, ['uploaded']);
    expect(fake.tokenRequests.some((t) => t.form.refresh_token === '1//refresh-for-good-abc')).toBe(true);
    const restored = await call('PUT', '/api/v1/integrations/google-ads', {
      token: a.admin,
      body: googleAdsSettings(),
    });
    expect(restored.status).toBe(200);
  });
});

describe('OAuth connect flow against the fake consent screen (as GOOGLE_ADS_FAKE=1 npm start runs it)', () => {
  afterEach(() => {
    delete process.env.GOOGLE_OAUTH_AUTH_URL;
  });

  it('start → consent screen → callback connects with the code', async () => {
    process.env.GOOGLE_OAUTH_AUTH_URL = `${fake.baseUrl}/auth`;
    const start = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start`, {
      headers: { Authorization: `Bearer ${c.admin}` },
      redirect: 'manual',
    });
    expect(start.status).toBe(404);
    expect(
      (await call('PUT', '/api/v1/integrations/google-ads', { token: c.admin, body: googleAdsSettings() }))
        .status,
    ).toBe(200);
    const again = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start`, {
      headers: { Authorization: `Bearer ${c.admin}` },
      redirect: 'manual',
    });
    const consent = await fetch(again.headers.get('location') ?? '', { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = new URL(consent.headers.get('location') ?? '');
    expect(callback.pathname).toBe('/api/v1/integrations/google-ads/oauth/callback');
    const done = await call('GET', `${callback.pathname}${callback.search}`);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('connected');
    const refused = await call('GET', '/api/v1/integrations/google-ads/oauth/callback?error=access_denied');
    expect(refused.status).toBe(400);
    const noState = await fetch(`${fake.baseUrl}/auth?redirect_uri=${encodeURIComponent(stack.url)}`, {
      redirect: 'manual',
    });
    expect(noState.status).toBe(400);
  });
});

describe('uploading through the Data Manager API (the default transport)', () => {
  it('a Shopify orders/paid webhook with a gclid makes exactly one events:ingest request whose body is exactly right; its status is read and recorded', async () => {
    const { at, conversion, request: ingest } = await firstUpload(google, ingestsWith);
    expect(ingest?.headers['developer-token']).toBeUndefined();
    expect(ingest?.headers['login-customer-id']).toBeUndefined();
    expect(ingest?.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    // Spelled out in full on purpose, as the oracle of what Google receives over HTTP; the hashes
    // computed here, independently: trimmed, lower-cased, gmail dots dropped; E.164 phone.
    expect(ingest?.body).toEqual({
      destinations: [
        {
          operatingAccount: { accountType: 'GOOGLE_ADS', accountId: '1234567890' },
          loginAccount: { accountType: 'GOOGLE_ADS', accountId: '9998887777' },
          productDestinationId: '555000111',
        },
      ],
      events: [
        {
          adIdentifiers: { gclid: gclid(7001) },
          transactionId: '7001',
          eventTimestamp: new Date(at).toISOString(),
          eventSource: 'WEB',
          conversionValue: 149.9,
          currency: 'EUR',
          consent: { adUserData: 'CONSENT_GRANTED' },
          userData: {
            userIdentifiers: [
              { emailAddress: sha('zoebuyer@gmail.com') },
              { phoneNumber: sha('+4915123456789') },
            ],
          },
        },
      ],
      encoding: 'HEX',
    });
    expect(ingest?.status).toBe(200);
    // The request status is read later and recorded on the conversion.
    const read = await eventually(async () => {
      const res = await call('GET', `/api/v1/conversions/${conversion.id}`, { token: a.viewer });
      return res.body.processing ? res : undefined;
    }, 'the processing outcome recorded');
    expect(read.body).toMatchObject({
      status: 'uploaded',
      google_request_id: ingest?.requestId,
      uploaded_at: expect.any(String),
      processing: { state: 'succeeded', errors: {}, request_id: ingest?.requestId, records: 1 },
    });
    expect(fake.statusReads.some((r) => r.requestId === ingest?.requestId && r.status === 200)).toBe(true);
    expect(fake.uploads).toHaveLength(0);
    await expectUploadedWithOwnToken(google, conversion);
  });

  it('a batch with two bad events: Google rejects it whole, those two fail with reasons, the rest are accepted once', async () => {
    const orders = [7101, 7102, 7103, 7104, 7105];
    fake.commands.badEvents.set(gclid(7102), 'INVALID_FORMAT');
    fake.commands.unlocatedBadEvents.add(gclid(7104));
    const results = await settledOrders(google, orders);
    expect(results.map((r) => r.status)).toEqual(['uploaded', 'failed', 'uploaded', 'failed', 'uploaded']);
    expect(results[1]?.last_error).toBe(
      'Google rejected the conversion: Google could not read a field of the conversion (INVALID_FORMAT)',
    );
    expect(results[3]?.last_error).toBe(
      'Google rejected the conversion: There was a problem with the request.',
    );
    for (const id of [7101, 7103, 7105]) expect(acceptedWith(gclid(id))).toHaveLength(1);
    for (const id of [7102, 7104]) expect(acceptedWith(gclid(id))).toHaveLength(0);
    // Every request Google rejected whole carried one of the two bad events.
    const bad = new Set([gclid(7102), gclid(7104)]);
    for (const rejected of fake.ingests.filter((u) => u.status === 400))
      expect(
        ((rejected.body as IngestBody).events ?? []).some((x) => bad.has(x.adIdentifiers?.gclid ?? '')),
      ).toBe(true);
  });

  it("Google's field warnings: the conversion counts, and shows the field Google could not use", async () => {
    fake.commands.fieldWarnings.set(gclid(7151), {
      reason: 'WARNING_REASON_GENERIC',
      field: 'conversion_value',
    });
    await paidOrder(shopA, 7151, 'warned.buyer@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7151, ['uploaded', 'failed']);
    expect(conversion).toMatchObject({
      status: 'uploaded',
      field_warnings: [{ reason: 'WARNING_REASON_GENERIC', field: 'conversion_value' }],
    });
    const read = await call('GET', `/api/v1/conversions/${conversion.id}`, { token: a.viewer });
    expect(read.body.field_warnings).toEqual([
      { reason: 'WARNING_REASON_GENERIC', field: 'conversion_value' },
    ]);
    expect(acceptedWith(gclid(7151))).toHaveLength(1);
  });

  sharedTransportScenarios(google, ingestsWith);
});

type AdjustmentBody = {
  conversionAdjustments?: Array<{ orderId?: string; adjustmentType?: string; restatementValue?: unknown }>;
};
const adjustmentsOf = (orderId: string) =>
  fake.adjustments.flatMap((r) =>
    ((r.body as AdjustmentBody).conversionAdjustments ?? [])
      .filter((x) => x.orderId === orderId)
      .map((x) => ({ ...x, status: r.status })),
  );
type Event = { transactionId?: string; conversionValue?: number; lastUpdatedTimestamp?: string };
const acceptedEventsOf = (transactionId: string) =>
  fake.ingests
    .filter((u) => u.status === 200)
    .flatMap((u) =>
      ((u.body as { events?: Event[] }).events ?? []).filter((x) => x.transactionId === transactionId),
    );

async function adjustmentsOfConversion(tenant: TestTenant, id: string, count: number): Promise<Row[]> {
  return eventually(async () => {
    const res = await call('GET', `/api/v1/conversions/${id}`, { token: tenant.viewer });
    const list = (res.body.adjustments ?? []) as Row[];
    return list.length >= count && list.every((x) => x.status !== 'queued') ? list : undefined;
  }, `${count} settled adjustment(s) of ${id}`);
}

describe('conversions by API', () => {
  it('by lead: 202 queued, uploaded with the lead consent; the same order again answers 200 with the same conversion', async () => {
    const clickTime = new Date(Date.now() - 2 * 3600_000).toISOString();
    const lead = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: {
        email: 'crm-buyer@example.com',
        gclid: gclid(9002),
        click_time: clickTime,
        consent: { status: 'granted', method: 'form_checkbox', timestamp: clickTime },
      },
    });
    expect(lead.status).toBe(201);
    const leadId = (lead.body.lead_ids as string[])[0];
    expect((await call('GET', `/api/v1/leads/${leadId}`, { token: a.viewer })).body.click_time).toBe(
      clickTime,
    );
    const body = { lead_id: leadId, order_id: 'crm-9002', value: 50, currency: 'EUR' };
    const created = await call('POST', '/api/v1/conversions', { token: a.member, body });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^cnv_/),
      status: 'queued',
      platform: 'google_ads',
    });
    const again = await call('POST', '/api/v1/conversions', { token: a.member, body });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    const viewer = await call('POST', '/api/v1/conversions', { token: a.viewer, body });
    expect(viewer.status).toBe(403);
    await conversionForOrder(a, 'crm-9002', ['uploaded']);
    expect(acceptedEventsOf('crm-9002')).toEqual([
      expect.objectContaining({
        adIdentifiers: { gclid: gclid(9002) },
        conversionValue: 50,
        currency: 'EUR',
        eventSource: 'OTHER',
        consent: { adUserData: 'CONSENT_GRANTED' },
        userData: { userIdentifiers: [{ emailAddress: sha('crm-buyer@example.com') }] },
      }),
    ]);
    const unknown = await call('POST', '/api/v1/conversions', {
      token: a.member,
      body: { lead_id: 'lead_nope' },
    });
    expect(unknown.status).toBe(404);
  });

  it('by raw click id: its own consent, nothing personal; repeat 200; too old and before the click are 400 with the exact message', async () => {
    const at = new Date(Date.now() - 3600_000).toISOString();
    const body = {
      gclid: gclid(9003),
      conversion_time: at,
      value: 20,
      currency: 'USD',
      order_id: 'crm-9003',
      consent: { ad_user_data: 'granted' },
    };
    const created = await call('POST', '/api/v1/conversions', { token: a.member, body });
    expect(created.status).toBe(202);
    const again = await call('POST', '/api/v1/conversions', { token: a.member, body });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, order_id: 'crm-9003', platform: 'google_ads' });
    const old = await call('POST', '/api/v1/conversions', {
      token: a.member,
      body: { gclid: gclid(9004), conversion_time: new Date(Date.now() - 91 * 86400_000).toISOString() },
    });
    expect(old.status).toBe(400);
    expect(old.body).toMatchObject({
      error: 'validation_failed',
      message: 'Conversion is too old (must be within 90 days)',
    });
    const beforeClick = await call('POST', '/api/v1/conversions', {
      token: a.member,
      body: { gclid: gclid(9004), conversion_time: at, click_time: new Date().toISOString() },
    });
    expect(beforeClick.status).toBe(400);
    expect(beforeClick.body.message).toBe('The conversion happened before the click');
    const two = await call('POST', '/api/v1/conversions', {
      token: a.member,
      body: { gclid: gclid(9004), gbraid: 'x'.repeat(30), conversion_time: at },
    });
    expect(two.status).toBe(400);
    const none = await call('POST', '/api/v1/conversions', { token: a.member, body: { value: 3 } });
    expect(none.status).toBe(400);
    await conversionForOrder(a, 'crm-9003', ['uploaded']);
    const [event] = acceptedEventsOf('crm-9003') as Array<Record<string, unknown>>;
    expect(event).toEqual({
      adIdentifiers: { gclid: gclid(9003) },
      transactionId: 'crm-9003',
      eventTimestamp: at,
      eventSource: 'OTHER',
      conversionValue: 20,
      currency: 'USD',
      consent: { adUserData: 'CONSENT_GRANTED' },
    });
  });
});

describe('adjustments', () => {
  it('a paid order uploaded, then refunded in full: one retraction', async () => {
    await paidOrder(shopA, 7810, 'refund-full@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7810, ['uploaded']);
    await refund(shopA, 99001, 7810, '149.90');
    const [adjustment] = await adjustmentsOfConversion(a, conversion.id as string, 1);
    expect(adjustment).toMatchObject({ type: 'retraction', status: 'applied', source: 'shopify' });
    expect(adjustmentsOf('7810')).toEqual([
      expect.objectContaining({ adjustmentType: 'RETRACTION', status: 200 }),
    ]);
    expect(adjustmentsOf('7810')[0]).not.toHaveProperty('restatementValue');
    expect(acceptedEventsOf('7810')).toHaveLength(1);
  });

  it('refunded in part: one restatement with the remaining value, through Data Manager with the same transactionId', async () => {
    await paidOrder(shopA, 7811, 'refund-part@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7811, ['uploaded']);
    await refund(shopA, 99002, 7811, '49.90');
    const [adjustment] = await adjustmentsOfConversion(a, conversion.id as string, 1);
    expect(adjustment).toMatchObject({ type: 'restatement', value: 100, currency: 'EUR', status: 'applied' });
    const events = acceptedEventsOf('7811');
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ conversionValue: 100, lastUpdatedTimestamp: expect.any(String) });
    expect(adjustmentsOf('7811')).toEqual([]);
  });

  it('by hand: restatement 202, the same again 200; another tenant gets 404; cancellation retracts; a second retraction counts as done', async () => {
    await paidOrder(shopA, 7812, 'by-hand@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7812, ['uploaded']);
    const path = `/api/v1/conversions/${conversion.id}/adjustments`;
    const restated = await call('POST', path, { token: a.member, body: { type: 'restatement', value: 80 } });
    expect(restated.status).toBe(202);
    expect(restated.body).toMatchObject({ type: 'restatement', value: 80, status: 'queued' });
    const again = await call('POST', path, { token: a.member, body: { type: 'restatement', value: 80 } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(restated.body.id);
    const other = await call('POST', path, { token: c.admin, body: { type: 'retraction' } });
    expect(other.status).toBe(404);
    expect(other.body.error).toBe('not_found');
    const invalid = await call('POST', path, { token: a.member, body: { type: 'restatement' } });
    expect(invalid.status).toBe(400);
    await adjustmentsOfConversion(a, conversion.id as string, 1);
    expect(acceptedEventsOf('7812').map((x) => x.conversionValue)).toEqual([149.9, 80]);

    await shopifyWebhook(shopA, 'orders/cancelled', 'cancel-7812', {
      id: 7812,
      cancelled_at: new Date().toISOString(),
    });
    await adjustmentsOfConversion(a, conversion.id as string, 2);
    const byHand = await call('POST', path, { token: a.member, body: { type: 'retraction' } });
    expect(byHand.status).toBe(202);
    const all = await adjustmentsOfConversion(a, conversion.id as string, 3);
    expect(all.map((x) => x.status)).toEqual(['applied', 'applied', 'applied']);
    expect(adjustmentsOf('7812').map((x) => x.adjustmentType)).toEqual(['RETRACTION', 'RETRACTION']);

    // A conversion not uploaded (C's account was disconnected above: it waits) cannot be adjusted.
    const waiting = await call('POST', '/api/v1/conversions', {
      token: c.member,
      body: { gclid: gclid(9005), conversion_time: processedAt(), order_id: 'crm-9005' },
    });
    expect(waiting.status).toBe(202);
    const early = await call('POST', `/api/v1/conversions/${waiting.body.id}/adjustments`, {
      token: c.member,
      body: { type: 'retraction' },
    });
    expect(early.status).toBe(409);
    expect(early.body.message).toBe('Only an uploaded conversion can be adjusted (this one is queued)');
  });
});

describe('connections without the Data Manager permission', () => {
  it('needs_reconnect: the conversion waits, queued, saying so; nothing is sent', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    fake.commands.adwordsOnlyRefreshTokens.add(ADWORDS_ONLY_TOKEN);
    const put = await call('PUT', '/api/v1/integrations/google-ads', {
      token: e.admin,
      body: googleAdsSettings({ refresh_token: ADWORDS_ONLY_TOKEN }),
    });
    expect(put.status).toBe(200);
    await paidOrder(SHOP_E, 7814, 'old-connection@example.com', processedAt());
    const integration = await eventually(async () => {
      const stored = await new GoogleAdsIntegrationStore().get(e.id);
      return stored?.status === 'needs_reconnect' ? stored : undefined;
    }, 'the integration to need a reconnect');
    expect(integration.status_reason).toContain('datamanager');
    const conversion = await eventually(async () => {
      const found = await conversionForOrder(e, 7814, ['queued']);
      return found.last_error ? found : undefined;
    }, 'the conversion to say why it waits');
    expect(conversion.last_error).toContain('connect it again');
    // Metrics are emitted once the whole batch is handled, after the integration changed.
    await eventually(
      async () =>
        emitted.mock.calls.some((x) => x[0] === 'GoogleAdsConfigurationError' && x[2] === 1)
          ? true
          : undefined,
      'the GoogleAdsConfigurationError metric',
    );
    expect(ingestsWith(gclid(7814))).toHaveLength(0);
  });
});
