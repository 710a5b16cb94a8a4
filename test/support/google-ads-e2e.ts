/**
 * What the e2e tests of the two Google upload transports (Data Manager `events:ingest`, the Google
 * Ads API `uploadClickConversions`) share: a local stack with a fake Google and three tenants with
 * their Shopify stores, the Google Ads settings a tenant connects with, a paid Shopify order
 * carrying a gclid, waiting for the conversion of an order, and the scenarios whose behaviour is
 * the same on either transport (the first upload, 5xx, 429, a revoked refresh token, no account
 * and consent withdrawn before the upload).
 */

import { metrics } from '../../functions/shared/platform/observability';
import { GoogleAdsIntegrationStore } from '../../functions/shared/providers/google-ads/integration';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { gclid } from './click-ids';
import { subjectId } from './gdpr';
import { request } from './http';
import { eventually, startTestStack } from './local-stack';
import { connectShopify, deliverShopify, paidShopifyOrder } from './shopify';
import { createTenants, type TestTenant, tokenFor } from './tenants';

export const SHOP_SECRET = 'shopify-webhook-secret-gads-0123';
export const CLIENT_SECRET = 'gads-client-secret-4b1e';
export const REFRESH_TOKEN = '1//gads-refresh-token-a-7c9d';
export const REVOKED_TOKEN = '1//gads-refresh-token-c-revoked';
export const REVOKED_TOKEN_D = '1//gads-refresh-token-d-revoked';

export type Row = Record<string, unknown>;

/**
 * Points the next local stack at a fake Google (Google Ads API, Data Manager API and OAuth), with
 * uploads through the Data Manager API, retried and checked without delay.
 */
export function useFakeGoogle(fake: FakeGoogleAds): void {
  process.env.GOOGLE_ADS_API_BASE_URL = fake.baseUrl;
  process.env.GOOGLE_DATA_MANAGER_BASE_URL = fake.baseUrl;
  process.env.GOOGLE_OAUTH_TOKEN_URL = fake.tokenUrl;
  process.env.CONVERSION_RETRY_BASE_SECONDS = '0';
  process.env.CONVERSION_STATUS_CHECK_SECONDS = '0';
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '0';
  delete process.env.GOOGLE_ADS_UPLOAD_API;
}

/** Takes the fake Google's addresses and the status check delay back out of the environment. */
export function forgetFakeGoogle(): void {
  delete process.env.GOOGLE_ADS_API_BASE_URL;
  delete process.env.GOOGLE_DATA_MANAGER_BASE_URL;
  delete process.env.GOOGLE_OAUTH_TOKEN_URL;
  delete process.env.CONVERSION_STATUS_CHECK_SECONDS;
}

