import type { Page } from '../../platform/dynamo/pagination';
import type { TenantScope } from '../tenancy/rules/scope';
import type { Actor, AuditAction, AuditRecord } from './model';

/**
 * The consent and data-subject audit trail as the rules use it, whatever holds it (the DynamoDB
 * adapter is audit.ts): append-only, keyed by the subject's email hash.
 */
export interface AuditTrail {
  append(
    scope: TenantScope,
    action: AuditAction,
    emailHash: string,
    actor: Actor,
    details: AuditRecord['details'],
  ): Promise<AuditRecord>;
  /** A page of the subject's entries (a tenant's, without a hash), newest first. */
  list(
    scope: TenantScope,
    emailHash: string | undefined,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditRecord>>;
}
