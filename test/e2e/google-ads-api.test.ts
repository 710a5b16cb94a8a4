import { metrics } from '../../functions/shared/platform/observability';
import { googleDateTime } from '../../functions/shared/providers/google-ads/datetime';
import { GoogleAdsIntegrationStore } from '../../functions/shared/providers/google-ads/integration';
import { gclid } from '../support/click-ids';
import {
  conversionForOrder,
  expectUploadedWithOwnToken,
  firstUpload,
  googleAdsSettings,
  paidOrder,
  processedAt,
  settledOrders,
  sharedTransportScenarios,
  useGoogleStack,
} from '../support/google-ads-e2e';
import { sha } from '../support/hashing';
import { request } from '../support/http';
import { eventually } from '../support/local-stack';

/**
 * The stack with a fake Google, uploading through the Google Ads API (as a platform whose developer
 * token Google still allowlists does); tenant A connected to it.
 */
const google = useGoogleStack('gapi', { GOOGLE_ADS_UPLOAD_API: 'google_ads_api' });
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(google.stack.url, method, path, options);

const uploadsWith = (click: string) =>
  google.fake.uploads.filter((u) =>
    ((u.body as { conversions?: Array<{ gclid?: string }> }).conversions ?? []).some(
      (c) => c.gclid === click,
    ),
  );

beforeAll(async () => {
  const connected = await call('PUT', '/api/v1/integrations/google-ads', {
    token: google.tenants.a.admin,
    body: googleAdsSettings(),
  });
  expect(connected.status).toBe(200);
});

describe('uploading through the Google Ads API (GOOGLE_ADS_UPLOAD_API=google_ads_api)', () => {
  it('a Shopify orders/paid webhook with a gclid makes exactly one upload whose body is exactly right', async () => {
    const { at, conversion, request: upload } = await firstUpload(google, uploadsWith);
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
    const read = await call('GET', `/api/v1/conversions/${conversion.id}`, {
      token: google.tenants.a.viewer,
    });
    expect(read.body).toMatchObject({
      status: 'uploaded',
      google_request_id: expect.any(String),
      uploaded_at: expect.any(String),
    });
    await expectUploadedWithOwnToken(google, conversion);
  });

  it('a mixed batch with two bad rows: those two fail with reasons, the rest are uploaded once', async () => {
    const orders = [7101, 7102, 7103, 7104, 7105];
    google.fake.commands.rowErrors.set(gclid(7102), 'EVENT_NOT_FOUND');
    google.fake.commands.rowErrors.set(gclid(7104), 'EXPIRED_EVENT');
    const results = await settledOrders(google, orders);
    expect(results.map((r) => r.status)).toEqual(['uploaded', 'failed', 'uploaded', 'failed', 'uploaded']);
    expect(results[1]?.last_error).toBe('Google Ads does not know this click in this account');
    expect(results[3]?.last_error).toBe(
      "The click is older than the conversion action's click-through window",
    );
    for (const id of orders) expect(uploadsWith(gclid(id))).toHaveLength(1);
  });

  sharedTransportScenarios(google, uploadsWith);

  it('CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE: a platform configuration error with its alarm; the conversion waits, parked', async () => {
    const emitted = jest.spyOn(metrics, 'addMetric');
    google.fake.commands.notAllowlisted = true;
    await paidOrder(google.stack.url, google.shops.a, 7801, 'allowlist@example.com', processedAt());
    const conversion = await eventually(async () => {
      const found = await conversionForOrder(google.stack.url, google.tenants.a, 7801, ['queued']);
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
    expect((await new GoogleAdsIntegrationStore().get(google.tenants.a.id))?.status).toBe('connected');
    expect(uploadsWith(gclid(7801)).map((u) => u.status)).toEqual([403]);
  });
});
