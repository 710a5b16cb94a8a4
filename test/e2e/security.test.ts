import { SECURITY_HEADERS } from '../../lib/definitions/security-headers';
import type { AccessLogEntry } from '../../lib/local/gateway';
import type { LocalStack } from '../../lib/local/stack';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

let stack: LocalStack;
let a: TestTenant;
const accessLog: AccessLogEntry[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

beforeAll(async () => {
  stack = await startTestStack('sec', { accessLog: (entry) => accessLog.push(entry) });
  a = await createTenant(stack.url, 'Agency A');
});

afterAll(async () => {
  await stack.stop();
});

function expectSecurityHeaders(headers: Headers, where: string) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(`${where} ${name}: ${headers.get(name)}`).toBe(`${where} ${name}: ${value}`);
  }
  expect(headers.get('server')).toBeNull();
  expect(headers.get('x-powered-by')).toBeNull();
  expect(headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
}

describe('hardened responses', () => {
  it('carries the security headers on every kind of answer: success, 400, 401, 403, 404, 413', async () => {
    const answers = {
      ok: await call('GET', '/api/v1/leads', { token: a.viewer }),
      invalid: await call('GET', '/api/v1/leads?limit=0', { token: a.viewer }),
      unauthenticated: await call('GET', '/api/v1/leads'),
      forbidden: await call('POST', '/api/v1/api-keys', { token: a.member, body: {} }),
      unrouted: await call('GET', '/api/v1/nothing-here'),
      public: await call('GET', '/health'),
    };
    const statuses = Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v.status]));
    expect(statuses).toEqual({
      ok: 200,
      invalid: 400,
      unauthenticated: 401,
      forbidden: 403,
      unrouted: 404,
      public: 200,
    });
    for (const [where, res] of Object.entries(answers)) expectSecurityHeaders(res.headers, where);
    const tooLarge = await fetch(`${stack.url}/api/v1/leads`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${a.member}` },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 32),
    });
    expect(tooLarge.status).toBe(413);
    expectSecurityHeaders(tooLarge.headers, 'too large');
  });

  it('puts the rate-limit headers on every /api/v1 answer, 401 and 403 included', async () => {
    const answers = [
      await call('GET', '/api/v1/leads', { token: a.viewer }),
      await call('GET', '/api/v1/leads'),
      await call('GET', '/api/v1/leads', { token: 'not.a.token' }),
      await call('POST', '/api/v1/api-keys', { token: a.member, body: {} }),
      await call('GET', '/api/v1/admin/tenants', { token: a.owner }),
      await call('POST', '/api/v1/auth/token', { authorization: 'ApiKey ae_wrong' }),
      await call('POST', '/api/v1/shopify/webhook', { body: {} }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 401, 403, 403, 401, 401]);
    for (const res of answers) {
      expect(Number(res.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
      expect(res.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    }
  });

  it('logs the route template, never the raw path or query, in the access log', async () => {
    const ghl = await call('PUT', '/api/v1/integrations/ghl', { token: a.admin, body: {} });
    const ghlPath = new URL(ghl.body.webhook_url as string).pathname;
    const token = ghlPath.split('/').pop() as string;
    await call('POST', ghlPath, { body: { type: 'ContactCreate' } });
    const id = await subjectId(stack.url, a.admin, 'logged.person@example.com');
    await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
    await call('GET', `/api/v1/gdpr/audit?subject_id=${id}`, { token: a.admin });
    await call('GET', '/api/v1/leads/logged.person@example.com', { token: a.viewer });
    const lines = JSON.stringify(accessLog);
    for (const secret of [token, id, 'logged.person', 'subject_id=']) expect(lines).not.toContain(secret);
    const routes = accessLog.map((e) => `${e.method} ${e.resourcePath}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/ghl/webhook/{webhookToken}',
        'GET /api/v1/gdpr/subjects/{subject_id}',
        'GET /api/v1/gdpr/audit',
        'GET /api/v1/leads/{id}',
        'GET (no route)',
      ]),
    );
  });
});
