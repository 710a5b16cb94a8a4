import type { Page } from '../../platform/dynamo/pagination';
import type { TenantScope } from '../tenancy/rules/scope';
import type { StoredLead } from './model';
import type { LeadStatus } from './schema';

/**
 * What the lead rules need from storage, whatever holds it (the DynamoDB adapter is dynamo.ts). Every
 * call is reached through a tenant scope.
 */

/** A write lost a race: somebody else changed the lead (or claimed its dedup key) first. */
export class WriteConflict extends Error {
  override readonly name = 'WriteConflict';
}

/** What a dedup key points to. */
export interface Claim {
  key: string;
  leadId: string;
  /** Epoch seconds the key was claimed at (keys claimed before this was kept: 0). */
  claimedAt: number;
}

export interface ListLeadsOptions {
  limit: number;
  cursor?: string;
  status?: LeadStatus;
  createdFrom?: string;
  createdTo?: string;
}

export interface LeadRepository {
  /** The lead id the first of these dedup keys points to, if any. */
  findByDedupKeys(scope: TenantScope, keys: readonly string[]): Promise<string | undefined>;
  /** What each of these dedup keys points to, in the keys' order. */
  claimsOf(scope: TenantScope, keys: readonly string[]): Promise<Claim[]>;
  /** For each list of dedup keys, the lead its first key points to (`null`: none; `undefined`: not known). */
  findManyByDedupKeys(
    scope: TenantScope,
    keyLists: readonly (readonly string[])[],
  ): Promise<(string | null | undefined)[]>;
  /** Claims the keys, then writes the lead; WriteConflict when a key is held or the id written. */
  create(
    scope: TenantScope,
    lead: StoredLead,
    dedupKeys: readonly string[],
    unwritten?: readonly string[],
  ): Promise<void>;
  /** Replaces the lead if unchanged since `expectedVersion`, claiming its new keys; else WriteConflict. */
  update(
    scope: TenantScope,
    lead: StoredLead,
    expectedVersion: number,
    newDedupKeys?: readonly string[],
    heldDedupKeys?: readonly string[],
    unwritten?: readonly string[],
  ): Promise<void>;
  /** Points these keys to a lead that is held; WriteConflict when one is held by another lead. */
  claimFor(
    scope: TenantScope,
    leadId: string,
    keys: readonly string[],
    unwritten?: readonly string[],
  ): Promise<void>;
  get(
    scope: TenantScope,
    id: string,
    options?: { includeExpired?: boolean },
  ): Promise<StoredLead | undefined>;
  byEmailHash(
    scope: TenantScope,
    hash: string,
    options?: { includeExpired?: boolean },
  ): Promise<StoredLead[]>;
  /** Removes the lead and every dedup key that points to it. */
  delete(scope: TenantScope, lead: StoredLead, dedupKeys: readonly string[]): Promise<void>;
  /** Removes every dedup key of this email hash (erasure); how many. */
  deleteEmailKeys(scope: TenantScope, hash: string): Promise<number>;
  list(scope: TenantScope, options: ListLeadsOptions): Promise<Page<StoredLead>>;
}
