import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FUNCTIONS = join(ROOT, 'functions');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports and re-exports of each module under functions/, as repository paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(FUNCTIONS)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const match of text.matchAll(/(?:import|export)[^;]*?from '(\.[^']*)'/g)) {
      const target = `${normalize(join(dirname(file), match[1] as string))}.ts`;
      if (existsSync(target)) deps.push(relative(ROOT, target));
    }
    graph.set(relative(ROOT, file), deps);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const dep of graph.get(node) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The HTTP layer: the only modules under functions/shared that may know HttpError. */
const HTTP_LAYER = new Set([
  'functions/shared/http.ts',
  'functions/shared/errors.ts',
  'functions/shared/validation.ts',
  'functions/shared/auth/middleware.ts',
  'functions/shared/rate-limit/middleware.ts',
]);

describe('module structure', () => {
  const graph = importGraph();

  it('finds the modules it checks', () => {
    expect(graph.get('functions/shared/http.ts')).toContain('functions/shared/request.ts');
    expect(graph.get('functions/shared/leads/service.ts')).toContain('functions/shared/domain-errors.ts');
  });

  it('has no import cycle under functions/', () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  it('detects a cycle when there is one', () => {
    const cyclic = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
    ]);
    expect(findCycle(cyclic)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  });

  it('keeps HttpError out of domain modules: they throw domain errors', () => {
    const offenders = [...graph.entries()]
      .filter(([file]) => file.startsWith('functions/shared/') && !HTTP_LAYER.has(file))
      .filter(([, deps]) => deps.includes('functions/shared/errors.ts'))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });

  it('keeps the tenant scope with tenancy, not with authentication', () => {
    const scopeUsers = [...graph.entries()].filter(([, deps]) =>
      deps.includes('functions/shared/tenancy/scope.ts'),
    );
    expect(scopeUsers.length).toBeGreaterThan(5);
    expect(readFileSync(join(FUNCTIONS, 'shared/auth/context.ts'), 'utf8')).not.toContain('TenantScope');
  });
});
