import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoRepository, recordOf } from '../dynamo-repository';
import { idTimePrefix } from '../ids';
import { decodeCursor, type Page } from '../pagination';
import { inPool } from '../pool';
import { EXPIRY_ATTRIBUTE, epochSeconds, expiryOf, isExpired } from '../retention/policy';
import { type RetentionOf, retentionOfTenant } from '../tenancy/retention-store';
import type { TenantScope } from '../tenancy/scope';
import type { StoredLead } from './model';
import type { LeadStatus } from './schema';

const tenantPk = (scope: TenantScope) => `TENANT#${scope.tenantId}`;
const leadSk = (id: string) => `LEAD#${id}`;
const dedupSk = (key: string) => `DEDUP#${key}`;
const emailPk = (scope: TenantScope, hash: string) => `TENANT#${scope.tenantId}#EMAIL#${hash}`;
const statusPk = (scope: TenantScope, status: LeadStatus) => `TENANT#${scope.tenantId}#STATUS#${status}`;

type Item = Record<string, unknown>;

/** BatchGetItem reads at most 100 items a call. */
const DEDUP_KEYS_PER_BATCH_GET = 100;

function toItem(scope: TenantScope, lead: StoredLead, expiresAt: number): Item {
  return {
    pk: tenantPk(scope),
    sk: leadSk(lead.id),
    gsi1pk: emailPk(scope, lead.email_hash),
    gsi1sk: `${lead.created_at}#${lead.id}`,
    gsi2pk: statusPk(scope, lead.status),
    gsi2sk: `${lead.created_at}#${lead.id}`,
    ...lead,
    [EXPIRY_ATTRIBUTE]: expiresAt,
  };
}

function fromItem(item: Item): StoredLead {
  return recordOf<StoredLead>(item);
}

export interface ListLeadsOptions {
  limit: number;
  cursor?: string;
  status?: LeadStatus;
  createdFrom?: string;
  createdTo?: string;
}

/** A write lost a race: somebody else changed the lead (or claimed its dedup key) first. */
export class WriteConflict extends Error {
  override readonly name = 'WriteConflict';
}

/**
 * Leads in DynamoDB, reached only through a tenant scope. Dedup keys (external id; email hash
 * and click id) are items of their own, created in the same transaction as the lead, so two
 * concurrent captures of one person cannot both create a lead. Updates are conditional on the
 * version read.
 *
 * Every write sets the lead's expiry (its last change plus the tenant's `leads_days`) on the lead
 * and on the dedup keys it holds, which DynamoDB's TTL deletes them by; reads ignore what has
 * expired and is not deleted yet, and an expired dedup key may be claimed again.
 */
export class DynamoLeadStore extends DynamoRepository {
  constructor(
    client?: DynamoDBDocumentClient,
    table?: string,
    private readonly retention: RetentionOf = (tenantId) => retentionOfTenant()(tenantId),
    private readonly now: () => Date = () => new Date(),
  ) {
    super('leads', client, table);
  }

  /** A lead written now expires the tenant's days from now (not from a time the lead carries). */
  private async expiryOf(scope: TenantScope): Promise<number> {
    const { leads_days } = await this.retention(scope.tenantId);
    return expiryOf(this.now(), leads_days);
  }

  /** A dedup key's item: the lead it points to, expiring with it. */
  private claim(scope: TenantScope, key: string, lead: StoredLead, expiresAt: number) {
    return {
      TableName: this.table,
      Item: { pk: tenantPk(scope), sk: dedupSk(key), lead_id: lead.id, [EXPIRY_ATTRIBUTE]: expiresAt },
      ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
    };
  }

