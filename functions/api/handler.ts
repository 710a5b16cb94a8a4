import { hasRole, scopeOf } from '../shared/auth/context';
import { loadKeyring } from '../shared/auth/keyring';
import { API_TOKEN_SECONDS, signToken } from '../shared/auth/tokens';
import { forbidden, notFound } from '../shared/errors';
import { authOf, httpHandler, json } from '../shared/http';
import { issueApiKey } from '../shared/tenancy/api-keys';
import { DynamoTenantStore } from '../shared/tenancy/dynamo-store';
import { createApiKeyBody } from '../shared/tenancy/schemas';
import { parseJsonBody } from '../shared/validation';

let store: DynamoTenantStore | undefined;
const tenants = () => {
  store ??= new DynamoTenantStore();
  return store;
};

export const handler = httpHandler('api', {
  'POST /api/v1/auth/token': async (request) => {
    const auth = authOf(request);
    const token = await signToken(
      await loadKeyring(),
      { sub: auth.subject, org_id: auth.tenantId, role: auth.role },
      API_TOKEN_SECONDS,
    );
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: API_TOKEN_SECONDS });
  },

  'GET /api/v1/api-keys': async (request) => {
    const items = await tenants().listApiKeys(scopeOf(authOf(request)));
    return json(200, { items, next_cursor: null });
  },

  'POST /api/v1/api-keys': async (request) => {
    const auth = authOf(request);
    const body = parseJsonBody(request, createApiKeyBody);
    // Nobody hands out more than they hold.
    if (!hasRole(auth.role, body.role))
      throw forbidden('An API key cannot have a higher role than its creator');
    const { record, key } = await issueApiKey(tenants(), scopeOf(auth), body);
    return json(201, { ...record, key });
  },

  'DELETE /api/v1/api-keys/{id}': async (request) => {
    const revoked = await tenants().revokeApiKey(
      scopeOf(authOf(request)),
      request.params.id ?? '',
      new Date().toISOString(),
    );
    if (!revoked) throw notFound('API key not found');
    return { status: 204 };
  },
});
