/**
 * Conventions of the code base that no compiler or linter enforces by itself: the runtime is type
 * checked without the test framework's globals, and a focused or skipped test fails the lint.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const json = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

interface TsConfig {
  extends?: string;
  include?: string[];
  compilerOptions?: { types?: string[] };
}

describe('type checking', () => {
  const runtime = json('tsconfig.json') as TsConfig;
  const tests = json('tsconfig.test.json') as TsConfig;

  it("checks the runtime (functions, lib, bin) without Jest's types, so Lambda code cannot use its globals", () => {
    expect(runtime.include).toEqual(['bin', 'lib', 'functions']);
    expect(runtime.compilerOptions?.types).toEqual(['node']);
  });

  it("checks the tests and the benchmarks with Jest's types, under the runtime's compiler options", () => {
    expect(tests.extends).toBe('./tsconfig.json');
    expect(tests.include).toEqual(['test', 'bench']);
    expect(tests.compilerOptions?.types).toEqual(['node', 'jest']);
  });

  it('checks both in npm run typecheck', () => {
    const scripts = (json('package.json') as { scripts: Record<string, string> }).scripts;
    expect(scripts.typecheck).toBe('tsc --noEmit -p tsconfig.json && tsc --noEmit -p tsconfig.test.json');
  });
});

describe('lint', () => {
  it('refuses a focused or a skipped test', () => {
    const biome = json('biome.json') as { linter: { rules: { suspicious: Record<string, unknown> } } };
    expect(biome.linter.rules.suspicious).toMatchObject({ noFocusedTests: 'error', noSkippedTests: 'error' });
  });
});
