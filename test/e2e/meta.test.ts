import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import type { Conversion } from '../../functions/shared/features/conversions/model';
import { openCredential } from '../../functions/shared/platform/crypto/credentials';
import { metrics } from '../../functions/shared/platform/observability';
import { MetaIntegrationStore } from '../../functions/shared/providers/meta/dynamo';
import { ACCESS_TOKEN_NAME } from '../../functions/shared/providers/meta/integration';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';
import type { LocalStack } from '../../local/stack';
import { sha } from '../support/hashing';
import { invalidFields, request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { bannerConsent, connectShopify, deliverShopify, paidShopifyOrder } from '../support/shopify';
import { createTenants, type TestTenant } from '../support/tenants';

const ACCESS_TOKEN = 'EAAB-meta-access-token-tenant-a-0001';
const TOKEN_C = 'EAAB-meta-access-token-tenant-c-0001';
const PIXEL_A = '1234567890';
const PIXEL_C = '2223334445';
const SHOP_A = 'meta-a.myshopify.com';
const SHOP_C = 'meta-c.myshopify.com';
const SHOP_SECRET = 'shopify-webhook-secret-meta-0123';
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15';
/** A real-looking fbclid with both cases (Meta's click id is case-sensitive). */
const fbclid = (n: number) => `IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjc${n}XyZ`;

let stack: LocalStack;
let fake: FakeMeta;
let a: TestTenant;
let b: TestTenant;
let c: TestTenant;
type Row = Record<string, unknown>;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

beforeAll(async () => {
  fake = await startFakeMeta();
  process.env.META_GRAPH_BASE_URL = fake.baseUrl;
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  stack = await startTestStack('meta', { retryDelaySeconds: 0 });
  [a, b, c] = await createTenants(stack.url, 'Meta Agency A', 'Meta Agency B', 'Meta Agency C');
  for (const [tenant, shop] of [
    [a, SHOP_A],
    [c, SHOP_C],
  ] as const) {
    expect((await connectShopify(stack.url, tenant, shop, SHOP_SECRET)).status).toBe(200);
  }
});

async function paidOrder(
  shop: string,
  id: number,
  email: string,
  options: { consent?: string; click?: string } = {},
) {
  const processedAt = new Date(Date.now() - 3600_000).toISOString();
  const click = options.click ?? fbclid(id);
  const body = JSON.stringify(
    paidShopifyOrder(
      {
        id,
        email,
        at: processedAt,
        landingSite: `/products/lamp?fbclid=${click}`,
        notes: [
          ...bannerConsent(processedAt, options.consent),
          { name: 'landing_page', value: `https://${shop}/products/lamp?fbclid=${click}` },
        ],
      },
      { client_details: { user_agent: UA, browser_ip: '198.51.100.23' } },
    ),
  );
  const res = await deliverShopify(stack.url, body, {
    topic: 'orders/paid',
    shop,
    secret: SHOP_SECRET,
    webhookId: `meta-${id}-${Math.random()}`,
  });
  expect(res.status).toBe(202);
}

const metaConversion = (tenant: TestTenant, orderId: string, statuses: string[]) =>
  eventually(
    async () => {
      const res = await call('GET', '/api/v1/conversions?limit=100', { token: tenant.viewer });
      const found = (res.body.items as Row[]).find((x) => x.order_id === orderId && x.platform === 'meta');
      return found && statuses.includes(found.status as string) ? found : undefined;
    },
    `Meta conversion of ${orderId} in ${statuses.join('|')}`,
  );

const eventsWithId = (id: string) => fake.received.filter((r) => r.event.event_id === id);

afterEach(() => fake.reset());

afterAll(async () => {
  await stack.stop();
  await fake.close();
  delete process.env.META_GRAPH_BASE_URL;
});

describe('connecting Meta', () => {
  it('stores the pixel, seals the token for the tenant and never returns it; admins only; 400 with details', async () => {
    const res = await call('PUT', '/api/v1/integrations/meta', {
      token: a.admin,
      body: {
        pixel_id: '1234567890',
        access_token: ACCESS_TOKEN,
        test_event_code: 'TEST4242',
        lead_events: true,
      },
    });
    expect(res.status).toBe(200);
    // Spelled out in full on purpose, as the oracle of the settings a tenant reads back.
    expect(res.body).toEqual({
      pixel_id: '1234567890',
      test_event_code: 'TEST4242',
      lead_events: true,
      limited_data_use: false,
      match_by_user_data: true,
      status: 'connected',
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain(ACCESS_TOKEN);

    const stored = await new MetaIntegrationStore().get(a.id);
    expect(JSON.stringify(stored)).not.toContain(ACCESS_TOKEN);
    const sealed = stored?.sealed_access_token as string;
    await expect(openCredential({ tenantId: a.id } as never, ACCESS_TOKEN_NAME, sealed)).resolves.toBe(
      ACCESS_TOKEN,
    );
    // Sealed for tenant A: another tenant's scope cannot open it.
    await expect(openCredential({ tenantId: b.id } as never, ACCESS_TOKEN_NAME, sealed)).rejects.toThrow();
    expect(await new MetaIntegrationStore().get(b.id)).toBeUndefined();

    const member = await call('PUT', '/api/v1/integrations/meta', {
      token: a.member,
      body: { pixel_id: '1234567890', access_token: ACCESS_TOKEN },
    });
    expect(member.status).toBe(403);
    const bad = await call('PUT', '/api/v1/integrations/meta', {
      token: a.admin,
      body: { pixel_id: 'px-1', access_token: 'short', lead_events: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    expect(invalidFields(bad)).toEqual(['access_token', 'lead_events', 'pixel_id']);
  });
});

describe('won leads and paid orders reach Meta', () => {
  beforeAll(async () => {
    for (const [tenant, pixel, token] of [
      [a, PIXEL_A, ACCESS_TOKEN],
      [c, PIXEL_C, TOKEN_C],
    ] as const) {
      const res = await call('PUT', '/api/v1/integrations/meta', {
        token: tenant.admin,
        body: { pixel_id: pixel, access_token: token },
      });
      expect(res.status).toBe(200);
    }
  });

  it('a Shopify paid order with an fbclid is exactly one valid Purchase; repeating the order sends nothing', async () => {
    await paidOrder(SHOP_A, 9101, 'Meta.Buyer@Example.com');
    const conversion = await metaConversion(a, '9101', ['uploaded']);
    const lead = (await call('GET', `/api/v1/leads/${conversion.lead_id}`, { token: a.viewer })).body;
    const [received, ...more] = eventsWithId(conversion.id as string);
    expect(more).toEqual([]);
    expect(received?.pixelId).toBe(PIXEL_A);
    const request = fake.requests.find(
      (r) => r.status === 200 && JSON.stringify(r.body).includes(conversion.id as string),
    );
    expect(request?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(request?.query).toBe('');
    // Every field checked against the lead and the conversion; both hashes computed here.
    expect(received?.event).toEqual({
      event_name: 'Purchase',
      event_time: Math.floor(Date.parse(conversion.conversion_time as string) / 1000),
      event_id: conversion.id,
      action_source: 'website',
      event_source_url: lead.landing_page,
      user_data: {
        em: [sha('meta.buyer@example.com')],
        ph: [sha('4915123456789')],
        // The lead's id, then the shop's customer id.
        external_id: [sha(lead.id as string), sha('shopify:10101')],
        client_ip_address: '198.51.100.23',
        client_user_agent: UA,
        fbc: `fb.1.${Date.parse(lead.created_at as string)}.${fbclid(9101)}`,
      },
      custom_data: { value: 149.9, currency: 'EUR', order_id: '9101' },
      data_processing_options: [],
    });
    expect(lead.landing_page).toBe(`https://${SHOP_A}/products/lamp?fbclid=${fbclid(9101)}`);

    await paidOrder(SHOP_A, 9101, 'Meta.Buyer@Example.com');
    await paidOrder(SHOP_A, 9102, 'marker@example.com');
    await metaConversion(a, '9102', ['uploaded']);
    expect(eventsWithId(conversion.id as string)).toHaveLength(1);
  });

  it('consent withdrawn sends nothing', async () => {
    const before = fake.received.length;
    await paidOrder(SHOP_A, 9201, 'withdrawn@example.com', { consent: 'withdrawn' });
    await paidOrder(SHOP_A, 9202, 'marker2@example.com');
    const marker = await metaConversion(a, '9202', ['uploaded']);
    expect(fake.received.slice(before).map((r) => r.event.event_id)).toEqual([marker.id]);
    const all = (await call('GET', '/api/v1/conversions?limit=100', { token: a.viewer })).body.items as Row[];
    expect(all.some((x) => x.order_id === '9201')).toBe(false);
  });

  it('a stale event is refused before sending with the exact message; the others in its batch go out', async () => {
    const store = new DynamoConversionStore();
    const now = Date.now();
    const queued = (id: string, hoursAgo: number): Conversion => ({
      id,
      platform: 'meta',
      status: 'queued',
      attempts: 0,
      order_id: `o-${id}`,
      conversion_time: new Date(now - hoursAgo * 3600_000).toISOString(),
      value: 5,
      currency: 'EUR',
      click_id_type: 'fbclid',
      click_id: fbclid(hoursAgo),
      event_source: 'other',
      created_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
    });
    const scope = { tenantId: a.id } as never;
    for (const conversion of [
      queued('cnv_stale8d', 8 * 24),
      queued('cnv_fresh1', 1),
      queued('cnv_fresh2', 2),
    ])
      await store.queue(scope, conversion);
    const stale = await eventually(async () => {
      const res = await call('GET', '/api/v1/conversions/cnv_stale8d', { token: a.viewer });
      return res.body.status === 'failed' ? res.body : undefined;
    }, 'the stale conversion failed');
    expect(stale.last_error).toBe('Conversion is too old (must be within 7 days)');
    for (const id of ['cnv_fresh1', 'cnv_fresh2'])
      await eventually(async () => (eventsWithId(id).length === 1 ? true : undefined), `${id} at Meta`);
    expect(eventsWithId('cnv_stale8d')).toEqual([]);
    expect(fake.requests.every((r) => JSON.stringify(r.body).includes('cnv_stale8d') === false)).toBe(true);
  });

  it('190 disconnects the tenant with the alarm metric, others go through; a new token sends what waited', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    fake.commands.revokedTokens.add(ACCESS_TOKEN);
    await paidOrder(SHOP_A, 9301, 'revoked@example.com');
    await paidOrder(SHOP_C, 9302, 'other-tenant@example.com');
    const other = await metaConversion(c, '9302', ['uploaded']);
    expect(eventsWithId(other.id as string)[0]?.pixelId).toBe(PIXEL_C);
    const stored = await eventually(async () => {
      const found = await new MetaIntegrationStore().get(a.id);
      return found?.status === 'disconnected' ? found : undefined;
    }, 'tenant A disconnected');
    expect(stored.status_reason).toMatch(/code 190/);
    await eventually(
      async () => (emitted.mock.calls.some(([name]) => name === 'MetaDisconnected') ? true : undefined),
      'the MetaDisconnected metric',
    );
    const waiting = await metaConversion(a, '9301', ['queued']);
    expect(waiting.last_error).toMatch(/access token/);
    expect(eventsWithId(waiting.id as string)).toEqual([]);
    emitted.mockRestore();

    const NEW_TOKEN = 'EAAB-meta-access-token-tenant-a-0002';
    const put = await call('PUT', '/api/v1/integrations/meta', {
      token: a.admin,
      body: { pixel_id: PIXEL_A, access_token: NEW_TOKEN },
    });
    expect(put.body.status).toBe('connected');
    await metaConversion(a, '9301', ['uploaded']);
    expect(eventsWithId(waiting.id as string)).toHaveLength(1);
    const carried = fake.requests.find(
      (r) => r.status === 200 && JSON.stringify(r.body).includes(waiting.id as string),
    );
    expect(carried?.headers.authorization).toBe(`Bearer ${NEW_TOKEN}`);
  });
});

describe('POST /api/v1/conversions by fbclid', () => {
  it('queues a Meta conversion (202), the same again is 200 with its id, too old is 400 with the exact message', async () => {
    const body = {
      fbclid: fbclid(77),
      conversion_time: new Date(Date.now() - 2 * 3600_000).toISOString(),
      value: 300,
      currency: 'EUR',
      order_id: 'crm-77',
    };
    const first = await call('POST', '/api/v1/conversions', { token: c.member, body });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'queued', platform: 'meta' });
    const again = await call('POST', '/api/v1/conversions', { token: c.member, body });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const old = await call('POST', '/api/v1/conversions', {
      token: c.member,
      body: {
        ...body,
        order_id: 'crm-78',
        conversion_time: new Date(Date.now() - 8 * 86_400_000).toISOString(),
      },
    });
    expect(old.status).toBe(400);
    expect(old.body.message).toBe('Conversion is too old (must be within 7 days)');
    expect(old.body.details).toEqual([
      { path: 'conversion_time', message: 'Conversion is too old (must be within 7 days)' },
    ]);
    const bad = await call('POST', '/api/v1/conversions', {
      token: c.member,
      body: { ...body, fbclid: 'no spaces allowed' },
    });
    expect(bad.status).toBe(400);

    await eventually(
      async () => (eventsWithId(first.body.id as string).length ? true : undefined),
      'at Meta',
    );
    const [event] = eventsWithId(first.body.id as string);
    expect(event?.pixelId).toBe(PIXEL_C);
    expect(event?.event).toMatchObject({
      event_name: 'Purchase',
      action_source: 'system_generated',
      user_data: { fbc: `fb.1.${Date.parse(body.conversion_time)}.${fbclid(77)}` },
      custom_data: { value: 300, currency: 'EUR', order_id: 'crm-77' },
    });
    // Another tenant neither sees it nor repeats it.
    expect((await call('GET', `/api/v1/conversions/${first.body.id}`, { token: a.viewer })).status).toBe(404);
    expect((await call('GET', `/api/v1/conversions/${first.body.id}`, { token: c.viewer })).status).toBe(200);
    const elsewhere = await call('POST', '/api/v1/conversions', { token: a.member, body });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body.id).not.toBe(first.body.id);
  });
});

describe('lead_events', () => {
  it('one Lead event per captured lead with an fbclid, none without', async () => {
    const put = await call('PUT', '/api/v1/integrations/meta', {
      token: b.admin,
      body: {
        pixel_id: '5556667778',
        access_token: 'EAAB-meta-access-token-tenant-b-0001',
        lead_events: true,
      },
    });
    expect(put.body.lead_events).toBe(true);
    const consent = { status: 'granted', method: 'form_checkbox' };
    const res = await call('POST', '/api/v1/leads', {
      token: b.member,
      body: [
        {
          email: 'with-click@example.com',
          fbclid: fbclid(5),
          landing_page: 'https://site.example/offer',
          client_user_agent: UA,
          consent,
        },
        { email: 'no-click@example.com', consent },
      ],
    });
    expect(res.status).toBe(201);
    const [withClick, withoutClick] = res.body.lead_ids as string[];
    const eventId = `cnv_${(withClick as string).slice('lead_'.length)}l`;
    await eventually(async () => (eventsWithId(eventId).length ? true : undefined), 'the Lead event');
    const lead = (await call('GET', `/api/v1/leads/${withClick}`, { token: b.viewer })).body;
    expect(eventsWithId(eventId)[0]).toMatchObject({
      pixelId: '5556667778',
      event: {
        event_name: 'Lead',
        event_id: eventId,
        event_time: Math.floor(Date.parse(lead.created_at as string) / 1000),
        action_source: 'website',
        event_source_url: 'https://site.example/offer',
        user_data: { em: [sha('with-click@example.com')], client_user_agent: UA },
      },
    });
    // The same lead captured again is not a second Lead event; a lead without fbclid is none.
    await call('POST', '/api/v1/leads', {
      token: b.member,
      body: { email: 'with-click@example.com', fbclid: fbclid(5), consent },
    });
    const conversions = (await call('GET', '/api/v1/conversions?limit=100', { token: b.viewer })).body
      .items as Row[];
    expect(conversions.filter((x) => x.lead_id === withClick)).toHaveLength(1);
    expect(conversions.filter((x) => x.lead_id === withoutClick)).toHaveLength(0);
  });
});
