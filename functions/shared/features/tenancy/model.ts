import type { Role } from '../../../../contract/routes';
import type { Page } from '../../platform/dynamo/pagination';
import type { TenantScope } from './rules/scope';

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  created_at: string;
  /** When a platform admin last set the status. */
  status_changed_at?: string;
  billing?: TenantBilling;
}

/** Who changed a tenant's status, when, from where. */
export interface TenantStatusChange {
  at: string;
  actor: string;
  ip: string;
  request_id: string;
}

/** One entry of a tenant's status history (its audit trail of suspensions and reactivations). */
export interface TenantStatusEntry extends TenantStatusChange {
  from: Tenant['status'];
  to: Tenant['status'];
}

/**
 * The tenant's subscription as Stripe last confirmed it: on each subscription event the worker
 * retrieves the subscription from Stripe and keeps its current state.
 */
export interface TenantBilling {
  subscription_id: string;
  status: string;
  /** The Stripe customer, for the billing portal. */
  customer_id?: string;
  current_period_end?: number;
  cancel_at_period_end?: boolean;
  /** `created` of the Stripe event that prompted the last retrieval. */
  event_created: number;
  event_id: string;
  /** Epoch ms of the retrieval from Stripe: an older retrieval never overwrites a newer one. */
  synced_at: number;
  updated_at: string;
}

/**
 * Who made an API key: a user (`subject` is the token's `sub`) or a platform admin, with the role
 * they held. Keys are made by people only: a token exchanged for an API key cannot make keys.
 */
export interface ApiKeyCreator {
  subject: string;
  role: Role;
  /** `tenant` when made by one of the tenant's users, `platform` when by a platform admin. */
  via: 'tenant' | 'platform';
}

/** An API key as stored: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  /** The first characters of the key, so a person can tell keys apart. */
  prefix: string;
  created_at: string;
  created_by?: ApiKeyCreator;
  last_used_at?: string;
  revoked_at?: string;
}

export interface StoredApiKey extends ApiKeyRecord {
  hash: string;
}

/** Tenants and their API keys. Tenant-scoped calls take a TenantScope, never a bare id. */
export interface TenantStore {
  createTenant(name: string): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(limit: number, cursor?: string): Promise<Page<Tenant>>;
  /**
   * Sets a tenant's status and records the change in its history; the tenant as it now is, or
   * undefined when there is no such tenant.
   */
  setTenantStatus(
    id: string,
    status: Tenant['status'],
    change: TenantStatusChange,
  ): Promise<Tenant | undefined>;
  putApiKey(scope: TenantScope, record: StoredApiKey): Promise<void>;
  listApiKeys(scope: TenantScope): Promise<ApiKeyRecord[]>;
  /** One key of this tenant, read consistently (revocations count at once). */
  getApiKey(scope: TenantScope, keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Marks a key of this tenant revoked; false when the tenant has no such key. */
  revokeApiKey(scope: TenantScope, keyId: string, at: string): Promise<boolean>;
  /** Authentication lookup: the key with this hash, read consistently from the base table. */
  findApiKeyByHash(hash: string): Promise<StoredApiKey | undefined>;
  touchApiKey(scope: TenantScope, keyId: string, at: string): Promise<void>;
}
