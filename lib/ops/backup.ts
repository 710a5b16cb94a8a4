import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { dynamoClient, s3Client } from '../../functions/shared/aws';
import {
  BACKUP_PURPOSE,
  BackupChecker,
  BackupFormatError,
  type BackupLine,
  fromJsonItem,
  parseLine,
} from '../../functions/shared/backup/format';
import { BackupJobStore } from '../../functions/shared/backup/jobs';
import { tableName as configuredTableName, requireEnv } from '../../functions/shared/config';
import type { EncryptionContext, KeyProvider } from '../../functions/shared/crypto/keys';
import { decryptStream } from '../../functions/shared/crypto/stream';
import { COMMON_ENV_VARS, type TableId, tableDefinition } from '../definitions/resources';

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

async function source(options: DecryptOptions) {
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

async function* linesOf(file: string): AsyncGenerator<BackupLine> {
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of reader) yield parseLine(text);
}

export interface RestoreOptions {
  readonly file: string;
  readonly force?: boolean;
  readonly progress: Progress;
  readonly dynamo?: DynamoDBClient;
  /** Physical table name of each table id; the configured tables (`*_TABLE`) by default. */
  readonly tableName?: (id: TableId) => string;
  /** Items per progress line within a table. */
  readonly progressEvery?: number;
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

/**
 * Writes a decrypted backup into the tables. The whole file is checked first (structure, counts
 * and every attribute value); then every target table must be empty unless `force` (items with
 * the same key are then overwritten, others left as they are); then items are written in batches
 * of 25.
 */
export async function restoreBackup(
  options: RestoreOptions,
): Promise<{ jobId: string; itemCounts: Partial<Record<TableId, number>> }> {
  const dynamo = options.dynamo ?? dynamoClient();
  const nameOf = options.tableName ?? configuredTableName;
  const every = options.progressEvery ?? 5_000;

  options.progress(`[1/3] Checking ${options.file} ...`);
  const checker = new BackupChecker();
  let tables: TableId[] = [];
  for await (const line of linesOf(options.file)) {
    checker.accept(line);
    if (line.type === 'manifest') tables = line.tables;
    // Every value is checked here too: one malformed value must not leave a partial restore.
    else if (line.type === 'item') fromJsonItem(line.item);
  }
  const summary = checker.finish();
  options.progress(
    `      backup of job ${summary.jobId}: ${summary.totalItems} items (${formatCounts(summary.itemCounts)})`,
  );

  options.progress('[2/3] Checking that the target tables are empty ...');
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
  }
  if (occupied.length > 0) {
    if (!options.force) {
      throw new RefusedError(`not empty: ${occupied.join(', ')}; pass --force to write into them anyway`);
    }
    options.progress(`      not empty, writing anyway (--force): ${occupied.join(', ')}`);
  }

  options.progress('[3/3] Writing items ...');
  let batch: WriteRequest[] = [];
  let current: TableId | undefined;
  let written = 0;
  const flush = async () => {
    if (current && batch.length > 0) await writeBatch(dynamo, nameOf(current), batch);
    batch = [];
  };
  for await (const line of linesOf(options.file)) {
    if (line.type === 'item') {
      current = line.table;
      batch.push({ PutRequest: { Item: fromJsonItem(line.item) } });
      written += 1;
      if (batch.length === BATCH) await flush();
      if (written % every === 0) options.progress(`      ${line.table}: ${written} items ...`);
    } else if (line.type === 'table_end') {
      current = line.table;
      await flush();
      options.progress(`      ${line.table}: ${line.count} items`);
      written = 0;
      current = undefined;
    }
  }
  return { jobId: summary.jobId, itemCounts: summary.itemCounts };
}
