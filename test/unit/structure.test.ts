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

const PLATFORM = 'functions/shared/platform';
const FEATURES = 'functions/shared/features';
const PROVIDERS = 'functions/shared/providers';

/**
 * What platform plumbing reads of the features: the tenant vocabulary it serves (a tenant, its
 * scope and roles, its API keys and the store authentication reads them from), the retention rule
 * every repository applies to what it reads, the audit trail's actor, and the port a provider's
 * circuit breaker guards.
 */
const PLATFORM_READS = new Set([
  'functions/shared/features/tenancy/service.ts',
  'functions/shared/features/tenancy/dynamo.ts',
  'functions/shared/features/tenancy/model.ts',
  'functions/shared/features/tenancy/rules/scope.ts',
  'functions/shared/features/retention/rules.ts',
  'functions/shared/features/gdpr/model.ts',
  'functions/shared/features/conversions/ports-provider.ts',
]);

/**
 * The roles of a feature folder's files, one name each in every feature: `model` (its records),
 * `rules` (pure rules), `service` (what entry points call), `ports` (what a service needs of
 * storage or a platform), `schema` (request schemas), `dynamo` (the DynamoDB adapter implementing
 * the ports) and `config` (its settings from the environment). Several files of one role are
 * `<role>-<name>.ts` (as `dynamo-audit.ts`) or `<role>/<name>.ts` (as `rules/consent.ts`).
 */
const ROLES = ['model', 'rules', 'service', 'ports', 'schema', 'dynamo', 'config'];
const ROLE_FILE = new RegExp(
  `^(?:${ROLES.join('|')})(?:-[a-z0-9]+(?:-[a-z0-9]+)*)?\\.ts$|^(?:${ROLES.join('|')})/.+\\.ts$`,
);

/** Every repository path a runtime module imports, relative or not (infra/, local/, bench/, test/ ...). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^;]*?from '(\.[^']*)'/g)].map((m) =>
    relative(ROOT, normalize(join(dirname(join(ROOT, file)), m[1] as string))),
  );
}

/** The HTTP layer: the only modules under functions/shared that may know HttpError. */
const HTTP_LAYER = new Set([
  'functions/shared/platform/http/handler.ts',
  'functions/shared/platform/http/errors.ts',
  'functions/shared/platform/http/validation.ts',
  'functions/shared/platform/auth/middleware.ts',
  'functions/shared/platform/rate-limit/middleware.ts',
]);

describe('module structure', () => {
  const graph = importGraph();

  it('finds the modules it checks', () => {
    expect(graph.get('functions/shared/platform/http/handler.ts')).toContain(
      'functions/shared/platform/http/request.ts',
    );
    expect(graph.get('functions/shared/features/leads/service.ts')).toContain(
      'functions/shared/platform/errors/domain.ts',
    );
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
      .filter(([, deps]) => deps.includes('functions/shared/platform/http/errors.ts'))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });

  it('keeps the runtime apart from the infrastructure, the local run mode, the tooling and the tests', () => {
    const offenders = [...graph.keys()].flatMap((file) =>
      importsOf(file)
        .filter((target) => /^(infra|local|ops|tools|bench|test|bin)\//.test(target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps the contract data apart from both the runtime and the infrastructure', () => {
    const contract = readdirSync(join(ROOT, 'contract')).map((name) => `contract/${name}`);
    expect(contract).toContain('contract/routes.ts');
    const offenders = contract.flatMap((file) =>
      importsOf(file)
        .filter((target) => !target.startsWith('contract/'))
        .map((target) => `${file} -> ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps the layers in their places: platform, features and providers never reach an entry point', () => {
    const entryPoint = /^functions\/(?!shared\/)/;
    const offenders = [...graph.entries()]
      .filter(([file]) => file.startsWith('functions/shared/'))
      .flatMap(([file, deps]) => deps.filter((d) => entryPoint.test(d)).map((d) => `${file} -> ${d}`));
    expect(offenders).toEqual([]);
  });

  it('keeps platform plumbing free of providers, and of features but the vocabulary it serves', () => {
    const offenders = [...graph.entries()]
      .filter(([file]) => file.startsWith(`${PLATFORM}/`))
      .flatMap(([file, deps]) =>
        deps
          .filter(
            (d) => d.startsWith(`${PROVIDERS}/`) || (d.startsWith(`${FEATURES}/`) && !PLATFORM_READS.has(d)),
          )
          .map((d) => `${file} -> ${d}`),
      );
    expect(offenders).toEqual([]);
  });

  it("keeps features off the providers' clients and transports: they reach a platform through a port", () => {
    const transport =
      /^functions\/shared\/providers\/[\w-]+\/(?:client|request|results|delivery|data-manager\/|google-ads-api\/)/;
    const offenders = [...graph.entries()]
      .filter(([file]) => file.startsWith(`${FEATURES}/`))
      .flatMap(([file, deps]) => deps.filter((d) => transport.test(d)).map((d) => `${file} -> ${d}`));
    expect(offenders).toEqual([]);
  });

  it('names storage adapters by their store, in every feature', () => {
    const adapters = [...graph.entries()]
      .filter(([file]) => file.startsWith(`${FEATURES}/`))
      .filter(([, deps]) => deps.includes('functions/shared/platform/dynamo/repository.ts'))
      .map(([file]) => file);
    expect(adapters.length).toBeGreaterThan(5);
    for (const file of adapters) expect(file).toMatch(/\/dynamo(-[\w-]+)?\.ts$/);
  });

  it('keeps the tenant scope with tenancy, not with authentication', () => {
    const scopeUsers = [...graph.entries()].filter(([, deps]) =>
      deps.includes('functions/shared/features/tenancy/rules/scope.ts'),
    );
    expect(scopeUsers.length).toBeGreaterThan(5);
    expect(readFileSync(join(FUNCTIONS, 'shared/platform/auth/context.ts'), 'utf8')).not.toContain(
      'TenantScope',
    );
  });

  it('names every file of a feature folder by its role, one vocabulary for all features', () => {
    const offenders = [...graph.keys()]
      .filter((file) => file.startsWith(`${FEATURES}/`))
      .filter((file) => !ROLE_FILE.test(file.slice(FEATURES.length + 1).replace(/^[\w-]+\//, '')));
    expect(offenders).toEqual([]);
    // The check can fail: a file named for what it does rather than its role is refused.
    for (const name of ['won.ts', 'store.ts', 'settings.ts', 'rulesets.ts', 'model-.ts'])
      expect(ROLE_FILE.test(name)).toBe(false);
    for (const name of ['model.ts', 'dynamo-audit.ts', 'rules/extract/shopify.ts', 'service-won.ts'])
      expect(ROLE_FILE.test(name)).toBe(true);
  });

  it('keeps the AWS SDK in the storage adapters: other roles import at most its types', () => {
    const offenders = [...graph.keys()]
      .filter((file) => file.startsWith(`${FEATURES}/`) && !/\/dynamo(-[\w-]+)?\.ts$/.test(file))
      .filter((file) =>
        /^import (?!type )[^;]*from '@aws-sdk\//m.test(readFileSync(join(ROOT, file), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});
