import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRepository } from '../../platform/dynamo/repository';
import type { EmailHasher } from '../leads/rules/email-hash';
import type { TenantScope } from '../tenancy/rules/scope';
import { erasureCovers, type Identities, identityHashes, latestErasure } from './rules/erasure';

/** The tombstone of one identity: its keyed hash and when the tenant erased it (the latest time). */
export interface Tombstone {
  hash: string;
  erased_at: string;
}

export const TOMBSTONE_SK = 'TOMBSTONE';
export const tombstonePk = (tenantId: string, hash: string) => `TENANT#${tenantId}#TOMBSTONE#${hash}`;

/**
 * Erasure tombstones in the tenant's GDPR store (the audit table), one item per identity hash:
 * `pk=TENANT#<id>#TOMBSTONE#<hmac>, sk=TOMBSTONE`. Written with a conditional put that keeps the
 * latest erasure, never deleted; they hold no personal data.
 */
export class DynamoTombstones extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('audit', client, table);
  }

  /** Records (or moves forward) the tombstone of each hash; answers how many it wrote. */
  async record(scope: TenantScope, hashes: readonly string[], erasedAt: string): Promise<number> {
    let written = 0;
    for (const hash of new Set(hashes)) {
      // Refused where a later erasure of the same identity already stands.
      const recorded = await this.conditionally(
        new PutCommand({
          TableName: this.table,
          Item: { pk: tombstonePk(scope.tenantId, hash), sk: TOMBSTONE_SK, hash, erased_at: erasedAt },
          ConditionExpression: 'attribute_not_exists(pk) OR erased_at < :at',
          ExpressionAttributeValues: { ':at': erasedAt },
        }),
      );
      if (recorded) written += 1;
    }
    return written;
  }

  /** The latest erasure of any of the hashes, or undefined when none was erased. */
  async erasedAt(scope: TenantScope, hashes: readonly string[]): Promise<string | undefined> {
    const found = await Promise.all(
      [...new Set(hashes)].map(async (hash) => {
        const out = await this.client.send(
          new GetCommand({
            TableName: this.table,
            Key: { pk: tombstonePk(scope.tenantId, hash), sk: TOMBSTONE_SK },
            ConsistentRead: true,
          }),
        );
        return typeof out.Item?.erased_at === 'string' ? out.Item.erased_at : undefined;
      }),
    );
    return latestErasure(found);
  }
}

/** What checks data against the tenant's erasures. */
export interface ErasureGuard {
  tombstones: Pick<DynamoTombstones, 'erasedAt'>;
  hash: EmailHasher;
}

/**
 * The erasure that covers data naming these identities, created at `createdAt`: its time, or
 * undefined when the data may be kept (nobody it names was erased, or it is newer than the erasure).
 */
export async function coveringErasure(
  guard: ErasureGuard,
  scope: TenantScope,
  identities: Identities,
  createdAt: string,
): Promise<string | undefined> {
  const erasedAt = await guard.tombstones.erasedAt(
    scope,
    identityHashes(guard.hash, scope.tenantId, identities),
  );
  return erasureCovers(erasedAt, createdAt) ? erasedAt : undefined;
}
