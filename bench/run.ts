/**
 * `npm run bench [-- section ...]`: prints the figures the budgets in docs/performance.md (and
 * docs/api.md, docs/conversions.md) are checked against. Benchmarks print; they do not fail the build.
 * Sections: bundles, cold-start, rate-limit, ingest, units, leads-batch, google-ads, backup, stripe (all by default).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { spawnSync } from 'node:child_process';

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
  if (names.length === 1) {
    const section = SECTIONS[names[0] as string] as (typeof SECTIONS)[string];
    console.log(`== ${section.title} ==`);
    await section.run();
    return;
  }
  // Each section in a process of its own, as each function runs in its own in Lambda: a section
  // starts from a clean environment, whatever the one before it set or cached.
  const failed: string[] = [];
  for (const [i, name] of names.entries()) {
    if (i) console.log('');
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, name], { stdio: 'inherit' });
    if (run.status !== 0) failed.push(name);
  }
  if (failed.length) throw new Error(`Bench sections failed: ${failed.join(', ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
