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
