/**
 * `npm run bench`: prints the figures the budgets in README are checked against. Benchmarks
 * print; they do not fail the build.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { benchBackup } from './backup';
import { benchBundles } from './bundles';
import { benchGoogleAds } from './google-ads';
import { benchRateLimit } from './rate-limit';

async function main(): Promise<void> {
  console.log('== function bundles ==');
  await benchBundles();
  console.log('\n== rate-limit check ==');
  await benchRateLimit();
  console.log('\n== Google Ads upload batching and token refreshes ==');
  await benchGoogleAds();
  console.log('\n== encrypted backup ==');
  await benchBackup();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
