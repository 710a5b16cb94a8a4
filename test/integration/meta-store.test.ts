import { metaIntegrationOf } from '../../functions/shared/meta/settings';
import { MetaIntegrationStore } from '../../functions/shared/meta/store';
import type { TenantScope } from '../../functions/shared/tenancy/scope';
import { freshResources } from '../support/emulator';

/** The Meta integration item on DynamoDB: one disconnect per refused token, a new token reconnects. */
describe('Meta integration store', () => {
  const store = new MetaIntegrationStore();
  const scope = { tenantId: 'ten_meta_store' } as TenantScope;
  const now = new Date('2026-11-25T12:00:00Z');
  const body = { pixel_id: '1234567890', access_token: 'EAAB-unused-here-000000' };

  beforeAll(async () => {
    await freshResources();
  });

  it('disconnects once for the token it was called with; saving a new token connects again', async () => {
    await store.save(scope, metaIntegrationOf(body, 'sealed-1', now));
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'Meta refused the access token', now)).toBe(
      true,
    );
    // A second batch that saw the same refusal changes nothing: the alarm is raised once.
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'Meta refused the access token', now)).toBe(
      false,
    );
    expect(await store.get(scope.tenantId)).toMatchObject({
      status: 'disconnected',
      status_reason: 'Meta refused the access token',
    });

    await store.save(scope, metaIntegrationOf(body, 'sealed-2', now));
    expect((await store.get(scope.tenantId))?.status).toBe('connected');
    expect(await store.get(scope.tenantId)).not.toHaveProperty('status_reason');
    // A refusal of the old token, seen late, does not disconnect the new one.
    expect(await store.disconnect(scope.tenantId, 'sealed-1', 'late', now)).toBe(false);
    expect((await store.get(scope.tenantId))?.status).toBe('connected');
    expect(await store.disconnect('ten_unknown', 'sealed-1', 'x', now)).toBe(false);
  });
});
