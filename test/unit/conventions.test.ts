/**
 * Conventions of the code base that no compiler or linter enforces by itself: the runtime is type
 * checked without the test framework's globals, a focused or skipped test fails the lint, and the
 * code and docs cite only what a reader of the repository can open.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CODE_FOLDERS } from '../support/markdown';

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

  it("checks the runtime and its tooling (functions, contract, infra, local, ops, tools, bin) without Jest's types, so Lambda code cannot use its globals", () => {
    expect(runtime.include).toEqual(['bin', 'functions', 'contract', 'infra', 'local', 'ops', 'tools']);
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

/** Every text file below a folder of the repository (or the file itself). */
function textFiles(relative: string): string[] {
  const full = path.join(ROOT, relative);
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).flatMap((name) =>
    name === 'node_modules' ? [] : textFiles(path.join(relative, name)),
  );
}

/** The names of the Markdown documents the repository holds (README.md, docs/...). */
const HELD_DOCUMENTS = new Set(
  ['README.md', ...textFiles('docs')]
    .filter((file) => file.endsWith('.md'))
    .map((file) => path.basename(file)),
);

/**
 * Citations of documents that are not in the repository: a Markdown file it does not hold, a
 * numbered section (`§8`) of one, or a numbered requirement (`FR-010`). A section of a public
 * standard names the standard (`RFC 6749 §4.1.2.1`) and stays.
 */
function outsideCitations(text: string, held: ReadonlySet<string> = HELD_DOCUMENTS): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\b[\w-]+\.md\b/g)) if (!held.has(match[0])) found.push(match[0]);
  for (const match of text.matchAll(/\b(?:N?FR|SC)-\d+\b/gi)) found.push(match[0]);
  for (const match of text.matchAll(/§\s*\d[\d.]*/g)) {
    const before = text.slice(Math.max(0, (match.index ?? 0) - 16), match.index);
    if (!/\bRFC \d+,? $/.test(before)) found.push(match[0]);
  }
  return found;
}

describe('citations', () => {
  it('recognise a document outside the repository, and let its own documents and a public standard be cited', () => {
    const held = new Set(['README.md', 'api.md']);
    expect(outsideCitations('per NOTES.md §8, see PLAN.md and FR-010; README.md, docs/api.md', held)).toEqual(
      ['NOTES.md', 'PLAN.md', 'FR-010', '§8'],
    );
    expect(outsideCitations('click ids as in the notes, §4.2', held)).toEqual(['§4.2']);
    expect(outsideCitations('an OAuth error code (RFC 6749 §4.1.2.1) or RFC 9110 §13.1.2', held)).toEqual([]);
    expect(HELD_DOCUMENTS.has('README.md') && HELD_DOCUMENTS.has('recipes.md')).toBe(true);
  });

  it('name only what the repository holds in the code, bench/, docs/ and README', () => {
    const files = [...CODE_FOLDERS, 'docs', 'README.md'].flatMap(textFiles);
    expect(files.length).toBeGreaterThan(100);
    const cited = files.flatMap((file) =>
      outsideCitations(readFileSync(path.join(ROOT, file), 'utf8')).map((citation) => `${file}: ${citation}`),
    );
    expect(cited).toEqual([]);
  });
});