  /** The lead id the first of these dedup keys points to, if any (expired keys point nowhere). */
  async findByDedupKeys(scope: TenantScope, keys: readonly string[]): Promise<string | undefined> {
    if (!keys.length) return undefined;
    const out = await this.client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.table]: {
            Keys: keys.map((k) => ({ pk: tenantPk(scope), sk: dedupSk(k) })),
            ConsistentRead: true,
          },
        },
      }),
    );
    const now = this.now();
    const found = (out.Responses?.[this.table] ?? []).filter((item) => !isExpired(item, now));
    for (const key of keys) {
      const hit = found.find((item) => item.sk === dedupSk(key));
      if (hit) return hit.lead_id as string;
    }
    return undefined;
  }

  /**
   * For each list of dedup keys, the lead id its first key points to (`null`: none does), read
   * for a whole batch of leads at once: BatchGetItem, 100 keys a call, a few calls in parallel.
   * A list whose keys DynamoDB left unprocessed after a few retries is `undefined` (not known):
   * the caller looks it up on its own.
   */
  async findManyByDedupKeys(
    scope: TenantScope,
    keyLists: readonly (readonly string[])[],
  ): Promise<(string | null | undefined)[]> {
    const unique = [...new Set(keyLists.flat())];
    const found = new Map<string, string>();
    const unknown = new Set<string>();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += DEDUP_KEYS_PER_BATCH_GET)
      chunks.push(unique.slice(i, i + DEDUP_KEYS_PER_BATCH_GET));
    const now = this.now();
    await inPool(chunks, 4, async (chunk) => {
      let keys: Record<string, unknown>[] = chunk.map((k) => ({ pk: tenantPk(scope), sk: dedupSk(k) }));
      for (let round = 0; keys.length && round < 4; round++) {
        if (round) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        const out = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          if (!isExpired(item, now))
            found.set((item.sk as string).slice('DEDUP#'.length), item.lead_id as string);
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
      for (const key of keys) unknown.add((key.sk as string).slice('DEDUP#'.length));
    });
    return keyLists.map((keys) => {
      for (const key of keys) {
        if (unknown.has(key)) return undefined;
        const id = found.get(key);
        if (id) return id;
      }
      return null;
    });
  }

  /**
   * Creates the lead and claims its dedup keys, all or nothing. A key claimed by a lead that has
   * expired (or by `staleLeadId`, a lead found gone) is taken over.
   */
  async create(
    scope: TenantScope,
    lead: StoredLead,
    dedupKeys: readonly string[],
    staleLeadId?: string,
  ): Promise<void> {
    const expiresAt = await this.expiryOf(scope);
    const free = `attribute_not_exists(pk) OR #expires_at <= :now${staleLeadId ? ' OR lead_id = :stale' : ''}`;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: toItem(scope, lead, expiresAt),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...dedupKeys.map((key) => ({
              Put: {
                ...this.claim(scope, key, lead, expiresAt),
                ConditionExpression: free,
                ExpressionAttributeValues: {
                  ':now': epochSeconds(this.now()),
                  ...(staleLeadId ? { ':stale': staleLeadId } : {}),
                },
              },
            })),
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw new WriteConflict('a dedup key was claimed first');
      throw error;
    }
  }

  /** The lead, unless it has expired (`includeExpired`: as long as it is held at all). */
  async get(
    scope: TenantScope,
    id: string,
    options: { includeExpired?: boolean } = {},
  ): Promise<StoredLead | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': tenantPk(scope), ':sk': leadSk(id) },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (!item || (!options.includeExpired && isExpired(item, this.now()))) return undefined;
    return fromItem(item);
  }

  /**
   * Replaces the lead if nobody changed it since `expectedVersion`; claims new dedup keys with
   * it. Throws WriteConflict otherwise. The keys in `heldDedupKeys` that still point to the lead
   * expire with it from now on.
   */
  async update(
    scope: TenantScope,
    lead: StoredLead,
    expectedVersion: number,
    newDedupKeys: readonly string[] = [],
    heldDedupKeys: readonly string[] = [],
  ): Promise<void> {
    const expiresAt = await this.expiryOf(scope);
    const put = {
      TableName: this.table,
      Item: toItem(scope, lead, expiresAt),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': expectedVersion },
    };
    try {
      if (!newDedupKeys.length) {
        await this.client.send(new PutCommand(put));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: put },
              ...newDedupKeys.map((key) => ({
                Put: {
                  ...this.claim(scope, key, lead, expiresAt),
                  ConditionExpression: 'attribute_not_exists(pk) OR lead_id = :id OR #expires_at <= :now',
                  ExpressionAttributeValues: { ':id': lead.id, ':now': epochSeconds(this.now()) },
                },
              })),
            ],
          }),
        );
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ConditionalCheckFailedException' || error instanceof TransactionCanceledException) {
        throw new WriteConflict(`lead ${lead.id} changed since version ${expectedVersion}`);
      }
      throw error;
    }
    const held = heldDedupKeys.filter((key) => !newDedupKeys.includes(key));
    await Promise.all(held.map((key) => this.extendClaim(scope, key, lead.id, expiresAt)));
  }

  /** A dedup key still pointing to the lead expires when it does; one pointing elsewhere is left. */
  private async extendClaim(scope: TenantScope, key: string, leadId: string, expiresAt: number) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: tenantPk(scope), sk: dedupSk(key) },
          UpdateExpression: 'SET #expires_at = :expires',
          ConditionExpression: 'lead_id = :id',
          ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
          ExpressionAttributeValues: { ':id': leadId, ':expires': expiresAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Removes the lead and every dedup key that points to it. */
  async delete(scope: TenantScope, lead: StoredLead, dedupKeys: readonly string[]): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.table, Key: { pk: tenantPk(scope), sk: leadSk(lead.id) } } },
          ...dedupKeys.map((key) => ({
            Delete: {
              TableName: this.table,
              Key: { pk: tenantPk(scope), sk: dedupSk(key) },
              ConditionExpression: 'attribute_not_exists(pk) OR lead_id = :id',
              ExpressionAttributeValues: { ':id': lead.id },
            },
          })),
        ],
      }),
    );
  }

  /**
   * Every lead of the tenant with this email hash (through the email index); with
   * `includeExpired`, also those expired and not deleted yet (erasure removes them too).
   */
  async byEmailHash(
    scope: TenantScope,
    hash: string,
    options: { includeExpired?: boolean } = {},
  ): Promise<StoredLead[]> {
    const leads: StoredLead[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': emailPk(scope, hash) },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        // The index is eventually consistent: read each lead itself.
        const fresh = await this.get(scope, item.id as string, options);
        if (fresh && fresh.email_hash === hash) leads.push(fresh);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return leads;
  }

  /**
   * Newest first. With a status, through the status index; without, the tenant's partition.
   * Created-at bounds are inclusive ISO timestamps.
   */
  async list(scope: TenantScope, options: ListLeadsOptions): Promise<Page<StoredLead>> {
    const binding = {
      list: 'leads',
      tenantId: scope.tenantId,
      filter: { status: options.status, created_from: options.createdFrom, created_to: options.createdTo },
    };
    const from = options.createdFrom ?? '0000';
    const to = `${options.createdTo ?? '9999'}~`;
    let input: QueryCommandInput;
    if (options.status) {
      const pk = statusPk(scope, options.status);
      input = {
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to },
        ExclusiveStartKey: await decodeCursor(
          options.cursor,
          binding,
          (k) => k.gsi2pk === pk && k.pk === tenantPk(scope),
        ),
      };
    } else {
      // Lead ids start with their creation time, so the time range is a key range.
      const low = options.createdFrom
        ? leadSk(idTimePrefix('lead', Date.parse(options.createdFrom)))
        : 'LEAD#';
      const high = options.createdTo
        ? `${leadSk(idTimePrefix('lead', Date.parse(options.createdTo) + 1))}`
        : 'LEAD#~';
      input = {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        ExpressionAttributeValues: { ':pk': tenantPk(scope), ':low': low, ':high': high },
        ExclusiveStartKey: await decodeCursor(options.cursor, binding, (k) => k.pk === tenantPk(scope)),
      };
    }
    return this.livePage(input, { limit: options.limit, now: this.now(), binding }, fromItem);
  }
}
