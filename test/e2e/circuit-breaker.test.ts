import { readCircuits, resetBreakers } from '../../functions/shared/platform/breaker/circuits';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import { type FakeMeta, startFakeMeta } from '../../local/fake-meta';
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { gclid } from '../support/click-ids';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

/**
 * A Google outage on the local stack with the fake Google (Data Manager API, the default
 * transport): 20 conversions queued while Google answers 503. The breaker opens after the threshold, the uploader sends its messages back delayed
 * instead of handing them to SQS, so nothing reaches the dead-letter queue however long the outage
 * lasts; when Google recovers one probe closes the circuit and every conversion is uploaded once.
 *
 * Locally a handed-back message is visible again after `retryDelaySeconds` (1 s: the local
 * visibility timeout of a failed message) and the third receive dead-letters it, so any outage
 * longer than 3 s would dead-letter messages that were handed back. The outage lasts
 * BREAKER_E2E_OUTAGE_SECONDS (8 s in `npm test`) with circuits open BREAKER_E2E_OPEN_SECONDS (2 s);
 * the long run of the full scenario is `BREAKER_E2E_OUTAGE_SECONDS=90 BREAKER_E2E_OPEN_SECONDS=60`.
 */
const OPEN_SECONDS = Number(process.env.BREAKER_E2E_OPEN_SECONDS || 2);
const VISIBILITY_SECONDS = 1;
const OUTAGE_SECONDS = Number(process.env.BREAKER_E2E_OUTAGE_SECONDS || 8);
const THRESHOLD = 5;
const CONVERSIONS = 20;

let stack: LocalStack;
let fake: FakeGoogleAds;
let fakeMeta: FakeMeta;
let tenant: TestTenant;
const reports: BatchReport[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

const seeds = Array.from({ length: CONVERSIONS }, (_, i) => 7000 + i);

async function deadLetters(queue: string): Promise<unknown[]> {
  const platform = await tokenFor('platform', 'owner');
  const res = await call('GET', `/api/v1/admin/dlq?queue=${queue}`, { token: platform });
  return res.body.items as unknown[];
}

/**
 * Captures a lead for each seed, its click and e-mail from `clickOf`, worth 50 EUR with consent
 * granted an hour ago (inside every platform's window); the ids of the leads.
 */
async function captureLeads(
  clickOf: (seed: number, at: string) => Record<string, unknown>,
): Promise<string[]> {
  const at = new Date(Date.now() - 3600_000).toISOString();
  const leads = seeds.map((seed) => ({
    ...clickOf(seed, at),
    value: 50,
    currency: 'EUR',
    consent: { status: 'granted', method: 'form_checkbox', timestamp: at },
  }));
  const captured = await call('POST', '/api/v1/leads', { token: tenant.member, body: leads });
  expect(captured.status).toBe(201);
  return captured.body.lead_ids as string[];
}

/** Marks each lead won with an order of its own (`<orderPrefix>-<lead id>`): one conversion each. */
async function win(leadIds: string[], orderPrefix: string): Promise<void> {
  for (const id of leadIds) {
    const won = await call('PATCH', `/api/v1/leads/${id}`, {
      token: tenant.member,
      body: { status: 'won', order_id: `${orderPrefix}-${id}` },
    });
    expect([won.status, won.status === 200 ? '' : won.body.error]).toEqual([200, '']);
  }
}

/** Waits until the outage that started at `startedAt` has lasted OUTAGE_SECONDS. */
const outageOver = (startedAt: number) =>
  new Promise((r) => setTimeout(r, Math.max(0, startedAt + OUTAGE_SECONDS * 1000 - Date.now())));

beforeAll(async () => {
  fake = await startFakeGoogleAds();
  fakeMeta = await startFakeMeta();
  Object.assign(process.env, {
    META_GRAPH_BASE_URL: fakeMeta.baseUrl,
    GOOGLE_DATA_MANAGER_BASE_URL: fake.baseUrl,
    GOOGLE_ADS_API_BASE_URL: fake.baseUrl,
    GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
    CONVERSION_RETRY_BASE_SECONDS: '1',
    CIRCUIT_OPEN_SECONDS: String(OPEN_SECONDS),
    CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD),
    RATE_LIMIT_TENANT_PER_HOUR: '100000',
    RATE_LIMIT_IP_PER_HOUR: '100000',
  });
  delete process.env.GOOGLE_ADS_UPLOAD_API;
  resetBreakers();
  stack = await startTestStack('breaker', { retryDelaySeconds: VISIBILITY_SECONDS });
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  tenant = await createTenant(stack.url, 'Agency Outage');
  const connected = await call('PUT', '/api/v1/integrations/google-ads', {
    token: tenant.admin,
    body: {
      customer_id: '123-456-7890',
      conversion_action_id: '555000111',
      client_id: 'client-id.apps.googleusercontent.com',
      client_secret: 'outage-client-secret-1',
      refresh_token: '1//outage-refresh-token',
      currency: 'EUR',
      time_zone: 'Europe/Berlin',
    },
  });
  expect(connected.status).toBe(200);
  const pixel = await call('PUT', '/api/v1/integrations/meta', {
    token: tenant.admin,
    // One platform per lead: Google's leads are not also sent to Meta matched on user data.
    body: {
      pixel_id: '1234567890',
      access_token: 'EAAB-outage-access-token-0001',
      match_by_user_data: false,
    },
  });
  expect(pixel.status).toBe(200);
});

