import { type IndexDefinition, TABLES, type TableDefinition } from '../../contract/resources';
import type { ItemImage, RecordedCall } from './aws-calls';

/**
 * DynamoDB on-demand request units of recorded calls, by the rules of the Amazon DynamoDB
 * Developer Guide (moto's own ConsumedCapacity figures are constants, so the units are computed
 * here). Pages relied on:
 * - Item sizes: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 *   (attribute names plus values; strings and binaries by their bytes, numbers about one byte per
 *   two significant digits plus one, booleans and nulls one byte, lists and maps three bytes plus
 *   one per element). The 100 bytes per item "for indexing" are stated there for storage billing
 *   only, so no write or read size includes them.
 * - Table writes and reads: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 *   One write unit per started 1 KB: PutItem and UpdateItem by the larger of the item before and
 *   after, DeleteItem by the deleted item; at least one unit.
 *   Reads: one unit per started 4 KB strongly consistent, half eventually consistent, twice
 *   transactional; a Query or Scan sums the sizes of the items it returns before rounding; a
 *   BatchGetItem rounds each item.
 * - Failed conditional writes: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate
 *   "The amount consumed is dependent on the size of the item (whether it's an existing item in
 *   the table or a new one you are attempting to create or update)": the larger of the two, at
 *   least one unit. Nothing changed, so no index is written. An UpdateItem's attempted item is not
 *   in the request (only its expression), so a failed update counts the existing item.
 * - Global secondary indexes: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
 *   (its throughput considerations, "Write capacity units", and storage considerations). An item
 *   is in an index when it has every index key attribute. Per index: entering it is one put of the
 *   new entry; leaving it one delete of the old entry; a change of an index key value two writes
 *   (delete the old entry, put the new one); a change of a projected attribute only one write; no
 *   change, or an item in the index neither before nor after, no write. An entry is the table's keys, the index's keys and
 *   the projected attributes (for ALL the whole item, for KEYS_ONLY nothing else), rounded to 1 KB
 *   per write like an item. The in-place write counts the larger of the old and new entry, as the
 *   table's UpdateItem does.
 * - Transactions: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
 *   "DynamoDB performs two underlying reads or writes of every item in the transaction: one to
 *   prepare the transaction and one to commit the transaction"; the same page says the changes of
 *   a completed transaction are then propagated to global secondary indexes, streams and backups.
 *   So the table write of every item in a TransactWriteItems is doubled (a ConditionCheck item too,
 *   by its size), and its index writes are not: nothing documents a prepare and a commit of index
 *   entries, which follow the completed transaction once, by the rules above. A cancelled
 *   transaction changes nothing, so it writes no index; the page does not say how much of the two
 *   underlying writes a cancelled one consumes, so each item it names counts as a full
 *   transactional write of the larger of its existing and attempted item (an upper bound).
 * Other failed writes (validation errors, throttling) are not counted.
 */

type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

const TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'SS', 'NS', 'BS', 'L', 'M']);

function isAttributeValue(value: unknown): value is AttributeValue {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || Array.isArray(value))
    return false;
  const keys = Object.keys(value);
  return keys.length === 1 && TYPES.has(keys[0] as string);
}

/** The size of a value as the document client hands it over (already unmarshalled). */
function nativeSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return attributeValueSize({ N: String(value) });
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + nativeSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + nativeSize(v), 0);
  return (
    3 +
    Object.entries(value as Record<string, unknown>).reduce(
      (n, [k, v]) => n + 1 + Buffer.byteLength(k) + nativeSize(v),
      0,
    )
  );
}

const binarySize = (value: unknown) =>
  value instanceof Uint8Array ? value.length : Buffer.from(String(value), 'base64').length;

