/**
 * `npm run bench`: prints the figures the budgets in README are checked against. Benchmarks
 * print; they do not fail the build.
 */
import { benchBundles } from './bundles';

async function main(): Promise<void> {
  console.log('== function bundles ==');
  await benchBundles();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