afterAll(async () => {
  await stack.stop();
  await fake.close();
  await fakeMeta.close();
  for (const name of [
    'META_GRAPH_BASE_URL',
    'GOOGLE_DATA_MANAGER_BASE_URL',
    'GOOGLE_ADS_API_BASE_URL',
    'GOOGLE_OAUTH_TOKEN_URL',
    'CONVERSION_RETRY_BASE_SECONDS',
    'CIRCUIT_OPEN_SECONDS',
    'CIRCUIT_FAILURE_THRESHOLD',
  ])
    delete process.env[name];
  resetBreakers();
});

describe('Google outage', () => {
  it(
    '20 conversions wait through the outage without a dead letter, then each is uploaded exactly once',
    async () => {
      expect(OUTAGE_SECONDS).toBeGreaterThan(3 * VISIBILITY_SECONDS);
      fake.commands.serverErrors = 1_000_000;
      const leadIds = await captureLeads((seed) => ({
        email: `outage-${seed}@example.com`,
        gclid: gclid(seed),
      }));
      const outageStarted = Date.now();
      await win(leadIds, 'order');

      const open = await eventually(async () => {
        const views = await readCircuits();
        return views.google_ads.state !== 'closed' ? views.google_ads : undefined;
      }, 'the google_ads circuit to open');
      expect(open.opened_at).toEqual(expect.any(String));

      await outageOver(outageStarted);
      const duringOutage = fake.ingests.length;
      fake.commands.serverErrors = 0;
      // Threshold failures open it; after that at most one probe per open period (and per expired lease).
      const probes = Math.ceil(OUTAGE_SECONDS / OPEN_SECONDS) + 1;
      expect(duringOutage).toBeGreaterThanOrEqual(THRESHOLD);
      expect(duringOutage).toBeLessThanOrEqual(THRESHOLD + probes);
      expect(fake.ingests.every((u) => u.status === 503)).toBe(true);
      expect(await deadLetters('conversions')).toEqual([]);

      // Google is back: the next probe closes the circuit and the waiting conversions flow.
      const uploaded = await eventually(
        async () => {
          const res = await call('GET', '/api/v1/conversions?status=uploaded&limit=100', {
            token: tenant.viewer,
          });
          const items = (res.body.items ?? []) as Array<Record<string, unknown>>;
          return items.length === CONVERSIONS ? items : undefined;
        },
        'all 20 conversions uploaded',
        60_000,
      );
      expect(uploaded).toHaveLength(CONVERSIONS);
      expect((await readCircuits()).google_ads).toMatchObject({
        state: 'closed',
        last_success_at: expect.any(String),
      });

      const delivered = fake.ingests
        .filter((u) => u.status === 200)
        .flatMap((u) =>
          ((u.body as { events?: Array<{ adIdentifiers?: { gclid?: string } }> }).events ?? []).map(
            (e) => e.adIdentifiers?.gclid,
          ),
        );
      expect(delivered.sort()).toEqual(seeds.map((s) => gclid(s)).sort());
      expect(await deadLetters('conversions')).toEqual([]);
      // No message was ever handed back to SQS: no receive was spent on the outage.
      expect(reports.filter((r) => r.queue === 'conversions' && r.failedIds.length > 0)).toEqual([]);
    },
    (OUTAGE_SECONDS + 2 * OPEN_SECONDS + 60) * 1000,
  );
});

