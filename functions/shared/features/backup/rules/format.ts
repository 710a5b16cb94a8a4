import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { TABLES, type TableId } from '../../../../../contract/resources';
import { parseJsonAs } from '../../../platform/json';

/**
 * What a backup holds once decrypted: JSON lines, in this order.
 *
 *   {"type":"manifest","format":"adsengineer-backup","version":1,"job_id":...,"created_at":...,"tables":[...]}
 *   {"type":"item","table":"tenants","item":{...}}          one per item, tables one after another
 *   {"type":"table_end","table":"tenants","count":3}        after each table's items
 *   {"type":"end","item_counts":{"tenants":3,...},"total_items":...}
 *
 * Items are in DynamoDB JSON (as DynamoDB's own export writes them: `{"pk":{"S":"..."}}`, binary
 * as base64), so every type, number precision and set survives a restore. Tables are named by
 * their id in the shared resource list, not by physical name: a restore goes into whatever tables
 * the target environment has. The counts let a reader check that nothing is missing.
 */
export const BACKUP_FORMAT = 'adsengineer-backup';
export const BACKUP_FORMAT_VERSION = 1;
/** The `purpose` of a backup's encryption context; its `scope` is the job id. */
export const BACKUP_PURPOSE = 'backup';

export type JsonAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { M: JsonItem }
  | { L: JsonAttributeValue[] }
  | { NULL: true }
  | { BOOL: boolean };
export type JsonItem = { [name: string]: JsonAttributeValue };
export type DynamoItem = Record<string, AttributeValue>;

export class BackupFormatError extends Error {
  override readonly name = 'BackupFormatError';
}

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const bytesOf = (text: unknown): Uint8Array => {
  if (typeof text !== 'string' || !BASE64.test(text))
    throw new BackupFormatError('binary value is not base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
};

export function toJsonValue(value: AttributeValue): JsonAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toJsonItem(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toJsonValue) };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new BackupFormatError('attribute value of an unknown type');
}

export function toJsonItem(item: DynamoItem): JsonItem {
  const out: JsonItem = {};
  for (const [name, value] of Object.entries(item)) out[name] = toJsonValue(value);
  return out;
}

const strings = (value: unknown): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new BackupFormatError('set is not a list of strings');
  }
  return value;
};

export function fromJsonValue(value: unknown): AttributeValue {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).length !== 1
  ) {
    throw new BackupFormatError('attribute value is not a single-key object');
  }
  const [type, inner] = Object.entries(value)[0] as [string, unknown];
  switch (type) {
    case 'S':
    case 'N':
      if (typeof inner !== 'string') throw new BackupFormatError(`${type} value is not a string`);
      return type === 'S' ? { S: inner } : { N: inner };
    case 'B':
      return { B: bytesOf(inner) };
    case 'SS':
      return { SS: strings(inner) };
    case 'NS':
      return { NS: strings(inner) };
    case 'BS':
      return { BS: strings(inner).map(bytesOf) };
    case 'M':
      return { M: fromJsonItem(inner) };
    case 'L':
      if (!Array.isArray(inner)) throw new BackupFormatError('L value is not a list');
      return { L: inner.map(fromJsonValue) };
    case 'NULL':
      if (inner !== true) throw new BackupFormatError('NULL value is not true');
      return { NULL: true };
    case 'BOOL':
      if (typeof inner !== 'boolean') throw new BackupFormatError('BOOL value is not a boolean');
      return { BOOL: inner };
    default:
      throw new BackupFormatError(`attribute type ${JSON.stringify(type)} is unknown`);
  }
}

export function fromJsonItem(item: unknown): DynamoItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new BackupFormatError('item is not an object');
  }
  const out: DynamoItem = {};
  for (const [name, value] of Object.entries(item)) out[name] = fromJsonValue(value);
  return out;
}

const TABLE_IDS = TABLES.map((t) => t.id) as [TableId, ...TableId[]];
const tableId = z.enum(TABLE_IDS);
const count = z.int().check(z.minimum(0));

