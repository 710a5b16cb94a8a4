/**
 * `npm run test:all`: the test tiers with coverage measured and enforced per tier:
 * 1. unit tests, over the domain modules (no I/O), at least 85 % (80 % of branches);
 * 2. integration, infrastructure and e2e tests, over the rest (adapters, handlers, local stack,
 *    operator commands, infrastructure), at least 80 %;
 * 3. both merged: all code at least 85 % of lines, statements and functions and 80 % of branches,
 *    and every security-critical file at least 90 % on every measure.
 * Any failure, of a test or a threshold, fails the run; later steps do not run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import libCoverage from 'istanbul-lib-coverage';
import * as tiers from './coverage-tiers';
import { AWS_CALLS_DIR } from './support/policy-replay';
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

/** Fails the run when the tier's coverage over `scope` is below its thresholds; prints it either way. */
function checkTier(tier: 'unit' | 'integration', label: string, inScope: (file: string) => boolean): void {
  const map = coverageOf(tier);
  map.filter(inScope);
  const total = map.getCoverageSummary();
  const thresholds = tiers.TIER_THRESHOLDS[tier];
  process.stdout.write(
    `\n== ${tier} tier over ${map.files().length} files (${label}): ${MEASURES.map((m) => `${m} ${total[m].pct.toFixed(1)} %`).join(', ')}\n`,
  );
  const below = MEASURES.filter((m) => total[m].pct < thresholds[m]);
  if (below.length) {
    process.stderr.write(
      `${below.map((m) => `${tier} tier: ${m} ${total[m].pct.toFixed(1)} % is below ${thresholds[m]} %`).join('\n')}\n`,
    );
    process.exit(1);
  }
}

rmSync(ROUTE_HITS_DIR, { recursive: true, force: true });
// The local stack records every AWS call each function makes during the e2e tier.
rmSync(AWS_CALLS_DIR, { recursive: true, force: true });
process.env.AWS_CALL_RECORD_DIR = AWS_CALLS_DIR;
run('unit', ['unit']);

// Each tier's threshold holds over the code it exists to test: the unit tier over the domain
// modules (no I/O), the integration tier over the rest (adapters, handlers, local stack,
// operator commands, infrastructure). Both tiers record all code for the merged measure below.
const domain = new Set(tiers.domainModules(root));
const isDomain = (file: string) => domain.has(path.relative(root, file).split(path.sep).join('/'));
checkTier('unit', 'domain modules', (file) => isDomain(file));
run('integration', ['integration', 'infra', 'e2e']);
checkTier(
  'integration',
  'adapters, handlers, local stack, operator commands and infrastructure',
  (file) => !isDomain(file),
);

// Least privilege: every call the e2e tier recorded is allowed by its function's role in the
// synthesized prod template; the permissions no call used are listed as candidates to remove.
process.stdout.write("\n== least privilege: the e2e tier's AWS calls against the prod template\n");
const replayed = spawnSync(jest, ['--forceExit', '--selectProjects', 'privilege'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, AWS_CALL_RECORD_DIR: AWS_CALLS_DIR },
});
if (replayed.status !== 0) {
  process.stderr.write('A recorded AWS call is not allowed by its function role (see above).\n');
  process.exit(replayed.status ?? 1);
}

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
