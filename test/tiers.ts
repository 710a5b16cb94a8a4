/**
 * `npm run test:all`: the test tiers with coverage measured and enforced per tier (FR-010):
 * 1. unit tests, over the domain modules, at least 85 %;
 * 2. integration, infrastructure and e2e tests, over all code, at least 80 %;
 * 3. both merged: every security-critical file at least 90 % on every measure.
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
  const result = spawnSync(jest, ['--coverage', '--selectProjects', ...projects], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, COVERAGE_TIER: tier },
  });
  if (result.status !== 0) {
    process.stderr.write(`The ${tier} tier failed (tests or its coverage threshold): see above.\n`);
    process.exit(result.status ?? 1);
  }
}

rmSync(ROUTE_HITS_DIR, { recursive: true, force: true });
run('unit', ['unit']);
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
for (const tier of ['unit', 'integration']) {
  const file = path.join(root, 'coverage', tier, 'coverage-final.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: the ${tier} tier wrote no coverage`);
  map.merge(JSON.parse(readFileSync(file, 'utf8')));
}
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
process.stdout.write('All tiers passed their coverage thresholds.\n');
