import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { COMMON_ENV_VARS, type TableId, tableDefinition } from '../contract/resources';
import { BackupJobStore } from '../functions/shared/features/backup/dynamo';
import { ErasedSubjectsFilter } from '../functions/shared/features/backup/rules/erased-subjects';
import {
  BACKUP_PURPOSE,
  BackupChecker,
  BackupFormatError,
  type BackupLine,
  type DynamoItem,
  fromJsonItem,
  parseLine,
} from '../functions/shared/features/backup/rules/format';
import { TOMBSTONE_SK } from '../functions/shared/features/gdpr/dynamo-tombstones';
import { dynamoClient, s3Client } from '../functions/shared/platform/aws/clients';
import { tableName as configuredTableName, requireEnv } from '../functions/shared/platform/config/resources';
import type { EncryptionContext, KeyProvider } from '../functions/shared/platform/crypto/keys';
import { decryptStream } from '../functions/shared/platform/crypto/stream';
import { scanPages } from './scan';

/**
 * Operator side of encrypted backups: decrypt one to a local file, restore a decrypted file into
 * tables. Progress goes to `progress` (stderr in the CLI); no item content is ever printed.
 */
export type Progress = (line: string) => void;

/** An operator asked for something unsafe (overwrite a file or non-empty tables) without --force. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/** Splits a byte stream into lines (UTF-8 decoded per line, so a character split across chunks survives). */
class LineSplitter {
  private pending: Buffer[] = [];

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, from)) {
      this.pending.push(chunk.subarray(from, at));
      lines.push(Buffer.concat(this.pending).toString('utf8'));
      this.pending = [];
      from = at + 1;
    }
    if (from < chunk.length) this.pending.push(chunk.subarray(from));
    return lines;
  }

  /** Bytes after the last newline: a complete backup has none. */
  get rest(): number {
    return this.pending.reduce((n, b) => n + b.length, 0);
  }
}

const formatCounts = (counts: Partial<Record<TableId, number>>) =>
  Object.entries(counts)
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');

export interface DecryptOptions {
  /** The job whose backup to decrypt (its object, bucket and checksum come from the job). */
  readonly jobId?: string;
  /** Or an object key in the backup bucket (`bucket`, else BACKUP_BUCKET). */
  readonly key?: string;
  readonly bucket?: string;
  readonly out: string;
  readonly force?: boolean;
  readonly progress: Progress;
  readonly s3?: S3Client;
  readonly keys?: KeyProvider;
  readonly jobs?: BackupJobStore;
}

export interface DecryptResult {
  readonly jobId: string;
  readonly bucket: string;
  readonly key: string;
  readonly itemCounts: Partial<Record<TableId, number>>;
  readonly totalItems: number;
  readonly sha256: string;
  readonly size: number;
}

async function source(options: Pick<DecryptOptions, 'jobId' | 'key' | 'bucket' | 'jobs'>) {
  if (options.jobId) {
    const job = await (options.jobs ?? new BackupJobStore()).get(options.jobId);
    if (!job) throw new Error(`backup job ${options.jobId} not found`);
    if (job.status !== 'succeeded' || !job.result) {
      throw new Error(`backup job ${options.jobId} has no backup to decrypt (status ${job.status})`);
    }
    return {
      bucket: job.result.bucket,
      key: job.result.object_key,
      sha256: job.result.sha256,
      context: { purpose: BACKUP_PURPOSE, scope: job.id } as EncryptionContext,
    };
  }
  if (!options.key) throw new Error('decrypt needs a job id or an object key');
  return { bucket: options.bucket ?? requireEnv(COMMON_ENV_VARS.backupBucket), key: options.key };
}

/**
 * Downloads a backup, checks every chunk's tag, the stream's completeness, the line structure
 * and counts and (for a job) the SHA-256 recorded when it was written, and only then moves the
 * decrypted file into place (mode 0600). A failed or tampered backup leaves no output file.
 */
