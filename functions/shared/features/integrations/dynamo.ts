import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoRepository } from '../../platform/dynamo/repository';
import { DomainConflictError } from '../../platform/errors/domain';
import type { TenantScope } from '../tenancy/rules/scope';

/** The webhook senders the service accepts deliveries from, per tenant (each connects a source). */
export const SOURCE_KINDS = ['shopify', 'woocommerce', 'ghl'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

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
const connectionSk = (tenantId: string) => `TENANT#${tenantId}`;
/** The one-tenant item of a source as first stored (read, and removed when its tenant saves again). */
const LEGACY_SK = 'SOURCE';
const integrationSk = (kind: SourceKind) => `INTEGRATION#${kind}`;

/**
 * Tenants that may connect one shop domain or store URL, each with its own secret. A delivery is
 * checked against every connected secret, so this bounds the constant-time comparisons a delivery
 * costs; an agency and the merchant, or two agencies, fit with room to spare.
 */
export const MAX_CONNECTIONS_PER_SOURCE = 5;

/**
 * Webhook sources in the tenants table. Each connection of a source key (shop domain, store URL,
 * token hash) to a tenant is an item of its own under the source's partition, found with one
 * consistent Query of that partition: no index, no scan. Several tenants may connect the same
 * source; none of them can tell whether another did.
 */
export class DynamoSourceStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient) {
    super('tenants', client);
  }

  /** Every tenant connected to the source, at most MAX_CONNECTIONS_PER_SOURCE, one item per tenant. */
  async connections(kind: SourceKind, key: string): Promise<WebhookSource[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': sourcePk(kind, key) },
        ConsistentRead: true,
        // A legacy item sorts first (`SOURCE` < `TENANT#...`): one more than the bound keeps
        // every tenant's connection in reach.
        Limit: MAX_CONNECTIONS_PER_SOURCE + 1,
      }),
    );
    const byTenant = new Map<string, WebhookSource>();
    for (const item of out.Items ?? []) {
      const tenantId = item.tenant_id;
      if (typeof tenantId !== 'string') continue;
      // A tenant's own connection wins over the legacy item naming the same tenant.
      if (byTenant.has(tenantId) && item.sk === LEGACY_SK) continue;
      byTenant.set(tenantId, {
        kind,
        key,
        tenant_id: tenantId,
        ...(typeof item.sealed_secret === 'string' ? { sealed_secret: item.sealed_secret } : {}),
      });
    }
    return [...byTenant.values()].slice(0, MAX_CONNECTIONS_PER_SOURCE);
  }

  /** The tenant of a source that only one tenant can hold (a GoHighLevel URL token's hash). */
  async find(kind: SourceKind, key: string): Promise<WebhookSource | undefined> {
    return (await this.connections(kind, key))[0];
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

  /** How many tenants other than this one are connected to the source (never shown to anyone). */
  private async othersConnected(scope: TenantScope, kind: SourceKind, key: string): Promise<number> {
    const others = await this.connections(kind, key);
    return others.filter((source) => source.tenant_id !== scope.tenantId).length;
  }

  /**
   * Saves the tenant's settings and its connection to the source key, releasing the key it had
   * before. Whether another tenant connected the same key changes nothing; only a source already
   * holding MAX_CONNECTIONS_PER_SOURCE other tenants is refused (409), so that every connected
   * tenant's deliveries stay within reach of the bounded lookup.
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
    if (previousKey !== key && (await this.othersConnected(scope, kind, key)) >= MAX_CONNECTIONS_PER_SOURCE) {
      throw new DomainConflictError('This webhook source has as many connections as it can take');
    }
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: {
                pk: sourcePk(kind, key),
                sk: connectionSk(scope.tenantId),
                tenant_id: scope.tenantId,
                ...(sealedSecret ? { sealed_secret: sealedSecret } : {}),
              },
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
                    Key: { pk: sourcePk(kind, previousKey), sk: connectionSk(scope.tenantId) },
                  },
                },
              ]
            : []),
        ],
      }),
    );
    for (const stale of new Set([key, ...(previousKey ? [previousKey] : [])])) {
      await this.releaseLegacy(scope, kind, stale);
    }
  }

  /** Removes the source's one-tenant item of the first storage format, if it names this tenant. */
  private async releaseLegacy(scope: TenantScope, kind: SourceKind, key: string): Promise<void> {
    await this.conditionally(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: sourcePk(kind, key), sk: LEGACY_SK },
        ConditionExpression: 'tenant_id = :tenant',
        ExpressionAttributeValues: { ':tenant': scope.tenantId },
      }),
    );
  }
}
