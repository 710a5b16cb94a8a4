import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { BACKUP_KEY_PREFIX } from '../../../../contract/backups';
import type { TableId } from '../../../../contract/resources';
import { ID_PATTERN } from '../../platform/ids';
import { parseMessage } from '../../platform/queues/message';

/** Backup jobs: what a job is, its ids and object key, and the message that asks for one. */
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

/** A message of the backups queue; InvalidMessageError (naming the wrong fields) otherwise. */
export const parseBackupMessage = (body: string): BackupMessage =>
  parseMessage(body, backupMessage, 'a backup message v1');

export function serializeBackupMessage(message: BackupMessage): string {
  return JSON.stringify(backupMessage.parse(message));
}