export async function decryptBackup(options: DecryptOptions): Promise<DecryptResult> {
  if (existsSync(options.out) && !options.force) {
    throw new RefusedError(`${options.out} exists; pass --force to overwrite it`);
  }
  options.progress(`[1/3] Locating the backup${options.jobId ? ` of job ${options.jobId}` : ''} ...`);
  const from = await source(options);
  options.progress(`[2/3] Downloading and decrypting s3://${from.bucket}/${from.key} ...`);
  const object = await (options.s3 ?? s3Client()).send(
    new GetObjectCommand({ Bucket: from.bucket, Key: from.key }),
  );
  const body = object.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body || !(Symbol.asyncIterator in body)) throw new Error('the backup object has no body');

  const hash = createHash('sha256');
  let size = 0;
  async function* ciphertext(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.byteLength;
      yield chunk;
    }
  }
  const checker = new BackupChecker();
  const splitter = new LineSplitter();
  let scope: string | undefined;
  const check = (line: BackupLine) => {
    checker.accept(line);
    if (line.type === 'manifest') options.progress(`      job ${line.job_id}, created ${line.created_at}`);
    if (line.type === 'table_end') options.progress(`      ${line.table}: ${line.count} items`);
  };
  async function* plaintext(): AsyncGenerator<Buffer> {
    const decrypted = decryptStream(ciphertext(), {
      purpose: BACKUP_PURPOSE,
      ...(from.context ? { context: from.context } : {}),
      ...(options.keys ? { keys: options.keys } : {}),
      onHeader: (header) => {
        scope = header.context.scope;
        options.progress(`      encrypted under ${header.keyId}`);
      },
    });
    for await (const chunk of decrypted) {
      for (const line of splitter.push(chunk)) check(parseLine(line));
      yield chunk;
    }
  }

  const partial = `${options.out}.partial`;
  try {
    await pipeline(plaintext(), createWriteStream(partial, { mode: 0o600 }));
    if (splitter.rest > 0)
      throw new BackupFormatError('backup is not well formed: it does not end with a newline');
    const summary = checker.finish();
    const sha256 = hash.digest('hex');
    if (from.sha256 && !timingSafeEqual(Buffer.from(sha256, 'hex'), Buffer.from(from.sha256, 'hex'))) {
      throw new Error('the SHA-256 of the backup object is not the one recorded by its job');
    }
    if (summary.jobId !== scope)
      throw new BackupFormatError('the backup names another job than its encryption context');
    renameSync(partial, options.out);
    options.progress(
      `[3/3] Verified ${summary.totalItems} items (${formatCounts(summary.itemCounts)}); SHA-256 ${sha256}`,
    );
    return { ...summary, bucket: from.bucket, key: from.key, sha256, size };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

/** Lines of a byte stream, each parsed; a stream that does not end with a newline is refused. */
async function* linesOf(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<BackupLine> {
  const splitter = new LineSplitter();
  for await (const chunk of bytes) {
    for (const line of splitter.push(Buffer.from(chunk))) yield parseLine(line);
  }
  if (splitter.rest > 0)
    throw new BackupFormatError('backup is not well formed: it does not end with a newline');
}

export interface RestoreOptions {
  /** The job whose encrypted backup to restore (object, bucket and checksum from the job). */
  readonly jobId?: string;
  /** Or an encrypted backup object's key in the backup bucket (`bucket`, else BACKUP_BUCKET). */
  readonly key?: string;
  readonly bucket?: string;
  /** Or a decrypted file: only with `unsafePlaintext`, which is logged as a security event. */
  readonly file?: string;
  readonly unsafePlaintext?: boolean;
  readonly force?: boolean;
  readonly progress: Progress;
  readonly dynamo?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly keys?: KeyProvider;
  readonly jobs?: BackupJobStore;
  /** Physical table name of each table id; the configured tables (`*_TABLE`) by default. */
  readonly tableName?: (id: TableId) => string;
  /** Items per progress line within a table. */
  readonly progressEvery?: number;
  /** Where security events go: one JSON line on stderr by default. */
  readonly securityEvent?: (event: Record<string, unknown>) => void;
}

export interface RestoreResult {
  readonly jobId: string;
  readonly itemCounts: Partial<Record<TableId, number>>;
  /** Items written. */
  readonly written: number;
  /** Items left out because they would bring back an erased subject. */
  readonly dropped: Partial<Record<TableId, number>>;
}

const BATCH = 25;
const MAX_ATTEMPTS = 8;

async function writeBatch(dynamo: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS)
      throw new Error(`DynamoDB kept ${pending.length} writes to ${table} unprocessed`);
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
    const out = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
    pending = out.UnprocessedItems?.[table] ?? [];
  }
}

