/**
 * One Jest run over the four test tiers (unit, integration, infra, e2e). TypeScript and the
 * ES-module-only dependencies (Middy, jose) are compiled to CommonJS by @swc/jest.
 * Integration and e2e tests share one emulator started by test/support/global-setup.ts.
 */
const esmOnly = ['@middy', 'jose'];

/** Authentication, tenant isolation, rate limiting and encryption: the paths that must fail closed. */
const securityCritical = [
  './functions/shared/auth/**/*.ts',
  './functions/shared/rate-limit/**/*.ts',
  './functions/shared/tenancy/**/*.ts',
  './functions/shared/crypto/**/*.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
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
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  // Integration and e2e files share one emulator and reset it: run files one at a time.
  maxWorkers: 1,
  testTimeout: 60_000,
  collectCoverageFrom: ['bin/**/*.ts', 'lib/**/*.ts', 'functions/**/*.ts', '!bin/app.ts', '!bin/local.ts'],
  coverageReporters: ['text-summary', 'text', 'lcov'],
  coverageThreshold: {
    global: { lines: 85, statements: 85, functions: 85, branches: 80 },
    // Security-critical modules: each file on its own, at least 90 % on every measure.
    ...Object.fromEntries(
      securityCritical.map((glob) => [glob, { lines: 90, statements: 90, functions: 90, branches: 90 }]),
    ),
  },
};
