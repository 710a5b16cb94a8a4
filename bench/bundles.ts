import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLING, bundleBudgetKb, esbuildOptions, SDK_SOURCE, type SdkSource } from '../contract/bundling';
import { FUNCTIONS } from '../contract/resources';
import {
  STOREFRONT_BUDGET_GZIP_BYTES,
  STOREFRONT_SCRIPT_FILE,
} from '../functions/shared/features/storefront/service';

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.bench');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function nodeStartMs(script: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['-e', script], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    if (result.status !== 0) throw new Error(`node failed: ${result.stderr.toString()}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

interface Variant {
  kb: number;
  initMs: number;
}

async function buildVariant(
  fn: (typeof FUNCTIONS)[number],
  sdk: SdkSource,
): Promise<{ outfile: string; kb: number; external: string[] }> {
  const outfile = path.join(out, `${fn.id}.${sdk}.js`);
  const options = esbuildOptions(sdk);
  const result = await build({
    metafile: true,
    entryPoints: [path.join(root, fn.entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap ? 'external' : false,
    sourcesContent: BUNDLING.sourcesContent,
    external: options.externalModules,
    mainFields: options.mainFields,
    outfile,
    logLevel: 'error',
  });
  const external = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) if (imported.external) external.add(imported.path);
  }
  return { outfile, kb: statSync(outfile).size / 1024, external: [...external] };
}

/**
 * The storefront script as browsers get it (served as committed, no build step): its size, and
 * gzipped (what a CDN or a browser cache holds) against the budget of 3 KB.
 */
export function printStorefrontScript(): void {
  const file = path.join(root, 'functions', 'shared', 'features', 'storefront', STOREFRONT_SCRIPT_FILE);
  const source = readFileSync(file);
  const gzipped = gzipSync(source, { level: 9 }).length;
  console.log(
    `storefront script ${path.relative(root, file)}: ${source.length} bytes, ${gzipped} bytes gzipped, ${
      gzipped <= STOREFRONT_BUDGET_GZIP_BYTES
        ? `ok (budget ${STOREFRONT_BUDGET_GZIP_BYTES} bytes gzipped)`
        : `OVER the budget of ${STOREFRONT_BUDGET_GZIP_BYTES} bytes gzipped`
    }`,
  );
}

/**
 * Bundles every function both ways and measures size and cold module initialisation (a fresh
 * Node process requiring the bundle, median of `runs`): with the AWS SDK from the Lambda
 * runtime (left external, loaded from node_modules here as from the runtime's there) and with
 * the SDK bundled and tree-shaken (ES module builds first). The choice in
 * contract/bundling.ts (SDK_SOURCE) should name the faster one per function.
 */
export async function benchBundles(runs = 7): Promise<void> {
  printStorefrontScript();
  mkdirSync(out, { recursive: true });
  const empty = nodeStartMs('', runs);
  console.log(`empty node start: ${empty.toFixed(0)} ms (median of ${runs})`);
  console.log(
    'function            runtime SDK: KB  init ms    bundled SDK: KB  init ms   faster    chosen   init / empty   size budget',
  );
  for (const fn of FUNCTIONS) {
    const variants: Record<SdkSource, Variant> = {} as Record<SdkSource, Variant>;
    for (const sdk of ['runtime', 'bundled'] as const) {
      const built = await buildVariant(fn, sdk);
      variants[sdk] = {
        kb: built.kb,
        initMs: nodeStartMs(`require(${JSON.stringify(built.outfile)})`, runs),
      };
    }
    const faster: SdkSource = variants.bundled.initMs < variants.runtime.initMs ? 'bundled' : 'runtime';
    const chosen = SDK_SOURCE[fn.id];
    const budget = bundleBudgetKb(fn.stripeApiKey === 'read', chosen);
    const kb = variants[chosen].kb;
    console.log(
      [
        fn.id.padEnd(19),
        variants.runtime.kb.toFixed(1).padStart(16),
        variants.runtime.initMs.toFixed(0).padStart(8),
        variants.bundled.kb.toFixed(1).padStart(18),
        variants.bundled.initMs.toFixed(0).padStart(8),
        faster.padStart(9),
        chosen.padStart(9),
        (variants[chosen].initMs / empty).toFixed(2).padStart(14),
        kb < budget
          ? `   ok (${kb.toFixed(0)} < ${budget} KB)`
          : `   OVER ${budget} KB (${kb.toFixed(0)} KB)`,
      ].join(' '),
    );
  }
}