/** Every erasure tombstone of the target's audit table, so a restore drops what they cover. */
async function targetTombstones(dynamo: DynamoDBClient, table: string) {
  const found: { tenantId: string; hash: string; erasedAt: string }[] = [];
  const pages = scanPages(DynamoDBDocumentClient.from(dynamo), {
    TableName: table,
    FilterExpression: 'sk = :sk',
    ExpressionAttributeValues: { ':sk': TOMBSTONE_SK },
  });
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const match = /^TENANT#([^#]+)#TOMBSTONE#(.+)$/.exec(typeof item.pk === 'string' ? item.pk : '');
      if (match && typeof item.erased_at === 'string' && item.erased_at) {
        found.push({ tenantId: match[1] as string, hash: match[2] as string, erasedAt: item.erased_at });
      }
    }
  }
  return found;
}

/** The bytes to restore: an encrypted backup object, verified chunk by chunk, or a plaintext file. */
async function restoreSource(options: RestoreOptions, checks: { scope?: string; sha256?: string }) {
  if (options.file !== undefined) {
    if (options.jobId || options.key) throw new Error('restore takes one source: --job, --key or --file');
    if (!options.unsafePlaintext) {
      throw new RefusedError(
        'a plaintext file carries no authentication; restore from the encrypted backup (--job or --key), or pass --unsafe-plaintext to restore this file anyway',
      );
    }
    const event = {
      security_event: 'unsafe_plaintext_restore',
      at: new Date().toISOString(),
      operator: process.env.USER ?? process.env.USERNAME ?? 'unknown',
      file: options.file,
    };
    (options.securityEvent ?? ((e) => process.stderr.write(`${JSON.stringify(e)}\n`)))(event);
    options.progress(`      UNSAFE: restoring the plaintext file ${options.file}; it is not authenticated`);
    return { bytes: createReadStream(options.file) as AsyncIterable<Uint8Array> };
  }
  const from = await source(options);
  options.progress(
    `      reading s3://${from.bucket}/${from.key}, verifying each chunk before its items are written`,
  );
  const object = await (options.s3 ?? s3Client()).send(
    new GetObjectCommand({ Bucket: from.bucket, Key: from.key }),
  );
  const body = object.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body || !(Symbol.asyncIterator in body)) throw new Error('the backup object has no body');
  const hash = createHash('sha256');
  async function* ciphertext(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      yield chunk;
    }
  }
  const bytes = decryptStream(ciphertext(), {
    purpose: BACKUP_PURPOSE,
    ...(from.context ? { context: from.context } : {}),
    ...(options.keys ? { keys: options.keys } : {}),
    onHeader: (header) => {
      checks.scope = header.context.scope;
    },
  });
  return {
    bytes,
    /** After the whole object was read: its SHA-256 must be the one its job recorded. */
    verify: () => {
      const sha256 = hash.digest('hex');
      if (from.sha256 && !timingSafeEqual(Buffer.from(sha256, 'hex'), Buffer.from(from.sha256, 'hex'))) {
        throw new Error('the SHA-256 of the backup object is not the one recorded by its job');
      }
    },
  };
}

