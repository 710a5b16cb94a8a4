import type { FunctionId } from './resources';

/**
 * How every function is bundled, shared by the CDK functions construct and the bundle
 * benchmark so the measured bundle is the deployed one. Pure data.
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  /** Stack traces only need the mappings; embedding the sources would double the asset. */
  sourcesContent: false,
  target: 'node24',
  /** The Lambda Node.js runtime ships the AWS SDK v3. */
  externalModules: ['@aws-sdk/*'],
} as const;

/**
 * Where a function's AWS SDK comes from: the Lambda runtime's copy (left external) or bundled
 * and tree-shaken into the function. `npm run bench -- bundles` measures both per function; the
 * choice is the faster module initialisation (figures in docs/performance.md).
 */
export type SdkSource = 'runtime' | 'bundled';

export const SDK_SOURCE: Readonly<Record<FunctionId, SdkSource>> = {
  health: 'bundled',
  api: 'bundled',
  admin: 'bundled',
  leads: 'bundled',
  gdpr: 'bundled',
  ingest: 'bundled',
  webhookWorker: 'bundled',
  conversionUploader: 'bundled',
  backupWorker: 'bundled',
};

/** esbuild settings that follow from a function's SDK source. */
export function esbuildOptions(sdk: SdkSource): { externalModules: string[]; mainFields: string[] } {
  return sdk === 'runtime'
    ? { externalModules: [...BUNDLING.externalModules], mainFields: ['main', 'module'] }
    : // ES module builds first, so esbuild can drop the SDK code a function never reaches.
      { externalModules: [], mainFields: ['module', 'main'] };
}

/** Every function bundle (minified) stays under this size. */
export const BUNDLE_BUDGET_KB = 300;
/**
 * The official Stripe SDK bundles to about 250 KB (measured with `npm run bench`): every resource
 * registers itself, so nothing tree-shakes. A function that calls Stripe may exceed the budget by
 * this much, and no more.
 */
export const STRIPE_SDK_ALLOWANCE_KB = 260;

/**
 * The AWS SDK clients a function uses, bundled and tree-shaken, add 370 to 510 KB (measured with
 * `npm run bench -- bundles`): a bigger file that still initialises faster than the runtime's
 * SDK loaded module by module from disk. A function with a bundled SDK may exceed the budget by
 * this much, and no more.
 */
export const AWS_SDK_ALLOWANCE_KB = 520;

export function bundleBudgetKb(callsStripe: boolean, sdk: SdkSource = 'runtime'): number {
  return (
    BUNDLE_BUDGET_KB +
    (callsStripe ? STRIPE_SDK_ALLOWANCE_KB : 0) +
    (sdk === 'bundled' ? AWS_SDK_ALLOWANCE_KB : 0)
  );
}
