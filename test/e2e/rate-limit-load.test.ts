import type { LocalStack } from '../../local/stack';
import { emulatorUrl } from '../support/emulator';
import { type EmulatorProxy, startEmulatorProxy } from '../support/emulator-proxy';
import { type JsonResponse, request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

/**
 * `npm start` under a burst: the rate-limit store is the local emulator, so its bound is the
 * emulator's (no RATE_LIMIT_STORE_TIMEOUT_MS given here), and a burst shows the limiter's answers
 * (200 up to the limit, 429 after), never the emulator's latency as 503 rate_limit_config_error.
 * The emulator sits behind a proxy that can make it busy: answering later than AWS's 300 ms bound.
 */
const LIMIT = 10;
const BURST = 40;
const BUSY_MS = 400;

describe('a burst of concurrent requests against the local stack', () => {
  let proxy: EmulatorProxy;
  let stack: LocalStack;
  const saved = { ...process.env };

  beforeAll(async () => {
    // The tests' own generous bound is dropped: the local run mode chooses its bound itself.
    delete process.env.RATE_LIMIT_STORE_TIMEOUT_MS;
    process.env.RATE_LIMIT_TENANT_PER_HOUR = String(LIMIT);
    proxy = await startEmulatorProxy(emulatorUrl());
    stack = await startTestStack('burst', { emulatorUrl: proxy.url });
  });

  afterEach(() => {
    proxy.setDelay(0);
    delete process.env.RATE_LIMIT_STORE_TIMEOUT_MS;
  });

  afterAll(async () => {
    await stack.stop();
    await proxy.stop();
    process.env = saved;
  });

  const burst = async (tenant: TestTenant): Promise<JsonResponse[]> =>
    Promise.all(
      Array.from({ length: BURST }, () =>
        request(stack.url, 'GET', '/api/v1/leads?limit=1', { token: tenant.viewer }),
      ),
    );
  const tally = (answers: JsonResponse[]) => {
    const out: Record<number, number> = {};
    for (const { status } of answers) out[status] = (out[status] ?? 0) + 1;
    return out;
  };

  it(`${BURST} concurrent reads of one tenant: exactly ${LIMIT} answered 200, the rest 429, none 503`, async () => {
    const answers = await burst(await createTenant(stack.url, 'Burst tenant'));
    expect(tally(answers)).toEqual({ 200: LIMIT, 429: BURST - LIMIT });
    for (const refused of answers.filter((answer) => answer.status === 429))
      expect(refused.body.error).toBe('rate_limit_exceeded');
  });

  it(`the same with the emulator busy (every answer ${BUSY_MS} ms late, past AWS's bound)`, async () => {
    const tenant = await createTenant(stack.url, 'Busy burst tenant');
    proxy.setDelay(BUSY_MS);
    expect(tally(await burst(tenant))).toEqual({ 200: LIMIT, 429: BURST - LIMIT });
  });

  it('RATE_LIMIT_STORE_TIMEOUT_MS still overrides: at 300 ms the busy emulator is refused, fail closed', async () => {
    const tenant = await createTenant(stack.url, 'Bounded burst tenant');
    process.env.RATE_LIMIT_STORE_TIMEOUT_MS = '300';
    proxy.setDelay(BUSY_MS);
    const answers = await burst(tenant);
    expect(tally(answers)).toEqual({ 503: BURST });
    expect(answers[0]?.body.error).toBe('rate_limit_config_error');
  });
});