/**
 * Restores a backup into the tables, reading it once. From the encrypted object (by job or key)
 * every chunk's tag is verified before any of its items is written, the manifest must name the
 * job of the encryption context, and the object's SHA-256 must be the job's; a plaintext file
 * only with `unsafePlaintext`. Every line and value is checked as it streams; every target table
 * must be empty unless `force`. Items of subjects erased after they were created (the target's
 * tombstones) are left out. Should anything fail after writing began, what this restore wrote into
 * tables that were empty is deleted again, so a failed restore leaves them empty.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const dynamo = options.dynamo ?? dynamoClient();
  const nameOf = options.tableName ?? configuredTableName;
  const every = options.progressEvery ?? 5_000;

  options.progress('[1/3] Reading the erasure tombstones of the target ...');
  const filter = new ErasedSubjectsFilter(await targetTombstones(dynamo, nameOf('audit')));
  options.progress(`[2/3] Opening the backup${options.jobId ? ` of job ${options.jobId}` : ''} ...`);
  const checks: { scope?: string } = {};
  const from = await restoreSource(options, checks);

  const checker = new BackupChecker();
  const written = new Map<TableId, DynamoItem[]>();
  const emptyBefore = new Set<TableId>();
  let batch: WriteRequest[] = [];
  let count = 0;
  let total = 0;
  const flush = async (table: TableId) => {
    if (batch.length > 0) await writeBatch(dynamo, nameOf(table), batch);
    batch = [];
  };
  const put = async (table: TableId, items: DynamoItem[]) => {
    for (const item of items) {
      batch.push({ PutRequest: { Item: item } });
      if (emptyBefore.has(table)) written.get(table)?.push(keyOf(table, item));
      count += 1;
      total += 1;
      if (batch.length === BATCH) await flush(table);
      if (count % every === 0) options.progress(`      ${table}: ${count} items ...`);
    }
  };

  try {
    for await (const line of linesOf(from.bytes)) {
      checker.accept(line);
      if (line.type === 'manifest') {
        if (checks.scope !== undefined && line.job_id !== checks.scope) {
          throw new BackupFormatError('the backup names another job than its encryption context');
        }
        filter.checkOrder(line.tables);
        options.progress(`      backup of job ${line.job_id}, created ${line.created_at}`);
        await checkTargets(dynamo, nameOf, line.tables, options, emptyBefore);
        for (const table of emptyBefore) written.set(table, []);
        options.progress('[3/3] Writing items ...');
      } else if (line.type === 'item') {
        await put(line.table, filter.admit(line.table, fromJsonItem(line.item)));
      } else if (line.type === 'table_end') {
        await put(line.table, filter.endTable(line.table));
        await flush(line.table);
        options.progress(`      ${line.table}: ${line.count} items`);
        count = 0;
      }
    }
    const summary = checker.finish();
    from.verify?.();
    const dropped = Object.values(filter.dropped).reduce((sum, n) => sum + (n ?? 0), 0);
    if (dropped > 0)
      options.progress(
        `      left out ${dropped} items of erased subjects (${formatCounts(filter.dropped)})`,
      );
    return {
      jobId: summary.jobId,
      itemCounts: summary.itemCounts,
      written: total,
      dropped: { ...filter.dropped },
    };
  } catch (error) {
    await rollBack(dynamo, nameOf, written, options.progress);
    throw error;
  }
}

/** Every target table must be empty, unless `force`; the empty ones are noted for a roll-back. */
async function checkTargets(
  dynamo: DynamoDBClient,
  nameOf: (id: TableId) => string,
  tables: readonly TableId[],
  options: RestoreOptions,
  emptyBefore: Set<TableId>,
): Promise<void> {
  const occupied: string[] = [];
  for (const table of tables) {
    const name = nameOf(table);
    const probe = await dynamo.send(
      new ScanCommand({
        TableName: name,
        Limit: 1,
        ProjectionExpression: '#k',
        ExpressionAttributeNames: { '#k': tableDefinition(table).partitionKey },
      }),
    );
    if ((probe.Count ?? 0) > 0) occupied.push(`${table} (${name})`);
    else emptyBefore.add(table);
  }
  if (occupied.length > 0) {
    if (!options.force) {
      throw new RefusedError(`not empty: ${occupied.join(', ')}; pass --force to write into them anyway`);
    }
    options.progress(`      not empty, writing anyway (--force): ${occupied.join(', ')}`);
  }
}

function keyOf(table: TableId, item: DynamoItem): DynamoItem {
  const definition = tableDefinition(table);
  const key: DynamoItem = {};
  for (const name of [definition.partitionKey, definition.sortKey]) {
    const value = name ? item[name] : undefined;
    if (name && value) key[name] = value;
  }
  return key;
}

/** Deletes what a failed restore wrote into tables that were empty before it. */
async function rollBack(
  dynamo: DynamoDBClient,
  nameOf: (id: TableId) => string,
  written: Map<TableId, DynamoItem[]>,
  progress: Progress,
): Promise<void> {
  const total = [...written.values()].reduce((sum, keys) => sum + keys.length, 0);
  if (total === 0) return;
  progress(`      the restore failed: deleting the ${total} items it wrote ...`);
  for (const [table, keys] of written) {
    for (let i = 0; i < keys.length; i += BATCH) {
      await writeBatch(
        dynamo,
        nameOf(table),
        keys.slice(i, i + BATCH).map((Key) => ({ DeleteRequest: { Key } })),
      );
    }
  }
}
