import { resetClients } from '../../functions/shared/platform/aws/clients';
import { DynamoCircuitStore } from '../../functions/shared/platform/breaker/dynamo';
import { resetEmulator } from '../../local/emulator';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { emulatorUrl } from '../support/emulator';
import { type EmulatorProxy, startEmulatorProxy } from '../support/emulator-proxy';

/** Every DynamoDB operation that writes. */
const DYNAMO_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'].map(
  (op) => `DynamoDB_20120810.${op}`,
);

interface Health {
  status: string;
  checks: Record<string, { status: string; latency_ms: number; detail?: string; circuit?: string }>;
}

async function health(url: string): Promise<{ status: number; body: Health; text: string }> {
  // A bound for the test run only: the answer is expected well within it.
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Health, text };
}

describe('GET /health over HTTP, with the emulator behind a proxy', () => {
  let stack: LocalStack;
  let proxy: EmulatorProxy;
  const savedEndpoint = process.env.AWS_ENDPOINT_URL;

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    proxy = await startEmulatorProxy(emulatorUrl());
    resetClients();
    // No queue consumers: their long polls would count and hang with the proxy; health only reads depths.
    stack = await startLocalStack({
      port: 0,
      emulatorUrl: proxy.url,
      prefix: 'e2e-health',
      withoutConsumers: ['webhooks', 'conversions', 'backups'],
    });
  });

  afterEach(() => {
    delete process.env.HEALTH_CACHE_SECONDS;
  });

  afterAll(async () => {
    await stack.stop();
    await proxy.stop();
    process.env.AWS_ENDPOINT_URL = savedEndpoint;
    resetClients();
  });

  it('answers a burst of 200 calls with at most a handful of database writes', async () => {
    const before = proxy.count(...DYNAMO_WRITES);
    const statuses: number[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => health(stack.url)));
      statuses.push(...answers.map((a) => a.status));
    }
    const writes = proxy.count(...DYNAMO_WRITES) - before;
    console.log(`200 calls to /health made ${writes} database write(s)`);
    expect(statuses).toEqual(Array(200).fill(200));
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(3);
  });

  it("answers 200 degraded while Google's circuit is open, naming its state and last success", async () => {
    process.env.HEALTH_CACHE_SECONDS = '0';
    const now = Date.now();
    const store = new DynamoCircuitStore();
    const opened = await store.replace(
      'google_ads',
      {
        state: 'open',
        version: 1,
        failures: [],
        openedAt: now,
        openUntil: now + 60_000,
        lastSuccessAt: now - 120_000,
      },
      0,
    );
    expect(opened).toBe(true);
    try {
      const { status, body } = await health(stack.url);
      expect(status).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.checks.google_ads).toMatchObject({
        status: 'warn',
        circuit: 'open',
        last_success_at: new Date(now - 120_000).toISOString(),
      });
      expect(body.checks.meta).toMatchObject({ status: 'pass', circuit: 'closed' });
      expect(body.checks.stripe).toMatchObject({ status: 'pass', circuit: 'closed' });
      expect(body.checks.database?.status).toBe('pass');
    } finally {
      await store.replace('google_ads', { state: 'closed', version: 2, failures: [] }, 1);
    }
  });

  it('answers 503 unhealthy within its deadline when the emulator stops answering', async () => {
    process.env.HEALTH_CACHE_SECONDS = '0';
    proxy.setMode('hang');
    try {
      const { status, body, text } = await health(stack.url);
      expect(status).toBe(503);
      expect(body.status).toBe('unhealthy');
      for (const name of ['database', 'encryption', 'queues']) {
        expect(body.checks[name]).toMatchObject({ status: 'fail', detail: 'no answer within 1000 ms' });
      }
      expect(text).not.toMatch(/127\.0\.0\.1|arn:aws|Exception/);
    } finally {
      proxy.setMode('forward');
    }
  });

  it('answers 503 unhealthy when the emulator is gone, naming no internals', async () => {
    process.env.HEALTH_CACHE_SECONDS = '0';
    await proxy.stop();
    const { status, body, text } = await health(stack.url);
    expect(status).toBe(503);
    expect(body.status).toBe('unhealthy');
    for (const name of ['database', 'encryption', 'queues']) {
      expect(body.checks[name]?.status).toBe('fail');
      expect(body.checks[name]?.detail).toMatch(/^(check failed|no answer within 1000 ms)$/);
    }
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|arn:aws/);
  });
});
