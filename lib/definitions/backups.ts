/**
 * Encrypted backups (CONTRACT.md §5): where exports are written and when the scheduled one runs.
 * Pure data, read by the CDK stack and by the functions.
 */

/** Backup objects live under this key prefix of the backup bucket; IAM grants stop there. */
export const BACKUP_KEY_PREFIX = 'backups/';

/** The daily backup, in UTC (EventBridge cron fields). Off the hour, away from other jobs' peaks. */
export const BACKUP_SCHEDULE = { minute: '17', hour: '3' } as const;