export function googleAdsSettings(overrides: Record<string, unknown> = {}) {
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

/** An hour ago: inside every window Google checks. */
export const processedAt = () => new Date(Date.now() - 3600_000).toISOString();

/** A signed Shopify `orders/paid` webhook for order `id` with `gclid(id)` and granted consent; 202. */
export async function paidOrder(baseUrl: string, shop: string, id: number, email: string, at: string) {
  const body = JSON.stringify(
    paidShopifyOrder({ id, email, at, landingSite: `/products/lamp?gclid=${gclid(id)}` }),
  );
  const res = await deliverShopify(baseUrl, body, {
    topic: 'orders/paid',
    shop,
    secret: SHOP_SECRET,
    webhookId: `gads-${id}`,
  });
  expect({ status: res.status, body: res.status === 202 ? undefined : res.body }).toEqual({
    status: 202,
    body: undefined,
  });
}

/** The tenant's conversion of an order, once it is in one of `statuses`. */
export async function conversionForOrder(
  baseUrl: string,
  tenant: TestTenant,
  orderId: number | string,
  statuses: string[],
): Promise<Row> {
  return eventually(
    async () => {
      const res = await request(baseUrl, 'GET', '/api/v1/conversions?limit=100', { token: tenant.viewer });
      // A refusal under load (503) is asked again, like any client would.
      if (res.status !== 200) return undefined;
      const found = (res.body.items as Row[]).find((c) => c.order_id === String(orderId));
      return found && statuses.includes(found.status as string) ? found : undefined;
    },
    `conversion of order ${orderId} in ${statuses.join('|')}`,
  );
}

export interface GoogleStack {
  stack: LocalStack;
  fake: FakeGoogleAds;
  /** Tenants A, C and D, each with its Shopify store connected; none with Google Ads yet. */
  tenants: { a: TestTenant; c: TestTenant; d: TestTenant };
  /** Their stores: `<prefix>-a.myshopify.com` and so on. */
  shops: { a: string; c: string; d: string };
  /** The batches the local queue pollers have handled. */
  reports: BatchReport[];
}

/**
 * For the calling test file: a fake Google and a local stack pointed at it (see `useFakeGoogle`,
 * with `env` on top and the rate limits out of the way), with tenants A, C and D each connected to
 * its Shopify store. The fake forgets its requests and the mocks are restored after each test;
 * after the file all is stopped and `env` taken out of the environment. The fields are there from
 * the file's first `beforeAll` on.
 */
export function useGoogleStack(prefix: string, env: Record<string, string> = {}): GoogleStack {
  const google = {} as GoogleStack;
  beforeAll(async () => {
    Object.assign(google, await startGoogleStack(prefix, env));
  });
  afterEach(() => {
    google.fake.reset();
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await google.stack.stop();
    await google.fake.close();
    forgetFakeGoogle();
    for (const name of Object.keys(env)) delete process.env[name];
  });
  return google;
}

async function startGoogleStack(prefix: string, env: Record<string, string>): Promise<GoogleStack> {
  const fake = await startFakeGoogleAds();
  useFakeGoogle(fake);
  Object.assign(process.env, {
    RATE_LIMIT_TENANT_PER_HOUR: '100000',
    RATE_LIMIT_IP_PER_HOUR: '100000',
    ...env,
  });
  delete process.env.GOOGLE_ADS_API_VERSION;
  delete process.env.GOOGLE_ADS_DEVELOPER_TOKEN;
  const stack = await startTestStack(prefix, { retryDelaySeconds: 0 });
  const reports: BatchReport[] = [];
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  const [a, c, d] = await createTenants(stack.url, 'Agency A', 'Agency C', 'Agency D');
  const tenants = { a, c, d };
  const shops = {
    a: `${prefix}-a.myshopify.com`,
    c: `${prefix}-c.myshopify.com`,
    d: `${prefix}-d.myshopify.com`,
  };
  for (const key of ['a', 'c', 'd'] as const)
    expect((await connectShopify(stack.url, tenants[key], shops[key], SHOP_SECRET)).status).toBe(200);
  return { stack, fake, tenants, shops, reports };
}

/** Every request of a transport that carried the click id, whatever Google answered. */
export type RequestsWith<R extends { status: number }> = (click: string) => R[];

/**
 * A's order 7001, paid an hour ago by Zoe: its conversion, uploaded at the first attempt in exactly
 * one request (returned, for the caller to check its body), with no click id on the API.
 */
export async function firstUpload<R extends { status: number }>(
  { stack, shops, tenants }: GoogleStack,
  requestsWith: RequestsWith<R>,
): Promise<{ at: string; conversion: Row; request: R | undefined }> {
  const at = processedAt();
  await paidOrder(stack.url, shops.a, 7001, 'Zoe.Buyer@Gmail.com', at);
  const conversion = await conversionForOrder(stack.url, tenants.a, 7001, ['uploaded', 'failed']);
  expect(conversion).toMatchObject({ status: 'uploaded', attempts: 1, platform: 'google_ads' });
  expect(conversion).not.toHaveProperty('click_id');
  const requests = requestsWith(gclid(7001));
  expect(requests).toHaveLength(1);
  return { at, conversion, request: requests[0] };
}

/**
 * A's paid orders, each by its own buyer, once their conversions are uploaded or failed (in the
 * order of `ids`).
 */
export async function settledOrders({ stack, shops, tenants }: GoogleStack, ids: number[]): Promise<Row[]> {
  const at = processedAt();
  await Promise.all(ids.map((id) => paidOrder(stack.url, shops.a, id, `buyer-${id}@example.com`, at)));
  return Promise.all(ids.map((id) => conversionForOrder(stack.url, tenants.a, id, ['uploaded', 'failed'])));
}

/** Google was asked only with A's own refresh token, and the conversion is listed as uploaded. */
export async function expectUploadedWithOwnToken({ stack, fake, tenants }: GoogleStack, conversion: Row) {
  expect(fake.tokenRequests.every((t) => t.form.refresh_token === REFRESH_TOKEN)).toBe(true);
  const uploaded = await request(stack.url, 'GET', '/api/v1/conversions?status=uploaded', {
    token: tenants.a.viewer,
  });
  expect((uploaded.body.items as Row[]).map((x) => x.id)).toContain(conversion.id);
}

/**
 * The scenarios that behave the same on both transports, as `it` blocks of the calling describe
 * (`google` is read when each test runs).
 */
export function sharedTransportScenarios<R extends { status: number }>(
  google: GoogleStack,
  requestsWith: RequestsWith<R>,
): void {
  const world = () => ({ ...google, baseUrl: google.stack.url, requestsWith });
  const order = (shop: string, id: number, email: string) =>
    paidOrder(world().baseUrl, shop, id, email, processedAt());
  const conversion = (tenant: TestTenant, id: number, statuses: string[]) =>
    conversionForOrder(world().baseUrl, tenant, id, statuses);

  it('5xx twice, then success: uploaded once', async () => {
    const { fake, tenants, shops, requestsWith } = world();
    fake.commands.serverErrors = 2;
    await order(shops.a, 7201, 'retry@example.com');
    expect(await conversion(tenants.a, 7201, ['uploaded', 'failed'])).toMatchObject({
      status: 'uploaded',
      attempts: 3,
    });
    expect(requestsWith(gclid(7201)).map((u) => u.status)).toEqual([503, 503, 200]);
  });

  it('429: retried after the delay Google asks for, then uploaded', async () => {
    const { fake, tenants, shops, requestsWith } = world();
    fake.commands.rateLimit = { times: 1, retryDelay: '1s' };
    await order(shops.a, 7301, 'quota@example.com');
    expect(await conversion(tenants.a, 7301, ['uploaded', 'failed'])).toMatchObject({
      status: 'uploaded',
      attempts: 2,
    });
    expect(requestsWith(gclid(7301)).map((u) => u.status)).toEqual([429, 200]);
  });

  it('invalid_grant: the integration is disconnected, an alarm metric is emitted, nothing is uploaded', async () => {
    const { baseUrl, fake, tenants, shops, requestsWith } = world();
    const emitted = jest.spyOn(metrics, 'addMetric');
    fake.commands.revokedRefreshTokens.add(REVOKED_TOKEN);
    const put = await request(baseUrl, 'PUT', '/api/v1/integrations/google-ads', {
      token: tenants.c.admin,
      body: googleAdsSettings({ refresh_token: REVOKED_TOKEN, login_customer_id: undefined }),
    });
    expect(put.status).toBe(200);
    await order(shops.c, 7401, 'revoked@example.com');
    const integration = await eventually(async () => {
      const stored = await new GoogleAdsIntegrationStore().get(tenants.c.id);
      return stored?.status === 'disconnected' ? stored : undefined;
    }, 'the integration disconnected');
    expect(integration.status_reason).toContain('invalid_grant');
    // Metrics are emitted once the whole batch is handled, after the integration changed.
    await eventually(
      async () =>
        emitted.mock.calls.some((x) => x[0] === 'GoogleAdsDisconnected' && x[2] === 1) ? true : undefined,
      'the GoogleAdsDisconnected metric',
    );
    expect(requestsWith(gclid(7401))).toHaveLength(0);
    expect(fake.tokenRequests.filter((t) => t.form.refresh_token === REVOKED_TOKEN)).toHaveLength(1);
    expect((await conversion(tenants.c, 7401, ['queued'])).last_error).toContain('invalid_grant');
  });

  it('without an account a conversion waits queued, saying so; consent withdrawn before the upload: nothing is sent', async () => {
    const { baseUrl, fake, tenants, shops, reports, requestsWith } = world();
    const d = tenants.d;
    const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
      request(baseUrl, method, path, options);
    await order(shops.d, 7500, 'no-account@example.com');
    const waiting = await eventually(async () => {
      const found = await conversion(d, 7500, ['queued']);
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
    await order(shops.d, 7501, 'changed-mind@example.com');
    await eventually(async () => {
      const stored = await new GoogleAdsIntegrationStore().get(d.id);
      return stored?.status === 'disconnected' ? true : undefined;
    }, 'the integration disconnected');
    const dlq = await eventually(async () => {
      const items = await parked();
      return items.length > parkedBefore ? items : undefined;
    }, 'the parked conversion message');
    expect(JSON.stringify(dlq)).toContain('invalid_grant');
    await conversion(d, 7501, ['queued']);
    const withdrawn = await call(
      'POST',
      `/api/v1/gdpr/subjects/${await subjectId(baseUrl, d.member, 'changed-mind@example.com')}/consent`,
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
    expect((await conversion(d, 7501, ['cancelled'])).cancel_reason).toBe('consent_withdrawn');
    const moved = redrive.body.moved as number;
    await eventually(async () => {
      const handled = reports
        .slice(before)
        .filter((r) => r.queue === 'conversions')
        .reduce((n, r) => n + r.messageIds.length, 0);
      return handled >= moved ? true : undefined;
    }, 'the redriven messages handled');
    expect(requestsWith(gclid(7501))).toHaveLength(0);
  });
}
