import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/shared/aws';
import {
  ApiKeyError,
  authenticateApiKey,
  hashApiKey,
  issueApiKey,
} from '../../functions/shared/tenancy/api-keys';
import { DynamoTenantStore } from '../../functions/shared/tenancy/dynamo-store';
import { platformScope, scopeOf } from '../../functions/shared/tenancy/scope';
import { freshResources } from '../support/emulator';

const admin = { tenantId: 'platform', role: 'owner' as const, subject: 'op', method: 'jwt' as const };
const byOperator = { subject: 'op', role: 'owner' as const, via: 'platform' as const };

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiKeyError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('tenant store and API keys on DynamoDB', () => {
  let env: Record<string, string>;
  const store = new DynamoTenantStore();

  beforeAll(async () => {
    env = await freshResources({ PLATFORM_ORG_ID: 'platform' });
  });

  it('stores only the hash of a key and authenticates it, recording last use', async () => {
    const tenant = await store.createTenant('Hashes Ltd');
    const { record, key } = await issueApiKey(
      store,
      platformScope(admin, tenant.id),
      { name: 'k', role: 'member' },
      byOperator,
    );
    expect(JSON.stringify(record)).not.toContain(key);
    const stored = await store.findApiKeyByHash(hashApiKey(key));
    expect(stored?.hash).toBe(hashApiKey(key));
    expect(JSON.stringify(stored)).not.toContain(key);
    const auth = await authenticateApiKey(store, key, new Date('2026-11-25T10:00:00Z'));
    expect(auth).toEqual({
      tenantId: tenant.id,
      role: 'member',
      subject: `apikey:${record.id}`,
      method: 'apiKey',
    });
    const [listed] = await store.listApiKeys(scopeOf(auth));
    expect(listed?.last_used_at).toBe('2026-11-25T10:00:00.000Z');
    expect(listed).not.toHaveProperty('hash');
  });

  it('refuses unknown, revoked and orphaned keys', async () => {
    const tenant = await store.createTenant('Revokers');
    const scope = platformScope(admin, tenant.id);
    const { record, key } = await issueApiKey(store, scope, { name: 'k', role: 'admin' }, byOperator);
    expect(await reason(authenticateApiKey(store, `ae_${'A'.repeat(43)}`))).toBe('unknown');
    expect(await reason(authenticateApiKey(store, 'nope'))).toBe('format');
    expect(await store.revokeApiKey(scope, record.id, new Date().toISOString())).toBe(true);
    expect(await reason(authenticateApiKey(store, key))).toBe('revoked');

    const other = await issueApiKey(store, scope, { name: 'k2', role: 'admin' }, byOperator);
    await documentClient().send(
      new DeleteCommand({ TableName: env.TENANTS_TABLE, Key: { pk: `TENANT#${tenant.id}`, sk: 'META' } }),
    );
    expect(await reason(authenticateApiKey(store, other.key))).toBe('tenant');
  });

  it('revokes only within the scope it is given', async () => {
    const a = await store.createTenant('A');
    const b = await store.createTenant('B');
    const { record } = await issueApiKey(
      store,
      platformScope(admin, a.id),
      { name: 'k', role: 'viewer' },
      byOperator,
    );
    expect(await store.revokeApiKey(platformScope(admin, b.id), record.id, 'now')).toBe(false);
    const [stillThere] = await store.listApiKeys(platformScope(admin, a.id));
    expect(stillThere?.revoked_at).toBeUndefined();
  });

  it('records who made a key, reads one key consistently, and answers undefined for another tenant', async () => {
    const a = await store.createTenant('Creators');
    const b = await store.createTenant('Others');
    const { record } = await issueApiKey(
      store,
      platformScope(admin, a.id),
      { name: 'k', role: 'admin' },
      byOperator,
    );
    expect(record.created_by).toEqual(byOperator);
    const read = await store.getApiKey(platformScope(admin, a.id), record.id);
    expect(read).toMatchObject({ id: record.id, role: 'admin', created_by: byOperator });
    expect(read).not.toHaveProperty('hash');
    expect(await store.getApiKey(platformScope(admin, b.id), record.id)).toBeUndefined();
  });

  it('suspends and reactivates a tenant, keeping each change in its history, and knows no unknown tenant', async () => {
    const tenant = await store.createTenant('Suspendable');
    const { key } = await issueApiKey(
      store,
      platformScope(admin, tenant.id),
      { name: 'k', role: 'member' },
      byOperator,
    );
    const change = { actor: 'op', ip: '192.0.2.1', request_id: 'req-1' };
    const suspended = await store.setTenantStatus(tenant.id, 'suspended', {
      ...change,
      at: '2026-11-26T09:00:00.000Z',
    });
    expect(suspended).toMatchObject({
      id: tenant.id,
      status: 'suspended',
      status_changed_at: '2026-11-26T09:00:00.000Z',
    });
    expect((await store.getTenant(tenant.id))?.status).toBe('suspended');
    expect(await reason(authenticateApiKey(store, key))).toBe('tenant');
    await store.setTenantStatus(tenant.id, 'active', { ...change, at: '2026-11-26T10:00:00.000Z' });
    expect(await reason(authenticateApiKey(store, key))).toBe('accepted');
    expect(await store.statusHistory(tenant.id)).toEqual([
      { ...change, at: '2026-11-26T09:00:00.000Z', from: 'active', to: 'suspended' },
      { ...change, at: '2026-11-26T10:00:00.000Z', from: 'suspended', to: 'active' },
    ]);
    // The history is not mistaken for keys.
    expect(await store.listApiKeys(platformScope(admin, tenant.id))).toHaveLength(1);
    expect(await store.setTenantStatus('ten_unknown', 'suspended', { ...change, at: 'now' })).toBeUndefined();
  });

  it('refuses to build a platform scope for anyone but a platform admin', () => {
    expect(() => platformScope({ ...admin, tenantId: 'tenant-x' }, 'y')).toThrow('platform admin');
    expect(() => platformScope({ ...admin, role: 'member' }, 'y')).toThrow('platform admin');
  });
});
