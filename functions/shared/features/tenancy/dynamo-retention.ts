import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BoundedCache } from '../../platform/cache';
import { lazy } from '../../platform/lazy';
import { DEFAULT_RETENTION, isRetentionDays, type Retention } from '../retention/rules';
import { perTenant, TenantSettingsStore } from './dynamo-settings';
import type { TenantScope } from './rules/scope';

/** The tenant's retention as the API shows it. */
export interface RetentionSettings extends Retention {
  /** When it was last set; absent while the tenant has the defaults. */
  updated_at?: string;
}

/** The tenant's retention in the tenants table (sk SETTINGS#retention). */
export class RetentionStore extends TenantSettingsStore<Retention> {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('retention', DEFAULT_RETENTION, client, table);
  }

  /** Each value the default when never set (or unreadable). */
  protected read(item: Record<string, unknown>): Retention {
    return {
      leads_days: isRetentionDays(item.leads_days) ? item.leads_days : DEFAULT_RETENTION.leads_days,
      conversions_days: isRetentionDays(item.conversions_days)
        ? item.conversions_days
        : DEFAULT_RETENTION.conversions_days,
    };
  }

  save(scope: TenantScope, retention: Retention, now: Date): Promise<Required<RetentionSettings>> {
    return this.write(
      scope,
      { leads_days: retention.leads_days, conversions_days: retention.conversions_days },
      now,
    );
  }
}

/** How long a warm container keeps a tenant's retention: a change applies to writes within this. */
export const RETENTION_CACHE_MS = 30_000;

export type RetentionOf = (tenantId: string) => Promise<Retention>;

/**
 * A tenant's retention as the stores read it when they write: from the tenants table,
 * remembered per warm container for {@link RETENTION_CACHE_MS} and a bounded number of tenants.
 */
export function cachedRetention(
  store: Pick<RetentionStore, 'get'> = new RetentionStore(),
  cache = new BoundedCache<string, Retention>(1_000, RETENTION_CACHE_MS),
): RetentionOf {
  return perTenant(async (tenantId) => {
    const { leads_days, conversions_days } = await store.get(tenantId);
    return { leads_days, conversions_days };
  }, cache);
}

/** The retention of the tenants, read through one cache per warm container. */
export const retentionOfTenant = lazy(() => cachedRetention());
