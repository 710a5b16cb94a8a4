#!/usr/bin/env node
/**
 * `npm start`: the whole system on this machine. PORT (default 3000) and HOST choose where it
 * listens; AWS_ENDPOINT_URL reuses a running emulator instead of starting one.
 */
import { SettingsError } from '../functions/shared/platform/config/settings';
import { EmulatorUnavailableError } from '../local/emulator';
import { type FakeGoogleAds, startFakeGoogleAds } from '../local/fake-google-ads';
import { type FakeMeta, startFakeMeta } from '../local/fake-meta';
import { type FakeStripe, startFakeStripe } from '../local/fake-stripe';
import { startLocalStack } from '../local/stack';
import { clearState, writeState } from '../local/state';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log('Starting AdsEngineer locally ...');
  let fake: FakeGoogleAds | undefined;
  if (process.env.GOOGLE_ADS_FAKE === '1' || process.env.GOOGLE_ADS_FAKE === 'true') {
    // Google's Data Manager API, Google Ads API, token endpoint and consent screen, faked on a local port.
    fake = await startFakeGoogleAds();
    process.env.GOOGLE_DATA_MANAGER_BASE_URL = fake.baseUrl;
    process.env.GOOGLE_ADS_API_BASE_URL = fake.baseUrl;
    process.env.GOOGLE_OAUTH_TOKEN_URL = fake.tokenUrl;
    process.env.GOOGLE_OAUTH_AUTH_URL = `${fake.baseUrl}/auth`;
    log(`Fake Google (Data Manager API, Google Ads API, OAuth) at ${fake.baseUrl} (GOOGLE_ADS_FAKE)`);
  }
  let fakeMeta: FakeMeta | undefined;
  if (process.env.META_FAKE === '1' || process.env.META_FAKE === 'true') {
    // Meta's Conversions API (Graph /{version}/{pixel}/events), faked on a local port.
    fakeMeta = await startFakeMeta();
    process.env.META_GRAPH_BASE_URL = fakeMeta.baseUrl;
    log(`Fake Meta Conversions API at ${fakeMeta.baseUrl} (META_FAKE)`);
  }
  let fakeStripe: FakeStripe | undefined;
  if (process.env.STRIPE_FAKE === '1' || process.env.STRIPE_FAKE === 'true') {
    // Stripe's billing portal sessions and subscriptions, faked on a local port; outages and 429
    // on command (POST /_fake/outage, POST /_fake/subscriptions).
    fakeStripe = await startFakeStripe(process.env.STRIPE_API_KEY || undefined);
    process.env.STRIPE_API_BASE_URL = fakeStripe.baseUrl;
    log(`Fake Stripe at ${fakeStripe.baseUrl} (STRIPE_FAKE)`);
  }
  const stack = await startLocalStack({
    host: process.env.HOST ?? '127.0.0.1',
    port,
    emulatorUrl: process.env.AWS_ENDPOINT_URL || undefined,
    log,
    accessLog: (entry) => log(JSON.stringify({ type: 'access', ...entry })),
  });
  stack.events.on('error', (error: unknown) => process.stderr.write(`queue poller: ${String(error)}\n`));
  writeState({ url: stack.url, pid: process.pid, env: { ...stack.env } });
  log('Operator commands reach this stack with --local, e.g.');
  log('  npm run ops -- token issue --local --tenant platform --role owner');
  log('Ready. Press Ctrl-C to stop.');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping ...`);
    await stack.stop();
    await fake?.close();
    await fakeMeta?.close();
    await fakeStripe?.close();
    clearState();
    log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  const message =
    error instanceof EmulatorUnavailableError || error instanceof SettingsError
      ? error.message
      : String(error);
  process.stderr.write(`Could not start: ${message}\n`);
  process.exit(1);
});
