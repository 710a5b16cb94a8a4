/**
 * How long data is kept (storage limitation, GDPR Art. 5(1)(e)). Leads and conversions expire a
 * tenant-chosen number of days after their last change; the consent audit trail, which holds the
 * subject's keyed hash and no other personal data, is kept for a fixed number of days after each
 * entry. DynamoDB's TTL deletes an item some time after its `expires_at` (epoch seconds) has
 * passed, so every read treats an item past it as gone already.
 */

/** The attribute DynamoDB's TTL reads, in epoch seconds, on every table that expires items. */
export const EXPIRY_ATTRIBUTE = 'expires_at';

export const MIN_RETENTION_DAYS = 90;
export const MAX_RETENTION_DAYS = 1_095;

/** A tenant's retention of leads and conversions, in days after their last change. */
export interface Retention {
  leads_days: number;
  conversions_days: number;
}

export const DEFAULT_RETENTION: Readonly<Retention> = { leads_days: 400, conversions_days: 400 };

/**
 * Days an audit entry is kept after it was written: six years, the longest limitation period a
 * controller may need the record of a consent or a data-subject request for.
 */
export const AUDIT_RETENTION_DAYS = 2_190;

const DAY_SECONDS = 86_400;

export function isRetentionDays(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= MIN_RETENTION_DAYS &&
    value <= MAX_RETENTION_DAYS
  );
}

/** The epoch second an item changed at `changedAt` expires, `days` later. */
export function expiryOf(changedAt: Date | string, days: number): number {
  const ms = typeof changedAt === 'string' ? Date.parse(changedAt) : changedAt.getTime();
  if (!Number.isFinite(ms)) throw new Error('expiryOf needs a valid time');
  return Math.floor(ms / 1000) + days * DAY_SECONDS;
}

/** Epoch seconds of `now`, the unit of {@link EXPIRY_ATTRIBUTE}. */
export function epochSeconds(now: Date = new Date()): number {
  return Math.floor(now.getTime() / 1000);
}

/**
 * An item whose expiry has passed: DynamoDB may not have deleted it yet (TTL works in the
 * background), and the local emulator never does. Items without an expiry never expire.
 */
export function isExpired(item: Record<string, unknown> | undefined, now: Date = new Date()): boolean {
  const expiresAt = item?.[EXPIRY_ATTRIBUTE];
  return typeof expiresAt === 'number' && expiresAt <= epochSeconds(now);
}

/** A DynamoDB filter keeping items that have not expired, with the value it names. */
export function notExpiredFilter(now: Date = new Date()): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, number>;
} {
  return {
    expression: 'attribute_not_exists(#expires_at) OR #expires_at > :now_seconds',
    names: { '#expires_at': EXPIRY_ATTRIBUTE },
    values: { ':now_seconds': epochSeconds(now) },
  };
}
