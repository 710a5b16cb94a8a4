import { type AuthContext, isPlatformAdmin } from '../../../platform/auth/context';

declare const scopeBrand: unique symbol;

/**
 * The tenant a repository call may touch. It can only be made from a verified auth context
 * (the caller's own tenant) or, for platform administration, from a platform admin's context
 * naming the tenant it manages: never from a request body or query.
 */
export interface TenantScope {
  readonly tenantId: string;
  readonly [scopeBrand]: true;
}

export function scopeOf(auth: AuthContext): TenantScope {
  return { tenantId: auth.tenantId } as TenantScope;
}

export function platformScope(auth: AuthContext, tenantId: string): TenantScope {
  if (!isPlatformAdmin(auth)) throw new Error('platformScope needs a platform admin');
  return { tenantId } as TenantScope;
}
