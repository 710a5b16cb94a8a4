import { CONVERSIONS_CONSUMER_CONCURRENCY } from '../contract/resources';
import { uploadMessages } from '../functions/conversion-uploader/upload';
import {
  ingestEvents,
  retrieveRequestStatus,
} from '../functions/shared/providers/google-ads/data-manager/client';
import { perProcessLimit, QuotaPacer } from '../functions/shared/providers/google-ads/data-manager/pacer';
import { uploadClickConversions } from '../functions/shared/providers/google-ads/google-ads-api/client';
import type { StoredGoogleAdsIntegration } from '../functions/shared/providers/google-ads/integration';
import {
  dataManagerTransport,
  type GoogleConnectionDeps,
  type GoogleTransport,
  googleAdsApiTransport,
  googleProvider,
} from '../functions/shared/providers/google-ads/provider';
import { TokenCache } from '../functions/shared/providers/google-ads/tokens';
import { startFakeGoogleAds } from '../local/fake-google-ads';
import { BATCHINGS, uploadWorld } from './upload-world';

const TENANT = 'ten_bench';
const CLICK = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function clickId(i: number): string {
  let out = 'Cj0KCQiA';
  for (let k = 0; k < 84; k++) out += CLICK[(i * 31 + k * 17 + Math.floor(i / 64)) % CLICK.length];
  return out + String(i);
}

/**
 * Events per Data Manager request and requests per minute (paced to this process's share of the
 * 300-a-minute project quota, on a simulated clock) for 5,000 and 50,000 queued conversions;
 * conversions per uploadClickConversions request; token refreshes per simulated hour. The real
 * clients and uploader run against the fake Google server over HTTP; the conversion log and
 * leads are kept in memory: this measures batching, pacing and the token cache, not DynamoDB.
 */
export async function benchGoogleAds(): Promise<void> {
  const fake = await startFakeGoogleAds();
  process.env.GOOGLE_ADS_API_BASE_URL = fake.baseUrl;
  process.env.GOOGLE_DATA_MANAGER_BASE_URL = fake.baseUrl;
  process.env.GOOGLE_OAUTH_TOKEN_URL = fake.tokenUrl;
  let total = 50_000;
  try {
    const now = new Date();
    const at = new Date(now.getTime() - 3600_000).toISOString();
    const world = uploadWorld({ tenant: TENANT, platform: 'google_ads', clickIdType: 'gclid', clickId, now });
    const fresh = () => world.fill(total);
    const integration: StoredGoogleAdsIntegration = {
      customer_id: '1234567890',
      conversion_action_id: '1',
      client_id: 'bench-client',
      time_zone: 'Europe/Berlin',
      status: 'connected',
      updated_at: at,
      sealed_client_secret: 'x',
      sealed_refresh_token: 'x',
    };
    let clock = Date.now();
    const tokens = new TokenCache(undefined, () => clock);
    const taken: number[] = [];
    const limit = perProcessLimit(CONVERSIONS_CONSUMER_CONCURRENCY);
    const pacer = new QuotaPacer(
      limit,
      () => clock,
      async (ms) => {
        clock += ms;
      },
    );
    const paced = {
      take: async () => {
        await pacer.take();
        taken.push(clock);
      },
    } as QuotaPacer;
    const google: GoogleConnectionDeps = {
      integrations: { get: async () => integration, disconnect: async () => {} },
      credential: async () => ({
        clientId: 'bench-client',
        clientSecret: 'bench-secret',
        refreshToken: 'bench-refresh',
      }),
      accessToken: (credential, scope) => tokens.accessToken(credential, scope),
      forgetToken: (credential) => tokens.forget(credential),
    };
    const uploader = (transport: GoogleTransport) =>
      world.deps({ google_ads: googleProvider(google, transport) as never });
    const dataManager = uploader(
      dataManagerTransport({ ingest: ingestEvents, retrieve: retrieveRequestStatus }, paced),
    );
    const googleAdsApi = uploader(googleAdsApiTransport((call) => uploadClickConversions(call)));
    const messages = world.messages;

    const perMinute = () => {
      let peak = 0;
      for (let i = 0, j = 0; i < taken.length; i++) {
        while ((taken[i] as number) - (taken[j] as number) >= 60_000) j++;
        peak = Math.max(peak, i - j + 1);
      }
      return peak;
    };
    for (const count of [5_000, 50_000]) {
      total = count;
      for (const [label, batchSize] of BATCHINGS) {
        if (count > 5_000 && batchSize < 1_000) continue;
        fresh();
        fake.reset();
        taken.length = 0;
        const startClock = clock;
        for (let from = 0; from < total; from += batchSize)
          await uploadMessages(messages(from, Math.min(batchSize, total - from)), dataManager);
        const events = fake.ingests.reduce(
          (n, u) => n + ((u.body as { events?: unknown[] }).events?.length ?? 0),
          0,
        );
        console.log(
          `Data Manager, ${label}: ${total} conversions in ${fake.ingests.length} events:ingest requests, ` +
            `${(events / Math.max(1, fake.ingests.length)).toFixed(0)} events per request, ` +
            `at most ${perMinute()} requests in any minute (this process's share: ${limit}/min), ` +
            `${((clock - startClock) / 60_000).toFixed(1)} paced minutes`,
        );
      }
    }
    total = 5_000;
    for (const [label, batchSize] of BATCHINGS) {
      fresh();
      fake.reset();
      const started = performance.now();
      for (let from = 0; from < total; from += batchSize) {
        await uploadMessages(messages(from, Math.min(batchSize, total - from)), googleAdsApi);
      }
      const ms = performance.now() - started;
      const sent = fake.uploads.reduce(
        (n, u) => n + ((u.body as { conversions?: unknown[] }).conversions?.length ?? 0),
        0,
      );
      console.log(
        `Google Ads API, ${label}: ${total} conversions in ${fake.uploads.length} requests, ` +
          `${(sent / Math.max(1, fake.uploads.length)).toFixed(0)} conversions per request, ${ms.toFixed(0)} ms`,
      );
    }

    // One invocation a minute for an hour (100 conversions each) on one credential.
    fresh();
    fake.reset();
    const refreshesBefore = tokens.refreshes;
    tokens.forget({ clientId: 'bench-client', clientSecret: 'bench-secret', refreshToken: 'bench-refresh' });
    for (let minute = 0; minute < 60; minute++) {
      clock = Date.now() + minute * 60_000;
      await uploadMessages(messages(minute * 80, 80), dataManager);
    }
    console.log(
      `token refreshes in 60 simulated minutes of uploads (60 invocations, ${fake.ingests.length} requests): ` +
        `${tokens.refreshes - refreshesBefore} (tokens last 3,599 s and are replaced 5 minutes early)`,
    );
  } finally {
    await fake.close();
    delete process.env.GOOGLE_ADS_API_BASE_URL;
    delete process.env.GOOGLE_DATA_MANAGER_BASE_URL;
    delete process.env.GOOGLE_OAUTH_TOKEN_URL;
  }
}
