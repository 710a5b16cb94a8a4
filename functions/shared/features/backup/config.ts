import { METRICS } from '../../../../contract/metrics';
import { COMMON_ENV_VARS } from '../../../../contract/resources';
import { DomainError } from '../../platform/errors/domain';
import { logger, metrics } from '../../platform/observability';

/**
 * The backup key: BACKUP_KMS_KEY_ID, or undefined when it is unset or empty. Without it no
 * backup runs (fail closed): nothing is exported unencrypted, ever.
 */
export function backupKeyId(): string | undefined {
  const value = process.env[COMMON_ENV_VARS.backupKmsKeyId];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export const BACKUP_ENCRYPTION_REQUIRED_MESSAGE =
  'Cannot perform backup without encryption key. Contact administrator.';

/** The 503 of a backup requested while no backup key is configured (docs/api.md, Errors; docs/operations.md, Backups). */
export function backupEncryptionRequired(): DomainError {
  return new DomainError('unavailable', 'backup_encryption_required', BACKUP_ENCRYPTION_REQUIRED_MESSAGE, {
    code: 'BACKUP_ENCRYPTION_REQUIRED',
  });
}

export interface BackupAttempt {
  /** The caller's address as the gateway saw it; null for the schedule. */
  readonly ip: string | null;
  readonly caller: { readonly subject: string; readonly tenant_id?: string; readonly role?: string };
  readonly request_id: string;
}

/**
 * The security event of a backup attempted without a key: one structured log line
 * (`event: backup_attempt_without_key`) and the metric whose alarm pages on-call.
 */
export function reportBackupWithoutKey(attempt: BackupAttempt, now = new Date()): void {
  logger.warn('Security event: backup refused, no backup encryption key configured', {
    event: 'backup_attempt_without_key',
    ip: attempt.ip,
    timestamp: now.toISOString(),
    caller: attempt.caller,
    request_id: attempt.request_id,
  });
  metrics.addMetric(METRICS.backupAttemptWithoutKey, 'Count', 1);
}
