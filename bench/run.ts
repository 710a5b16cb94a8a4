/**
 * `npm run bench [-- section ...]`: prints the figures the budgets in docs/performance.md (and
 * docs/api.md, docs/conversions.md) are checked against. Benchmarks print; they do not fail the build.
 * Sections: bundles, cold-start, rate-limit, ingest, units, leads-batch, google-ads, backup, stripe (all by default).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { benchBackup } from './backup';
import { benchBundles } from './bundles';
import { benchGoogleAds } from './google-ads';
import { benchIngest, printIngest } from './ingest';
import { benchLeadsBatch, printLeadsBatch } from './leads-batch';
import { benchMeta } from './meta';
import { benchRateLimit } from './rate-limit';
import { benchStripe } from './stripe';
import { benchUnits, printUnits } from './units';

const SECTIONS: Record<string, { title: string; run: () => Promise<void> }> = {
  bundles: {
    title: 'storefront script size; function bundles and cold start (AWS SDK from the runtime vs bundled)',
    run: benchBundles,
  },
  'rate-limit': { title: 'rate-limit check', run: benchRateLimit },
  ingest: {
    title: 'webhook ingest against the floor (same emulator, interleaved)',
    run: async () => printIngest(await benchIngest()),
  },
  units: {
    title: 'DynamoDB request units, AWS calls and log bytes per webhook (production log level)',
    run: async () => printUnits(await benchUnits()),
  },
  'leads-batch': {
    title: 'a batch of 100 leads: answer time, DynamoDB calls, critical path',
    run: async () => printLeadsBatch(await benchLeadsBatch()),
  },
  'google-ads': { title: 'Google Ads upload batching and token refreshes', run: benchGoogleAds },
  meta: { title: 'Meta events per Conversions API request', run: () => benchMeta() },
  backup: { title: 'encrypted backup', run: benchBackup },
  stripe: { title: 'Stripe SDK: bundle and initialisation', run: benchStripe },
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((name) => !SECTIONS[name]);
  if (unknown.length) {
    throw new Error(
      `Unknown bench section ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}`,
    );
  }
  const names = asked.length ? asked : Object.keys(SECTIONS);
  for (const [i, name] of names.entries()) {
    const section = SECTIONS[name] as (typeof SECTIONS)[string];
    console.log(`${i ? '\n' : ''}== ${section.title} ==`);
    await section.run();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
