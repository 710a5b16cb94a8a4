/**
 * How every function is bundled, shared by the CDK functions construct and the bundle
 * benchmark so the measured bundle is the deployed one. Pure data.
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  /** Stack traces only need the mappings; embedding the sources would double the asset. */
  sourcesContent: false,
  target: 'node22',
  /** The Lambda Node.js runtime ships the AWS SDK v3. */
  externalModules: ['@aws-sdk/*'],
} as const;

/** Every function bundle (minified) stays under this size. */
export const BUNDLE_BUDGET_KB = 300;
/**
 * The official Stripe SDK bundles to about 250 KB (measured with `npm run bench`): every resource
 * registers itself, so nothing tree-shakes. A function that calls Stripe may exceed the budget by
 * this much, and no more.
 */
export const STRIPE_SDK_ALLOWANCE_KB = 260;

export function bundleBudgetKb(callsStripe: boolean): number {
  return BUNDLE_BUDGET_KB + (callsStripe ? STRIPE_SDK_ALLOWANCE_KB : 0);
}