export function attributeValueSize(value: AttributeValue): number {
  if (!isAttributeValue(value)) return nativeSize(value);
  const [type, inner] = Object.entries(value)[0] as [string, unknown];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N': {
      const digits = String(inner)
        .replace(/^-/, '')
        .replace(/e.*$/i, '')
        .replace('.', '')
        .replace(/^0+/, '')
        .replace(/0+$/, '');
      return Math.ceil(Math.max(1, digits.length) / 2) + 1;
    }
    case 'B':
      return binarySize(inner);
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
    case 'NS':
    case 'BS': {
      const members = [...(inner as Iterable<string | Uint8Array>)];
      if (type === 'SS') return members.reduce((n: number, s) => n + Buffer.byteLength(String(s)), 0);
      if (type === 'NS') return members.reduce((n: number, s) => n + attributeValueSize({ N: String(s) }), 0);
      return members.reduce((n: number, s) => n + binarySize(s), 0);
    }
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((n, v) => n + 1 + attributeValueSize(v), 0);
    case 'M':
      return (
        3 +
        Object.entries(inner as Item).reduce(
          (n, [k, v]) => n + 1 + Buffer.byteLength(k) + attributeValueSize(v),
          0,
        )
      );
    default:
      throw new Error(`Unknown DynamoDB attribute type ${type}`);
  }
}

export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce(
    (n, [name, value]) => n + Buffer.byteLength(name) + attributeValueSize(value),
    0,
  );
}

/** Write units of one write of `bytes` (an item or an index entry): 1 KB started, at least one. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/** The definition of a physical table (names carry a stack prefix: `<prefix>-<id>`). */
export function tableOf(
  physicalName: string,
  tables: readonly TableDefinition[] = TABLES,
): TableDefinition | undefined {
  return tables.find((t) => physicalName === t.id || physicalName.endsWith(`-${t.id}`));
}

/** The primary key of an item of a table (what GetItem needs). */
export function keyOf(table: TableDefinition, item: Item): Item {
  const key: Item = {};
  for (const name of [table.partitionKey, table.sortKey]) {
    if (name && item[name] !== undefined) key[name] = item[name];
  }
  return key;
}

const SET_TYPES = new Set(['SS', 'NS', 'BS']);

/**
 * A stable text of a value, to compare items and keys whatever their attribute order, set member
 * order, or binary form (bytes from an answer, base64 in a request body).
 */
export function canonical(value: unknown): string {
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (value instanceof Set) return canonical([...value]);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => {
        const text =
          SET_TYPES.has(k) && Array.isArray(v) ? `[${v.map(canonical).sort().join(',')}]` : canonical(v);
        return `${JSON.stringify(k)}:${text}`;
      });
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The entry an item has in an index, or none when it lacks one of the index's key attributes. */
export function indexEntry(table: TableDefinition, index: IndexDefinition, item: Item | undefined) {
  if (!item) return undefined;
  const indexKeys = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])];
  if (indexKeys.some((name) => item[name] === undefined)) return undefined;
  if ((index.projection ?? 'ALL') === 'ALL') return item;
  const names = new Set([table.partitionKey, ...(table.sortKey ? [table.sortKey] : []), ...indexKeys]);
  const entry: Item = {};
  for (const name of names) if (item[name] !== undefined) entry[name] = item[name];
  return entry;
}

/** Write units the table's global secondary indexes consume when an item goes from `before` to `after`. */
export function indexWriteUnits(table: TableDefinition, before: Item | undefined, after: Item | undefined) {
  let units = 0;
  for (const index of table.indexes) {
    const old = indexEntry(table, index, before);
    const next = indexEntry(table, index, after);
    if (!old && !next) continue;
    if (!old) units += writeUnits(itemSize(next));
    else if (!next) units += writeUnits(itemSize(old));
    else {
      const keys = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])];
      const keyChanged = keys.some((k) => canonical(old[k]) !== canonical(next[k]));
      if (keyChanged) units += writeUnits(itemSize(old)) + writeUnits(itemSize(next));
      else if (canonical(old) !== canonical(next))
        units += writeUnits(Math.max(itemSize(old), itemSize(next)));
    }
  }
  return units;
}

/** Write units of one item written (put, updated or deleted) from `before` to `after`. */
export function itemWriteUnits(
  table: TableDefinition | undefined,
  before: Item | undefined,
  after: Item | undefined,
  transactional = false,
): number {
  const tableUnits = writeUnits(Math.max(itemSize(before), itemSize(after))) * (transactional ? 2 : 1);
  return tableUnits + (table ? indexWriteUnits(table, before, after) : 0);
}

