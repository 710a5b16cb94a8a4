import {
  backupEncryptionRequired,
  backupKeyId,
  reportBackupWithoutKey,
} from '../shared/features/backup/config';
import { BackupJobStore } from '../shared/features/backup/dynamo';
import { BACKUP_ID_PREFIX, serializeBackupMessage } from '../shared/features/backup/model';
import { DynamoAuditTrail } from '../shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../shared/features/gdpr/dynamo-tombstones';
import { admitUnlessErased } from '../shared/features/gdpr/rules/deliveries';
import { loadEmailHasher } from '../shared/features/leads/rules/email-hash';
import { DynamoTenantStore } from '../shared/features/tenancy/dynamo';
import { platformScope } from '../shared/features/tenancy/rules/scope';
import { createApiKeyBody, createTenantBody, updateTenantBody } from '../shared/features/tenancy/schema';
import { issueApiKey } from '../shared/features/tenancy/service';
import { pageSize } from '../shared/platform/dynamo/pagination';
import { actorOf } from '../shared/platform/http/actor';
import { notFound } from '../shared/platform/http/errors';
import { authOf, httpHandler, json } from '../shared/platform/http/handler';
import { parseJsonBody, parseWith } from '../shared/platform/http/validation';
import { newId } from '../shared/platform/ids';
import { lazy } from '../shared/platform/lazy';
import { logger } from '../shared/platform/observability';
import { peekDeadLetters, redriveDeadLetters } from '../shared/platform/queues/dead-letters';
import { sendMessage } from '../shared/platform/queues/publisher';
import { dlqQuery, REDRIVABLE, redriveBody } from '../shared/platform/queues/schemas';

const tenants = lazy(() => new DynamoTenantStore());

const backups = lazy(() => new BackupJobStore());

async function existingTenant(id: string | undefined) {
  const tenant = id ? await tenants().getTenant(id) : undefined;
  if (!tenant) throw notFound('Tenant not found');
  return tenant;
}

export const handler = httpHandler('admin', {
  'POST /api/v1/admin/tenants': async (request) => {
    const { name } = parseJsonBody(request, createTenantBody);
    const tenant = await tenants().createTenant(name);
    return json(201, tenant);
  },

  'GET /api/v1/admin/tenants': async (request) => {
    const page = await tenants().listTenants(pageSize(request.query.limit), request.query.cursor);
    return json(200, page);
  },

  'GET /api/v1/admin/tenants/{id}': async (request) => json(200, await existingTenant(request.params.id)),

  /**
   * Suspends or reactivates a tenant, with an entry in its status history. Its API keys stop (or
   * start) working at once; its tokens within the instances' standing cache bound.
   */
  'PATCH /api/v1/admin/tenants/{id}': async (request) => {
    const tenant = await existingTenant(request.params.id);
    const { status } = parseJsonBody(request, updateTenantBody);
    const actor = authOf(request).subject;
    const updated = await tenants().setTenantStatus(tenant.id, status, {
      at: new Date().toISOString(),
      actor,
      ip: request.sourceIp,
      request_id: request.requestId,
    });
    if (!updated) throw notFound('Tenant not found');
    logger.info('Security event: tenant status changed', {
      event: 'tenant_status_changed',
      tenant_id: tenant.id,
      from: tenant.status,
      to: status,
      actor,
      request_id: request.requestId,
    });
    return json(200, updated);
  },

  'POST /api/v1/admin/tenants/{id}/api-keys': async (request) => {
    const tenant = await existingTenant(request.params.id);
    const body = parseJsonBody(request, createApiKeyBody);
    const auth = authOf(request);
    // A platform admin hands out any role of a tenant; the key records who did.
    const creator = { subject: auth.subject, role: auth.role, via: 'platform' as const };
    const { record, key } = await issueApiKey(tenants(), platformScope(auth, tenant.id), body, creator);
    return json(201, { ...record, key });
  },

  'DELETE /api/v1/admin/tenants/{id}/api-keys/{keyId}': async (request) => {
    const tenant = await existingTenant(request.params.id);
    const revoked = await tenants().revokeApiKey(
      platformScope(authOf(request), tenant.id),
      request.params.keyId ?? '',
      new Date().toISOString(),
    );
    if (!revoked) throw notFound('API key not found');
    return { status: 204 };
  },

  /** Fails closed without a backup key (docs/operations.md, Backups); otherwise queues the job for the backup worker. */
  'POST /api/v1/admin/backups': async (request) => {
    const auth = authOf(request);
    if (!backupKeyId()) {
      reportBackupWithoutKey({
        ip: request.sourceIp,
        caller: { subject: auth.subject, tenant_id: auth.tenantId, role: auth.role },
        request_id: request.requestId,
      });
      throw backupEncryptionRequired();
    }
    const id = newId(BACKUP_ID_PREFIX);
    await backups().create({
      id,
      trigger: 'api',
      requested_by: auth.subject,
      created_at: new Date().toISOString(),
    });
    try {
      await sendMessage('backups', {
        body: serializeBackupMessage({ version: 1, trigger: 'api', job_id: id }),
      });
    } catch (error) {
      await backups()
        .fail(id, { code: 'enqueue_failed', message: 'The job could not be queued; start another backup.' })
        .catch((cause: unknown) =>
          logger.error('Backup job could not be marked failed', { job_id: id, error: cause }),
        );
      throw error;
    }
    logger.info('Backup requested', { job_id: id, requested_by: auth.subject });
    const job = await backups().get(id);
    return json(202, job, { Location: `/api/v1/admin/backups/${id}` });
  },

  'GET /api/v1/admin/backups': async (request) =>
    json(200, await backups().list(pageSize(request.query.limit), request.query.cursor)),

  'GET /api/v1/admin/backups/{id}': async (request) => {
    const job = await backups().get(request.params.id ?? '');
    if (!job) throw notFound('Backup job not found');
    return json(200, job);
  },

  /** Dead letters of each queue (or of `?queue=`): reason, attempts, when; never the payload. */
  'GET /api/v1/admin/dlq': async (request) => {
    const { queue } = parseWith(dlqQuery, request.query);
    const queues = queue ? [queue] : REDRIVABLE;
    const items = [];
    for (const id of queues) items.push(...(await peekDeadLetters(id, 10)));
    return json(200, { items, next_cursor: null });
  },

  'POST /api/v1/admin/dlq/redrive': async (request) => {
    const body = parseJsonBody(request, redriveBody);
    const auth = authOf(request);
    // A dead-lettered delivery for a person erased since is dropped, not redriven.
    const admit =
      body.queue === 'webhooks'
        ? admitUnlessErased(
            {
              guard: { tombstones: new DynamoTombstones(), hash: await loadEmailHasher() },
              audit: new DynamoAuditTrail(),
              scopeFor: (tenantId) => platformScope(auth, tenantId),
            },
            actorOf(request),
          )
        : undefined;
    const result = await redriveDeadLetters(body.queue, { max: body.max, ...(admit ? { admit } : {}) });
    logger.info('Dead letters redriven', { ...result, requested_by: authOf(request).subject });
    return json(200, result);
  },
});
