import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLING, bundleBudgetKb } from '../lib/definitions/bundling';
import { FUNCTIONS } from '../lib/definitions/resources';

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

/**
 * Bundles every function as the stack does and measures its size and cold module initialisation.
 * The AWS SDK is provided by the Lambda runtime, not bundled; its own load time is shown apart
 * (SDK-only) so the cost of the project's code is visible.
 */
export async function benchBundles(runs = 7): Promise<void> {
  mkdirSync(out, { recursive: true });
  const empty = nodeStartMs('', runs);
  console.log(`empty node start: ${empty.toFixed(0)} ms (median of ${runs})`);
  console.log(
    'function        bundle KB   init ms   SDK-only ms   init / empty start   init / SDK-only   size budget',
  );
  for (const fn of FUNCTIONS) {
    const outfile = path.join(out, `${fn.id}.js`);
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
      external: [...BUNDLING.externalModules],
      outfile,
      logLevel: 'error',
    });
    const kb = statSync(outfile).size / 1024;
    const budget = bundleBudgetKb(fn.stripeApiKey === 'read');
    const sdk = new Set<string>();
    for (const output of Object.values(result.metafile.outputs)) {
      for (const imported of output.imports) if (imported.external) sdk.add(imported.path);
    }
    const init = nodeStartMs(`require(${JSON.stringify(outfile)})`, runs);
    const sdkOnly = nodeStartMs([...sdk].map((m) => `require(${JSON.stringify(m)});`).join(''), runs);
    console.log(
      [
        fn.id.padEnd(15),
        kb.toFixed(1).padStart(9),
        init.toFixed(0).padStart(9),
        sdkOnly.toFixed(0).padStart(13),
        (init / empty).toFixed(2).padStart(20),
        (init / sdkOnly).toFixed(2).padStart(17),
        kb < budget ? `   ok (< ${budget} KB)` : `   OVER ${budget} KB`,
      ].join(' '),
    );
  }
}
