/**
 * Encrypted backups (docs/operations.md, Backups): where exports are written and when the scheduled one runs.
 * Pure data, read by the CDK stack and by the functions.
 */

/** Backup objects live under this key prefix of the backup bucket; IAM grants stop there. */
export const BACKUP_KEY_PREFIX = 'backups/';

/** The daily backup, in UTC (EventBridge cron fields). Off the hour, away from other jobs' peaks. */
export const BACKUP_SCHEDULE = { minute: '17', hour: '3' } as const;

/**
 * How long each backup is kept, locked against deletion (S3 Object Lock), before it expires:
 * 35 days of daily backups where data is protected (compliance mode: nobody, root included, can
 * shorten it), 1 day in governance mode elsewhere. An erasure reaches backups when they expire.
 */
export function backupRetention(settings: { readonly protectData: boolean }): {
  readonly days: number;
  readonly mode: 'COMPLIANCE' | 'GOVERNANCE';
} {
  return settings.protectData ? { days: 35, mode: 'COMPLIANCE' } : { days: 1, mode: 'GOVERNANCE' };
}
