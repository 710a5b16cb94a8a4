import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import { loadKeyring } from '../../functions/shared/platform/auth/keyring';
import { STANDING_CACHE_ENV } from '../../functions/shared/platform/auth/standing';
import type { LocalStack } from '../../local/stack';
import { forgeJwt, hs256Header, nowSeconds, ownerClaims } from '../support/forged-tokens';
import { request } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

/**
 * Tokens end with their tenant and their API key, and keys cannot breed: the findings of the
 * second security audit about tokens and keys, reproduced over HTTP and shown fixed.
 */
let stack: LocalStack;
let secret: Buffer;
let platform: string;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

const forge = (payload: Record<string, unknown>) => forgeJwt(hs256Header(secret), payload, secret);
const now = nowSeconds;
const claims = (org: string, extra: Record<string, unknown> = {}) => ownerClaims('user:forger', org, extra);
const lead = (email: string) => ({ email, consent: { status: 'granted' } });

async function keyFor(tenant: TestTenant, role: string) {
  const made = await call('POST', `/api/v1/admin/tenants/${tenant.id}/api-keys`, {
    token: platform,
    body: { name: `${role}-key`, role },
  });
  expect(made.status).toBe(201);
  return { id: made.body.id as string, key: made.body.key as string };
}

async function exchange(key: string): Promise<string> {
  const res = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${key}` });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

/** Waits (within the standing cache bound, 1 s here) until the token is refused as ended. */
async function refusedSoon(token: string, what: string) {
  const res = await eventually(async () => {
    const r = await call('GET', '/api/v1/leads', { token });
    return r.status === 401 ? r : undefined;
  }, what);
  expect(res.body).toMatchObject({ error: 'invalid_token', message: 'Token expired' });
}

describe('tokens that end with their tenant and key, keys that cannot breed', () => {
  beforeAll(async () => {
    process.env[STANDING_CACHE_ENV] = '1';
    stack = await startTestStack('tokkeys');
    secret = Buffer.from((await loadKeyring()).current.secret);
    platform = await tokenFor('platform', 'owner');
  });

  afterAll(async () => {
    delete process.env[STANDING_CACHE_ENV];
    await stack.stop();
  });

  describe('token lifetime (F-18)', () => {
    let tenant: TestTenant;
    beforeAll(async () => {
      tenant = await createTenant(stack.url, 'Lifetime Ltd');
    });

    it('refuses a token living ten years, or a day and a second, and one without iat', async () => {
      for (const payload of [
        claims(tenant.id, { exp: now() + 10 * 365 * 86400 }),
        claims(tenant.id, { exp: now() + 86400 + 1 }),
        claims(tenant.id, { iat: undefined }),
      ]) {
        const res = await call('GET', '/api/v1/leads', { token: forge(payload) });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: 'invalid_token', message: 'Invalid token format' });
      }
      expect((await call('GET', '/api/v1/leads', { token: forge(claims(tenant.id)) })).status).toBe(200);
    });

    it('refuses a token naming a tenant that does not exist: nothing is stored', async () => {
      const res = await call('POST', '/api/v1/leads', {
        token: forge(claims('ten_doesnotexist0000000000000')),
        body: lead('ghost@example.com'),
      });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_token', message: 'Token expired' });
    });

    it('leaves the platform organisation aside: it has no tenant record', async () => {
      expect((await call('GET', '/api/v1/admin/tenants', { token: platform })).status).toBe(200);
    });
  });

  describe('suspension (F-18)', () => {
    it("stops a suspended tenant's keys at once and its tokens within the bound; reactivation restores them", async () => {
      const tenant = await createTenant(stack.url, 'Suspended Ltd');
      const { key } = await keyFor(tenant, 'member');
      const keyToken = await exchange(key);
      expect(
        (await call('POST', '/api/v1/leads', { token: tenant.member, body: lead('a@example.com') })).status,
      ).toBe(201);
      expect((await call('GET', '/api/v1/leads', { token: keyToken })).status).toBe(200);

      const suspended = await call('PATCH', `/api/v1/admin/tenants/${tenant.id}`, {
        token: platform,
        body: { status: 'suspended' },
      });
      expect(suspended.status).toBe(200);
      expect(suspended.body).toMatchObject({
        id: tenant.id,
        status: 'suspended',
        status_changed_at: expect.any(String),
      });

      const refusedKey = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${key}` });
      expect(refusedKey.status).toBe(401);
      expect(refusedKey.body).toMatchObject({ error: 'invalid_api_key' });
      await refusedSoon(tenant.member, "the suspended tenant's user token refused");
      await refusedSoon(keyToken, "the suspended tenant's key token refused");
      const write = await call('POST', '/api/v1/leads', {
        token: tenant.member,
        body: lead('b@example.com'),
      });
      expect(write.status).toBe(401);

      const reactivated = await call('PATCH', `/api/v1/admin/tenants/${tenant.id}`, {
        token: platform,
        body: { status: 'active' },
      });
      expect(reactivated.body).toMatchObject({ status: 'active' });
      await eventually(async () => {
        const r = await call('GET', '/api/v1/leads', { token: tenant.member });
        return r.status === 200 ? r : undefined;
      }, 'the reactivated tenant served again');
      expect((await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${key}` })).status).toBe(200);

      const history = await new DynamoTenantStore().statusHistory(tenant.id);
      expect(history.map((h) => [h.from, h.to, h.actor])).toEqual([
        ['active', 'suspended', 'user:platform:owner'],
        ['suspended', 'active', 'user:platform:owner'],
      ]);
    });

    it('is for platform admins only, names an existing tenant, and takes only the two statuses', async () => {
      const tenant = await createTenant(stack.url, 'Guarded Ltd');
      const path = `/api/v1/admin/tenants/${tenant.id}`;
      const asOwner = await call('PATCH', path, { token: tenant.owner, body: { status: 'suspended' } });
      expect(asOwner.status).toBe(403);
      const unknown = await call('PATCH', '/api/v1/admin/tenants/ten_nobody', {
        token: platform,
        body: { status: 'suspended' },
      });
      expect(unknown.status).toBe(404);
      const bad = await call('PATCH', path, { token: platform, body: { status: 'deleted' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('validation_failed');
      expect((await call('GET', path, { token: platform })).body).toMatchObject({ status: 'active' });
    });
  });

  describe('API keys (F-19)', () => {
    it('a token exchanged for a key cannot create keys, so revoking the key ends all it made', async () => {
      const tenant = await createTenant(stack.url, 'Breeders Ltd');
      const k1 = await keyFor(tenant, 'admin');
      const k1Token = await exchange(k1.key);
      const bred = await call('POST', '/api/v1/api-keys', {
        token: k1Token,
        body: { name: 'k2', role: 'admin' },
      });
      expect(bred.status).toBe(403);
      expect(bred.body.message).toBe('A token exchanged for an API key cannot create API keys');

      // A person can, and the key records who made it with which role.
      const byUser = await call('POST', '/api/v1/api-keys', {
        token: tenant.admin,
        body: { name: 'k3', role: 'member' },
      });
      expect(byUser.status).toBe(201);
      expect(byUser.body.created_by).toEqual({
        subject: `user:${tenant.id}:admin`,
        role: 'admin',
        via: 'tenant',
      });
      const listed = await call('GET', '/api/v1/api-keys', { token: tenant.admin });
      const k1Listed = (listed.body.items as Array<Record<string, unknown>>).find((k) => k.id === k1.id);
      expect(k1Listed?.created_by).toEqual({
        subject: 'user:platform:owner',
        role: 'owner',
        via: 'platform',
      });

      expect((await call('DELETE', `/api/v1/api-keys/${k1.id}`, { token: tenant.admin })).status).toBe(204);
      const again = await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${k1.key}` });
      expect(again.status).toBe(401);
      await refusedSoon(k1Token, "the revoked key's token refused");
    });

    it("keeps an owner's keys from admins (404), shows them to owners, and another tenant's keys from everyone", async () => {
      const tenant = await createTenant(stack.url, 'Owners Ltd');
      const other = await createTenant(stack.url, 'Others Ltd');
      const ownerKey = await keyFor(tenant, 'owner');
      const adminKey = await keyFor(tenant, 'admin');

      const seenByAdmin = await call('GET', '/api/v1/api-keys', { token: tenant.admin });
      expect((seenByAdmin.body.items as Array<{ id: string }>).map((k) => k.id)).toEqual([adminKey.id]);
      const seenByOwner = await call('GET', '/api/v1/api-keys', { token: tenant.owner });
      expect((seenByOwner.body.items as Array<{ id: string }>).map((k) => k.id).sort()).toEqual(
        [ownerKey.id, adminKey.id].sort(),
      );

      const adminRevokes = await call('DELETE', `/api/v1/api-keys/${ownerKey.id}`, { token: tenant.admin });
      expect(adminRevokes.status).toBe(404);
      expect(
        (await call('POST', '/api/v1/auth/token', { authorization: `ApiKey ${ownerKey.key}` })).status,
      ).toBe(200);
      const crossTenant = await call('DELETE', `/api/v1/api-keys/${adminKey.id}`, { token: other.owner });
      expect(crossTenant.status).toBe(404);
      expect((await call('DELETE', `/api/v1/api-keys/${ownerKey.id}`, { token: tenant.owner })).status).toBe(
        204,
      );
    });
  });
});
