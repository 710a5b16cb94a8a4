import type { ApiKeyRecord, Tenant } from '../../functions/shared/features/tenancy/model';
import {
  apiKeyIdOf,
  DEFAULT_STANDING_CACHE_SECONDS,
  STANDING_CACHE_ENV,
  StandingCheck,
  type StandingSource,
  standingCacheSeconds,
} from '../../functions/shared/platform/auth/standing';
import { TOKEN_MESSAGES, TokenError } from '../../functions/shared/platform/auth/tokens';
import { ConfigurationError } from '../../functions/shared/platform/config/resources';

/** Tenants and keys in memory, counting reads. */
function source() {
  const tenants = new Map<string, Tenant>();
  const keys = new Map<string, ApiKeyRecord>();
  const reads = { tenants: 0, keys: 0 };
  const store: StandingSource = {
    getTenant: async (id) => {
      reads.tenants++;
      return tenants.get(id);
    },
    getApiKey: async (scope, id) => {
      reads.keys++;
      const key = keys.get(id);
      return key?.tenant_id === scope.tenantId ? key : undefined;
    },
  };
  const tenant = (id: string, status: Tenant['status'] = 'active') =>
    tenants.set(id, { id, name: id, status, created_at: '2026-11-25T10:00:00Z' });
  const key = (id: string, tenantId: string, revoked = false) =>
    keys.set(id, {
      id,
      tenant_id: tenantId,
      name: id,
      role: 'admin',
      prefix: 'ae_x',
      created_at: '2026-11-25T10:00:00Z',
      ...(revoked ? { revoked_at: '2026-11-25T11:00:00Z' } : {}),
    });
  return { store, tenant, key, reads, tenants, keys };
}

const user = (tenantId: string) => ({
  tenantId,
  role: 'admin' as const,
  subject: 'user-1',
  method: 'jwt' as const,
});
const viaKey = (tenantId: string, keyId: string) => ({ ...user(tenantId), subject: `apikey:${keyId}` });

async function refusal(check: StandingCheck, auth: ReturnType<typeof user>): Promise<string> {
  try {
    await check.admit(auth);
  } catch (error) {
    if (error instanceof TokenError) return error.message;
    throw error;
  }
  return 'admitted';
}

describe('standing of a verified token', () => {
  it('admits an active tenant, and refuses a suspended or unknown one alike', async () => {
    const s = source();
    s.tenant('ten_a');
    s.tenant('ten_s', 'suspended');
    const check = new StandingCheck(s.store, 30, () => 0);
    expect(await refusal(check, user('ten_a'))).toBe('admitted');
    expect(await refusal(check, user('ten_s'))).toBe(TOKEN_MESSAGES.expired);
    expect(await refusal(check, user('ten_nobody'))).toBe(TOKEN_MESSAGES.expired);
  });

  it('leaves the platform organisation aside, which has no tenant record', async () => {
    const s = source();
    const check = new StandingCheck(s.store, 30, () => 0);
    expect(await refusal(check, user('platform'))).toBe('admitted');
    expect(s.reads.tenants).toBe(0);
  });

  it("refuses a token exchanged for a key once the key is revoked, or is another tenant's", async () => {
    const s = source();
    s.tenant('ten_a');
    s.tenant('ten_b');
    s.key('key_live', 'ten_a');
    s.key('key_dead', 'ten_a', true);
    const check = new StandingCheck(s.store, 30, () => 0);
    expect(await refusal(check, viaKey('ten_a', 'key_live'))).toBe('admitted');
    expect(await refusal(check, viaKey('ten_a', 'key_dead'))).toBe(TOKEN_MESSAGES.expired);
    expect(await refusal(check, viaKey('ten_b', 'key_live'))).toBe(TOKEN_MESSAGES.expired);
    expect(await refusal(check, viaKey('ten_a', 'key_gone'))).toBe(TOKEN_MESSAGES.expired);
  });

  it('reads each tenant and key once per cache period, and sees a change once it has passed', async () => {
    const s = source();
    s.tenant('ten_a');
    s.key('key_1', 'ten_a');
    let now = 0;
    const check = new StandingCheck(s.store, 30, () => now);
    for (let i = 0; i < 5; i++) expect(await refusal(check, viaKey('ten_a', 'key_1'))).toBe('admitted');
    expect(s.reads).toEqual({ tenants: 1, keys: 1 });

    s.tenant('ten_a', 'suspended');
    now = 29_999;
    expect(await refusal(check, viaKey('ten_a', 'key_1'))).toBe('admitted');
    now = 30_000;
    expect(await refusal(check, viaKey('ten_a', 'key_1'))).toBe(TOKEN_MESSAGES.expired);

    // A suspension is cached too, and so is the reactivation that ends it.
    s.tenant('ten_a', 'active');
    s.key('key_1', 'ten_a', true);
    expect(await refusal(check, viaKey('ten_a', 'key_1'))).toBe(TOKEN_MESSAGES.expired);
    now = 60_000;
    expect(await refusal(check, user('ten_a'))).toBe('admitted');
    expect(await refusal(check, viaKey('ten_a', 'key_1'))).toBe(TOKEN_MESSAGES.expired);
  });

  it('reads every time with a cache of 0 seconds', async () => {
    const s = source();
    s.tenant('ten_a');
    const check = new StandingCheck(s.store, 0, () => 0);
    await check.admit(user('ten_a'));
    await check.admit(user('ten_a'));
    expect(s.reads.tenants).toBe(2);
  });

  it('passes on a store failure rather than admitting', async () => {
    const failing: StandingSource = {
      getTenant: async () => {
        throw new Error('table unreachable');
      },
      getApiKey: async () => undefined,
    };
    await expect(new StandingCheck(failing, 30).admit(user('ten_a'))).rejects.toThrow('table unreachable');
  });

  it('names the key of a key-derived subject only', () => {
    expect(apiKeyIdOf(viaKey('t', 'key_1'))).toBe('key_1');
    expect(apiKeyIdOf(user('t'))).toBeUndefined();
  });
});

describe('standing cache setting', () => {
  it('defaults to 30 s, allows 0 to 60, and refuses anything else', () => {
    expect(standingCacheSeconds({})).toBe(DEFAULT_STANDING_CACHE_SECONDS);
    expect(standingCacheSeconds({ [STANDING_CACHE_ENV]: '' })).toBe(30);
    expect(standingCacheSeconds({ [STANDING_CACHE_ENV]: '0' })).toBe(0);
    expect(standingCacheSeconds({ [STANDING_CACHE_ENV]: '60' })).toBe(60);
    for (const bad of ['61', '-1', '1.5', 'soon', '3600']) {
      expect(() => standingCacheSeconds({ [STANDING_CACHE_ENV]: bad })).toThrow(ConfigurationError);
    }
  });
});
