import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/shared/aws';
import { tableName } from '../../functions/shared/config';
import { epochSeconds } from '../../functions/shared/retention/policy';
import { TABLES, type TableDefinition, type TableId } from '../definitions/resources';

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
    const result: SweptTable = { table: definition.id, scanned: 0, deleted: 0 };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: name,
          FilterExpression: '#ttl <= :now',
          ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
          ExpressionAttributeNames: {
            '#ttl': attribute,
            ...Object.fromEntries(keyNames.map((key, i) => [`#k${i}`, key])),
          },
          ExpressionAttributeValues: { ':now': now },
          ExclusiveStartKey: start,
        }),
      );
      result.scanned += page.ScannedCount ?? 0;
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += BATCH) {
        result.deleted += await deleteAll(client, name, keys.slice(i, i + BATCH));
      }
      start = page.LastEvaluatedKey;
      if (start)
        progress(`  ${definition.id}: ${result.scanned} scanned, ${result.deleted} expired deleted ...`);
    } while (start);
    progress(`${definition.id}: ${result.scanned} scanned, ${result.deleted} expired deleted`);
    results.push(result);
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
