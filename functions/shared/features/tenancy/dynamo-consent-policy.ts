import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BoundedCache } from '../../platform/cache';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { CONSENT_POLICIES, type ConsentPolicy, DEFAULT_CONSENT_POLICY } from '../leads/rules/consent-policy';
import type { TenantScope } from './scope';

/** The tenant's consent policy as the API shows it. */
export interface ConsentPolicySettings {
  policy: ConsentPolicy;
  /** When it was last set; absent while the tenant has the default. */
  updated_at?: string;
}

const SK = 'SETTINGS#consent';
const pk = (tenantId: string) => `TENANT#${tenantId}`;
const isPolicy = (value: unknown): value is ConsentPolicy =>
  typeof value === 'string' && (CONSENT_POLICIES as readonly string[]).includes(value);

/** The tenant's consent policy in the tenants table (pk TENANT#<id>, sk SETTINGS#consent). */
export class ConsentPolicyStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('tenants', client, table);
  }

  /** The policy, `explicit` when the tenant never set one (or what is stored is unreadable). */
  async get(tenantId: string): Promise<ConsentPolicySettings> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(tenantId), sk: SK }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item || !isPolicy(item.policy)) return { policy: DEFAULT_CONSENT_POLICY };
    return {
      policy: item.policy,
      ...(typeof item.updated_at === 'string' ? { updated_at: item.updated_at } : {}),
    };
  }

  async save(scope: TenantScope, policy: ConsentPolicy, now: Date): Promise<Required<ConsentPolicySettings>> {
    const settings = { policy, updated_at: now.toISOString() };
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { pk: pk(scope.tenantId), sk: SK, ...settings } }),
    );
    return settings;
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
  return async (tenantId) => {
    const hit = cache.get(tenantId);
    if (hit) return hit;
    const { policy } = await store.get(tenantId);
    cache.set(tenantId, policy);
    return policy;
  };
}

let policies: ((tenantId: string) => Promise<ConsentPolicy>) | undefined;

/** The tenants' consent policies, read through one cache per warm container. */
export function consentPolicyOfTenant(): (tenantId: string) => Promise<ConsentPolicy> {
  policies ??= cachedConsentPolicy();
  return policies;
}