describe('Meta outage', () => {
  const fbclid = (n: number) => `IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjc${n}XyZ`;
  it(
    '20 conversions wait through a Meta outage without a dead letter, then each event is received exactly once',
    async () => {
      fakeMeta.commands.serverErrors = 1_000_000;
      const leadIds = await captureLeads((seed, at) => ({
        email: `meta-outage-${seed}@example.com`,
        fbclid: fbclid(seed),
        click_time: at,
      }));
      const outageStarted = Date.now();
      const before = reports.length;
      await win(leadIds, 'meta-order');
      await eventually(async () => {
        const views = await readCircuits();
        return views.meta.state !== 'closed' ? true : undefined;
      }, 'the meta circuit to open');
      await outageOver(outageStarted);
      const duringOutage = fakeMeta.requests.length;
      fakeMeta.commands.serverErrors = 0;
      expect(duringOutage).toBeGreaterThanOrEqual(THRESHOLD);
      expect(duringOutage).toBeLessThanOrEqual(THRESHOLD + Math.ceil(OUTAGE_SECONDS / OPEN_SECONDS) + 1);
      expect(await deadLetters('conversions')).toEqual([]);

      await eventually(
        async () => {
          const res = await call('GET', '/api/v1/conversions?status=uploaded&limit=100', {
            token: tenant.viewer,
          });
          const items = ((res.body.items ?? []) as Array<Record<string, unknown>>).filter(
            (c) => c.platform === 'meta',
          );
          return items.length === CONVERSIONS ? items : undefined;
        },
        'all 20 Meta conversions uploaded',
        60_000,
      );
      const ids = fakeMeta.received.map((r) => r.event.event_id);
      expect(new Set(ids).size).toBe(CONVERSIONS);
      expect(ids).toHaveLength(CONVERSIONS);
      expect(await deadLetters('conversions')).toEqual([]);
      expect(
        reports.slice(before).filter((r) => r.queue === 'conversions' && r.failedIds.length > 0),
      ).toEqual([]);
    },
    (OUTAGE_SECONDS + 2 * OPEN_SECONDS + 60) * 1000,
  );
});

describe('Google outage during adjustments', () => {
  type AdjustmentBody = { conversionAdjustments?: Array<{ orderId?: string; adjustmentType?: string }> };
  it(
    'retractions and restatements wait through the outage without a dead letter, then each is applied exactly once',
    async () => {
      const list = await call('GET', '/api/v1/conversions?status=uploaded&limit=100', {
        token: tenant.viewer,
      });
      const google = ((list.body.items ?? []) as Array<Record<string, unknown>>).filter(
        (c) => c.platform === 'google_ads',
      );
      expect(google.length).toBeGreaterThanOrEqual(6);
      const retracted = google.slice(0, 3);
      const restated = google.slice(3, 6);
      const ingestsBefore = fake.ingests.length;
      const adjustmentsBefore = fake.adjustments.length;
      const before = reports.length;
      fake.commands.serverErrors = 1_000_000;
      const outageStarted = Date.now();
      for (const [conversion, body] of [
        ...retracted.map((c) => [c, { type: 'retraction' }] as const),
        ...restated.map((c) => [c, { type: 'restatement', value: 25 }] as const),
      ]) {
        const res = await call('POST', `/api/v1/conversions/${conversion.id}/adjustments`, {
          token: tenant.member,
          body,
        });
        expect(res.status).toBe(202);
      }
      await outageOver(outageStarted);
      const failedDuringOutage = [
        ...fake.ingests.slice(ingestsBefore),
        ...fake.adjustments.slice(adjustmentsBefore),
      ];
      fake.commands.serverErrors = 0;
      // Google was called and failed, but not once per message per second: the breaker held it off.
      expect(failedDuringOutage.length).toBeGreaterThan(0);
      expect(failedDuringOutage.every((u) => u.status === 503)).toBe(true);
      expect(failedDuringOutage.length).toBeLessThanOrEqual(
        2 * (THRESHOLD + Math.ceil(OUTAGE_SECONDS / OPEN_SECONDS) + 1),
      );
      expect(await deadLetters('conversions')).toEqual([]);

      for (const conversion of [...retracted, ...restated]) {
        await eventually(async () => {
          const res = await call('GET', `/api/v1/conversions/${conversion.id}`, { token: tenant.viewer });
          const adjustments = (res.body.adjustments ?? []) as Array<{ status: string }>;
          return adjustments.length === 1 && adjustments[0]?.status === 'applied' ? true : undefined;
        }, `the adjustment of ${conversion.id} applied`);
      }
      const appliedRetractions = fake.adjustments
        .slice(adjustmentsBefore)
        .filter((r) => r.status === 200)
        .flatMap((r) => (r.body as AdjustmentBody).conversionAdjustments ?? [])
        .map((a) => `${a.adjustmentType} ${a.orderId}`);
      expect(appliedRetractions.sort()).toEqual(
        retracted.map((c) => `RETRACTION ${String(c.order_id)}`).sort(),
      );
      const restatements = fake.ingests
        .slice(ingestsBefore)
        .filter((u) => u.status === 200)
        .flatMap(
          (u) =>
            (u.body as { events?: Array<{ transactionId?: string; conversionValue?: number }> }).events ?? [],
        );
      expect(restatements.map((e) => `${e.transactionId} ${e.conversionValue}`).sort()).toEqual(
        restated.map((c) => `${String(c.order_id)} 25`).sort(),
      );
      expect(await deadLetters('conversions')).toEqual([]);
      expect(
        reports.slice(before).filter((r) => r.queue === 'conversions' && r.failedIds.length > 0),
      ).toEqual([]);
    },
    (OUTAGE_SECONDS + 2 * OPEN_SECONDS + 60) * 1000,
  );
});
