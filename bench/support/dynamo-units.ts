import { TABLES } from '../../lib/definitions/resources';
import type { RecordedCall } from './aws-calls';

/**
 * DynamoDB on-demand request units of recorded calls, by AWS's published rules ("DynamoDB item
 * sizes and formats", "DynamoDB read and write operations", Amazon DynamoDB Developer Guide):
 * - item size: attribute names plus values (strings and binaries by their bytes, numbers about
 *   one byte per two significant digits plus one, booleans and nulls one byte, lists and maps
 *   three bytes plus one per element);
 * - writes: one WRU per started 1 KB of the larger of the item before and after; transactional
 *   writes twice that; every global secondary index the item is in costs a write of its own
 *   (our indexes project ALL attributes); a failed conditional write still costs one;
 * - reads: one RRU per started 4 KB strongly consistent, half eventually consistent, twice
 *   transactional; a Query sums the sizes of the items it returns before rounding; a BatchGet
 *   rounds each item.
 * moto's own ConsumedCapacity figures are constants, so the units are computed here.
 */

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

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
      return inner instanceof Uint8Array ? inner.length : Buffer.from(String(inner), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
    case 'NS':
    case 'BS': {
      const members = [...(inner as Iterable<string | Uint8Array>)];
      if (type === 'SS') return members.reduce((n: number, s) => n + Buffer.byteLength(String(s)), 0);
      if (type === 'NS') return members.reduce((n: number, s) => n + attributeValueSize({ N: String(s) }), 0);
      return members.reduce(
        (n: number, s) => n + (s instanceof Uint8Array ? s.length : Buffer.from(String(s), 'base64').length),
        0,
      );
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

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

/** Looks up an item as it is now (the size of an updated item is not in the call). */
export type ItemReader = (table: string, key: Item) => Promise<Item | undefined>;

export interface UnitTotals {
  readUnits: number;
  writeUnits: number;
  calls: number;
  byOperation: Record<string, { calls: number; readUnits: number; writeUnits: number }>;
}

/** The logical table of a physical name (names carry a stack prefix), for its indexes. */
function indexesOf(tableName: string): readonly { partitionKey: string }[] {
  return TABLES.find((t) => tableName.endsWith(`-${t.id}`))?.indexes ?? [];
}

function indexWrites(table: string, item: Item | undefined, bytes: number): number {
  if (!item) return 0;
  return indexesOf(table)
    .filter((index) => index.partitionKey in item)
    .reduce((n) => n + writeUnits(bytes), 0);
}

async function writeOf(
  table: string,
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck',
  input: { Item?: Item; Key?: Item },
  read: ItemReader,
): Promise<number> {
  if (kind === 'ConditionCheck') return 1;
  const item =
    kind === 'Put' ? input.Item : kind === 'Update' ? await read(table, input.Key as Item) : undefined;
  const bytes = itemSize(item);
  return writeUnits(bytes) + indexWrites(table, item, bytes);
}

/** Units of one recorded DynamoDB call. */
export async function unitsOf(
  call: RecordedCall,
  read: ItemReader,
): Promise<{ read: number; write: number }> {
  const input = JSON.parse(call.body ?? '{}') as Record<string, unknown>;
  const output = (call.output ?? {}) as Record<string, unknown>;
  const table = String(input.TableName ?? '');
  const consistent = input.ConsistentRead === true;
  if (call.failed) {
    return ['PutItem', 'UpdateItem', 'DeleteItem'].includes(call.operation)
      ? { read: 0, write: 1 }
      : call.operation === 'TransactWriteItems'
        ? { read: 0, write: 2 * ((input.TransactItems as unknown[]) ?? []).length }
        : { read: call.operation === 'GetItem' ? readUnits(0, consistent) : 0, write: 0 };
  }
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
    case 'PutItem':
      return { read: 0, write: await writeOf(table, 'Put', input, read) };
    case 'UpdateItem':
      return { read: 0, write: await writeOf(table, 'Update', input, read) };
    case 'DeleteItem':
      return { read: 0, write: await writeOf(table, 'Delete', input, read) };
    case 'BatchWriteItem': {
      let units = 0;
      const requests =
        (input.RequestItems as Record<string, Array<Record<string, { Item?: Item; Key?: Item }>>>) ?? {};
      for (const [name, writes] of Object.entries(requests)) {
        for (const w of writes) {
          units += w.PutRequest
            ? await writeOf(name, 'Put', w.PutRequest, read)
            : await writeOf(name, 'Delete', w.DeleteRequest ?? {}, read);
        }
      }
      return { read: 0, write: units };
    }
    case 'TransactWriteItems': {
      let units = 0;
      for (const action of (input.TransactItems as Array<Record<string, { TableName: string }>>) ?? []) {
        const [kind, body] = Object.entries(action)[0] as [
          string,
          { TableName: string; Item?: Item; Key?: Item },
        ];
        units +=
          2 *
          (await writeOf(body.TableName, kind as 'Put' | 'Update' | 'Delete' | 'ConditionCheck', body, read));
      }
      return { read: 0, write: units };
    }
    default:
      return { read: 0, write: 0 };
  }
}

export async function totalUnits(calls: readonly RecordedCall[], read: ItemReader): Promise<UnitTotals> {
  const totals: UnitTotals = { readUnits: 0, writeUnits: 0, calls: 0, byOperation: {} };
  for (const call of calls) {
    if (call.service !== 'dynamodb') continue;
    const units = await unitsOf(call, read);
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
