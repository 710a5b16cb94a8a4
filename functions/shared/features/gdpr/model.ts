/** The consent and data-subject audit trail's records: who did what to whose data, and when. */
export const AUDIT_ACTIONS = [
  'consent_recorded',
  'consent_refused',
  'consent_changed',
  'export',
  'erasure',
  'rectification',
  'restriction',
  'data_request_received',
  /** Data created before the subject's erasure was dropped instead of re-creating them. */
  'erasure_upheld',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted, from where: the verified caller and the gateway's view of the request. */
export interface Actor {
  subject: string;
  ip: string;
  request_id: string;
}

/**
 * One audit record. Holds the subject's keyed email hash, never the address, so it survives
 * erasure as the tombstone the erasure leaves; the caller's address only as its network (see
 * `networkOf` in audit.ts). Kept AUDIT_RETENTION_DAYS (retention/policy.ts) days, then DynamoDB's TTL deletes it.
 */
export interface AuditRecord {
  id: string;
  at: string;
  action: AuditAction;
  email_hash: string;
  actor: string;
  ip: string;
  request_id: string;
  details: Record<string, string | number | boolean>;
}
