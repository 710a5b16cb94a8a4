import type { Context, SQSRecord } from 'aws-lambda';
import { METRICS } from '../../contract/metrics';
import { COMMON_ENV_VARS } from '../../contract/resources';
import {
  BACKUP_ENCRYPTION_REQUIRED_MESSAGE,
  backupKeyId,
  reportBackupWithoutKey,
} from '../shared/features/backup/config';
import { BackupJobStore } from '../shared/features/backup/dynamo';
import {
  type BackupJob,
  type BackupProgress,
  objectKeyFor,
  parseBackupMessage,
  scheduledJobId,
} from '../shared/features/backup/model';
import { dynamoClient, s3Client } from '../shared/platform/aws/clients';
import { requireEnv, tableName } from '../shared/platform/config/resources';
import { lazy } from '../shared/platform/lazy';
import { logger, metrics } from '../shared/platform/observability';
import { queueHandler } from '../shared/platform/queues/handler';
import { exportTables } from './export';

const jobs = lazy(() => new BackupJobStore());

/** The job a message names: the admin API created it; a schedule event creates it here, once. */
async function jobOf(body: string): Promise<BackupJob> {
  const message = parseBackupMessage(body);
  let id: string;
  if (message.trigger === 'schedule') {
    id = scheduledJobId(message.event_id, message.scheduled_at);
    await jobs().create({
      id,
      trigger: 'schedule',
      requested_by: 'schedule',
      created_at: new Date().toISOString(),
    });
  } else {
    id = message.job_id;
  }
  const job = await jobs().get(id);
  if (!job) throw new Error(`backup job ${id} does not exist`);
  return job;
}

async function runJob(record: SQSRecord, context: Context | undefined): Promise<undefined> {
  let job: BackupJob;
  try {
    job = await jobOf(record.body);
  } catch (error) {
    logger.error('Backup message cannot be processed', { message_id: record.messageId, error });
    throw error;
  }
  if (job.status === 'succeeded') {
    logger.info('Backup job already completed', { job_id: job.id });
    return;
  }
  const keyId = backupKeyId();
  if (!keyId) {
    // Fail closed: nothing is exported, the job says why, the metric pages. Retrying cannot help.
    reportBackupWithoutKey({ ip: null, caller: { subject: job.requested_by }, request_id: job.id });
    await jobs().fail(job.id, {
      code: 'backup_encryption_required',
      message: BACKUP_ENCRYPTION_REQUIRED_MESSAGE,
    });
    return;
  }
  const bucket = requireEnv(COMMON_ENV_VARS.backupBucket);
  const started = await jobs().start(job.id);
  if (!started) return;
  logger.info('Backup started', { job_id: job.id, trigger: job.trigger, attempt: started.attempts });
  let progress: BackupProgress = {
    tables_total: 0,
    tables_completed: 0,
    current_table: null,
    items_exported: 0,
  };
  try {
    const result = await exportTables({
      jobId: job.id,
      createdAt: job.created_at,
      bucket,
      objectKey: objectKeyFor(job),
      keyId,
      dynamo: dynamoClient(),
      s3: s3Client(),
      tableName,
      onProgress: async (next) => {
        progress = next;
        await jobs().progress(job.id, next);
      },
      ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
    });
    await jobs().succeed(job.id, result, progress);
    metrics.addMetric(METRICS.backupCompleted, 'Count', 1);
    metrics.addMetric(METRICS.backupItems, 'Count', result.total_items);
    metrics.addMetric(METRICS.backupBytes, 'Bytes', result.size_bytes);
    logger.info('Backup completed', {
      job_id: job.id,
      object_key: result.object_key,
      total_items: result.total_items,
      size_bytes: result.size_bytes,
      sha256: result.sha256,
    });
  } catch (error) {
    metrics.addMetric(METRICS.backupAttemptFailed, 'Count', 1);
    logger.error('Backup failed; the message is retried, then dead-lettered', { job_id: job.id, error });
    await jobs().fail(job.id, {
      code: 'export_failed',
      message:
        'The export failed and is retried; after 3 attempts the job stays failed (see the backups DLQ).',
    });
    throw error;
  }
}

/** Backup jobs from the backups queue, one per message; a failed job is retried by SQS, then dead-lettered. */
export const handler = queueHandler('backups', { noun: 'backup message', handleRecord: runJob });
