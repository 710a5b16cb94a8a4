import { createHash, createHmac } from 'node:crypto';
import { googleDateTime } from '../../functions/shared/google-ads/datetime';
import { GoogleAdsIntegrationStore } from '../../functions/shared/google-ads/settings';
import { metrics } from '../../functions/shared/observability';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../lib/local/fake-google-ads';
import type { BatchReport } from '../../lib/local/poller';
import type { LocalStack } from '../../lib/local/stack';
import { gclid } from '../support/click-ids';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const SHOP_A = 'gapi-a.myshopify.com';
const SHOP_C = 'gapi-c.myshopify.com';
const SHOP_D = 'gapi-d.myshopify.com';
const SHOP_SECRET = 'shopify-webhook-secret-gads-0123';
const CLIENT_SECRET = 'gads-client-secret-4b1e';
const REFRESH_TOKEN = '1//gads-refresh-token-a-7c9d';
const REVOKED_TOKEN = '1//gads-refresh-token-c-revoked';
const REVOKED_TOKEN_D = '1//gads-refresh-token-d-revoked';

let stack: LocalStack;
let fake: FakeGoogleAds;
let a: TestTenant;
let c: TestTenant;
let d: TestTenant;
const reports: BatchReport[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

function googleAdsSettings(overrides: Record<string, unknown> = {}) {
  return {
    customer_id: '123-456-7890',
    conversion_action_id: '555000111',
    login_customer_id: '999-888-7777',
    client_id: 'client-id.apps.googleusercontent.com',
    client_secret: CLIENT_SECRET,
    refresh_token: REFRESH_TOKEN,
    currency: 'EUR',
    time_zone: 'Europe/Berlin',
    ...overrides,
  };
}

async function paidOrder(shop: string, id: number, email: string, processedAt: string) {
  const body = JSON.stringify({
    id,
    email,
    financial_status: 'paid',
    currency: 'EUR',
    total_price: '149.90',
    current_total_price: '149.90',
    processed_at: processedAt,
    landing_site: `/products/lamp?gclid=${gclid(id)}`,
    note_attributes: [
      { name: 'consent_status', value: 'granted' },
      { name: 'consent_method', value: 'cookie_banner' },
      { name: 'consent_timestamp', value: processedAt },
    ],
    customer: { id: id + 1000, email },
    billing_address: { country_code: 'DE', phone: '+49 151 23456789' },
  });
  const res = await fetch(`${stack.url}/api/v1/shopify/webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': 'orders/paid',
      'X-Shopify-Hmac-Sha256': createHmac('sha256', SHOP_SECRET).update(body, 'utf8').digest('base64'),
      'X-Shopify-Shop-Domain': shop,
      'X-Shopify-Webhook-Id': `gads-${id}`,
    },
    body,
  });
  expect(res.status).toBe(202);
}

type Row = Record<string, unknown>;

async function conversionForOrder(tenant: TestTenant, orderId: number, statuses: string[]): Promise<Row> {
  return eventually(
    async () => {
      const res = await call('GET', '/api/v1/conversions?limit=100', { token: tenant.viewer });
      // A refusal under load (503) is asked again, like any client would.
      if (res.status !== 200) return undefined;
      const found = (res.body.items as Row[]).find((c) => c.order_id === String(orderId));
      return found && statuses.includes(found.status as string) ? found : undefined;
    },
    `conversion of order ${orderId} in ${statuses.join('|')}`,
  );
}

const uploadsWith = (click: string) =>
  fake.uploads.filter((u) =>
    ((u.body as { conversions?: Array<{ gclid?: string }> }).conversions ?? []).some(
      (c) => c.gclid === click,
    ),
  );

const processedAt = () => new Date(Date.now() - 3600_000).toISOString();

beforeAll(async () => {
  fake = await startFakeGoogleAds();
  process.env.GOOGLE_ADS_API_BASE_URL = fake.baseUrl;
  process.env.GOOGLE_OAUTH_TOKEN_URL = fake.tokenUrl;
  process.env.CONVERSION_RETRY_BASE_SECONDS = '0';
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '0';
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  delete process.env.GOOGLE_ADS_API_VERSION;
  delete process.env.GOOGLE_ADS_DEVELOPER_TOKEN;
  // A platform whose developer token Google still allowlists keeps the Google Ads API path.
  process.env.GOOGLE_ADS_UPLOAD_API = 'google_ads_api';
  stack = await startTestStack('gapi', { retryDelaySeconds: 0 });
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  a = await createTenant(stack.url, 'Agency A');
  c = await createTenant(stack.url, 'Agency C');
  d = await createTenant(stack.url, 'Agency D');
  for (const [tenant, shop] of [
    [a, SHOP_A],
    [c, SHOP_C],
    [d, SHOP_D],
  ] as const) {
    const res = await call('PUT', '/api/v1/integrations/shopify', {
      token: tenant.admin,
      body: { shop_domain: shop, webhook_secret: SHOP_SECRET },
    });
    expect(res.status).toBe(200);
  }
  const connected = await call('PUT', '/api/v1/integrations/google-ads', {
    token: a.admin,
    body: googleAdsSettings(),
  });
  expect(connected.status).toBe(200);
});

afterEach(() => {
  fake.reset();
  jest.restoreAllMocks();
});

afterAll(async () => {
  await stack.stop();
  await fake.close();
  delete process.env.GOOGLE_ADS_API_BASE_URL;
  delete process.env.GOOGLE_OAUTH_TOKEN_URL;
  delete process.env.GOOGLE_ADS_UPLOAD_API;
});

describe('uploading through the Google Ads API (GOOGLE_ADS_UPLOAD_API=google_ads_api)', () => {
  it('a Shopify orders/paid webhook with a gclid makes exactly one upload whose body is exactly right', async () => {
    const at = processedAt();
    await paidOrder(SHOP_A, 7001, 'Zoe.Buyer@Gmail.com', at);
    const conversion = await conversionForOrder(a, 7001, ['uploaded', 'failed']);
    expect(conversion).toMatchObject({ status: 'uploaded', attempts: 1, platform: 'google_ads' });
    expect(conversion).not.toHaveProperty('click_id');
    const uploads = uploadsWith(gclid(7001));
    expect(uploads).toHaveLength(1);
    const upload = uploads[0];
    expect(upload?.version).toBe('v26');
    expect(upload?.customerId).toBe('1234567890');
    expect(upload?.headers['login-customer-id']).toBe('9998887777');
    expect(upload?.headers['developer-token']).toBeUndefined();
    expect(upload?.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(upload?.body).toEqual({
      conversions: [
        {
          gclid: gclid(7001),
          conversionAction: 'customers/1234567890/conversionActions/555000111',
          conversionDateTime: googleDateTime(new Date(at), 'Europe/Berlin'),
          conversionValue: 149.9,
          currencyCode: 'EUR',
          orderId: '7001',
          consent: { adUserData: 'GRANTED' },
          userIdentifiers: [
            { hashedEmail: sha('zoebuyer@gmail.com') },
            { hashedPhoneNumber: sha('+4915123456789') },
          ],
        },
      ],
      partialFailure: true,
    });
    expect(upload?.status).toBe(200);
    const read = await call('GET', `/api/v1/conversions/${conversion.id}`, { token: a.viewer });
    expect(read.body).toMatchObject({
      status: 'uploaded',
      google_request_id: expect.any(String),
      uploaded_at: expect.any(String),
    });
    expect(fake.tokenRequests.every((t) => t.form.refresh_token === REFRESH_TOKEN)).toBe(true);
    const uploaded = await call('GET', '/api/v1/conversions?status=uploaded', { token: a.viewer });
    expect((uploaded.body.items as Row[]).map((x) => x.id)).toContain(conversion.id);
  });

  it('a mixed batch with two bad rows: those two fail with reasons, the rest are uploaded once', async () => {
    const orders = [7101, 7102, 7103, 7104, 7105];
    fake.commands.rowErrors.set(gclid(7102), 'EVENT_NOT_FOUND');
    fake.commands.rowErrors.set(gclid(7104), 'EXPIRED_EVENT');
    const at = processedAt();
    await Promise.all(orders.map((id) => paidOrder(SHOP_A, id, `buyer-${id}@example.com`, at)));
    const results = await Promise.all(orders.map((id) => conversionForOrder(a, id, ['uploaded', 'failed'])));
    expect(results.map((r) => r.status)).toEqual(['uploaded', 'failed', 'uploaded', 'failed', 'uploaded']);
    expect(results[1]?.last_error).toBe('Google Ads does not know this click in this account');
    expect(results[3]?.last_error).toBe(
      "The click is older than the conversion action's click-through window",
    );
    for (const id of orders) expect(uploadsWith(gclid(id))).toHaveLength(1);
  });

  it('5xx twice, then success: uploaded once', async () => {
    fake.commands.serverErrors = 2;
    await paidOrder(SHOP_A, 7201, 'retry@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7201, ['uploaded', 'failed']);
    expect(conversion).toMatchObject({ status: 'uploaded', attempts: 3 });
    expect(uploadsWith(gclid(7201)).map((u) => u.status)).toEqual([503, 503, 200]);
  });

  it('429: retried after the delay Google asks for, then uploaded', async () => {
    fake.commands.rateLimit = { times: 1, retryDelay: '1s' };
    await paidOrder(SHOP_A, 7301, 'quota@example.com', processedAt());
    const conversion = await conversionForOrder(a, 7301, ['uploaded', 'failed']);
    expect(conversion).toMatchObject({ status: 'uploaded', attempts: 2 });
    expect(uploadsWith(gclid(7301)).map((u) => u.status)).toEqual([429, 200]);
  });

  it('invalid_grant: the integration is disconnected, an alarm metric is emitted, nothing is uploaded', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    fake.commands.revokedRefreshTokens.add(REVOKED_TOKEN);
    const put = await call('PUT', '/api/v1/integrations/google-ads', {
      token: c.admin,
      body: googleAdsSettings({ refresh_token: REVOKED_TOKEN, login_customer_id: undefined }),
    });
    expect(put.status).toBe(200);
    await paidOrder(SHOP_C, 7401, 'revoked@example.com', processedAt());
    const integration = await eventually(async () => {
      const stored = await new GoogleAdsIntegrationStore().get(c.id);
      return stored?.status === 'disconnected' ? stored : undefined;
    }, 'the integration disconnected');
    expect(integration.status_reason).toContain('invalid_grant');
    // Metrics are emitted once the whole batch is handled, after the integration changed.
    await eventually(
      async () =>
        emitted.mock.calls.some((x) => x[0] === 'GoogleAdsDisconnected' && x[2] === 1) ? true : undefined,
      'the GoogleAdsDisconnected metric',
    );
    expect(uploadsWith(gclid(7401))).toHaveLength(0);
    expect(fake.tokenRequests.filter((t) => t.form.refresh_token === REVOKED_TOKEN)).toHaveLength(1);
    const conversion = await conversionForOrder(c, 7401, ['queued']);
    expect(conversion.last_error).toContain('invalid_grant');
  });

  it('without an account a conversion waits queued, saying so; consent withdrawn before the upload: nothing is sent', async () => {
    await paidOrder(SHOP_D, 7500, 'no-account@example.com', processedAt());
    const waiting = await eventually(async () => {
      const found = await conversionForOrder(d, 7500, ['queued']);
      return found.last_error ? found : undefined;
    }, 'the conversion to say why it waits');
    expect(waiting).toMatchObject({
      status: 'queued',
      attempts: 0,
      last_error: 'Google Ads is not connected',
    });

    // D connects with a refresh token Google has revoked: its conversion is parked, still queued.
    fake.commands.revokedRefreshTokens.add(REVOKED_TOKEN_D);
    expect(
      (
        await call('PUT', '/api/v1/integrations/google-ads', {
          token: d.admin,
          body: googleAdsSettings({ refresh_token: REVOKED_TOKEN_D }),
        })
      ).status,
    ).toBe(200);
    const parked = async () => {
      const res = await call('GET', '/api/v1/admin/dlq?queue=conversions', {
        token: await tokenFor('platform', 'owner'),
      });
      return (res.body.items ?? []) as Row[];
    };
    const parkedBefore = (await parked()).length;
    await paidOrder(SHOP_D, 7501, 'changed-mind@example.com', processedAt());
    await eventually(async () => {
      const stored = await new GoogleAdsIntegrationStore().get(d.id);
      return stored?.status === 'disconnected' ? true : undefined;
    }, 'the integration disconnected');
    const dlq = await eventually(async () => {
      const items = await parked();
      return items.length > parkedBefore ? items : undefined;
    }, 'the parked conversion message');
    expect(JSON.stringify(dlq)).toContain('invalid_grant');
    await conversionForOrder(d, 7501, ['queued']);
    const withdrawn = await call(
      'POST',
      `/api/v1/gdpr/subjects/${await subjectId(stack.url, d.member, 'changed-mind@example.com')}/consent`,
      {
        token: d.member,
        body: { status: 'withdrawn', method: 'api_call', timestamp: new Date().toISOString() },
      },
    );
    expect(withdrawn.body).toMatchObject({ cancelled_uploads: 1 });
    expect(
      (await call('PUT', '/api/v1/integrations/google-ads', { token: d.admin, body: googleAdsSettings() }))
        .status,
    ).toBe(200);
    const before = reports.length;
    const redrive = await call('POST', '/api/v1/admin/dlq/redrive', {
      token: await tokenFor('platform', 'owner'),
      body: { queue: 'conversions' },
    });
    expect(redrive.body.moved).toBeGreaterThanOrEqual(1);
    const conversion = await conversionForOrder(d, 7501, ['cancelled']);
    expect(conversion.cancel_reason).toBe('consent_withdrawn');
    const moved = redrive.body.moved as number;
    await eventually(async () => {
      const handled = reports
        .slice(before)
        .filter((r) => r.queue === 'conversions')
        .reduce((n, r) => n + r.messageIds.length, 0);
      return handled >= moved ? true : undefined;
    }, 'the redriven messages handled');
    expect(uploadsWith(gclid(7501))).toHaveLength(0);
  });

  it('CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE: a platform configuration error with its alarm; the conversion waits, parked', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    fake.commands.notAllowlisted = true;
    await paidOrder(SHOP_A, 7801, 'allowlist@example.com', processedAt());
    const conversion = await eventually(async () => {
      const found = await conversionForOrder(a, 7801, ['queued']);
      return found.last_error ? found : undefined;
    }, 'the conversion to say why it waits');
    expect(conversion.last_error).toContain('CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE');
    expect(conversion.last_error).toContain('GOOGLE_ADS_UPLOAD_API=data_manager');
    // Metrics are emitted once the whole batch is handled, after the integration changed.
    await eventually(
      async () =>
        emitted.mock.calls.some((x) => x[0] === 'GoogleAdsNotAllowlisted' && x[2] === 1) ? true : undefined,
      'the GoogleAdsNotAllowlisted metric',
    );
    // Not the tenant's fault: its integration stays connected.
    expect((await new GoogleAdsIntegrationStore().get(a.id))?.status).toBe('connected');
    expect(uploadsWith(gclid(7801)).map((u) => u.status)).toEqual([403]);
  });
});
