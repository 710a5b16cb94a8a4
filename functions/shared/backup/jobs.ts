import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { BACKUP_KEY_PREFIX } from '../../../lib/definitions/backups';
import type { TableId } from '../../../lib/definitions/resources';
import { DynamoRepository } from '../dynamo-repository';
import { ID_PATTERN } from '../ids';
import { decodeCursor, encodeCursor, type Page } from '../pagination';

/**
 * Backup jobs in the system table: the job (pk `BACKUP#<id>`, sk `JOB`) and, for listing newest
 * first, a pointer (pk `BACKUPS`, sk `<id>`; ids sort by creation time). A job holds metadata
 * only (status, progress, counts, object key, size, checksum), never backed-up data.
 */
export type BackupStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type BackupTrigger = 'api' | 'schedule';

export interface BackupProgress {
  readonly tables_total: number;
  readonly tables_completed: number;
  readonly current_table: TableId | null;
  readonly items_exported: number;
}

export interface BackupResult {
  readonly bucket: string;
  readonly object_key: string;
  readonly item_counts: Partial<Record<TableId, number>>;
  readonly total_items: number;
  /** Bytes of the stored (encrypted) object. */
  readonly size_bytes: number;
  /** SHA-256 (hex) of the stored object, as written. */
  readonly sha256: string;
  readonly kms_key_id: string;
  readonly format_version: number;
}

export interface BackupJob {
  readonly id: string;
  readonly status: BackupStatus;
  readonly trigger: BackupTrigger;
  readonly requested_by: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly attempts: number;
  readonly started_at?: string;
  readonly finished_at?: string;
  readonly progress?: BackupProgress;
  readonly result?: BackupResult;
  readonly error?: { readonly code: string; readonly message: string };
}

export const BACKUP_ID_PREFIX = 'bkp';
const jobKey = (id: string) => ({ pk: `BACKUP#${id}`, sk: 'JOB' });
const LIST_PK = 'BACKUPS';

/** Where a job's export is written: below the backup prefix, by creation date. */
export function objectKeyFor(job: Pick<BackupJob, 'id' | 'created_at'>): string {
  const day = job.created_at.slice(0, 10).replaceAll('-', '/');
  return `${BACKUP_KEY_PREFIX}${day}/${job.id}.aebk`;
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * The job id of a scheduled backup, derived from the schedule event: the same event (delivered
 * twice) names the same job, so a redelivery resumes that job instead of starting another.
 * ULID layout like every other id: the event time, then 80 bits of SHA-256 of the event id.
 */
export function scheduledJobId(eventId: string, scheduledAt: string): string {
  const ms = Date.parse(scheduledAt);
  if (Number.isNaN(ms)) throw new Error('scheduled_at is not a time');
  let time = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    time = (CROCKFORD[value % 32] as string) + time;
    value = Math.floor(value / 32);
  }
  const digest = createHash('sha256').update(`schedule:${eventId}`).digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 10)) bits = (bits << 8n) | BigInt(byte);
  let random = '';
  for (let i = 0; i < 16; i++) {
    random = (CROCKFORD[Number(bits & 31n)] as string) + random;
    bits >>= 5n;
  }
  return `${BACKUP_ID_PREFIX}_${time}${random}`;
}

const apiMessage = z.object({
  version: z.literal(1),
  trigger: z.literal('api'),
  job_id: z.string().check(z.regex(ID_PATTERN)),
});
const scheduleMessage = z.object({
  version: z.literal(1),
  trigger: z.literal('schedule'),
  event_id: z.string().check(z.minLength(1), z.maxLength(256)),
  scheduled_at: z.iso.datetime(),
});
const backupMessage = z.discriminatedUnion('trigger', [apiMessage, scheduleMessage]);

/** The message on the backups queue: from the admin API (a job it created) or the daily schedule. */
export type BackupMessage = z.infer<typeof backupMessage>;

export class InvalidBackupMessageError extends Error {
  override readonly name = 'InvalidBackupMessageError';
}

