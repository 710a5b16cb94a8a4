import type { ApiKeyRecord, Tenant } from '../../features/tenancy/model';
import { scopeOf, type TenantScope } from '../../features/tenancy/rules/scope';
import { BoundedCache } from '../cache';
import { ConfigurationError } from '../config/resources';
import { type AuthContext, platformOrgId } from './context';
import { TokenError } from './tokens';

/** What the standing check reads: a tenant, and one of its API keys. */
export interface StandingSource {
  getTenant(id: string): Promise<Tenant | undefined>;
  getApiKey(scope: TenantScope, keyId: string): Promise<ApiKeyRecord | undefined>;
}

export const STANDING_CACHE_ENV = 'TENANT_STATUS_CACHE_SECONDS';
/** How long an instance trusts what it read about a tenant or key, unless configured. */
export const DEFAULT_STANDING_CACHE_SECONDS = 30;
/** The longest a tenant's suspension or a key's revocation may go unnoticed by a warm instance. */
export const MAX_STANDING_CACHE_SECONDS = 60;
const MAX_ENTRIES = 1000;

/** `TENANT_STATUS_CACHE_SECONDS`: 0 (read every time) to 60; anything else is refused. */
export function standingCacheSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[STANDING_CACHE_ENV];
  if (raw === undefined || raw === '') return DEFAULT_STANDING_CACHE_SECONDS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value > MAX_STANDING_CACHE_SECONDS) {
    throw new ConfigurationError(
      `${STANDING_CACHE_ENV} must be a whole number of seconds from 0 to ${MAX_STANDING_CACHE_SECONDS}`,
    );
  }
  return value;
}

/** The API key a token was exchanged for (`POST /api/v1/auth/token` makes its subject `apikey:<id>`). */
export function apiKeyIdOf(auth: AuthContext): string | undefined {
  return auth.subject.startsWith('apikey:') ? auth.subject.slice('apikey:'.length) : undefined;
}

/**
 * Whether a verified token may still act: its tenant exists and is active (the platform
 * organisation, which has no tenant record, aside), and a token exchanged for an API key still
 * has that key unrevoked. What it reads is cached per instance for at most
 * `TENANT_STATUS_CACHE_SECONDS`, so a suspension or a revocation ends every token within that
 * bound. A refused token is 401 `invalid_token` `Token expired`: it ended before its `exp`, and
 * the caller learns nothing about why (an unknown tenant reads like a suspended one).
 */
export class StandingCheck {
  private readonly cache: BoundedCache<string, boolean>;

  constructor(
    private readonly source: StandingSource,
    cacheSeconds: number = standingCacheSeconds(),
    now: () => number = Date.now,
  ) {
    this.cache = new BoundedCache(MAX_ENTRIES, cacheSeconds * 1000, now);
  }

  async admit(auth: AuthContext): Promise<void> {
    if (auth.tenantId !== platformOrgId()) {
      const active = await this.cached(`tenant:${auth.tenantId}`, async () => {
        const tenant = await this.source.getTenant(auth.tenantId);
        return tenant?.status === 'active';
      });
      if (!active) throw new TokenError('expired');
    }
    const keyId = apiKeyIdOf(auth);
    if (keyId !== undefined) {
      const live = await this.cached(`key:${auth.tenantId}/${keyId}`, async () => {
        const key = await this.source.getApiKey(scopeOf(auth), keyId);
        return key !== undefined && !key.revoked_at;
      });
      if (!live) throw new TokenError('expired');
    }
  }

  private async cached(key: string, read: () => Promise<boolean>): Promise<boolean> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const value = await read();
    if (this.cache.ttlMs > 0) this.cache.set(key, value);
    return value;
  }
}
