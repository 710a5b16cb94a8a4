import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, type Page } from '../../platform/dynamo/pagination';
import { DynamoRepository, recordOf } from '../../platform/dynamo/repository';
import { idTimePrefix } from '../../platform/ids';
import { EXPIRY_ATTRIBUTE, epochSeconds, expiryOf, isExpired } from '../retention/rules';
import { type RetentionOf, retentionOfTenant } from '../tenancy/dynamo-retention';
import type { TenantScope } from '../tenancy/rules/scope';
import type { StoredLead } from './model';
import { type Claim, type LeadRepository, type ListLeadsOptions, WriteConflict } from './ports';
import type { Consent, ConsentChange } from './rules/consent';
import type { LeadStatus } from './schema';

const tenantPk = (scope: TenantScope) => `TENANT#${scope.tenantId}`;
const leadSk = (id: string) => `LEAD#${id}`;
const dedupSk = (key: string) => `DEDUP#${key}`;
const statusPk = (scope: TenantScope, status: LeadStatus) => `TENANT#${scope.tenantId}#STATUS#${status}`;

type Item = Record<string, unknown>;

/**
 * How long a dedup key may point to a lead that is not written before another lead may take it:
 * far longer than the moment between claiming a lead's keys and writing it, so only the keys of a
 * capture that stopped in between (a function that timed out) are ever taken over.
 */
export const CLAIM_GRACE_SECONDS = 300;

