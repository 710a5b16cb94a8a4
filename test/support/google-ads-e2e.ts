/**
 * What the e2e tests of the two Google upload transports (Data Manager `events:ingest`, the Google
 * Ads API `uploadClickConversions`) share: the Google Ads settings a tenant connects with, a paid
 * Shopify order carrying a gclid, waiting for the conversion of an order, and the scenarios whose
 * behaviour is the same on either transport (5xx, 429, a revoked refresh token, no account and
 * consent withdrawn before the upload). Each test file gives its own stack, fake and tenants.
 */

import { metrics } from '../../functions/shared/platform/observability';
import { GoogleAdsIntegrationStore } from '../../functions/shared/providers/google-ads/integration';
import type { FakeGoogleAds } from '../../local/fake-google-ads';
import type { BatchReport } from '../../local/poller';
import { gclid } from './click-ids';
import { subjectId } from './gdpr';
import { request } from './http';
import { eventually } from './local-stack';
import { deliverShopify, paidShopifyOrder } from './shopify';
import { type TestTenant, tokenFor } from './tenants';

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

export interface TransportWorld {
  baseUrl: string;
  fake: FakeGoogleAds;
  /** A is connected to Google Ads; C and D are not (yet). */
  tenants: { a: TestTenant; c: TestTenant; d: TestTenant };
  shops: { a: string; c: string; d: string };
  reports: BatchReport[];
  /** Every request of this transport that carried the click id, whatever Google answered. */
  requestsWith(click: string): Array<{ status: number }>;
}

/**
 * The scenarios that behave the same on both transports, as `it` blocks of the calling describe.
 * `world` is read when each test runs (after the file's beforeAll).
 */
export function sharedTransportScenarios(world: () => TransportWorld): void {
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
