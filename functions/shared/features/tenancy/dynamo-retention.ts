import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BoundedCache } from '../../platform/cache';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { DEFAULT_RETENTION, isRetentionDays, type Retention } from '../retention/rules';
import type { TenantScope } from './scope';

/** The tenant's retention as the API shows it. */
export interface RetentionSettings extends Retention {
  /** When it was last set; absent while the tenant has the defaults. */
  updated_at?: string;
}

const SK = 'SETTINGS#retention';
const pk = (tenantId: string) => `TENANT#${tenantId}`;

/** The tenant's retention in the tenants table (pk TENANT#<id>, sk SETTINGS#retention). */
export class RetentionStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('tenants', client, table);
  }

  /** The stored retention; each value the default when never set (or unreadable). */
  async get(tenantId: string): Promise<RetentionSettings> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(tenantId), sk: SK }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (!item) return { ...DEFAULT_RETENTION };
    return {
      leads_days: isRetentionDays(item.leads_days) ? item.leads_days : DEFAULT_RETENTION.leads_days,
      conversions_days: isRetentionDays(item.conversions_days)
        ? item.conversions_days
        : DEFAULT_RETENTION.conversions_days,
      ...(typeof item.updated_at === 'string' ? { updated_at: item.updated_at } : {}),
    };
  }

  async save(scope: TenantScope, retention: Retention, now: Date): Promise<Required<RetentionSettings>> {
    const settings = {
      leads_days: retention.leads_days,
      conversions_days: retention.conversions_days,
      updated_at: now.toISOString(),
    };
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { pk: pk(scope.tenantId), sk: SK, ...settings } }),
    );
    return settings;
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
  return async (tenantId) => {
    const hit = cache.get(tenantId);
    if (hit) return hit;
    const { leads_days, conversions_days } = await store.get(tenantId);
    const retention = { leads_days, conversions_days };
    cache.set(tenantId, retention);
    return retention;
  };
}

let shared: RetentionOf | undefined;

/** The retention of the tenants, read through one cache per warm container. */
export function retentionOfTenant(): RetentionOf {
  shared ??= cachedRetention();
  return shared;
}
