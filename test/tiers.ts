/**
 * `npm run test:all`: the test tiers with coverage measured and enforced per tier (FR-010):
 * 1. unit tests, over the domain modules, at least 85 %;
 * 2. integration, infrastructure and e2e tests, over all code, at least 80 %;
 * 3. both merged: all code at least 85 % of lines, statements and functions and 80 % of branches,
 *    and every security-critical file at least 90 % on every measure.
 * Any failure, of a test or a threshold, fails the run; later steps do not run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import libCoverage from 'istanbul-lib-coverage';
import * as tiers from './coverage-tiers';
import { ROUTE_HITS_DIR, routesNotExercised } from './support/route-hits';

const root = path.resolve(__dirname, '..');
const jest = path.join(root, 'node_modules', '.bin', 'jest');

function run(tier: 'unit' | 'integration', projects: string[]): void {
  process.stdout.write(
    `\n== ${tier} tier: ${projects.join(', ')} (coverage at least ${tiers.TIER_THRESHOLDS[tier].lines} %)\n`,
  );
  // --forceExit: a tier that ends with a failure must not leave CI waiting on a stray handle.
  const result = spawnSync(jest, ['--coverage', '--forceExit', '--selectProjects', ...projects], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, COVERAGE_TIER: tier },
  });
  if (result.status !== 0) {
    process.stderr.write(`The ${tier} tier failed (tests or its coverage threshold): see above.\n`);
    process.exit(result.status ?? 1);
  }
}

const MEASURES = ['lines', 'statements', 'functions', 'branches'] as const;

function coverageOf(tier: 'unit' | 'integration'): libCoverage.CoverageMap {
  const file = path.join(root, 'coverage', tier, 'coverage-final.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: the ${tier} tier wrote no coverage`);
  return libCoverage.createCoverageMap(JSON.parse(readFileSync(file, 'utf8')));
}

rmSync(ROUTE_HITS_DIR, { recursive: true, force: true });
run('unit', ['unit']);

// The unit tier's threshold holds over the domain modules (no I/O), the code unit tests can reach.
const domain = new Set(tiers.domainModules(root));
const unitMap = coverageOf('unit');
unitMap.filter((file) => domain.has(path.relative(root, file).split(path.sep).join('/')));
const unitTotal = unitMap.getCoverageSummary();
process.stdout.write(
  `\n== unit tier over ${unitMap.files().length} domain modules: ${MEASURES.map((m) => `${m} ${unitTotal[m].pct.toFixed(1)} %`).join(', ')}\n`,
);
const unitBelow = MEASURES.filter((m) => unitTotal[m].pct < tiers.TIER_THRESHOLDS.unit[m]);
if (unitBelow.length) {
  process.stderr.write(
    `${unitBelow.map((m) => `unit tier: ${m} ${unitTotal[m].pct.toFixed(1)} % is below ${tiers.TIER_THRESHOLDS.unit[m]} %`).join('\n')}\n`,
  );
  process.exit(1);
}
run('integration', ['integration', 'infra', 'e2e']);

// Every route of the route table is called by at least one e2e test.
const missing = routesNotExercised();
process.stdout.write(
  `\n== routes exercised by the e2e tests: ${missing.length ? `${missing.length} missing` : 'all'}\n`,
);
if (missing.length) {
  process.stderr.write(`No e2e test calls: ${missing.join(', ')}\n`);
  process.exit(1);
}

const map = libCoverage.createCoverageMap({});
for (const tier of ['unit', 'integration'] as const) map.merge(coverageOf(tier));
const summaries: Record<string, Record<string, number>> = {};
for (const file of map.files()) {
  const summary = map.fileCoverageFor(file).toSummary();
  summaries[path.relative(root, file).split(path.sep).join('/')] = {
    lines: summary.lines.pct,
    statements: summary.statements.pct,
    functions: summary.functions.pct,
    branches: summary.branches.pct,
  };
}
const checked = Object.keys(summaries).filter((f) =>
  tiers.SECURITY_CRITICAL.paths.some((p) => f.startsWith(p)),
);
const failures = tiers.securityCriticalFailures(summaries);
process.stdout.write(
  `\n== security-critical files (unit and integration merged): ${checked.length} files, at least ${tiers.SECURITY_CRITICAL.minimum} %\n`,
);
if (failures.length) {
  process.stderr.write(`${failures.join('\n')}\n`);
  process.exit(1);
}
const total = map.getCoverageSummary();
const below = (['lines', 'statements', 'functions', 'branches'] as const).filter(
  (measure) => total[measure].pct < tiers.MERGED_THRESHOLDS[measure],
);
process.stdout.write(
  `\n== all code (unit and integration merged): ${(['lines', 'statements', 'functions', 'branches'] as const)
    .map((m) => `${m} ${total[m].pct.toFixed(1)} %`)
    .join(', ')}\n`,
);
if (below.length) {
  process.stderr.write(
    `${below.map((m) => `all code: ${m} ${total[m].pct.toFixed(1)} % is below ${tiers.MERGED_THRESHOLDS[m]} %`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write('All tiers passed their coverage thresholds.\n');