const manifestLine = z.object({
  type: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_FORMAT_VERSION),
  job_id: z.string().check(z.minLength(1)),
  created_at: z.string(),
  tables: z.array(tableId),
});
const itemLine = z.object({
  type: z.literal('item'),
  table: tableId,
  item: z.record(z.string(), z.unknown()),
});
const tableEndLine = z.object({ type: z.literal('table_end'), table: tableId, count });
const endLine = z.object({
  type: z.literal('end'),
  item_counts: z.partialRecord(tableId, count),
  total_items: count,
});
const backupLine = z.discriminatedUnion('type', [manifestLine, itemLine, tableEndLine, endLine]);

export type ManifestLine = z.infer<typeof manifestLine>;
export type TableEndLine = z.infer<typeof tableEndLine>;
export type EndLine = z.infer<typeof endLine>;
export interface ItemLine {
  readonly type: 'item';
  readonly table: TableId;
  readonly item: JsonItem;
}
export type BackupLine = ManifestLine | ItemLine | TableEndLine | EndLine;

export function encodeLine(line: BackupLine): string {
  return `${JSON.stringify(line)}\n`;
}

/** One line of a decrypted backup; BackupFormatError unless it is one of the four kinds. */
export function parseLine(text: string): BackupLine {
  return parseJsonAs(
    text,
    backupLine,
    (why) =>
      new BackupFormatError(why.notJson ? 'line is not JSON' : 'line is not a backup line of a known kind'),
  ) as BackupLine;
}

/**
 * Checks the order and counts of a backup's lines as they stream past: a manifest first, each
 * table's items followed by its count, tables only from the manifest, each once, and an end line
 * whose counts agree. `finish()` throws unless the end line was seen.
 */
export class BackupChecker {
  private manifest: ManifestLine | undefined;
  private current: TableId | undefined;
  private currentCount = 0;
  private readonly counts: Partial<Record<TableId, number>> = {};
  private ended = false;

  get jobId(): string | undefined {
    return this.manifest?.job_id;
  }

  get itemCounts(): Readonly<Partial<Record<TableId, number>>> {
    return this.counts;
  }

  accept(line: BackupLine): void {
    const fail = (why: string) => new BackupFormatError(`backup is not well formed: ${why}`);
    if (this.ended) throw fail('lines after the end line');
    if (!this.manifest) {
      if (line.type !== 'manifest') throw fail('it does not start with a manifest');
      this.manifest = line;
      return;
    }
    switch (line.type) {
      case 'manifest':
        throw fail('a second manifest');
      case 'item':
        if (this.current === undefined) {
          if (!this.manifest.tables.includes(line.table) || this.counts[line.table] !== undefined) {
            throw fail(`items of table ${line.table} where none are expected`);
          }
          this.current = line.table;
        } else if (line.table !== this.current) {
          throw fail(`items of ${line.table} inside table ${this.current}`);
        }
        this.currentCount += 1;
        return;
      case 'table_end': {
        const counted = line.table === this.current ? this.currentCount : 0;
        if (this.current !== undefined && line.table !== this.current)
          throw fail(`table ${this.current} not closed`);
        if (!this.manifest.tables.includes(line.table) || this.counts[line.table] !== undefined) {
          throw fail(`unexpected end of table ${line.table}`);
        }
        if (line.count !== counted)
          throw fail(`table ${line.table} says ${line.count} items, holds ${counted}`);
        this.counts[line.table] = counted;
        this.current = undefined;
        this.currentCount = 0;
        return;
      }
      case 'end': {
        if (this.current !== undefined) throw fail(`table ${this.current} not closed`);
        const missing = this.manifest.tables.filter((t) => this.counts[t] === undefined);
        if (missing.length) throw fail(`tables ${missing.join(', ')} missing`);
        const total = Object.values(this.counts).reduce((sum, n) => sum + (n ?? 0), 0);
        const agrees =
          line.total_items === total &&
          this.manifest.tables.every((t) => line.item_counts[t] === this.counts[t]) &&
          Object.keys(line.item_counts).length === this.manifest.tables.length;
        if (!agrees) throw fail('the end line does not agree with the items');
        this.ended = true;
        return;
      }
    }
  }

  finish(): { jobId: string; itemCounts: Partial<Record<TableId, number>>; totalItems: number } {
    if (!this.ended || !this.manifest) throw new BackupFormatError('backup is not well formed: no end line');
    const totalItems = Object.values(this.counts).reduce((sum, n) => sum + (n ?? 0), 0);
    return { jobId: this.manifest.job_id, itemCounts: { ...this.counts }, totalItems };
  }
}
