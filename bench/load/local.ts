import { randomBytes } from 'node:crypto';
import { type FakeGoogleAds, startFakeGoogleAds } from '../../local/fake-google-ads';
import type { LocalStack } from '../../local/stack';
import { startBenchStack } from '../support/local';
import type { LoadTargets } from './run';
import { callJson, prepareTenant } from './tenant';

export interface LocalTarget {
  readonly url: string;
  readonly targets: LoadTargets;
  readonly stack: LocalStack;
  stop(): Promise<void>;
}

/**
 * The local stack in this process, sized for load: limits raised so the run measures the
 * system rather than the limiter, a Stripe endpoint secret of this run, and the fake Google Ads
 * server so won leads are uploaded. Two tenants: one takes the load, one is probed end to end.
 */
export async function startLocalTarget(
  options: { emulatorUrl?: string; log?: (line: string) => void } = {},
): Promise<LocalTarget> {
  const log = options.log ?? (() => {});
  const stripeSecret = `whsec_${randomBytes(18).toString('hex')}`;
  Object.assign(process.env, {
    RATE_LIMIT_IP_PER_HOUR: '100000000',
    RATE_LIMIT_SHOP_PER_HOUR: '100000000',
    RATE_LIMIT_TENANT_PER_HOUR: '100000000',
    // moto serialises DynamoDB requests; under load it answers slower than the 300 ms AWS bound.
    RATE_LIMIT_STORE_TIMEOUT_MS: process.env.RATE_LIMIT_STORE_TIMEOUT_MS ?? '3000',
    STRIPE_WEBHOOK_SECRET: stripeSecret,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  });
  let fake: FakeGoogleAds | undefined = await startFakeGoogleAds();
  Object.assign(process.env, {
    GOOGLE_ADS_API_BASE_URL: fake.baseUrl,
    GOOGLE_DATA_MANAGER_BASE_URL: fake.baseUrl,
    GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
  });
  log('Starting the local stack ...');
  let bench: Awaited<ReturnType<typeof startBenchStack>> | undefined;
  try {
    bench = await startBenchStack(options.emulatorUrl ? { emulatorUrl: options.emulatorUrl } : {});
    const { stack, newTenant } = bench;
    const run = randomBytes(4).toString('hex');
    const main = await newTenant('Load tenant');
    const probe = await newTenant('Probe tenant');
    const mainTenant = await prepareTenant(stack.url, main.apiKey, `m${run}`);
    const probeTenant = await prepareTenant(stack.url, probe.apiKey, `p${run}`);
    const google = await callJson(stack.url, 'PUT', '/api/v1/integrations/google-ads', {
      token: probeTenant.token,
      body: {
        customer_id: '123-456-7890',
        conversion_action_id: '555000111',
        client_id: 'load.apps.googleusercontent.com',
        client_secret: randomBytes(12).toString('hex'),
        refresh_token: `1//load-${run}`,
        currency: 'EUR',
        time_zone: 'Europe/Berlin',
      },
    });
    log(
      `Local stack at ${stack.url}; tenants ready${google.status === 200 ? ', Google Ads fake connected' : ''}`,
    );
    const started = bench;
    const startedFake = fake;
    fake = undefined;
    return {
      url: stack.url,
      stack,
      targets: {
        main: mainTenant,
        apiKey: main.apiKey,
        tenantId: main.tenantId,
        probe: probeTenant,
        stripeSecret,
        uploads: google.status === 200,
      },
      stop: async () => {
        await started.stack.stop();
        await startedFake.close();
      },
    };
  } catch (error) {
    await bench?.stack.stop();
    await fake?.close();
    throw error;
  }
}
