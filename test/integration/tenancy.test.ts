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
    const { record, key } = await issueApiKey(store, platformScope(admin, tenant.id), {
      name: 'k',
      role: 'member',
    });
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
    const { record, key } = await issueApiKey(store, scope, { name: 'k', role: 'admin' });
    expect(await reason(authenticateApiKey(store, `ae_${'A'.repeat(43)}`))).toBe('unknown');
    expect(await reason(authenticateApiKey(store, 'nope'))).toBe('format');
    expect(await store.revokeApiKey(scope, record.id, new Date().toISOString())).toBe(true);
    expect(await reason(authenticateApiKey(store, key))).toBe('revoked');

    const other = await issueApiKey(store, scope, { name: 'k2', role: 'admin' });
    await documentClient().send(
      new DeleteCommand({ TableName: env.TENANTS_TABLE, Key: { pk: `TENANT#${tenant.id}`, sk: 'META' } }),
    );
    expect(await reason(authenticateApiKey(store, other.key))).toBe('tenant');
  });

  it('revokes only within the scope it is given', async () => {
    const a = await store.createTenant('A');
    const b = await store.createTenant('B');
    const { record } = await issueApiKey(store, platformScope(admin, a.id), { name: 'k', role: 'viewer' });
    expect(await store.revokeApiKey(platformScope(admin, b.id), record.id, 'now')).toBe(false);
    const [stillThere] = await store.listApiKeys(platformScope(admin, a.id));
    expect(stillThere?.revoked_at).toBeUndefined();
  });

  it('refuses to build a platform scope for anyone but a platform admin', () => {
    expect(() => platformScope({ ...admin, tenantId: 'tenant-x' }, 'y')).toThrow('platform admin');
    expect(() => platformScope({ ...admin, role: 'member' }, 'y')).toThrow('platform admin');
  });
});
