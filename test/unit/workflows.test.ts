import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const DIR = join(__dirname, '..', '..', '.github', 'workflows');
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const text = (file: string) => readFileSync(join(DIR, file), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string> | string;
  jobs: Record<string, Job>;
}
const workflow = (file: string) => parse(text(file)) as Workflow;

/** The official actions and the oldest major allowed (older majors run on Node 20 and hang on Node 24 runners). */
const MIN_MAJOR: Record<string, number> = {
  'actions/checkout': 7,
  'actions/setup-node': 7,
  'aws-actions/configure-aws-credentials': 6,
};
/** The only secret a workflow may read: the smoke tenant's revocable API key (not AWS access). */
const ALLOWED_SECRETS = ['SMOKE_API_KEY'];

describe('GitHub workflows', () => {
  it('exist and are valid YAML with jobs', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml']);
    for (const file of files) {
      const parsed = workflow(file);
      expect(Object.keys(parsed.jobs).length).toBeGreaterThan(0);
    }
  });

  it('pin every action to a full commit SHA of a current major, named in a comment', () => {
    for (const file of files) {
      const lines = text(file)
        .split('\n')
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      for (const line of lines) {
        if (/uses:\s*\.\/\.github\/workflows\/[\w-]+\.yml\s*$/.test(line)) continue;
        const match = /uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*v(\d+)[\d.]*)?/.exec(line);
        expect({ file, line, ok: Boolean(match) }).toEqual({ file, line, ok: true });
        const [, action = '', ref = '', major] = match ?? [];
        expect({ file, action, sha: /^[0-9a-f]{40}$/.test(ref), named: Boolean(major) }).toEqual({
          file,
          action,
          sha: true,
          named: true,
        });
        expect({ action, allowed: action in MIN_MAJOR }).toEqual({ action, allowed: true });
        expect(Number(major)).toBeGreaterThanOrEqual(MIN_MAJOR[action] ?? Number.POSITIVE_INFINITY);
      }
    }
  });

  it('hold no long-lived credentials: AWS access comes from OIDC, secrets only from the allowlist', () => {
    for (const file of files) {
      const body = text(file);
      expect(body).not.toMatch(
        /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/i,
      );
      expect(body).not.toMatch(/aws-session-token/i);
      const secrets = [...body.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      for (const name of secrets) expect(ALLOWED_SECRETS).toContain(name);
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('aws-actions/configure-aws-credentials')) continue;
          expect(Object.keys(step.with ?? {}).sort()).toEqual([
            'aws-region',
            'role-session-name',
            'role-to-assume',
          ]);
          expect(step.with?.['role-to-assume']).toMatch(/^\$\{\{ vars\./);
        }
      }
    }
  });

  it('grant minimal permissions: read-only by default, an OIDC token only to the jobs that assume the role', () => {
    for (const file of files) {
      const parsed = workflow(file);
      expect(parsed.permissions).toEqual({ contents: 'read' });
      for (const [name, job] of Object.entries(parsed.jobs)) {
        const assumes = (job.steps ?? []).some((s) =>
          s.uses?.startsWith('aws-actions/configure-aws-credentials'),
        );
        const expected = assumes ? { contents: 'read', 'id-token': 'write' } : undefined;
        expect({ file, name, permissions: job.permissions }).toEqual({ file, name, permissions: expected });
      }
      expect(text(file)).not.toMatch(/write-all|pull_request_target/);
    }
  });

  it('CI runs .ci/run on every push and pull request, and audits production dependencies', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'workflow_call']);
    const runs = Object.values(ci.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ''));
    expect(runs).toContain('.ci/run');
    expect(runs).toContain('npm audit --omit=dev --audit-level=high');
  });

  it('deploy: tests, synth, staging with smoke, then prod behind the production environment, with smoke', () => {
    const deploy = workflow('deploy.yml');
    expect(deploy.on).toEqual({ push: { branches: ['main'] }, workflow_dispatch: null });
    const { test, synth, staging, production } = deploy.jobs;
    expect(test?.uses).toBe('./.github/workflows/ci.yml');
    expect(synth?.needs).toBe('test');
    expect(staging?.needs).toBe('synth');
    expect(production?.needs).toBe('staging');
    expect(staging?.environment).toMatchObject({ name: 'staging' });
    expect(production?.environment).toMatchObject({ name: 'production' });
    for (const [job, stage] of [
      [staging, 'staging'],
      [production, 'prod'],
    ] as const) {
      const runs = (job?.steps ?? []).map((s) => s.run ?? '');
      const order = ['npm ci', 'cdk deploy', 'smoke --url'].map((what) =>
        runs.findIndex((r) => r.includes(what)),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(runs.join('\n')).toContain(`AdsEngineer-${stage} -c stage=${stage}`);
    }
  });

  it('use the CDK CLI pinned in package-lock.json, never a floating one', () => {
    for (const file of files) {
      expect(text(file)).not.toMatch(/cdk@|aws-cdk@|npm (i|install) -g/);
      expect(text(file)).toMatch(
        file === 'ci.yml' ? /\.ci\/run/ : /npm ci --no-audit --no-fund\n[\s\S]*npx cdk/,
      );
    }
    const lock = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/aws-cdk'].version).toMatch(/^2\./);
  });
});
