import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TenantScope } from '../../features/tenancy/rules/scope';
import { DynamoRepository } from '../../platform/dynamo/repository';
import type { StoredMetaIntegration } from './integration';

const SK = 'INTEGRATION#meta';
const pk = (tenantId: string) => `TENANT#${tenantId}`;

/** The tenant's Meta connection in the tenants table (pk TENANT#<id>, sk INTEGRATION#meta). */
export class MetaIntegrationStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient) {
    super('tenants', client);
  }

  /** Saves the settings; saving again after a disconnect connects the pixel again. */
  async save(scope: TenantScope, integration: StoredMetaIntegration): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { pk: pk(scope.tenantId), sk: SK, ...integration } }),
    );
  }

  async get(tenantId: string): Promise<StoredMetaIntegration | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: pk(tenantId), sk: SK }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...stored } = out.Item;
    return stored as StoredMetaIntegration;
  }

  /**
   * Marks the integration disconnected with the reason, unless it already is or the token it was
   * called with has since been replaced. True when this call made the change: the caller raises the
   * alarm once, however many batches saw the refusal.
   */
  async disconnect(tenantId: string, sealedAccessToken: string, reason: string, now: Date): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: pk(tenantId), sk: SK },
        UpdateExpression: 'SET #status = :disconnected, status_reason = :reason, updated_at = :now',
        ConditionExpression: '#status = :connected AND sealed_access_token = :token',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':disconnected': 'disconnected',
          ':connected': 'connected',
          ':token': sealedAccessToken,
          ':reason': reason,
          ':now': now.toISOString(),
        },
      }),
    );
  }
}
