import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tiers from '../coverage-tiers';
import { credentialOf, findLeaks, sensitiveValues, webhookTokenOf } from '../support/leaks';

const root = path.resolve(__dirname, '..', '..');

describe('coverage per tier', () => {
  it('measures the unit tier on domain modules only: no AWS SDK, Stripe, secret or store adapter', () => {
    const modules = tiers.domainModules(root);
    expect(modules).toEqual(
      expect.arrayContaining(['functions/shared/features/leads/rules/click-ids.ts', 'contract/routes.ts']),
    );
    for (const adapter of [
      'functions/shared/platform/aws/clients.ts',
      'functions/shared/platform/config/secrets.ts',
      'functions/shared/features/leads/dynamo.ts',
      'functions/shared/platform/rate-limit/dynamo.ts',
    ]) {
      expect(modules).not.toContain(adapter);
    }
  });

  it('fails a security-critical file below 90 % on any measure, and only those', () => {
    const full = { lines: 100, statements: 100, functions: 100, branches: 100 };
    expect(
      tiers.securityCriticalFailures({
        'functions/shared/platform/auth/tokens.ts': { ...full, branches: 89.5 },
        'functions/shared/features/gdpr/service.ts': full,
        'functions/gdpr/handler.ts': { ...full, branches: 75 },
        'functions/shared/features/leads/rules/normalise.ts': { ...full, lines: 10 },
      }),
    ).toEqual([
      'functions/shared/platform/auth/tokens.ts: branches 89.5 % is below 90 %',
      'functions/gdpr/handler.ts: branches 75.0 % is below 90 %',
    ]);
    expect(tiers.TIER_THRESHOLDS.unit.lines).toBe(85);
    expect(tiers.TIER_THRESHOLDS.integration.lines).toBe(80);
  });
});

describe('leak scan', () => {
  it('collects personal values and credentials from bodies, headers and webhook URLs', () => {
    const found = sensitiveValues(
      {
        email: 'jane@example.com',
        consent: { status: 'granted' },
        customer: { first_name: 'Janette', note: 'call jane.doe@example.org' },
        leads: [{ gclid: 'Cj0KCQiA_example_click_id' }],
        webhook_secret: 'shh-0123456789',
        status: 'won',
      },
      'request body',
    ).map((s) => s.value);
    expect(found.sort()).toEqual(
      ['Cj0KCQiA_example_click_id', 'Janette', 'jane@example.com', 'shh-0123456789'].sort(),
    );
    expect(credentialOf('Bearer eyJhbGciOi.x.y')).toEqual([
      { value: 'eyJhbGciOi.x.y', kind: 'Authorization credential' },
    ]);
    expect(webhookTokenOf('http://127.0.0.1:3000/api/v1/ghl/webhook/whk_secret123')[0]?.value).toBe(
      'whk_secret123',
    );
  });

  it('finds a value however it was written, and reports where with the value masked', () => {
    const leaks = findLeaks(
      [
        {
          where: 'stdout',
          text: '{"level":"INFO","message":"ok"}\n{"level":"DEBUG","path":"/x/jane%40example.com"}\n',
        },
        { where: 'stderr', text: 'failed for "jane@example.com"\n' },
      ],
      [{ value: 'jane@example.com', kind: 'request body email' }],
    );
    expect(leaks).toEqual([
      {
        kind: 'request body email',
        where: 'stdout, line 2',
        line: '{"level":"DEBUG","path":"/x/<redacted>"}',
      },
      { kind: 'request body email', where: 'stderr, line 1', line: 'failed for "<redacted>"' },
    ]);
    expect(
      findLeaks([{ where: 'stdout', text: 'nothing here' }], [{ value: 'jane@example.com', kind: 'x' }]),
    ).toEqual([]);
  });
});

describe('dependencies', () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const justified = readFileSync(path.join(root, 'docs', 'security', 'dependencies.md'), 'utf8');

  it('every dependency is justified and every runtime one is imported', () => {
    for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
      expect(`${name}: ${justified.includes(`\`${name}\``)}`).toBe(`${name}: true`);
    }
    const code = ['functions', 'contract', 'infra', 'local', 'ops', 'tools', 'bin']
      .flatMap((dir) => sourcesOf(path.join(root, dir)))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    for (const name of Object.keys(pkg.dependencies)) {
      expect(`${name}: ${code.includes(`'${name}`)}`).toBe(`${name}: true`);
    }
  });
});

function sourcesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesOf(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}
