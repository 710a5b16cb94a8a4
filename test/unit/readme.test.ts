import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTES, type RouteDefinition } from '../../contract/routes';
import {
  anchors,
  brokenLinks,
  headingSlug,
  markdownFiles,
  missingPaths,
  namedPaths,
  relativeLinks,
} from '../support/markdown';

const root = path.resolve(__dirname, '..', '..');
const README = readFileSync(path.join(root, 'README.md'), 'utf8');

/** What a newcomer reads first stays short: everything else belongs in docs/. */
const README_MAX_LINES = 249;

describe('README.md', () => {
  it(`fits on a few screens (under ${README_MAX_LINES + 1} lines)`, () => {
    const lines = README.replace(/\n$/, '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('names the two commands and links every page of docs/ it promises', () => {
    expect(README).toContain('npm start');
    expect(README).toContain('npm test');
    for (const page of [
      'api',
      'architecture',
      'configuration',
      'operations',
      'recipes',
      'local',
      'webhooks',
    ]) {
      expect(README).toContain(`](docs/${page}.md`);
    }
  });

  it('lists every top-level folder of code and test/support in its layout', () => {
    for (const folder of ['contract/', 'infra/', 'local/', 'ops/', 'tools/openapi/', 'test/support/']) {
      expect(README).toContain(`\`${folder}`);
    }
  });
});

/** The row of docs/api.md's route index a route of the route table has. */
function routeRow(route: RouteDefinition): string {
  const caller: Record<RouteDefinition['auth'], string> = {
    none: 'none',
    jwt: `token, ${route.minRole}+`,
    apiKey: 'API key',
    platformAdmin: 'platform admin',
    signature: "sender's signature",
  };
  return `| \`${route.method} ${route.path}\` | ${caller[route.auth]} | \`${route.functionId}\` | ${route.summary} |`;
}

describe('docs/api.md', () => {
  it('lists every route of the route table, in its order, with its caller, function and summary', () => {
    const api = readFileSync(path.join(root, 'docs', 'api.md'), 'utf8');
    const section = api.split(/^## /m).find((s) => s.startsWith('Routes\n')) ?? '';
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toEqual(ROUTES.map(routeRow));
  });
});

describe('links in README.md and docs/', () => {
  const files = ['README.md', ...markdownFiles(root, 'docs')];

  it('finds the documents', () => {
    expect(files).toEqual(expect.arrayContaining(['docs/api.md', 'docs/recipes.md', 'docs/runbook.md']));
  });

  it.each(files)('%s: every relative link leads to a file, and every anchor to a section', (file) => {
    expect(brokenLinks(root, file)).toEqual([]);
  });

  it.each(files)(
    '%s: every repository path it names in code exists (a moved file is renamed there too)',
    (file) => {
      expect(missingPaths(root, file)).toEqual([]);
    },
  );
});

describe('the link checker', () => {
  const repository: Record<string, string> = {
    'README.md': [
      '# Title',
      '[fine](docs/a.md) [fine too](docs/a.md#second-part-b) [own](#title) [web](https://example.org/x.md)',
      '[gone](docs/missing.md) [no section](docs/a.md#nowhere) [up](../outside.md)',
      '```',
      '[in a code block](docs/missing.md)',
      '```',
      '`[in code](docs/missing.md)`',
    ].join('\n'),
    'docs/a.md':
      '# A\n\n## Second part: `b`\n\n<a id="explicit"></a>\n\n[back](../README.md#title) [x](#explicit)',
  };
  const read = (p: string) => repository[p];

  it('reports missing files, missing sections and paths outside the repository, nothing else', () => {
    expect(brokenLinks(root, 'README.md', read)).toEqual([
      'README.md:3 -> docs/missing.md (no such file)',
      'README.md:3 -> docs/a.md#nowhere (no such section)',
      'README.md:3 -> ../outside.md (outside the repository)',
    ]);
    expect(brokenLinks(root, 'docs/a.md', read)).toEqual([]);
  });

  it('reads links outside code, and anchors as GitHub makes them', () => {
    expect(relativeLinks(repository['README.md'] as string).map((l) => l.target)).toEqual([
      'docs/a.md',
      'docs/a.md#second-part-b',
      '#title',
      'docs/missing.md',
      'docs/a.md#nowhere',
      '../outside.md',
    ]);
    expect(headingSlug('Retention (storage limitation)')).toBe('retention-storage-limitation');
    expect(headingSlug('Alerts: what pages and what warns')).toBe('alerts-what-pages-and-what-warns');
    expect([...anchors('# Same\n## Same\n## Same\n')]).toEqual(['same', 'same-1', 'same-2']);
  });

  it('reads the repository paths a document names in code, not templates or other code', () => {
    const text =
      'Edit `contract/routes.ts`, then `functions/<name>/handler.ts`, see `docs/runbook.md#dead-letters` ' +
      'and `.ci/run`; run `npm run openapi` in `test/e2e`. Not `x/lib/a.ts` nor `functions` alone.';
    expect(namedPaths(text)).toEqual(['contract/routes.ts', 'docs/runbook.md', '.ci/run', 'test/e2e']);
  });
});
