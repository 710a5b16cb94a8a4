import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BoundedCache } from '../../platform/cache';
import { lazy } from '../../platform/lazy';
import { CONSENT_POLICIES, type ConsentPolicy, DEFAULT_CONSENT_POLICY } from '../leads/rules/consent-policy';
import { perTenant, TenantSettingsStore } from './dynamo-settings';
import type { TenantScope } from './rules/scope';

/** The tenant's consent policy as the API shows it. */
export interface ConsentPolicySettings {
  policy: ConsentPolicy;
  /** When it was last set; absent while the tenant has the default. */
  updated_at?: string;
}

const isPolicy = (value: unknown): value is ConsentPolicy =>
  typeof value === 'string' && (CONSENT_POLICIES as readonly string[]).includes(value);

/** The tenant's consent policy in the tenants table (sk SETTINGS#consent). */
export class ConsentPolicyStore extends TenantSettingsStore<{ policy: ConsentPolicy }> {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('consent', { policy: DEFAULT_CONSENT_POLICY }, client, table);
  }

  /** The policy; `explicit` (with no time) when the tenant never set one or what is stored is unreadable. */
  protected read(item: Record<string, unknown>) {
    return isPolicy(item.policy) ? { policy: item.policy } : undefined;
  }

  save(scope: TenantScope, policy: ConsentPolicy, now: Date): Promise<Required<ConsentPolicySettings>> {
    return this.write(scope, { policy }, now);
  }
}

/** How long a warm container keeps a tenant's policy: a change applies to captures within this. */
export const CONSENT_POLICY_CACHE_MS = 30_000;

/**
 * The policy of a tenant as lead capture reads it: from the store, remembered per warm container
 * for {@link CONSENT_POLICY_CACHE_MS} and a bounded number of tenants.
 */
export function cachedConsentPolicy(
  store: Pick<ConsentPolicyStore, 'get'> = new ConsentPolicyStore(),
  cache = new BoundedCache<string, ConsentPolicy>(1_000, CONSENT_POLICY_CACHE_MS),
): (tenantId: string) => Promise<ConsentPolicy> {
  return perTenant(async (tenantId) => (await store.get(tenantId)).policy, cache);
}

/** The tenants' consent policies, read through one cache per warm container. */
export const consentPolicyOfTenant = lazy(() => cachedConsentPolicy());
