import { platformScope } from '../shared/auth/context';
import { notFound } from '../shared/errors';
import { authOf, httpHandler, json } from '../shared/http';
import { pageSize } from '../shared/pagination';
import { issueApiKey } from '../shared/tenancy/api-keys';
import { DynamoTenantStore } from '../shared/tenancy/dynamo-store';
import { createApiKeyBody, createTenantBody } from '../shared/tenancy/schemas';
import { parseJsonBody } from '../shared/validation';

let store: DynamoTenantStore | undefined;
const tenants = () => {
  store ??= new DynamoTenantStore();
  return store;
};

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

  'POST /api/v1/admin/tenants/{id}/api-keys': async (request) => {
    const tenant = await existingTenant(request.params.id);
    const body = parseJsonBody(request, createApiKeyBody);
    const { record, key } = await issueApiKey(tenants(), platformScope(authOf(request), tenant.id), body);
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
});
