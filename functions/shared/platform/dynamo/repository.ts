import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DeleteCommand,
  type DynamoDBDocumentClient,
  type PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteCommand,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { TableId } from '../../../../contract/resources';
import { EXPIRY_ATTRIBUTE, notExpiredFilter } from '../../features/retention/rules';
import { documentClient } from '../aws/clients';
import { tableName } from '../config/resources';
import { inPool } from '../pool';
import { type CursorBinding, encodeCursor, type Page } from './pagination';

/** What a stored item holds beside its record: the table's and indexes' keys, and its expiry. */
const STORAGE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  EXPIRY_ATTRIBUTE,
]);

/** Queries one page of a filtered listing may take to fill it. */
const MAX_FILTERED_QUERIES = 10;

/** The record a stored item holds: the item without its keys and expiry. */
export function recordOf<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.has(name)) record[name] = value;
  return record as T;
}

/** Whether a write was refused for its condition (by name as well: a client bundled apart throws its own class). */
function conditionFailed(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  const { name, CancellationReasons } = (error ?? {}) as {
    name?: string;
    CancellationReasons?: { Code?: string }[];
  };
  if (name === 'ConditionalCheckFailedException') return true;
  return (
    (error instanceof TransactionCanceledException || name === 'TransactionCanceledException') &&
    (CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

/**
 * Base of the DynamoDB repositories: the client and the table are resolved on first use, so
 * building a repository does no I/O and needs no setting, and tests may pass their own.
 */
export abstract class DynamoRepository {
  protected constructor(
    private readonly tableId: TableId,
    private readonly clientOverride?: DynamoDBDocumentClient,
    private readonly tableOverride?: string,
  ) {}

  protected get client(): DynamoDBDocumentClient {
    return this.clientOverride ?? documentClient();
  }

  protected get table(): string {
    return this.tableOverride ?? tableName(this.tableId);
  }

  /**
   * The items of these keys (strongly consistent): 100 keys a BatchGetItem, a few calls in flight,
   * the keys DynamoDB leaves unprocessed asked again after a short backoff, `rounds` times at most;
   * `unread` the keys still unprocessed then.
   */
  protected async batchGet(
    keys: readonly Record<string, unknown>[],
    rounds: number,
  ): Promise<{ items: Record<string, unknown>[]; unread: Record<string, unknown>[] }> {
    const items: Record<string, unknown>[] = [];
    const unread: Record<string, unknown>[] = [];
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await inPool(chunks, 4, async (chunk) => {
      let pending = chunk;
      for (let round = 0; pending.length && round < rounds; round++) {
        if (round) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
        const out = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(out.Responses?.[this.table] ?? []));
        pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
      unread.push(...pending);
    });
    return { items, unread };
  }

  /**
   * Sends a conditional write (or a transaction of them); false when a condition did not hold
   * (another writer got there first). A transaction cancelled for another reason (a conflict, a
   * throttle) is passed on.
   */
  protected async conditionally(
    command: PutCommand | UpdateCommand | DeleteCommand | TransactWriteCommand,
  ): Promise<boolean> {
    try {
      await this.client.send(command as PutCommand);
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  /** Every page of a query on this table, in order, each as DynamoDB returned it. */
  protected async *queryPages(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): AsyncGenerator<Record<string, unknown>[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({ ...input, TableName: this.table, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      yield out.Items ?? [];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** Every item a query on this table finds (for bounded sets: a person's keys, a tenant's few). */
  protected async queryAll(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of this.queryPages(input)) items.push(...page);
    return items;
  }

  /**
   * One page of a listing, newest first, without the items past their expiry that DynamoDB has
   * not deleted yet (and, with the input's own filter, what it leaves out); its next cursor bound
   * to the listing's binding. A filtered listing reads on (a few queries at most) until the page
   * is full, so a page holds fewer than `limit` items only near the listing's end or past many
   * items the filter leaves out; its cursor goes on either way.
   */
  protected async livePage<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    page: { limit: number; now: Date; binding: CursorBinding },
    read: (item: Record<string, unknown>) => T,
  ): Promise<Page<T>> {
    const live = notExpiredFilter(page.now);
    const items: Record<string, unknown>[] = [];
    let start = input.ExclusiveStartKey;
    const rounds = input.FilterExpression ? MAX_FILTERED_QUERIES : 1;
    for (let round = 0; round < rounds; round++) {
      const out = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.table,
          FilterExpression: input.FilterExpression
            ? `(${input.FilterExpression}) AND (${live.expression})`
            : live.expression,
          ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...live.names },
          ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ...live.values },
          ExclusiveStartKey: start,
          Limit: page.limit - items.length,
          ScanIndexForward: false,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
      if (!start || items.length >= page.limit) break;
    }
    return {
      items: items.map(read),
      next_cursor: await encodeCursor(start as Record<string, string> | undefined, page.binding),
    };
  }
}
