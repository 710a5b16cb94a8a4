import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLES, type TableDefinition, type TableId } from '../contract/resources';
import {
  AUDIT_RETENTION_DAYS,
  EXPIRY_ATTRIBUTE,
  epochSeconds,
  expiryOf,
} from '../functions/shared/features/retention/rules';
import {
  cachedRetention,
  type RetentionOf,
  RetentionStore,
} from '../functions/shared/features/tenancy/dynamo-retention';
import { documentClient } from '../functions/shared/platform/aws/clients';
import { tableName } from '../functions/shared/platform/config/resources';
import { inPool } from '../functions/shared/platform/pool';
import { scanPages } from './scan';

/** What a sweep did to one table. */
export interface SweptTable {
  table: TableId;
  scanned: number;
  deleted: number;
}

export interface SweepOptions {
  /** Items whose expiry is at or before this are deleted. */
  now?: Date;
  client?: DynamoDBDocumentClient;
  /** Physical table names; by default from the environment (`*_TABLE`). */
  tableNames?: Partial<Record<TableId, string>>;
  progress?: (line: string) => void;
}

const BATCH = 25;
const MAX_UNPROCESSED_ROUNDS = 8;

/** The tables DynamoDB's TTL deletes items of. */
export function expiringTables(): TableDefinition[] {
  return TABLES.filter((table) => table.ttlAttribute !== undefined);
}

/**
 * One pass over a table: scans it page by page with `input`, hands each page's items to `act`
 * (which answers how many it changed), and reports as it goes: `<table>: <n> scanned, <m> <done>`,
 * with ` ...` while pages remain.
 */
async function passOver(
  client: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'ExclusiveStartKey'>,
  report: { table: string; done: string; progress: (line: string) => void },
  act: (items: Record<string, unknown>[]) => Promise<number>,
): Promise<{ scanned: number; changed: number }> {
  let scanned = 0;
  let changed = 0;
  for await (const page of scanPages(client, input)) {
    scanned += page.ScannedCount ?? 0;
    changed += await act(page.Items ?? []);
    if (page.LastEvaluatedKey)
      report.progress(`  ${report.table}: ${scanned} scanned, ${changed} ${report.done} ...`);
  }
  report.progress(`${report.table}: ${scanned} scanned, ${changed} ${report.done}`);
  return { scanned, changed };
}

/**
 * Deletes every item whose TTL attribute has passed, table by table: what DynamoDB's TTL does on
 * its own in AWS, for the local emulator, which never deletes expired items. Safe to run at any
 * time and to interrupt: it only deletes what has expired, and a rerun picks up the rest.
 */
export async function sweepExpired(options: SweepOptions = {}): Promise<SweptTable[]> {
  const client = options.client ?? documentClient();
  const now = epochSeconds(options.now ?? new Date());
  const progress = options.progress ?? (() => {});
  const results: SweptTable[] = [];
  for (const definition of expiringTables()) {
    const name = options.tableNames?.[definition.id] ?? tableName(definition.id);
    const attribute = definition.ttlAttribute as string;
    const keyNames = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
    const { scanned, changed } = await passOver(
      client,
      {
        TableName: name,
        FilterExpression: '#ttl <= :now',
        ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
        ExpressionAttributeNames: {
          '#ttl': attribute,
          ...Object.fromEntries(keyNames.map((key, i) => [`#k${i}`, key])),
        },
        ExpressionAttributeValues: { ':now': now },
      },
      { table: definition.id, done: 'expired deleted', progress },
      async (keys) => {
        let deleted = 0;
        for (let i = 0; i < keys.length; i += BATCH) {
          deleted += await deleteAll(client, name, keys.slice(i, i + BATCH));
        }
        return deleted;
      },
    );
    results.push({ table: definition.id, scanned, deleted: changed });
  }
  return results;
}

async function deleteAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
): Promise<number> {
  let pending = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let round = 0; pending.length && round < MAX_UNPROCESSED_ROUNDS; round++) {
    const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    if (pending.length) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
  }
  if (pending.length) throw new Error(`${pending.length} expired items of ${table} could not be deleted`);
  return keys.length;
}

