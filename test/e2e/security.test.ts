import { SECURITY_HEADERS } from '../../contract/security-headers';
import type { AccessLogEntry } from '../../local/gateway';
import type { LocalStack } from '../../local/stack';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

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

  it('lets no body set ids, tenant, status transitions, audit fields or credentials it should not (mass assignment)', async () => {
    const server = ['id', 'tenant_id', 'org_id', 'created_at', 'updated_at', 'email_hash', 'consent_history'];
    const forged = {
      id: 'lead_forged',
      tenant_id: 'ten_other',
      org_id: 'ten_other',
      created_at: '2000-01-01T00:00:00Z',
      updated_at: '2000-01-01T00:00:00Z',
      email_hash: 'f'.repeat(64),
      consent_history: [],
      status: 'won',
      restricted: true,
    };
    const created = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: { email: 'mass.assignment@example.com', consent: { status: 'granted' }, ...forged },
    });
    expect(created.status).toBe(201);
    const id = (created.body.lead_ids as string[])[0] as string;
    expect(id).not.toBe('lead_forged');
    const lead = (await call('GET', `/api/v1/leads/${id}`, { token: a.viewer })).body;
    expect(lead).toMatchObject({ status: 'new', restricted: false });
    for (const field of server) expect(lead[field]).not.toEqual(forged[field as keyof typeof forged]);

    // A PATCH moves the status only along the allowed transitions and sets nothing else it names.
    const skipped = await call('PATCH', `/api/v1/leads/${id}`, {
      token: a.member,
      body: { ...forged, status: 'lost' },
    });
    expect(skipped.status).toBe(200);
    const after = (await call('GET', `/api/v1/leads/${id}`, { token: a.viewer })).body;
    expect(after).toMatchObject({ id, status: 'lost', created_at: lead.created_at, restricted: false });
    expect(
      (await call('PATCH', `/api/v1/leads/${id}`, { token: a.member, body: { status: 'won' } })).status,
    ).toBe(409);

    const tenant = await call('POST', '/api/v1/admin/tenants', {
      token: await tokenFor('platform', 'owner'),
      body: {
        name: 'Forged Agency',
        id: 'ten_forged',
        created_at: '2000-01-01T00:00:00Z',
        status: 'suspended',
      },
    });
    expect(tenant.status).toBe(201);
    expect(tenant.body).toMatchObject({ name: 'Forged Agency' });
    expect(tenant.body.id).not.toBe('ten_forged');
    expect(tenant.body.created_at).not.toBe('2000-01-01T00:00:00Z');

    const key = await call('POST', '/api/v1/api-keys', {
      token: a.admin,
      body: {
        name: 'k',
        tenant_id: 'ten_other',
        key: 'ae_chosen_by_caller_0123456789',
        hash: 'x',
        revoked_at: null,
      },
    });
    expect(key.status).toBe(201);
    expect(key.body.key).not.toBe('ae_chosen_by_caller_0123456789');
    expect(key.body.tenant_id).toBe(a.id);
    expect((await call('POST', '/api/v1/api-keys', { token: a.admin, body: { role: 'owner' } })).status).toBe(
      403,
    );

    const shop = await call('PUT', '/api/v1/integrations/shopify', {
      token: a.admin,
      body: {
        shop_domain: 'mass-assign.myshopify.com',
        webhook_secret: 'a-secret-0123456789',
        tenant_id: 'ten_other',
        updated_at: '2000-01-01T00:00:00Z',
      },
    });
    expect(shop.status).toBe(200);
    expect(shop.body).not.toHaveProperty('tenant_id');
    expect(shop.body).not.toHaveProperty('webhook_secret');
    expect(shop.body.updated_at).not.toBe('2000-01-01T00:00:00Z');
  });
});
