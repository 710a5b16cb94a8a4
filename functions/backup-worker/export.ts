import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { TABLES, type TableDefinition, type TableId } from '../../contract/resources';
import type { BackupProgress, BackupResult } from '../shared/features/backup/model';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BACKUP_PURPOSE,
  type BackupLine,
  encodeLine,
  toJsonItem,
} from '../shared/features/backup/rules/format';
import type { KeyProvider } from '../shared/platform/crypto/keys';
import { encryptStream } from '../shared/platform/crypto/stream';
import { MultipartUpload } from './upload';

export interface ExportOptions {
  readonly jobId: string;
  readonly createdAt: string;
  readonly bucket: string;
  readonly objectKey: string;
  /** BACKUP_KMS_KEY_ID: wraps the export's data key and encrypts the object at rest (SSE-KMS). */
  readonly keyId: string;
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  /** Physical table name of each table id. */
  readonly tableName: (id: TableId) => string;
  readonly tables?: readonly TableDefinition[];
  readonly keys?: KeyProvider;
  /** Called after each page of a table (at most every `progressEveryMs`) and after each table. */
  readonly onProgress?: (progress: BackupProgress) => Promise<void>;
  readonly progressEveryMs?: number;
  /** Milliseconds the invocation has left; the export stops cleanly before the function is cut off. */
  readonly remainingMs?: () => number;
  readonly chunkBytes?: number;
  readonly partBytes?: number;
}

/** Time kept back to abort the upload and record the failure before Lambda's timeout. */
export const SAFETY_MARGIN_MS = 30_000;

export class ExportTimeBudgetError extends Error {
  override readonly name = 'ExportTimeBudgetError';
}

/**
 * Exports every table to one encrypted object: each table is scanned page by page (consistent
 * reads), each item becomes a JSON line, the lines are encrypted as a chunked stream under a
 * fresh data key of the backup key bound to {purpose: backup, scope: <job id>}, and the
 * ciphertext is uploaded in parts as it is produced. Memory holds one scan page, one chunk and
 * one part, whatever the size of the tables. The export is consistent per item, not a snapshot
 * across tables; point-in-time recovery is the platform's snapshot layer.
 */
export async function exportTables(options: ExportOptions): Promise<BackupResult> {
  const tables = options.tables ?? TABLES;
  const counts: Partial<Record<TableId, number>> = {};
  let exported = 0;
  let completed = 0;
  let lastReport = 0;
  const every = options.progressEveryMs ?? 2_000;
  const report = async (current: TableId | null, force: boolean) => {
    if (!options.onProgress || (!force && Date.now() - lastReport < every)) return;
    lastReport = Date.now();
    await options.onProgress({
      tables_total: tables.length,
      tables_completed: completed,
      current_table: current,
      items_exported: exported,
    });
  };
  const line = (value: BackupLine) => Buffer.from(encodeLine(value), 'utf8');

  async function* lines(): AsyncGenerator<Buffer> {
    yield line({
      type: 'manifest',
      format: BACKUP_FORMAT,
      version: BACKUP_FORMAT_VERSION,
      job_id: options.jobId,
      created_at: options.createdAt,
      tables: tables.map((t) => t.id),
    });
    for (const table of tables) {
      let count = 0;
      let startKey: Record<string, AttributeValue> | undefined;
      await report(table.id, true);
      do {
        if (options.remainingMs && options.remainingMs() < SAFETY_MARGIN_MS) {
          throw new ExportTimeBudgetError('the export did not finish within the function timeout');
        }
        const page = await options.dynamo.send(
          new ScanCommand({
            TableName: options.tableName(table.id),
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        const items = page.Items ?? [];
        if (items.length > 0) {
          yield Buffer.from(
            items
              .map((item) => encodeLine({ type: 'item', table: table.id, item: toJsonItem(item) }))
              .join(''),
            'utf8',
          );
        }
        count += items.length;
        exported += items.length;
        startKey = page.LastEvaluatedKey;
        await report(table.id, false);
      } while (startKey);
      counts[table.id] = count;
      completed += 1;
      yield line({ type: 'table_end', table: table.id, count });
    }
    await report(null, true);
    yield line({ type: 'end', item_counts: counts, total_items: exported });
  }

  const upload = new MultipartUpload(options.s3, {
    bucket: options.bucket,
    key: options.objectKey,
    kmsKeyId: options.keyId,
    metadata: {
      format: BACKUP_FORMAT,
      'format-version': String(BACKUP_FORMAT_VERSION),
      'job-id': options.jobId,
    },
    ...(options.partBytes ? { partBytes: options.partBytes } : {}),
  });
  try {
    const encrypted = encryptStream(lines(), {
      keyId: options.keyId,
      context: { purpose: BACKUP_PURPOSE, scope: options.jobId },
      ...(options.keys ? { keys: options.keys } : {}),
      ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
    });
    for await (const bytes of encrypted) await upload.write(bytes);
    const stored = await upload.complete();
    return {
      bucket: options.bucket,
      object_key: options.objectKey,
      item_counts: counts,
      total_items: exported,
      size_bytes: stored.size,
      sha256: stored.sha256,
      kms_key_id: options.keyId,
      format_version: BACKUP_FORMAT_VERSION,
    };
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
}
