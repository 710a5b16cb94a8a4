import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BoundedCache } from '../../platform/cache';
import { DynamoRepository } from '../../platform/dynamo/repository';
import type { TenantScope } from './rules/scope';

/** Settings as the API shows them: the values, and when they were last set (absent on defaults). */
export type Dated<T> = T & { updated_at?: string };

/**
 * One kind of a tenant's settings in the tenants table (pk `TENANT#<id>`, sk `SETTINGS#<kind>`):
 * a subclass says how a stored item reads and what holds when nothing usable is stored.
 */
export abstract class TenantSettingsStore<T extends object> extends DynamoRepository {
  protected constructor(
    private readonly kind: string,
    private readonly defaults: T,
    client?: DynamoDBDocumentClient,
    table?: string,
  ) {
    super('tenants', client, table);
  }

  /** The settings a stored item holds; undefined when it holds nothing usable (then the defaults). */
  protected abstract read(item: Record<string, unknown>): T | undefined;

  private key(tenantId: string) {
    return { pk: `TENANT#${tenantId}`, sk: `SETTINGS#${this.kind}` };
  }

  /** The stored settings, the defaults when never set (or unreadable). */
  async get(tenantId: string): Promise<Dated<T>> {
    const { Item: item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: this.key(tenantId), ConsistentRead: true }),
    );
    const settings = item ? this.read(item) : undefined;
    if (!item || !settings) return { ...this.defaults };
    return { ...settings, ...(typeof item.updated_at === 'string' ? { updated_at: item.updated_at } : {}) };
  }

  protected async write(scope: TenantScope, settings: T, now: Date): Promise<Required<Dated<T>>> {
    const dated = { ...settings, updated_at: now.toISOString() } as Required<Dated<T>>;
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { ...this.key(scope.tenantId), ...dated } }),
    );
    return dated;
  }
}

/**
 * A tenant's setting as the code that writes or captures reads it: loaded once, then remembered
 * per warm container for the cache's age and a bounded number of tenants (a change applies within
 * that age).
 */
export function perTenant<T>(
  load: (tenantId: string) => Promise<T>,
  cache: BoundedCache<string, T>,
): (tenantId: string) => Promise<T> {
  return async (tenantId) => {
    const hit = cache.get(tenantId);
    if (hit !== undefined) return hit;
    const value = await load(tenantId);
    cache.set(tenantId, value);
    return value;
  };
}