/** The consent a history entry records, without when and how it was recorded. */
function consentOf(change: ConsentChange | undefined): Consent | undefined {
  if (!change) return undefined;
  const { recorded_at: _at, source: _source, ...consent } = change;
  return consent as Consent;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The stored item. A lead's consent is the last entry of its history as a rule: it is stored on its
 * own only when it is not (the item stays under 1 KB, one write unit, with the history it repeats).
 */
function toItem(scope: TenantScope, lead: StoredLead, expiresAt: number): Item {
  const { consent, ...rest } = lead;
  const repeated = sameJson(consentOf(lead.consent_history.at(-1)), consent);
  return {
    pk: tenantPk(scope),
    sk: leadSk(lead.id),
    gsi2pk: statusPk(scope, lead.status),
    gsi2sk: `${lead.created_at}#${lead.id}`,
    ...rest,
    ...(repeated ? {} : { consent }),
    [EXPIRY_ATTRIBUTE]: expiresAt,
  };
}

function fromItem(item: Item): StoredLead {
  const record = recordOf<Omit<StoredLead, 'consent'> & { consent?: Consent }>(item);
  const consent = record.consent ?? consentOf(record.consent_history.at(-1));
  return { ...record, consent: consent as Consent };
}

/**
 * Leads in DynamoDB, reached only through a tenant scope. Dedup keys (external id; email hash
 * and click id) are items of their own, each claimed with a conditional put for one lead id before
 * the lead is written with a conditional put of its own, so two concurrent captures of one person
 * cannot both create a lead: the second finds the keys taken, or the id written. A capture that
 * stops between the two leaves keys pointing to a lead id nobody wrote; the next capture of the
 * person writes the lead under that id. Updates are conditional on the version read. The email
 * keys (`EC#<email hash>#...`) also answer which leads an email hash has.
 *
 * Every write sets the lead's expiry (its last change plus the tenant's `leads_days`) on the lead
 * and on the dedup keys it holds, which DynamoDB's TTL deletes them by; reads ignore what has
 * expired and is not deleted yet, and an expired dedup key may be claimed again.
 */
export class DynamoLeadStore extends DynamoRepository implements LeadRepository {
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

  /** The lead id the first of these dedup keys points to, if any (expired keys point nowhere). */
  async findByDedupKeys(scope: TenantScope, keys: readonly string[]): Promise<string | undefined> {
    return (await this.claimsOf(scope, keys))[0]?.leadId;
  }

  /** What each of these dedup keys points to, in the keys' order (expired keys left out). */
  async claimsOf(scope: TenantScope, keys: readonly string[]): Promise<Claim[]> {
    if (!keys.length) return [];
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
    return keys.flatMap((key) => {
      const hit = found.find((item) => item.sk === dedupSk(key));
      return hit ? [{ key, leadId: hit.lead_id as string, claimedAt: Number(hit.claimed_at ?? 0) }] : [];
    });
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
    const { items, unread } = await this.batchGet(
      [...new Set(keyLists.flat())].map((k) => ({ pk: tenantPk(scope), sk: dedupSk(k) })),
      4,
    );
    const now = this.now();
    const keyOf = (item: Record<string, unknown>) => (item.sk as string).slice('DEDUP#'.length);
    const found = new Map(
      items.filter((item) => !isExpired(item, now)).map((item) => [keyOf(item), item.lead_id as string]),
    );
    const unknown = new Set(unread.map(keyOf));
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
   * Points each key to the lead with a conditional put: a key is free when nobody holds
   * it, it points to this lead already, it has expired, or it points to one of `unwritten` (lead
   * ids found not written) and was claimed more than the grace period ago. When a key is held,
   * the keys this call claimed are released and WriteConflict is thrown. Answers the keys it
   * claimed, and the ids of expired leads whose keys it took over (their items, if DynamoDB still
   * holds them, go).
   */
  private async claim(
    scope: TenantScope,
    leadId: string,
    keys: readonly string[],
    expiresAt: number,
    unwritten: readonly string[],
  ): Promise<{ taken: string[]; replaced: string[] }> {
    const now = epochSeconds(this.now());
    const taken: string[] = [];
    const replaced: string[] = [];
    const others = unwritten.filter((id) => id !== leadId);
    const names = others.map((_, i) => `:u${i}`);
    const condition = [
      'attribute_not_exists(pk)',
      'lead_id = :id',
      '#expires_at <= :now',
      ...(others.length ? [`(lead_id IN (${names.join(', ')}) AND claimed_at <= :grace)`] : []),
    ].join(' OR ');
    // All at once (one round trip); a key held elsewhere lets go of those this call took.
    const outcomes = await Promise.allSettled(
      keys.map(async (key) => {
        const out = await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: tenantPk(scope),
              sk: dedupSk(key),
              lead_id: leadId,
              claimed_at: now,
              [EXPIRY_ATTRIBUTE]: expiresAt,
            },
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
            ExpressionAttributeValues: {
              ':id': leadId,
              ':now': now,
              ...(others.length ? { ':grace': now - CLAIM_GRACE_SECONDS } : {}),
              ...Object.fromEntries(others.map((id, i) => [names[i], id])),
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const before = out.Attributes?.lead_id as string | undefined;
        if (before !== leadId) taken.push(key);
        if (before && before !== leadId && !others.includes(before)) replaced.push(before);
      }),
    );
    const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    if (failures.length) {
      await Promise.all(taken.map((k) => this.release(scope, k, leadId)));
      const other = failures.find((error) => !(error instanceof ConditionalCheckFailedException));
      if (other) throw other;
      throw new WriteConflict(`a dedup key of lead ${leadId} is held by another lead`);
    }
    return { taken, replaced };
  }

  /**
   * Points these keys to a lead that is held (a capture that changes nothing on it still makes
   * sure its keys find it); WriteConflict when one is held by another lead.
   */
  async claimFor(
    scope: TenantScope,
    leadId: string,
    keys: readonly string[],
    unwritten: readonly string[] = [],
  ): Promise<void> {
    if (!keys.length) return;
    const { replaced } = await this.claim(scope, leadId, keys, await this.expiryOf(scope), unwritten);
    await Promise.all(replaced.map((id) => this.dropExpired(scope, id)));
  }

  /** Removes a key this lead claimed (unless it points elsewhere by now). */
  private async release(scope: TenantScope, key: string, leadId: string): Promise<void> {
    await this.conditionally(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: dedupSk(key) },
        ConditionExpression: 'lead_id = :id',
        ExpressionAttributeValues: { ':id': leadId },
      }),
    );
  }

  /** Deletes an expired lead whose keys another lead took over (if DynamoDB has not yet). */
  private async dropExpired(scope: TenantScope, leadId: string): Promise<void> {
    await this.conditionally(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: leadSk(leadId) },
        ConditionExpression: '#expires_at <= :now',
        ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': epochSeconds(this.now()) },
      }),
    );
  }

  /**
   * Claims the lead's dedup keys, then writes it, unless a lead with its id is held (an expired
   * one is replaced). `unwritten`: lead ids its keys were found pointing to, without a lead; they
   * are taken over once their grace period is over. WriteConflict when a key is held by another
   * lead or the id was written meanwhile: the caller looks again.
   */
  async create(
    scope: TenantScope,
    lead: StoredLead,
    dedupKeys: readonly string[],
    unwritten: readonly string[] = [],
  ): Promise<void> {
    const expiresAt = await this.expiryOf(scope);
    // Keys are not released when the id was written meanwhile: that lead holds them now.
    const { replaced } = await this.claim(scope, lead.id, dedupKeys, expiresAt, unwritten);
    const written = await this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: toItem(scope, lead, expiresAt),
        ConditionExpression: 'attribute_not_exists(pk) OR #expires_at <= :now',
        ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': epochSeconds(this.now()) },
      }),
    );
    if (!written) throw new WriteConflict(`lead ${lead.id} was written meanwhile`);
    await Promise.all(replaced.map((id) => this.dropExpired(scope, id)));
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
   * Replaces the lead if nobody changed it since `expectedVersion`, after claiming its new dedup
   * keys (`unwritten` as for create). Throws WriteConflict otherwise. The keys in `heldDedupKeys`
   * that still point to the lead expire with it from now on.
   */
  async update(
    scope: TenantScope,
    lead: StoredLead,
    expectedVersion: number,
    newDedupKeys: readonly string[] = [],
    heldDedupKeys: readonly string[] = [],
    unwritten: readonly string[] = [],
  ): Promise<void> {
    const expiresAt = await this.expiryOf(scope);
    const { taken, replaced } = await this.claim(scope, lead.id, newDedupKeys, expiresAt, unwritten);
    const written = await this.conditionally(
      new PutCommand({
        TableName: this.table,
        Item: toItem(scope, lead, expiresAt),
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': expectedVersion },
      }),
    );
    if (!written) {
      // The refused change claims nothing (a retry that still wants a key claims it again).
      await Promise.all(taken.map((key) => this.release(scope, key, lead.id)));
      throw new WriteConflict(`lead ${lead.id} changed since version ${expectedVersion}`);
    }
    const held = heldDedupKeys.filter((key) => !newDedupKeys.includes(key));
    await Promise.all([
      ...held.map((key) => this.extendClaim(scope, key, lead.id, expiresAt)),
      ...replaced.map((id) => this.dropExpired(scope, id)),
    ]);
  }

  /** A dedup key still pointing to the lead expires when it does; one pointing elsewhere is left. */
  private async extendClaim(scope: TenantScope, key: string, leadId: string, expiresAt: number) {
    await this.conditionally(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: tenantPk(scope), sk: dedupSk(key) },
        UpdateExpression: 'SET #expires_at = :expires',
        ConditionExpression: 'lead_id = :id',
        ExpressionAttributeNames: { '#expires_at': EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ':id': leadId, ':expires': expiresAt },
      }),
    );
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

  /** The email dedup keys of an address (`EC#<hash>#<click id>`, one per lead it was captured with). */
  private async emailKeys(scope: TenantScope, hash: string): Promise<Item[]> {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :keys)',
      ExpressionAttributeValues: { ':pk': tenantPk(scope), ':keys': dedupSk(`EC#${hash}#`) },
      ProjectionExpression: 'pk, sk, lead_id',
      ConsistentRead: true,
    });
  }

  /**
   * Every lead of the tenant with this email hash, found through its email dedup keys; with
   * `includeExpired`, also those expired and not deleted yet (erasure removes them too).
   */
  async byEmailHash(
    scope: TenantScope,
    hash: string,
    options: { includeExpired?: boolean } = {},
  ): Promise<StoredLead[]> {
    const ids = new Set((await this.emailKeys(scope, hash)).map((key) => key.lead_id as string));
    const leads: StoredLead[] = [];
    for (const id of ids) {
      const lead = await this.get(scope, id, options);
      if (lead && lead.email_hash === hash) leads.push(lead);
    }
    return leads;
  }

  /** Removes every dedup key of this email hash, whatever lead it points to (erasure). */
  async deleteEmailKeys(scope: TenantScope, hash: string): Promise<number> {
    const keys = await this.emailKeys(scope, hash);
    for (const key of keys)
      await this.client.send(new DeleteCommand({ TableName: this.table, Key: { pk: key.pk, sk: key.sk } }));
    return keys.length;
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
