import { createHash } from 'node:crypto';
import { metrics } from '../../functions/shared/platform/observability';
import { googleDateTime } from '../../functions/shared/providers/google-ads/datetime';
import { GoogleAdsIntegrationStore } from '../../functions/shared/providers/google-ads/integration';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { gclid } from '../support/click-ids';
import {
  conversionForOrder as findConversion,
  googleAdsSettings,
  paidOrder as placePaidOrder,
  processedAt,
  REFRESH_TOKEN,
  type Row,
  SHOP_SECRET,
  sharedTransportScenarios,
} from '../support/google-ads-e2e';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenants, type TestTenant } from '../support/tenants';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const SHOP_A = 'gapi-a.myshopify.com';
const SHOP_C = 'gapi-c.myshopify.com';
const SHOP_D = 'gapi-d.myshopify.com';

let stack: LocalStack;
let fake: FakeGoogleAds;
let a: TestTenant;
let c: TestTenant;
let d: TestTenant;
const reports: BatchReport[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

const paidOrder = (shop: string, id: number, email: string, at: string) =>
  placePaidOrder(stack.url, shop, id, email, at);
const conversionForOrder = (tenant: TestTenant, orderId: number, statuses: string[]) =>
  findConversion(stack.url, tenant, orderId, statuses);

const uploadsWith = (click: string) =>
  fake.uploads.filter((u) =>
    ((u.body as { conversions?: Array<{ gclid?: string }> }).conversions ?? []).some(
      (c) => c.gclid === click,
    ),
  );

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
  [a, c, d] = await createTenants(stack.url, 'Agency A', 'Agency C', 'Agency D');
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
    // Spelled out in full on purpose, as the oracle of what Google receives over HTTP.
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

  sharedTransportScenarios(() => ({
    baseUrl: stack.url,
    fake,
    tenants: { a, c, d },
    shops: { a: SHOP_A, c: SHOP_C, d: SHOP_D },
    reports,
    requestsWith: uploadsWith,
  }));

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
