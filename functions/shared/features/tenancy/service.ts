import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../../../contract/routes';
import { type AuthContext, hasRole } from '../../platform/auth/context';
import { apiKeyIdOf } from '../../platform/auth/standing';
import { newId } from '../../platform/ids';
import type { ApiKeyCreator, ApiKeyRecord, StoredApiKey, TenantStore } from './model';
import type { TenantScope } from './rules/scope';
import { scopeOf } from './rules/scope';

/** `ae_` and 32 random bytes (256 bits) in base64url. */
const API_KEY_FORMAT = /^ae_[A-Za-z0-9_-]{43}$/;

export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError';
  constructor(readonly reason: 'format' | 'unknown' | 'revoked' | 'tenant') {
    super('Invalid API key');
  }
}

export function generateApiKey(): string {
  return `ae_${randomBytes(32).toString('base64url')}`;
}

/** Keys carry 256 random bits, so a fast hash is enough: nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Why a caller may not make or touch a key; the handler maps it to 403. */
export class ApiKeyPolicyError extends Error {
  override readonly name = 'ApiKeyPolicyError';
}

/**
 * Who is making a key, as recorded on it. Only people make keys: a token exchanged for an API key
 * cannot, so a leaked key cannot breed keys that outlive its revocation, and nobody hands out a
 * role above their own.
 */
export function creatorOf(auth: AuthContext, via: ApiKeyCreator['via'], role: Role): ApiKeyCreator {
  if (apiKeyIdOf(auth) !== undefined)
    throw new ApiKeyPolicyError('A token exchanged for an API key cannot create API keys');
  if (!hasRole(auth.role, role))
    throw new ApiKeyPolicyError('An API key cannot have a higher role than its creator');
  return { subject: auth.subject, role: auth.role, via };
}

/**
 * Whether a tenant user sees (and may revoke) a key: only keys whose role is at most their own,
 * so an admin neither sees nor revokes an owner's keys. A key they may not see does not exist for
 * them (404).
 */
export function visibleTo(auth: AuthContext, key: ApiKeyRecord): boolean {
  return hasRole(auth.role, key.role);
}

export async function issueApiKey(
  store: TenantStore,
  scope: TenantScope,
  input: { name: string; role: Role },
  creator: ApiKeyCreator,
  now: Date = new Date(),
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const stored: StoredApiKey = {
    id: newId('key', now.getTime()),
    tenant_id: scope.tenantId,
    name: input.name,
    role: input.role,
    prefix: key.slice(0, 10),
    created_at: now.toISOString(),
    created_by: creator,
    hash: hashApiKey(key),
  };
  await store.putApiKey(scope, stored);
  const { hash: _hash, ...record } = stored;
  return { record, key };
}

/**
 * Authenticates an API key: known hash (compared in constant time), not revoked, tenant active.
 * Every failure reads the same to the caller. Records when the key was last used.
 */
export async function authenticateApiKey(
  store: TenantStore,
  key: string,
  now: Date = new Date(),
): Promise<AuthContext> {
  if (!API_KEY_FORMAT.test(key)) throw new ApiKeyError('format');
  const hash = hashApiKey(key);
  const stored = await store.findApiKeyByHash(hash);
  if (!stored || !timingSafeEqual(Buffer.from(stored.hash, 'hex'), Buffer.from(hash, 'hex'))) {
    throw new ApiKeyError('unknown');
  }
  if (stored.revoked_at) throw new ApiKeyError('revoked');
  const tenant = await store.getTenant(stored.tenant_id);
  if (tenant?.status !== 'active') throw new ApiKeyError('tenant');
  const auth: AuthContext = {
    tenantId: stored.tenant_id,
    role: stored.role,
    subject: `apikey:${stored.id}`,
    method: 'apiKey',
  };
  await store.touchApiKey(scopeOf(auth), stored.id, now.toISOString());
  return auth;
}
