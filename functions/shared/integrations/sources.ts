import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DomainConflictError } from '../domain-errors';
import { DynamoRepository } from '../dynamo-repository';
import type { TenantScope } from '../tenancy/scope';

/** A webhook sender the service accepts deliveries from, per tenant. */
export type SourceKind = 'shopify' | 'woocommerce' | 'ghl';

/**
 * What the ingest function needs to accept a delivery: the tenant it belongs to and, for HMAC
 * senders, the webhook secret sealed with KMS (bound to the tenant and the source).
 */
export interface WebhookSource {
  kind: SourceKind;
  key: string;
  tenant_id: string;
  sealed_secret?: string;
}

/** A shop domain as Shopify sends it in X-Shopify-Shop-Domain. */
export function normaliseShopDomain(domain: string): string {
  return domain
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
}

/** A WooCommerce store URL as X-WC-Webhook-Source sends it, compared without scheme case or trailing slash. */
export function normaliseStoreUrl(url: string): string {
  return url.trim().toLowerCase().replace(/\/+$/, '');
}

/** GoHighLevel URL tokens are stored hashed; the key is the hash. */
export function ghlTokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const sourcePk = (kind: SourceKind, key: string) => `SOURCE#${kind}#${key}`;
const SOURCE_SK = 'SOURCE';
const integrationSk = (kind: SourceKind) => `INTEGRATION#${kind}`;

/**
 * Webhook sources in the tenants table. Each source key (shop domain, store URL, token hash) is
 * an item of its own, claimed by one tenant only, and found by a consistent GetItem: no index,
 * no scan.
 */
export class DynamoSourceStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient) {
    super('tenants', client);
  }

  async find(kind: SourceKind, key: string): Promise<WebhookSource | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: sourcePk(kind, key), sk: SOURCE_SK },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    return {
      kind,
      key,
      tenant_id: out.Item.tenant_id as string,
      ...(out.Item.sealed_secret ? { sealed_secret: out.Item.sealed_secret as string } : {}),
    };
  }

  /** The tenant's settings for a source kind, as last saved (no secret). */
  async settings(scope: TenantScope, kind: SourceKind): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `TENANT#${scope.tenantId}`, sk: integrationSk(kind) },
      }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...settings } = out.Item;
    return settings;
  }

  /**
   * Saves the tenant's settings and claims the source key for it, releasing the key it had
   * before. A key another tenant holds is refused with 409.
   */
  async save(
    scope: TenantScope,
    kind: SourceKind,
    key: string,
    settings: Record<string, unknown>,
    sealedSecret?: string,
  ): Promise<void> {
    const previous = await this.settings(scope, kind);
    const previousKey = previous?.source_key as string | undefined;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: sourcePk(kind, key),
                  sk: SOURCE_SK,
                  tenant_id: scope.tenantId,
                  ...(sealedSecret ? { sealed_secret: sealedSecret } : {}),
                },
                ConditionExpression: 'attribute_not_exists(pk) OR tenant_id = :tenant',
                ExpressionAttributeValues: { ':tenant': scope.tenantId },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: `TENANT#${scope.tenantId}`,
                  sk: integrationSk(kind),
                  ...settings,
                  source_key: key,
                },
              },
            },
            ...(previousKey && previousKey !== key
              ? [
                  {
                    Delete: {
                      TableName: this.table,
                      Key: { pk: sourcePk(kind, previousKey), sk: SOURCE_SK },
                      ConditionExpression: 'tenant_id = :tenant',
                      ExpressionAttributeValues: { ':tenant': scope.tenantId },
                    },
                  },
                ]
              : []),
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        throw new DomainConflictError('This webhook source is connected to another account');
      }
      throw error;
    }
  }
}