export function parseBackupMessage(body: string): BackupMessage {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new InvalidBackupMessageError('message body is not JSON');
  }
  const parsed = backupMessage.safeParse(data);
  if (!parsed.success) throw new InvalidBackupMessageError('message is not a backup message v1');
  return parsed.data;
}

export function serializeBackupMessage(message: BackupMessage): string {
  return JSON.stringify(backupMessage.parse(message));
}

type Item = Record<string, unknown>;

function toJob(item: Item): BackupJob {
  const { pk: _pk, sk: _sk, ...job } = item;
  return job as unknown as BackupJob;
}

export interface NewJob {
  readonly id: string;
  readonly trigger: BackupTrigger;
  readonly requested_by: string;
  readonly created_at: string;
}

export class BackupJobStore extends DynamoRepository {
  constructor(client?: DynamoDBDocumentClient, table?: string) {
    super('system', client, table);
  }

  /** Creates the job and its list pointer together; false when a job with this id exists. */
  async create(job: NewJob): Promise<boolean> {
    const record: BackupJob = { ...job, status: 'queued', updated_at: job.created_at, attempts: 0 };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...jobKey(job.id), ...record },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.table, Item: { pk: LIST_PK, sk: job.id, job_id: job.id } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return false;
      }
      throw error;
    }
  }

  async get(id: string): Promise<BackupJob | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: jobKey(id), ConsistentRead: true }),
    );
    return out.Item ? toJob(out.Item) : undefined;
  }

  /** Jobs newest first, `limit` per page. */
  async list(limit: number, cursor?: string): Promise<Page<BackupJob>> {
    const binding = { list: 'backups' };
    const start = await decodeCursor(cursor, binding, (k) => k.pk === LIST_PK && typeof k.sk === 'string');
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': LIST_PK },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
    const ids = (out.Items ?? []).map((item) => item.job_id as string);
    const jobs = await this.getMany(ids);
    return {
      items: ids.map((id) => jobs.get(id)).filter((job): job is BackupJob => job !== undefined),
      next_cursor: await encodeCursor(out.LastEvaluatedKey as Record<string, string> | undefined, binding),
    };
  }

  private async getMany(ids: readonly string[]): Promise<Map<string, BackupJob>> {
    const found = new Map<string, BackupJob>();
    let keys = ids.map(jobKey);
    for (let attempt = 0; keys.length > 0 && attempt < 5; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await this.client.send(
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
      );
      for (const item of out.Responses?.[this.table] ?? []) found.set(item.id as string, toJob(item));
      keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as typeof keys;
    }
    if (keys.length > 0) throw new Error('backup jobs could not be read: DynamoDB left keys unprocessed');
    return found;
  }

  /** Marks the job running (one more attempt); undefined when it has already succeeded. */
  async start(id: string, now = new Date().toISOString()): Promise<BackupJob | undefined> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(id),
          UpdateExpression:
            'SET #status = :running, started_at = :now, updated_at = :now, attempts = attempts + :one REMOVE #error, #result, finished_at, progress',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :succeeded',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#result': 'result' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':succeeded': 'succeeded',
            ':now': now,
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toJob(out.Attributes as Item);
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async progress(id: string, progress: BackupProgress, now = new Date().toISOString()): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: jobKey(id),
        UpdateExpression: 'SET progress = :progress, updated_at = :now',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':progress': progress, ':now': now, ':running': 'running' },
      }),
    );
  }

  async succeed(id: string, result: BackupResult, progress: BackupProgress, now = new Date().toISOString()) {
    await this.finish(id, 'succeeded', { result, progress }, now);
  }

  async fail(id: string, error: { code: string; message: string }, now = new Date().toISOString()) {
    await this.finish(id, 'failed', { error }, now);
  }

  private async finish(id: string, status: BackupStatus, fields: Item, now: string): Promise<void> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status, ':now': now };
    const sets = ['#status = :status', 'updated_at = :now', 'finished_at = :now'];
    for (const [name, value] of Object.entries(fields)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: jobKey(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}
