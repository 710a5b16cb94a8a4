import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { ROUTES, type Role, routeKey } from '../../contract/routes';
import { clearKeyringCache, loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { signToken } from '../../functions/shared/platform/auth/tokens';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import { resetEmulator } from '../../local/emulator';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { emulatorUrl } from '../support/emulator';
import { forgeJwt, hs256Header, nowSeconds, ownerClaims, segment } from '../support/forged-tokens';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';

let stack: LocalStack;
const A_SUBJECT = 'person.of.a@example.com';
const A_SHOP = 'agency-a.myshopify.com';
const A_STORE = 'https://store.agency-a.example';
let aLeadId: string;
let aSubjectId: string;
let secret: Buffer;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

async function tokenFor(org: string, role: Role, ttl = 300): Promise<string> {
  return signToken(await loadKeyring(), { sub: `user:${org}:${role}`, org_id: org, role }, ttl);
}

const b64 = segment;
const forge = (header: object, payload: object, key: Buffer | string = secret) =>
  forgeJwt(header, payload, key);

interface Tenant {
  id: string;
  adminToken: string;
  memberToken: string;
  apiKey: string;
  apiKeyId: string;
}

async function createTenant(platform: string, name: string): Promise<Tenant> {
  const created = await call('POST', '/api/v1/admin/tenants', { token: platform, body: { name } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const key = await call('POST', `/api/v1/admin/tenants/${id}/api-keys`, {
    token: platform,
    body: { name: 'ci', role: 'admin' },
  });
  expect(key.status).toBe(201);
  return {
    id,
    adminToken: await tokenFor(id, 'admin'),
    memberToken: await tokenFor(id, 'member'),
    apiKey: key.body.key as string,
    apiKeyId: key.body.id as string,
  };
}

async function keysOf(tenant: Tenant) {
  const res = await call('GET', '/api/v1/api-keys', { token: tenant.adminToken });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ id: string; revoked_at?: string }>;
}

describe('authentication and tenancy over HTTP', () => {
  let platform: string;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    await resetEmulator(emulatorUrl());
    resetClients();
    clearKeyringCache();
    delete process.env.JWT_SECRET;
    stack = await startLocalStack({ port: 0, emulatorUrl: emulatorUrl(), prefix: 'auth' });
    secret = Buffer.from((await loadKeyring()).current.secret);
    platform = await tokenFor('platform', 'owner');
    a = await createTenant(platform, 'Agency A');
    b = await createTenant(platform, 'Agency B');
    const lead = await call('POST', '/api/v1/leads', {
      token: a.adminToken,
      body: { email: A_SUBJECT, external_id: 'a-1', consent: { status: 'granted' } },
    });
    aLeadId = (lead.body.lead_ids as string[])[0] as string;
    aSubjectId = await subjectId(stack.url, a.adminToken, A_SUBJECT);
    for (const [kind, body] of [
      ['shopify', { shop_domain: A_SHOP, webhook_secret: 'a-shop-secret-0123456789' }],
      ['woocommerce', { store_url: A_STORE, webhook_secret: 'a-store-secret-0123456789' }],
    ] as const) {
      expect((await call('PUT', `/api/v1/integrations/${kind}`, { token: a.adminToken, body })).status).toBe(
        200,
      );
    }
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('lets an operator create a tenant, an API key, and exchange it for a short-lived token', async () => {
    const exchanged = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${a.apiKey}` });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const token = exchanged.body.access_token as string;
    const listed = await call('GET', '/api/v1/api-keys', { token });
    expect(listed.status).toBe(200);
    const keys = listed.body.items as Array<Record<string, unknown>>;
    expect(keys.map((k) => k.id)).toEqual([a.apiKeyId]);
    expect(keys[0]?.last_used_at).toEqual(expect.any(String));
    expect(JSON.stringify(listed.body)).not.toContain(a.apiKey);
    expect(JSON.stringify(keys)).not.toMatch(/"hash"/);
  });

  describe('forgery matrix', () => {
    const now = nowSeconds;
    const claims = (extra: Record<string, unknown> = {}) => ownerClaims('attacker', a.id, extra);
    const header = () => hs256Header(secret);

    const cases: Array<[string, () => Promise<Record<string, string>> | Record<string, string>, string]> = [
      ['no header', () => ({}), 'Missing or invalid authorization header'],
      [
        'wrong scheme',
        () => ({ Authorization: 'Basic YWRtaW46YWRtaW4=' }),
        'Missing or invalid authorization header',
      ],
      ['garbage', () => ({ Authorization: 'Bearer !!!' }), 'Invalid token format'],
      [
        'two segments',
        () => ({ Authorization: `Bearer ${b64(header())}.${b64(claims())}` }),
        'Invalid token format',
      ],
      [
        'alg none',
        () => ({ Authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.` }),
        'Invalid token format',
      ],
      [
        'alg HS512',
        () => ({ Authorization: `Bearer ${forge({ alg: 'HS512', typ: 'JWT' }, claims())}` }),
        'Invalid token format',
      ],
      [
        'RS256 with the HS secret as public key',
        () => ({ Authorization: `Bearer ${forge({ alg: 'RS256', typ: 'JWT' }, claims())}` }),
        'Invalid token format',
      ],
      [
        'RS256 with a real RSA key',
        async () => {
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const jwt = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
          return { Authorization: `Bearer ${jwt}` };
        },
        'Invalid token format',
      ],
      [
        'wrong secret',
        () => ({ Authorization: `Bearer ${forge(header(), claims(), 'x'.repeat(48))}` }),
        'Invalid token signature',
      ],
      [
        'tampered payload',
        async () => {
          const [h, , s] = (await tokenFor(a.id, 'viewer')).split('.');
          return { Authorization: `Bearer ${h}.${b64(claims())}.${s}` };
        },
        'Invalid token signature',
      ],
      [
        'wrong issuer',
        () => ({ Authorization: `Bearer ${forge(header(), claims({ iss: 'evil' }))}` }),
        'Invalid token issuer',
      ],
      [
        'wrong audience',
        () => ({ Authorization: `Bearer ${forge(header(), claims({ aud: 'other' }))}` }),
        'Invalid token audience',
      ],
      [
        'expired',
        () => ({ Authorization: `Bearer ${forge(header(), claims({ exp: now() - 120 }))}` }),
        'Token expired',
      ],
      [
        'nbf in the future',
        () => ({ Authorization: `Bearer ${forge(header(), claims({ nbf: now() + 600 }))}` }),
        'Invalid token format',
      ],
      [
        'missing exp',
        () => ({ Authorization: `Bearer ${forge(header(), claims({ exp: undefined }))}` }),
        'Invalid token format',
      ],
    ];

    it.each(cases)('%s: 401 with its message, and nothing written', async (_name, headers, message) => {
      const before = await keysOf(a);
      for (const path of ['/api/v1/api-keys', '/api/v1/admin/tenants']) {
        const res = await call('POST', path, { headers: await headers(), body: { name: 'forged' } });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({
          error: 'invalid_token',
          message,
          request_id: res.headers.get('x-request-id'),
        });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      expect(await keysOf(a)).toEqual(before);
    });

    it('an API key acts only for its own tenant, whatever tenant the request names', async () => {
      const res = await call('POST', `/api/v1/auth/token?org_id=${a.id}&tenant_id=${a.id}`, {
        authorization: `ApiKey ${b.apiKey}`,
        headers: { 'X-Tenant-Id': a.id, 'X-Org-Id': a.id },
        body: { tenant_id: a.id, org_id: a.id },
      });
      expect(res.status).toBe(200);
      const token = res.body.access_token as string;
      const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
      expect(claims.org_id).toBe(b.id);
      const listed = await call('GET', '/api/v1/api-keys', { token });
      expect((listed.body.items as Array<{ id: string }>).map((k) => k.id)).not.toContain(a.apiKeyId);
      const revoke = await call('DELETE', `/api/v1/api-keys/${a.apiKeyId}`, { token });
      expect(revoke.status).toBe(404);
    });

    it('refuses a revoked, a tampered and a malformed API key', async () => {
      const extra = await call('POST', '/api/v1/api-keys', { token: a.adminToken, body: { name: 'temp' } });
      expect(extra.status).toBe(201);
      const key = extra.body.key as string;
      expect((await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${key}` })).status).toBe(200);
      const revoked = await call('DELETE', `/api/v1/api-keys/${extra.body.id}`, { token: a.adminToken });
      expect(revoked.status).toBe(204);
      const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
      for (const candidate of [key, tampered, 'ae_short', `${b.apiKey}x`]) {
        const res = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${candidate}` });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: 'invalid_api_key', message: 'Invalid API key' });
      }
    });
  });

  describe('cross-tenant matrix', () => {
    /** Every tenant-scoped route, with tenant B's attempt on tenant A's resource. */
    const attempts: Record<string, () => Promise<void>> = {
      'GET /api/v1/api-keys': async () => {
        const res = await call('GET', '/api/v1/api-keys', { token: b.adminToken });
        expect(res.status).toBe(200);
        expect((res.body.items as Array<{ id: string }>).map((k) => k.id)).not.toContain(a.apiKeyId);
      },
      'POST /api/v1/api-keys': async () => {
        const res = await call('POST', '/api/v1/api-keys', {
          token: b.adminToken,
          body: { name: 'sneaky', tenant_id: a.id, org_id: a.id },
        });
        expect(res.status).toBe(201);
        expect(res.body.tenant_id).toBe(b.id);
      },
      'DELETE /api/v1/api-keys/{id}': async () => {
        const res = await call('DELETE', `/api/v1/api-keys/${a.apiKeyId}`, { token: b.adminToken });
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
      },
      'PUT /api/v1/integrations/shopify': async () => {
        const res = await call('PUT', '/api/v1/integrations/shopify', {
          token: b.adminToken,
          body: { shop_domain: A_SHOP, webhook_secret: 'b-wants-a-shop-0123456789' },
        });
        // Connecting a shop another tenant connected answers as for any shop, and reveals nothing.
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['shop_domain', 'updated_at', 'webhook_url']);
      },
      'PUT /api/v1/integrations/woocommerce': async () => {
        const res = await call('PUT', '/api/v1/integrations/woocommerce', {
          token: b.adminToken,
          body: { store_url: A_STORE, webhook_secret: 'b-wants-a-store-0123456789' },
        });
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['store_url', 'updated_at', 'webhook_url']);
      },
      'PUT /api/v1/integrations/google-ads': async () => {
        const res = await call('PUT', '/api/v1/integrations/google-ads', {
          token: b.adminToken,
          body: {
            customer_id: '123-456-7890',
            conversion_action_id: '987',
            client_id: 'b-client',
            client_secret: 'b-client-secret',
            refresh_token: 'b-refresh-token',
            tenant_id: a.id,
          },
        });
        expect(res.status).toBe(200);
        expect(res.body).not.toHaveProperty('tenant_id');
      },
      'GET /api/v1/conversions': async () => {
        const res = await call('GET', `/api/v1/conversions?tenant_id=${a.id}`, { token: b.adminToken });
        expect(res.status).toBe(200);
        expect(res.body.items).toEqual([]);
        const byStatus = await call('GET', '/api/v1/conversions?status=queued', { token: b.adminToken });
        expect(byStatus.body.items).toEqual([]);
      },
      'GET /api/v1/conversions/{id}': async () => {
        const res = await call('GET', `/api/v1/conversions/cnv_${aLeadId}`, { token: b.adminToken });
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
      },
      'POST /api/v1/conversions': async () => {
        // A's lead is not B's: not found, nothing queued for either tenant.
        const res = await call('POST', '/api/v1/conversions', {
          token: b.adminToken,
          body: { lead_id: aLeadId, value: 10, currency: 'EUR' },
        });
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
        // By fbclid: the same click and order in A and in B are two conversions; B cannot read A's.
        const meta = {
          fbclid: 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_cross',
          conversion_time: new Date(Date.now() - 3600_000).toISOString(),
          order_id: 'cross-tenant-order-1',
        };
        const ofA = await call('POST', '/api/v1/conversions', { token: a.adminToken, body: meta });
        const ofB = await call('POST', '/api/v1/conversions', { token: b.adminToken, body: meta });
        expect([ofA.status, ofB.status]).toEqual([202, 202]);
        expect(ofB.body.id).not.toBe(ofA.body.id);
        const read = await call('GET', `/api/v1/conversions/${ofA.body.id}`, { token: b.adminToken });
        expect(read.status).toBe(404);
      },
      'POST /api/v1/conversions/{id}/adjustments': async () => {
        const res = await call('POST', `/api/v1/conversions/cnv_${aLeadId}/adjustments`, {
          token: b.adminToken,
          body: { type: 'retraction' },
        });
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('not_found');
      },
      'GET /api/v1/integrations': async () => {
        // B's own connections (those its attempts made), never A's, whatever the query says.
        const res = await call('GET', `/api/v1/integrations?tenant_id=${a.id}`, { token: b.adminToken });
        expect(res.status).toBe(200);
        expect(JSON.stringify(res.body)).not.toContain(a.id);
        for (const item of res.body.items as Array<Record<string, unknown>>) {
          expect(item).not.toHaveProperty('tenant_id');
          if (item.kind === 'google_ads') expect(item.client_id).toBe('b-client');
        }
      },
      'GET /api/v1/integrations/google-ads/oauth/start': async () => {
        const res = await fetch(`${stack.url}/api/v1/integrations/google-ads/oauth/start?tenant_id=${a.id}`, {
          headers: { Authorization: `Bearer ${b.adminToken}` },
          redirect: 'manual',
        });
        // B's own settings (saved by the PUT attempt) or none: never A's client, never A's id.
        expect([302, 404]).toContain(res.status);
        expect(`${res.headers.get('location')}${await res.text()}`).not.toContain(a.id);
      },
      'PUT /api/v1/integrations/meta': async () => {
        const res = await call('PUT', '/api/v1/integrations/meta', {
          token: b.adminToken,
          body: {
            pixel_id: '1234567890123',
            access_token: 'b-meta-access-token-0123456789',
            tenant_id: a.id,
          },
        });
        expect(res.status).toBe(200);
        expect(res.body).not.toHaveProperty('tenant_id');
        expect(JSON.stringify(res.body)).not.toContain(a.id);
      },
      'GET /api/v1/billing': async () => {
        const res = await call('GET', `/api/v1/billing?tenant_id=${a.id}`, { token: b.adminToken });
        expect(res.status).toBe(200);
        expect(JSON.stringify(res.body)).not.toContain(a.id);
      },
      'POST /api/v1/billing/portal': async () => {
        const res = await call('POST', '/api/v1/billing/portal', {
          token: b.adminToken,
          body: { tenant_id: a.id },
        });
        // B has no Stripe customer of its own; A's is never reachable through B's token.
        expect([400, 404]).toContain(res.status);
      },
      'PUT /api/v1/integrations/ghl': async () => {
        const res = await call('PUT', '/api/v1/integrations/ghl', { token: b.adminToken, body: {} });
        expect(res.status).toBe(200);
      },
      'GET /api/v1/settings/consent': async () => {
        const res = await call('GET', `/api/v1/settings/consent?tenant_id=${a.id}`, { token: b.adminToken });
        expect(res.body).toEqual({ policy: expect.any(String) });
        expect(JSON.stringify(res.body)).not.toContain(a.id);
      },
      'PUT /api/v1/settings/consent': async () => {
        const res = await call('PUT', '/api/v1/settings/consent', {
          token: b.adminToken,
          body: { policy: 'regional', tenant_id: a.id },
        });
        expect(res.status).toBe(200);
        const ofA = await call('GET', '/api/v1/settings/consent', { token: a.adminToken });
        expect(ofA.body).toEqual({ policy: 'explicit' });
      },
      'GET /api/v1/settings/retention': async () => {
        const res = await call('GET', `/api/v1/settings/retention?tenant_id=${a.id}`, {
          token: b.adminToken,
        });
        expect(res.status).toBe(200);
        expect(JSON.stringify(res.body)).not.toContain(a.id);
      },
      'PUT /api/v1/settings/retention': async () => {
        const res = await call('PUT', '/api/v1/settings/retention', {
          token: b.adminToken,
          body: { leads_days: 90, conversions_days: 90, tenant_id: a.id },
        });
        expect(res.status).toBe(200);
        const ofA = await call('GET', '/api/v1/settings/retention', { token: a.adminToken });
        expect(ofA.body).toEqual({ leads_days: 400, conversions_days: 400, audit_days: 2190 });
      },
      'POST /api/v1/leads': async () => {
        const res = await call('POST', '/api/v1/leads', {
          token: b.adminToken,
          body: { email: A_SUBJECT, external_id: 'a-1', tenant_id: a.id, consent: { status: 'granted' } },
        });
        expect(res.status).toBe(201);
        expect(res.body.lead_ids).not.toContain(aLeadId);
      },
      'GET /api/v1/leads': async () => {
        const res = await call('GET', `/api/v1/leads?tenant_id=${a.id}`, { token: b.adminToken });
        expect((res.body.items as Array<{ id: string }>).map((l) => l.id)).not.toContain(aLeadId);
      },
      'GET /api/v1/leads/{id}': async () => {
        expect((await call('GET', `/api/v1/leads/${aLeadId}`, { token: b.adminToken })).status).toBe(404);
      },
      'PATCH /api/v1/leads/{id}': async () => {
        const res = await call('PATCH', `/api/v1/leads/${aLeadId}`, {
          token: b.adminToken,
          body: { status: 'won' },
        });
        expect(res.status).toBe(404);
      },
      'POST /api/v1/gdpr/subjects': async () => {
        const res = await call('POST', '/api/v1/gdpr/subjects', {
          token: b.adminToken,
          body: { email: A_SUBJECT },
        });
        expect(res.status).toBe(200);
        expect(res.body.subject_id).not.toBe(aSubjectId);
      },
      'GET /api/v1/gdpr/subjects/{subject_id}': async () => {
        const res = await call('GET', `/api/v1/gdpr/subjects/${aSubjectId}`, { token: b.adminToken });
        expect(res.body.leads).toEqual([]);
        expect(JSON.stringify(res.body)).not.toContain(aLeadId);
      },
      'DELETE /api/v1/gdpr/subjects/{subject_id}': async () => {
        const res = await call('DELETE', `/api/v1/gdpr/subjects/${aSubjectId}`, { token: b.adminToken });
        expect(res.body).toMatchObject({ leads: 0 });
        const own = await subjectId(stack.url, b.adminToken, A_SUBJECT);
        const ownErased = await call('DELETE', `/api/v1/gdpr/subjects/${own}`, { token: b.adminToken });
        expect(ownErased.body).toMatchObject({ leads: 1 });
      },
      'PATCH /api/v1/gdpr/subjects/{subject_id}': async () => {
        await call('PATCH', `/api/v1/gdpr/subjects/${aSubjectId}`, {
          token: b.adminToken,
          body: { restricted: true },
        });
      },
      'POST /api/v1/gdpr/subjects/{subject_id}/consent': async () => {
        await call('POST', `/api/v1/gdpr/subjects/${aSubjectId}/consent`, {
          token: b.adminToken,
          body: { status: 'withdrawn' },
        });
      },
      'GET /api/v1/gdpr/audit': async () => {
        const res = await call('GET', `/api/v1/gdpr/audit?subject_id=${aSubjectId}`, { token: b.adminToken });
        expect(JSON.stringify(res.body)).not.toContain(aLeadId);
      },
    };

    /** What tenant A holds that B's attempts could touch: its keys, its lead, its audit trail. */
    async function snapshotOfA() {
      const lead = await call('GET', `/api/v1/leads/${aLeadId}`, { token: a.adminToken });
      const audit = await call('GET', '/api/v1/gdpr/audit?limit=100', { token: a.adminToken });
      return { keys: await keysOf(a), lead: lead.body, audit: audit.body.items };
    }

    it('has an attempt for every tenant-scoped route of the route table', () => {
      const scoped = ROUTES.filter((r) => r.auth === 'jwt').map((r) => routeKey(r.method, r.path));
      expect(Object.keys(attempts).sort()).toEqual(scoped.sort());
    });

    it.each(Object.keys(attempts))("%s: tenant B cannot reach tenant A's data", async (key) => {
      const before = await snapshotOfA();
      await attempts[key]?.();
      expect(await snapshotOfA()).toEqual(before);
      const stillWorks = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${a.apiKey}` });
      expect(stillWorks.status).toBe(200);
    });

    it('a member calling an admin route gets 403', async () => {
      const res = await call('GET', '/api/v1/api-keys', { token: a.memberToken });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden');
      const platformRoute = await call('GET', '/api/v1/admin/tenants', { token: a.adminToken });
      expect(platformRoute.status).toBe(403);
    });

    it('a tenant admin cannot mint a key above their own role', async () => {
      const res = await call('POST', '/api/v1/api-keys', { token: a.adminToken, body: { role: 'owner' } });
      expect(res.status).toBe(403);
    });
  });

  describe('platform administration', () => {
    it('lists tenants with cursor pagination and rejects a forged cursor', async () => {
      const first = await call('GET', '/api/v1/admin/tenants?limit=1', { token: platform });
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(1);
      const cursor = first.body.next_cursor as string;
      expect(typeof cursor).toBe('string');
      const second = await call('GET', `/api/v1/admin/tenants?limit=1&cursor=${cursor}`, { token: platform });
      const ids = [
        ...(first.body.items as Array<{ id: string }>),
        ...(second.body.items as Array<{ id: string }>),
      ];
      expect(ids.map((t) => t.id).sort()).toEqual([a.id, b.id].sort());
      const forged = Buffer.from(JSON.stringify({ pk: `TENANT#${a.id}`, sk: 'APIKEY#x' })).toString(
        'base64url',
      );
      const bad = await call('GET', `/api/v1/admin/tenants?cursor=${forged}`, { token: platform });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('validation_failed');
      expect((await call('GET', '/api/v1/admin/tenants?limit=500', { token: platform })).status).toBe(400);
    });

    it('reads a tenant, answers 404 for an unknown one, and revokes a key', async () => {
      expect((await call('GET', `/api/v1/admin/tenants/${a.id}`, { token: platform })).body).toMatchObject({
        id: a.id,
        name: 'Agency A',
        status: 'active',
      });
      expect((await call('GET', '/api/v1/admin/tenants/ten_unknown', { token: platform })).status).toBe(404);
      expect(
        (await call('POST', '/api/v1/admin/tenants/ten_unknown/api-keys', { token: platform, body: {} }))
          .status,
      ).toBe(404);
      const key = await call('POST', `/api/v1/admin/tenants/${b.id}/api-keys`, { token: platform, body: {} });
      expect(key.body.role).toBe('member');
      const del = await call('DELETE', `/api/v1/admin/tenants/${b.id}/api-keys/${key.body.id}`, {
        token: platform,
      });
      expect(del.status).toBe(204);
      const again = await call('DELETE', `/api/v1/admin/tenants/${a.id}/api-keys/${key.body.id}`, {
        token: platform,
      });
      expect(again.status).toBe(404);
    });

    it('validates bodies: 415 for non-JSON, 400 with details for bad fields', async () => {
      const wrongType = await call('POST', '/api/v1/admin/tenants', {
        token: platform,
        body: { name: 'x' },
        headers: { 'Content-Type': 'text/plain' },
      });
      expect(wrongType.status).toBe(415);
      expect(wrongType.body.error).toBe('unsupported_media_type');
      const missing = await call('POST', '/api/v1/admin/tenants', { token: platform, body: { name: '  ' } });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ error: 'validation_failed', details: [{ path: 'name' }] });
      const res = await fetch(`${stack.url}/api/v1/admin/tenants`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${platform}`, 'Content-Type': 'application/json' },
        body: '{not json',
      });
      expect(res.status).toBe(400);
    });
  });
});
