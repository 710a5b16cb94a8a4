import path from 'node:path';
import { CANARY_HANDLER, CANARY_SOURCE_DIR } from '../../infra/constructs/canary';
import type { LocalStack } from '../../local/stack';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, tokenFor } from '../support/tenants';

/** The canary script exactly as the stack packages it for CloudWatch Synthetics. */
const canary = require(
  path.join(CANARY_SOURCE_DIR, 'nodejs', 'node_modules', `${CANARY_HANDLER.split('.')[0]}.js`),
) as { check(baseUrl: string, apiKey: string | undefined, now?: number): Promise<{ health: string }> };

describe('the uptime canary against the local stack', () => {
  let stack: LocalStack;
  let apiKey: string;

  beforeAll(async () => {
    // A generous store timeout: this file measures nothing, and a loaded machine must not make it fail.
    process.env.RATE_LIMIT_STORE_TIMEOUT_MS = '3000';
    stack = await startTestStack('e2e-canary');
    const tenant = await createTenant(stack.url, 'Synthetic canary tenant');
    const key = await request(stack.url, 'POST', `/api/v1/admin/tenants/${tenant.id}/api-keys`, {
      token: await tokenFor('platform', 'owner'),
      body: { name: 'uptime canary', role: 'viewer' },
    });
    expect(key.status).toBe(201);
    apiKey = key.body.key as string;
  });

  afterAll(async () => {
    delete process.env.RATE_LIMIT_STORE_TIMEOUT_MS;
    await stack.stop();
  });

  it('passes: /health answers, the synthetic tenant exchanges its key and reads its leads', async () => {
    expect(await canary.check(`${stack.url}/`, apiKey)).toEqual({ health: 'healthy' });
  });

  it('fails with a sentence when the key is not set, or is wrong', async () => {
    await expect(canary.check(stack.url, 'generated-placeholder-value')).rejects.toThrow(
      /synthetic tenant API key is not set/,
    );
    await expect(
      canary.check(stack.url, 'ae_wrong_key_for_the_canary', Date.now() + 3_600_000),
    ).rejects.toThrow('POST /api/v1/auth/token answered 401, expected 200');
  });

  it('fails when the API does not answer', async () => {
    await expect(canary.check('http://127.0.0.1:9', apiKey)).rejects.toThrow();
  });
});
