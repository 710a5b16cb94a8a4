import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCommand } from '../../bench/load/cli';
import type { LoadResult } from '../../bench/load/run';
import { clearKeyringCache } from '../../functions/shared/platform/auth/keyring';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { clearSecretCache } from '../../functions/shared/platform/config/secrets';
import { resetEmulator } from '../../local/emulator';
import { emulatorUrl } from '../support/emulator';

const SCENARIOS = [
  'shopify-order',
  'woocommerce-order',
  'ghl-contact',
  'stripe-event',
  'lead-single',
  'lead-batch-100',
  'leads-list',
  'token-exchange',
];

describe('npm run load, short bounded mode', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the whole mix against the local stack and reports every scenario and both end-to-end figures', async () => {
    await resetEmulator(emulatorUrl());
    resetClients();
    clearKeyringCache();
    clearSecretCache();
    delete process.env.JWT_SECRET;
    const out = path.join(dir, 'result.json');
    const lines: string[] = [];
    const code = await loadCommand(
      ['--duration', '2', '--rate', '8', '--probes', '1', '--out', out],
      (line) => lines.push(line),
      { emulatorUrl: emulatorUrl() },
    );
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
    expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.scenarios.map((s) => s.name)).toEqual(SCENARIOS);
    for (const scenario of result.scenarios) {
      expect(scenario.skipped).toBeUndefined();
      expect(scenario).toEqual(
        expect.objectContaining({
          requests: expect.any(Number),
          rps: expect.any(Number),
          latencyMs: expect.objectContaining({
            p50: expect.any(Number),
            p90: expect.any(Number),
            p99: expect.any(Number),
          }),
          statuses: expect.any(Object),
        }),
      );
    }
    for (const e2e of [result.endToEnd.webhookToLead, result.endToEnd.wonToUploaded]) {
      expect(e2e.skipped).toBeUndefined();
      expect(e2e.samples + e2e.timedOut).toBe(1);
    }
    const printed = lines.join('\n');
    for (const name of SCENARIOS) expect(printed).toContain(name);
    expect(printed).toContain('webhook accepted → lead visible');
    expect(printed).toContain('lead won → conversion uploaded');
  }, 180_000);

  it('refuses flags beyond its bounds with a usage message, sending nothing', async () => {
    const lines: string[] = [];
    expect(await loadCommand(['--duration', '100000'], (l) => lines.push(l))).toBe(2);
    expect(lines.join('\n')).toContain('--duration must be a number above 0 and at most 600');
    expect(await loadCommand(['--url', 'http://127.0.0.1:9'], (l) => lines.push(l))).toBe(2);
    expect(lines.join('\n')).toContain('--url needs --api-key');
    expect(await loadCommand(['--bogus'], (l) => lines.push(l))).toBe(2);
  });
});