/** What a backfill did to one table. */
export interface BackfilledTable {
  table: 'leads' | 'conversions' | 'audit';
  scanned: number;
  updated: number;
}

export interface BackfillOptions {
  now?: Date;
  client?: DynamoDBDocumentClient;
  tableNames?: Partial<Record<TableId, string>>;
  /** Each tenant's retention; by default read from the tenants table. */
  retention?: RetentionOf;
  progress?: (line: string) => void;
}

/** `TENANT#<id>` or `TENANT#<id>#...` → `<id>`. */
function tenantOf(pk: unknown): string | undefined {
  if (typeof pk !== 'string' || !pk.startsWith('TENANT#')) return undefined;
  return pk.slice('TENANT#'.length).split('#')[0] || undefined;
}

/**
 * When an item last changed, as far as it says: the latest of its times (a conversion of an old
 * order carries the order's time, and its upload's later); `now` for items that say nothing
 * (dedup keys, an order's index).
 */
function changedAtOf(item: Record<string, unknown>, now: Date): Date {
  const times = ['updated_at', 'created_at', 'uploaded_at', 'at']
    .map((name) => item[name])
    .filter((value): value is string => typeof value === 'string')
    .map((value) => Date.parse(value))
    .filter((ms) => Number.isFinite(ms));
  return times.length ? new Date(Math.max(...times)) : now;
}

/**
 * Gives an expiry to every lead, conversion and audit item written before retention existed (they
 * have no `expires_at`, so DynamoDB's TTL would keep them for ever): their last change plus the
 * tenant's days (the audit trail's 2,190), as a write would have set it. Items that say nothing of
 * when they changed (dedup keys, an order's index) count from now, so they outlive their lead,
 * never the reverse. Resumable: it only touches items still without an expiry, and never
 * overwrites one a write set meanwhile. An item whose expiry is already past is deleted by the
 * next TTL pass (or sweep).
 */
export async function backfillExpiry(options: BackfillOptions = {}): Promise<BackfilledTable[]> {
  const client = options.client ?? documentClient();
  const now = options.now ?? new Date();
  const progress = options.progress ?? (() => {});
  const retention =
    options.retention ??
    cachedRetention(new RetentionStore(client, options.tableNames?.tenants ?? tableName('tenants')));
  const results: BackfilledTable[] = [];
  for (const id of ['leads', 'conversions', 'audit'] as const) {
    const name = options.tableNames?.[id] ?? tableName(id);
    const { scanned, changed } = await passOver(
      client,
      {
        TableName: name,
        FilterExpression: 'attribute_not_exists(#ttl)',
        ExpressionAttributeNames: { '#ttl': EXPIRY_ATTRIBUTE },
      },
      { table: id, done: 'given an expiry', progress },
      async (items) => {
        const updated = await inPool(items, 8, async (item) => {
          const tenantId = tenantOf(item.pk);
          if (!tenantId) return 0;
          const days =
            id === 'audit'
              ? AUDIT_RETENTION_DAYS
              : (await retention(tenantId))[id === 'leads' ? 'leads_days' : 'conversions_days'];
          const key = { pk: item.pk, ...(item.sk !== undefined ? { sk: item.sk } : {}) };
          try {
            await client.send(
              new UpdateCommand({
                TableName: name,
                Key: key,
                UpdateExpression: 'SET #ttl = :expires',
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#ttl)',
                ExpressionAttributeNames: { '#ttl': EXPIRY_ATTRIBUTE },
                ExpressionAttributeValues: { ':expires': expiryOf(changedAtOf(item, now), days) },
              }),
            );
            return 1;
          } catch (error) {
            // Written (with its expiry) or deleted meanwhile: nothing to do.
            if (error instanceof ConditionalCheckFailedException) return 0;
            throw error;
          }
        });
        return updated.reduce<number>((sum, n) => sum + n, 0);
      },
    );
    results.push({ table: id, scanned, updated: changed });
  }
  return results;
}
