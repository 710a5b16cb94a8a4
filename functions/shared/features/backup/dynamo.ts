import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor, type Page } from '../../platform/dynamo/pagination';
import { DynamoRepository } from '../../platform/dynamo/repository';
import type { BackupJob, BackupProgress, BackupResult, BackupStatus, BackupTrigger } from './model';

/**
 * Backup jobs in the system table: the job (pk `BACKUP#<id>`, sk `JOB`) and, for listing newest
 * first, a pointer (pk `BACKUPS`, sk `<id>`; ids sort by creation time). A job holds metadata
 * only (status, progress, counts, object key, size, checksum), never backed-up data.
 */
const jobKey = (id: string) => ({ pk: `BACKUP#${id}`, sk: 'JOB' });
const LIST_PK = 'BACKUPS';

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
    return this.conditionally(
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
