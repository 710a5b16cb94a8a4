/**
 * Coverage per test tier, shared by jest.config.js and test/tiers.ts. Plain CommonJS so
 * the Jest configuration can load it.
 */
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

/**
 * Thresholds of each tier over the code it exists to test (test/tiers.ts): the unit tier over the
 * domain modules, the integration tier over everything else: unit 85 %, integration 80 %.
 */
const TIER_THRESHOLDS = {
  unit: { lines: 85, statements: 85, functions: 85, branches: 80 },
  integration: { lines: 80, statements: 80, functions: 80, branches: 80 },
};

/** All code, on the tiers' merged coverage: the project's floor. */
const MERGED_THRESHOLDS = { lines: 85, statements: 85, functions: 85, branches: 80 };

/** Every file of these, on the tiers' merged coverage, at least this on every measure. */
const SECURITY_CRITICAL = {
  minimum: 90,
  paths: [
    'functions/shared/platform/auth/',
    'functions/shared/platform/rate-limit/',
    'functions/shared/features/tenancy/',
    'functions/shared/platform/crypto/',
    'functions/shared/features/gdpr/',
    'functions/gdpr/',
    'functions/shared/features/webhooks/rules/signatures.ts',
    'functions/shared/platform/config/settings.ts',
  ],
};

/** What makes a module an adapter (I/O) rather than a domain module. */
const IO_IMPORT =
  /from '(@aws-sdk\/[^']+|stripe|\.{1,2}\/(?:[\w-]+\/)*(?:aws\/clients|dynamo\/repository|config\/secrets))'/;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/**
 * The domain modules the unit tier is measured on: shared function code and definitions that
 * import no AWS SDK, no Stripe client and none of the AWS or secret adapters, and are no store.
 */
function domainModules(root) {
  return ['functions/shared', 'contract']
    .flatMap((dir) => sources(path.join(root, dir)))
    .filter((file) => !/(^|\/)dynamo[\w-]*\.ts$/.test(file) && !IO_IMPORT.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(root, file).split(path.sep).join('/'));
}

/**
 * The security-critical files below the minimum on any measure, one sentence each.
 * `summaries`: repository path -> { lines, statements, functions, branches } percentages.
 */
function securityCriticalFailures(summaries) {
  const failures = [];
  for (const [file, summary] of Object.entries(summaries)) {
    if (!SECURITY_CRITICAL.paths.some((p) => file.startsWith(p))) continue;
    for (const measure of ['lines', 'statements', 'functions', 'branches']) {
      const pct = summary[measure];
      if (pct < SECURITY_CRITICAL.minimum) {
        failures.push(`${file}: ${measure} ${pct.toFixed(1)} % is below ${SECURITY_CRITICAL.minimum} %`);
      }
    }
  }
  return failures;
}

module.exports = {
  TIER_THRESHOLDS,
  MERGED_THRESHOLDS,
  SECURITY_CRITICAL,
  domainModules,
  securityCriticalFailures,
  IO_IMPORT,
};