export interface UnitTotals {
  readUnits: number;
  writeUnits: number;
  calls: number;
  byOperation: Record<string, { calls: number; readUnits: number; writeUnits: number }>;
}

type WriteKind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
interface WriteTarget {
  kind: WriteKind;
  table: string;
  key?: Item;
  /** The item a put sends (its attempted new item). */
  item?: Item;
}

/**
 * The items a write call names, in request order: what the recorder reads before and after the
 * call, and what the units are computed over. Tables outside the definitions are named with the
 * key the request gives (a put's key is then unknown).
 */
export function writeTargets(
  operation: string,
  body: string | undefined,
  tables: readonly TableDefinition[] = TABLES,
): WriteTarget[] {
  const input = JSON.parse(body ?? '{}') as Record<string, unknown>;
  const target = (kind: WriteKind, tableName: string, request: { Item?: Item; Key?: Item }): WriteTarget => {
    const table = tableOf(tableName, tables);
    const key = request.Key ?? (request.Item && table ? keyOf(table, request.Item) : undefined);
    return {
      kind,
      table: tableName,
      ...(key ? { key } : {}),
      ...(request.Item ? { item: request.Item } : {}),
    };
  };
  switch (operation) {
    case 'PutItem':
      return [target('Put', String(input.TableName), input as { Item?: Item })];
    case 'UpdateItem':
      return [target('Update', String(input.TableName), input as { Key?: Item })];
    case 'DeleteItem':
      return [target('Delete', String(input.TableName), input as { Key?: Item })];
    case 'BatchWriteItem': {
      const requests =
        (input.RequestItems as Record<string, Array<Record<string, { Item?: Item; Key?: Item }>>>) ?? {};
      return Object.entries(requests).flatMap(([name, writes]) =>
        writes.map((w) =>
          w.PutRequest ? target('Put', name, w.PutRequest) : target('Delete', name, w.DeleteRequest ?? {}),
        ),
      );
    }
    case 'TransactWriteItems':
      return (
        (input.TransactItems as Array<Record<string, { TableName: string; Item?: Item; Key?: Item }>>) ?? []
      )
        .map((action) => Object.entries(action)[0])
        .filter(
          (entry): entry is [string, { TableName: string; Item?: Item; Key?: Item }] => entry !== undefined,
        )
        .map(([kind, request]) => target(kind as WriteKind, request.TableName, request));
    default:
      return [];
  }
}

function imageOf(call: RecordedCall, target: WriteTarget): ItemImage {
  const key = target.key ? canonical(target.key) : undefined;
  const image = call.images?.find(
    (i) => i.table === target.table && key !== undefined && canonical(i.key) === key,
  );
  if (!image) {
    throw new Error(
      `${call.operation} on ${target.table}: no item images recorded (install the recorder with recordImages)`,
    );
  }
  return image;
}

/** Requests a BatchWriteItem answered as not processed (nothing written, nothing consumed). */
function unprocessed(call: RecordedCall, tables: readonly TableDefinition[]): Set<string> {
  const output = (call.output ?? {}) as { UnprocessedItems?: Record<string, unknown[]> };
  const left = new Set<string>();
  for (const [name, writes] of Object.entries(output.UnprocessedItems ?? {})) {
    const body = JSON.stringify({ RequestItems: { [name]: writes } });
    for (const t of writeTargets('BatchWriteItem', body, tables))
      left.add(`${t.kind}:${t.table}:${canonical(t.key)}`);
  }
  return left;
}

