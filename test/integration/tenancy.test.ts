import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoSourceStore,
  MAX_CONNECTIONS_PER_SOURCE,
} from '../../functions/shared/features/integrations/dynamo';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import { platformScope, scopeOf } from '../../functions/shared/features/tenancy/rules/scope';
import {
  ApiKeyError,
  authenticateApiKey,
  hashApiKey,
  issueApiKey,
} from '../../functions/shared/features/tenancy/service';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { DomainConflictError } from '../../functions/shared/platform/errors/domain';
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

describe('webhook sources connected by several tenants', () => {
  let env: Record<string, string>;
  const sources = new DynamoSourceStore();
  const scope = (tenantId: string) => platformScope(admin, tenantId);
  const tenantsOf = async (key: string) =>
    (await sources.connections('shopify', key)).map((s) => [s.tenant_id, s.sealed_secret]).sort();

  beforeAll(async () => {
    env = await freshResources({ PLATFORM_ORG_ID: 'platform' });
  });

  it('keeps one connection per tenant, each with its own secret, and moves it when the shop changes', async () => {
    await sources.save(scope('t-a'), 'shopify', 'one.myshopify.com', { shop_domain: 'one' }, 'sealed-a');
    await sources.save(scope('t-b'), 'shopify', 'one.myshopify.com', { shop_domain: 'one' }, 'sealed-b');
    expect(await tenantsOf('one.myshopify.com')).toEqual([
      ['t-a', 'sealed-a'],
      ['t-b', 'sealed-b'],
    ]);
    // Saving again replaces the tenant's own secret; moving to another shop releases the first.
    await sources.save(scope('t-a'), 'shopify', 'one.myshopify.com', { shop_domain: 'one' }, 'sealed-a2');
    await sources.save(scope('t-b'), 'shopify', 'two.myshopify.com', { shop_domain: 'two' }, 'sealed-b2');
    expect(await tenantsOf('one.myshopify.com')).toEqual([['t-a', 'sealed-a2']]);
    expect(await tenantsOf('two.myshopify.com')).toEqual([['t-b', 'sealed-b2']]);
    expect((await sources.settings(scope('t-b'), 'shopify'))?.source_key).toBe('two.myshopify.com');
    expect(await sources.find('shopify', 'three.myshopify.com')).toBeUndefined();
  });

  it('reads a source stored for a single tenant, and replaces it when that tenant saves again', async () => {
    const legacy = { pk: 'SOURCE#shopify#old.myshopify.com', sk: 'SOURCE', tenant_id: 't-old' };
    await documentClient().send(new PutCommand({ TableName: env.TENANTS_TABLE, Item: legacy }));
    await documentClient().send(
      new PutCommand({
        TableName: env.TENANTS_TABLE,
        Item: { ...legacy, pk: 'SOURCE#shopify#x.myshopify.com' },
      }),
    );
    expect(await tenantsOf('old.myshopify.com')).toEqual([['t-old', undefined]]);
    // Another tenant's save leaves the first tenant's item alone.
    await sources.save(scope('t-new'), 'shopify', 'old.myshopify.com', {}, 'sealed-new');
    expect(await tenantsOf('old.myshopify.com')).toEqual([
      ['t-new', 'sealed-new'],
      ['t-old', undefined],
    ]);
    await sources.save(scope('t-old'), 'shopify', 'old.myshopify.com', {}, 'sealed-old');
    expect(await tenantsOf('old.myshopify.com')).toEqual([
      ['t-new', 'sealed-new'],
      ['t-old', 'sealed-old'],
    ]);
    const stale = await documentClient().send(
      new GetCommand({ TableName: env.TENANTS_TABLE, Key: { pk: legacy.pk, sk: 'SOURCE' } }),
    );
    expect(stale.Item).toBeUndefined();
  });

  it(`bounds a source at ${MAX_CONNECTIONS_PER_SOURCE} tenants, while a connected tenant may still save`, async () => {
    for (let i = 0; i < MAX_CONNECTIONS_PER_SOURCE; i += 1) {
      await sources.save(scope(`t-full-${i}`), 'shopify', 'full.myshopify.com', {}, `sealed-${i}`);
    }
    await expect(
      sources.save(scope('t-one-more'), 'shopify', 'full.myshopify.com', {}, 'sealed-x'),
    ).rejects.toBeInstanceOf(DomainConflictError);
    await sources.save(scope('t-full-0'), 'shopify', 'full.myshopify.com', {}, 'sealed-again');
    expect(await sources.connections('shopify', 'full.myshopify.com')).toHaveLength(
      MAX_CONNECTIONS_PER_SOURCE,
    );
  });
});
