import { request as httpRequest } from 'node:http';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clearKeyringCache, loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { resetEmulator } from '../../local/emulator';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { emulatorUrl } from '../support/emulator';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request from a chosen loopback address, so tests can be several clients. */
function send(
  url: string,
  method: string,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers, localAddress: from }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rate limits over HTTP', () => {
  let stack: LocalStack;
  const saved = { ...process.env };
  const badKey = { Authorization: `ApiKey ae_${'A'.repeat(43)}` };

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    resetClients();
    clearKeyringCache();
    delete process.env.JWT_SECRET;
    process.env.RATE_LIMIT_IP_PER_HOUR = '5';
    process.env.RATE_LIMIT_TENANT_PER_HOUR = '4';
    stack = await startLocalStack({ port: 0, emulatorUrl: emulatorUrl(), prefix: 'rl' });
  });

  afterAll(async () => {
    await stack.stop();
    process.env = saved;
  });

  const token = async (org: string, role: 'admin' | 'owner') =>
    signToken(await loadKeyring(), { sub: 'u', org_id: org, role }, 300);

  it('refuses the 6th request of an IP in the window with 429 and the contract headers', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    for (let i = 1; i <= 5; i++) {
      const res = await send(stack.url, 'POST', '/api/v1/auth/token', '127.0.0.1', badKey);
      expect(res.status).toBe(401);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
      const reset = Number(res.headers['x-ratelimit-reset']);
      expect(reset % 3600).toBe(0);
      expect(reset).toBeGreaterThan(nowS);
    }
    const refused = await send(stack.url, 'POST', '/api/v1/auth/token', '127.0.0.1', badKey);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.body).toEqual({
      error: 'rate_limit_exceeded',
      message: 'Rate limit exceeded. Try again later.',
      request_id: refused.headers['x-request-id'],
      retry_after: retryAfter,
    });
  });

  it('counts another IP on its own, and never trusts X-Forwarded-For', async () => {
    const other = await send(stack.url, 'POST', '/api/v1/auth/token', '127.0.0.2', badKey);
    expect(other.status).toBe(401);
    expect(other.headers['x-ratelimit-remaining']).toBe('4');
    const spoofed = await send(stack.url, 'POST', '/api/v1/auth/token', '127.0.0.1', {
      ...badKey,
      'X-Forwarded-For': '203.0.113.99',
    });
    expect(spoofed.status).toBe(429);
  });

  it('counts failed authentication on tenant routes against the IP', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await send(stack.url, 'GET', '/api/v1/api-keys', '127.0.0.3', {
        Authorization: 'Bearer forged',
      });
      expect(res.status).toBe(401);
      expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
    }
    const res = await send(stack.url, 'GET', '/api/v1/api-keys', '127.0.0.3', {
      Authorization: 'Bearer forged',
    });
    expect(res.status).toBe(429);
  });

  it('limits a verified tenant per tenant, whatever its IP', async () => {
    const platform = await token('platform', 'owner');
    const from = ['127.0.0.4', '127.0.0.5', '127.0.0.4', '127.0.0.5'];
    for (const [i, ip] of from.entries()) {
      const res = await send(stack.url, 'GET', '/api/v1/admin/tenants', ip, {
        Authorization: `Bearer ${platform}`,
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('4');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(3 - i));
    }
    const refused = await send(stack.url, 'GET', '/api/v1/admin/tenants', '127.0.0.6', {
      Authorization: `Bearer ${platform}`,
    });
    expect(refused.status).toBe(429);
  });

  it('puts the headers on 5xx responses too, and none on /health', async () => {
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await dynamo.send(new DeleteTableCommand({ TableName: stack.env.TENANTS_TABLE }));
    const res = await send(stack.url, 'GET', '/api/v1/api-keys', '127.0.0.7', {
      Authorization: `Bearer ${await token('ten_five', 'admin')}`,
    });
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('internal_error');
    expect(res.headers['x-ratelimit-limit']).toBe('4');
    const health = await send(stack.url, 'GET', '/health', '127.0.0.7');
    expect(health.headers['x-ratelimit-limit']).toBeUndefined();
    dynamo.destroy();
  });

  it('fails closed with 503 when the rate-limit table is gone', async () => {
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await dynamo.send(new DeleteTableCommand({ TableName: stack.env.RATE_LIMIT_TABLE }));
    const res = await send(stack.url, 'POST', '/api/v1/auth/token', '127.0.0.8', badKey);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.headers['x-ratelimit-limit']).toBe('5');
    expect(res.body).toEqual({
      error: 'rate_limit_config_error',
      message: 'Service temporarily unavailable',
      request_id: res.headers['x-request-id'],
      retry_after: 60,
    });
    dynamo.destroy();
  });
});
