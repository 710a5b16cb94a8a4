import { type AddressInfo, createServer } from 'node:net';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../../local/stack';
import { run } from '../../ops/cli';
import { emulatorUrl } from '../support/emulator';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { capture } from '../support/operator';
import { createTenant, tokenFor } from '../support/tenants';

describe('smoke --url', () => {
  let stack: LocalStack;
  let apiKey: string;

  beforeAll(async () => {
    stack = await startTestStack('smoke');
    const tenant = await createTenant(stack.url, 'Smoke tenant');
    const created = await request(stack.url, 'POST', `/api/v1/admin/tenants/${tenant.id}/api-keys`, {
      token: await tokenFor('platform', 'owner'),
      body: { name: 'smoke', role: 'admin' },
    });
    apiKey = created.body.key as string;
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('passes against the running stack, reporting every check', async () => {
    const io = capture();
    const code = await run(['smoke', '--url', `${stack.url}/`, '--api-key', apiKey], io);
    expect(io.stderr.filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(code).toBe(0);
    expect(io.stderr.filter((l) => l.startsWith('  ok'))).toEqual([
      '  ok    health is healthy or degraded',
      '  ok    OpenAPI document is served',
      '  ok    API key exchanged for a token, with rate-limit headers',
      '  ok    a synthetic lead is captured and read back',
      '  ok    the synthetic lead is erased',
      '  ok    a webhook with a bad signature is refused',
    ]);
    expect(io.stderr.at(-1)).toBe('Smoke test passed: 6 checks');
  });

  it('fails with a clear message for a key the stage does not know, and without a key or URL', async () => {
    const io = capture();
    expect(await run(['smoke', '--url', stack.url, '--api-key', 'ae_not_a_key'], io)).toBe(1);
    expect(io.stderr).toContain(
      '  FAIL  API key exchanged for a token, with rate-limit headers: POST /api/v1/auth/token answered 401 invalid_api_key: Invalid API key (expected 200)',
    );
    expect(io.stderr).toContain('  FAIL  a synthetic lead is captured and read back: not run (no token)');
    const missing = capture();
    const saved = process.env.SMOKE_API_KEY;
    delete process.env.SMOKE_API_KEY;
    expect(await run(['smoke', '--url', stack.url], missing)).toBe(2);
    if (saved !== undefined) process.env.SMOKE_API_KEY = saved;
    expect(missing.stderr[0]).toMatch(/^smoke needs --api-key <key> or SMOKE_API_KEY/);
    expect(await run(['smoke', '--url', 'not-a-url', '--api-key', apiKey], capture())).toBe(2);
  });

  it('fails, non-zero and naming the check, when a dependency of the stage is broken', async () => {
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await dynamo.send(new DeleteTableCommand({ TableName: stack.env.SYSTEM_TABLE }));
    dynamo.destroy();
    // /health serves its last result for a few seconds; this check must see the table gone now.
    process.env.HEALTH_CACHE_SECONDS = '0';
    const io = capture();
    try {
      expect(await run(['smoke', '--url', stack.url, '--api-key', apiKey], io)).toBe(1);
    } finally {
      delete process.env.HEALTH_CACHE_SECONDS;
    }
    const failure = io.stderr.find((l) => l.includes('FAIL  health'));
    expect(failure).toMatch(
      /^ {2}FAIL {2}health is healthy or degraded: \/health answered 503 unhealthy \(.*database: fail/,
    );
    expect(io.stderr.at(-1)).toMatch(/^Smoke test FAILED: \d of 6 checks$/);
  });

  it('fails when nothing answers at the URL', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const io = capture();
    expect(await run(['smoke', '--url', `http://127.0.0.1:${port}`, '--api-key', apiKey], io)).toBe(1);
    expect(io.stderr).toContain(
      '  FAIL  health is healthy or degraded: GET /health did not answer (ECONNREFUSED)',
    );
  });
});
