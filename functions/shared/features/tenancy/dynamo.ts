import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, type Page } from '../../platform/dynamo/pagination';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { newId } from '../../platform/ids';
import type {
  ApiKeyRecord,
  StoredApiKey,
  Tenant,
  TenantBilling,
  TenantStatusChange,
  TenantStatusEntry,
  TenantStore,
} from './model';
import type { TenantScope } from './rules/scope';

const tenantPk = (id: string) => `TENANT#${id}`;
const META = 'META';
const TENANT_LIST = 'TENANTS';
const apiKeySk = (id: string) => `APIKEY#${id}`;
const statusSk = (at: string, id: string) => `STATUS#${at}#${id}`;
const apiKeyHashPk = (hash: string) => `APIKEY#${hash}`;

type Item = Record<string, unknown>;

function toTenant(item: Item): Tenant {
  return {
    id: item.id as string,
    name: item.name as string,
    status: item.status as Tenant['status'],
    created_at: item.created_at as string,
    ...(item.status_changed_at ? { status_changed_at: item.status_changed_at as string } : {}),
    ...(item.billing ? { billing: item.billing as Tenant['billing'] } : {}),
  };
}

function toApiKey(item: Item): StoredApiKey {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as StoredApiKey;
}

function publicApiKey(key: StoredApiKey): ApiKeyRecord {
  const { hash: _hash, ...rest } = key;
  return rest;
}

export class DynamoTenantStore extends DynamoRepository implements TenantStore {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('tenants', client, table);
  }

  async createTenant(name: string): Promise<Tenant> {
    const tenant: Tenant = { id: newId('ten'), name, status: 'active', created_at: new Date().toISOString() };
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: tenantPk(tenant.id),
          sk: META,
          gsi1pk: TENANT_LIST,
          gsi1sk: `${tenant.created_at}#${tenant.id}`,
          ...tenant,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return tenant;
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: tenantPk(id), sk: META } }),
    );
    return out.Item ? toTenant(out.Item) : undefined;
  }

  async listTenants(limit: number, cursor?: string): Promise<Page<Tenant>> {
    const binding = { list: 'tenants' };
    const start = await decodeCursor(
      cursor,
      binding,
      (k) => k.gsi1pk === TENANT_LIST && typeof k.pk === 'string',
    );
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': TENANT_LIST },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
    return {
      items: (out.Items ?? []).map(toTenant),
      next_cursor: await encodeCursor(out.LastEvaluatedKey as Record<string, string> | undefined, binding),
    };
  }

  /**
   * Sets the tenant's status and appends the change to its status history, in one transaction:
   * no change without its audit entry.
   */
  async setTenantStatus(
    id: string,
    status: Tenant['status'],
    change: TenantStatusChange,
  ): Promise<Tenant | undefined> {
    const before = await this.getTenant(id);
    if (!before) return undefined;
    const entry: TenantStatusEntry = { ...change, from: before.status, to: status };
    const changed = await this.conditionally(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: { pk: tenantPk(id), sk: META },
              UpdateExpression: 'SET #status = :status, status_changed_at = :at',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':status': status, ':at': change.at },
            },
          },
          {
            Put: {
              TableName: this.table,
              Item: { pk: tenantPk(id), sk: statusSk(change.at, newId('tsc')), ...entry },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    return changed ? { ...before, status, status_changed_at: change.at } : undefined;
  }

  /** The tenant's status changes, oldest first. */
  async statusHistory(id: string): Promise<TenantStatusEntry[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': tenantPk(id), ':sk': 'STATUS#' },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, ...entry } = item;
      return entry as TenantStatusEntry;
    });
  }

  async getApiKey(scope: TenantScope, keyId: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope.tenantId), sk: apiKeySk(keyId) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? publicApiKey(toApiKey(out.Item)) : undefined;
  }

  async putApiKey(scope: TenantScope, record: StoredApiKey): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: tenantPk(scope.tenantId),
          sk: apiKeySk(record.id),
          gsi1pk: apiKeyHashPk(record.hash),
          gsi1sk: 'APIKEY',
          ...record,
          tenant_id: scope.tenantId,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listApiKeys(scope: TenantScope): Promise<ApiKeyRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': tenantPk(scope.tenantId), ':sk': 'APIKEY#' },
      }),
    );
    return (out.Items ?? []).map((item) => publicApiKey(toApiKey(item)));
  }

  async revokeApiKey(scope: TenantScope, keyId: string, at: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope.tenantId), sk: apiKeySk(keyId) },
        UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async findApiKeyByHash(hash: string): Promise<StoredApiKey | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': apiKeyHashPk(hash) },
        Limit: 1,
      }),
    );
    const indexed = out.Items?.[0];
    if (!indexed) return undefined;
    // The index is eventually consistent: a revocation must count at once.
    const fresh = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: indexed.pk, sk: indexed.sk },
        ConsistentRead: true,
      }),
    );
    return fresh.Item ? toApiKey(fresh.Item) : undefined;
  }

  /**
   * Records a tenant's billing status as retrieved from Stripe, unless a later retrieval was
   * recorded already (deliveries run concurrently and Stripe does not promise order).
   */
  async updateBilling(
    tenantId: string,
    billing: TenantBilling,
  ): Promise<'updated' | 'stale' | 'unknown_tenant'> {
    const updated = await this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(tenantId), sk: META },
        UpdateExpression: 'SET billing = :billing',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(billing.synced_at) OR billing.synced_at <= :synced)',
        ExpressionAttributeValues: { ':billing': billing, ':synced': billing.synced_at },
      }),
    );
    if (updated) return 'updated';
    return (await this.getTenant(tenantId)) ? 'stale' : 'unknown_tenant';
  }

  async touchApiKey(scope: TenantScope, keyId: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope.tenantId), sk: apiKeySk(keyId) },
        UpdateExpression: 'SET last_used_at = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}