function writeUnitsOf(call: RecordedCall, tables: readonly TableDefinition[]): number {
  const targets = writeTargets(call.operation, call.body, tables);
  if (call.failed) {
    if (call.failed === 'ConditionalCheckFailedException' && targets.length === 1) {
      const [t] = targets as [WriteTarget];
      return writeUnits(Math.max(itemSize(imageOf(call, t).before), itemSize(t.item)));
    }
    if (call.failed === 'TransactionCanceledException' && call.operation === 'TransactWriteItems') {
      return targets.reduce(
        (n, t) => n + 2 * writeUnits(Math.max(itemSize(imageOf(call, t).before), itemSize(t.item))),
        0,
      );
    }
    return 0;
  }
  const transactional = call.operation === 'TransactWriteItems';
  const skipped = call.operation === 'BatchWriteItem' ? unprocessed(call, tables) : new Set<string>();
  let units = 0;
  for (const t of targets) {
    if (skipped.has(`${t.kind}:${t.table}:${canonical(t.key)}`)) continue;
    const image = imageOf(call, t);
    if (t.kind === 'ConditionCheck') units += 2 * writeUnits(itemSize(image.before));
    else {
      const after = t.kind === 'Delete' ? undefined : image.after;
      units += itemWriteUnits(tableOf(t.table, tables), image.before, after, transactional);
    }
  }
  return units;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** Units of one recorded DynamoDB call (recorded with bodies, and with item images for writes). */
export function unitsOf(
  call: RecordedCall,
  tables: readonly TableDefinition[] = TABLES,
): { read: number; write: number } {
  if (WRITES.has(call.operation)) return { read: 0, write: writeUnitsOf(call, tables) };
  const input = JSON.parse(call.body ?? '{}') as Record<string, unknown>;
  const output = (call.output ?? {}) as Record<string, unknown>;
  const consistent = input.ConsistentRead === true;
  if (call.failed) return { read: call.operation === 'GetItem' ? readUnits(0, consistent) : 0, write: 0 };
  switch (call.operation) {
    case 'GetItem':
      return { read: readUnits(itemSize(output.Item as Item | undefined), consistent), write: 0 };
    case 'Query':
    case 'Scan': {
      const items = (output.Items as Item[] | undefined) ?? [];
      return {
        read: readUnits(
          items.reduce((n, i) => n + itemSize(i), 0),
          consistent,
        ),
        write: 0,
      };
    }
    case 'BatchGetItem': {
      // Each requested key is read on its own; a key not found still costs the minimum.
      const responses = (output.Responses as Record<string, Item[]> | undefined) ?? {};
      const requested =
        (input.RequestItems as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>) ?? {};
      let units = 0;
      for (const [name, request] of Object.entries(requested)) {
        const strong = request.ConsistentRead === true;
        const found = responses[name] ?? [];
        for (const i of found) units += readUnits(itemSize(i), strong);
        units += Math.max(0, (request.Keys?.length ?? 0) - found.length) * readUnits(0, strong);
      }
      return { read: units, write: 0 };
    }
    case 'TransactGetItems': {
      const items = (output.Responses as Array<{ Item?: Item }> | undefined) ?? [];
      return { read: items.reduce((n, r) => n + 2 * readUnits(itemSize(r.Item), true), 0), write: 0 };
    }
    default:
      return { read: 0, write: 0 };
  }
}

export function totalUnits(
  calls: readonly RecordedCall[],
  tables: readonly TableDefinition[] = TABLES,
): UnitTotals {
  const totals: UnitTotals = { readUnits: 0, writeUnits: 0, calls: 0, byOperation: {} };
  for (const call of calls) {
    if (call.service !== 'dynamodb') continue;
    const units = unitsOf(call, tables);
    totals.calls += 1;
    totals.readUnits += units.read;
    totals.writeUnits += units.write;
    const op = totals.byOperation[call.operation] ?? { calls: 0, readUnits: 0, writeUnits: 0 };
    totals.byOperation[call.operation] = op;
    op.calls += 1;
    op.readUnits += units.read;
    op.writeUnits += units.write;
  }
  return totals;
}

/**
 * Bytes DynamoDB bills as stored for these items of a table: each item's size plus 100 bytes of
 * overhead, and each global secondary index entry's (its projected attributes and keys) plus 100
 * bytes ("DynamoDB item sizes and formats"; "Global secondary indexes", storage considerations).
 */
export function storedBytes(table: TableDefinition, items: readonly Item[]): number {
  let bytes = 0;
  for (const item of items) {
    bytes += itemSize(item) + 100;
    for (const index of table.indexes) {
      const entry = indexEntry(table, index, item);
      if (entry) bytes += itemSize(entry) + 100;
    }
  }
  return bytes;
}
