import { platformScope, type TenantScope } from '../features/tenancy/rules/scope';
import { type AuthContext, platformOrgId } from './auth/context';

/**
 * The platform acting for itself: a function or operator tool that works for a tenant named by a
 * queued message or a verified webhook, not by a caller's token. It is the owner of the platform
 * organisation, named by `subject` (the function, e.g. `webhook-worker`, or `operator:cli`).
 */
export function systemActor(subject: string): AuthContext {
  return { tenantId: platformOrgId(), role: 'owner', subject, method: 'jwt' };
}

/** The scope in which `subject`, acting for the platform, reaches `tenantId`'s data. */
export function systemScope(subject: string, tenantId: string): TenantScope {
  return platformScope(systemActor(subject), tenantId);
}
