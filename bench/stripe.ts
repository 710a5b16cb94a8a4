import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLING } from '../contract/bundling';

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.bench');

function medianMs(script: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['-e', script], { cwd: root });
    if (result.status !== 0) throw new Error(`node failed: ${result.stderr.toString()}`);
    times.push(performance.now() - started);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
}

/**
 * The official Stripe SDK on its own: its minified bundle and the cost of loading it and creating
 * a client (as the functions configure it) in a fresh Node process, against an empty start.
 */
export async function benchStripe(runs = 9): Promise<void> {
  mkdirSync(out, { recursive: true });
  const entry = path.join(out, 'stripe-entry.ts');
  writeFileSync(
    entry,
    "import Stripe from 'stripe';\nnew Stripe('sk_test_bench', { timeout: 5000, maxNetworkRetries: 1, telemetry: false });\n",
  );
  const outfile = path.join(out, 'stripe.js');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    outfile,
    logLevel: 'error',
  });
  const empty = medianMs('', runs);
  const init = medianMs(`require(${JSON.stringify(outfile)})`, runs);
  console.log(`stripe SDK bundle: ${(statSync(outfile).size / 1024).toFixed(1)} KB minified`);
  console.log(
    `load + new Stripe(): ${(init - empty).toFixed(0)} ms over an empty node start (${empty.toFixed(0)} ms), median of ${runs}`,
  );
}
