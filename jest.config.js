/**
 * The four test tiers as Jest projects (unit, integration, infra, e2e). TypeScript and the
 * ES-module-only dependencies (Middy, jose) are compiled to CommonJS by @swc/jest. Integration
 * and e2e tests share one emulator started by test/support/global-setup.ts.
 *
 * `npm test` runs the tiers through test/tiers.ts, which measures coverage per tier:
 * COVERAGE_TIER=unit and COVERAGE_TIER=integration record all code; the tier runner checks the unit
 * tier over the domain modules (no I/O), the integration tier over the rest, and both merged,
 * with every security-critical file at 90 % (coverage-tiers.js).
 * A plain `npx jest <file>` runs whatever it is given, without thresholds.
 */
const esmOnly = ['@middy', 'jose'];

const base = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  setupFiles: ['<rootDir>/test/support/env.ts'],
  testTimeout: 60_000,
};

const project = (name, extra = {}) => ({
  ...base,
  displayName: name,
  roots: [`<rootDir>/test/${name}`],
  ...extra,
});

const tier = process.env.COVERAGE_TIER;
const ALL_CODE = [
  'bin/**/*.ts',
  'infra/**/*.ts',
  'local/**/*.ts',
  'ops/**/*.ts',
  'tools/**/*.ts',
  'functions/**/*.ts',
  'contract/**/*.ts',
  '!bin/app.ts',
  '!bin/local.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('unit'),
    project('integration'),
    project('infra'),
    // The leak test: every e2e file's output is scanned for the personal data and credentials it used.
    project('e2e', { setupFilesAfterEnv: ['<rootDir>/test/support/leak-capture.ts'] }),
    // The replay of the e2e tier's record of AWS calls against the template (test/tiers.ts runs it
    // after the e2e tier, with AWS_CALL_RECORD_DIR set); absent otherwise, since it needs the record.
    ...(process.env.AWS_CALL_RECORD_DIR ? [project('privilege')] : []),
  ],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Integration and e2e files share one emulator and reset it: run files one at a time.
  maxWorkers: 1,
  testTimeout: 60_000,
  // Both tiers record all code, so their merged coverage is complete; each tier's threshold over
  // its own part of the code is checked by test/tiers.ts from its coverage-final.json.
  collectCoverageFrom: ALL_CODE,
  coverageDirectory: `coverage/${tier ?? 'all'}`,
  coverageReporters: ['text-summary', 'json', 'lcov'],
};
