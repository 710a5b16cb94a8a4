/**
 * The one route table. The CDK API construct builds API Gateway resources from it, the local
 * gateway serves it, and handlers look up a route's auth kind and minimum role in it.
 * Pure data: no AWS SDK or CDK imports.
 */
import type { FunctionId } from './resources';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Role = 'viewer' | 'member' | 'admin' | 'owner';
export const ROLES: readonly Role[] = ['viewer', 'member', 'admin', 'owner'];

/** The Cognito resource server of machine-to-machine clients; one scope per role. */
export const COGNITO_RESOURCE_SERVER_ID = 'adsengineer-api';

/**
 * How a route authenticates:
 * - `none`: public.
 * - `jwt`: bearer token of a tenant user, role at least `minRole`.
 * - `apiKey`: `Authorization: ApiKey <key>`.
 * - `platformAdmin`: bearer token of an admin or owner of the platform organisation.
 * - `signature`: a webhook sender's signature over the raw body, verified by the handler.
 */
export type AuthKind = 'none' | 'jwt' | 'apiKey' | 'platformAdmin' | 'signature';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway resource path template, e.g. `/api/v1/leads/{id}`. */
  readonly path: string;
  readonly functionId: FunctionId;
  readonly auth: AuthKind;
  readonly minRole?: Role;
  readonly summary: string;
}

export const ROUTES: readonly RouteDefinition[] = [
  { method: 'GET', path: '/health', functionId: 'health', auth: 'none', summary: 'Liveness and readiness' },
  {
    method: 'GET',
    path: '/api/v1/openapi.json',
    functionId: 'api',
    auth: 'none',
    summary: 'The OpenAPI 3.1 document of this API',
  },
  {
    method: 'GET',
    path: '/api/v1/storefront.js',
    functionId: 'api',
    auth: 'none',
    summary:
      "The storefront script a Shopify theme loads: ad click ids, _fbp and the visitor's consent into the cart's attributes",
  },
  {
    method: 'POST',
    path: '/api/v1/auth/token',
    functionId: 'api',
    auth: 'apiKey',
    summary: 'Exchange an API key for a JWT of at most 15 minutes',
  },
  {
    method: 'GET',
    path: '/api/v1/api-keys',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: "List the tenant's API keys (never the keys themselves)",
  },
  {
    method: 'POST',
    path: '/api/v1/api-keys',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Create an API key for the tenant; the key is shown once',
  },
  {
    method: 'DELETE',
    path: '/api/v1/api-keys/{id}',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: "Revoke one of the tenant's API keys",
  },
  {
    method: 'GET',
    path: '/api/v1/integrations',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'viewer',
    summary: "The tenant's connections: each one's status, why it stopped, and its settings (no secret)",
  },
  {
    method: 'PUT',
    path: '/api/v1/integrations/shopify',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Connect a Shopify shop: its domain and webhook secret (write-only)',
  },
  {
    method: 'PUT',
    path: '/api/v1/integrations/woocommerce',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Connect a WooCommerce store: its URL and webhook secret (write-only)',
  },
  {
    method: 'PUT',
    path: '/api/v1/integrations/google-ads',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Connect a Google Ads account: ids, OAuth client and refresh token (secrets write-only)',
  },
  {
    method: 'GET',
    path: '/api/v1/integrations/google-ads/oauth/start',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: "Redirect to Google's consent screen with a signed, expiring, single-use state",
  },
  {
    method: 'GET',
    path: '/api/v1/integrations/google-ads/oauth/callback',
    functionId: 'api',
    // Google's redirect carries no token: the signed single-use state names tenant and user.
    auth: 'none',
    summary: 'Google redirects here: the state is consumed, the code exchanged, the refresh token sealed',
  },
  {
    method: 'PUT',
    path: '/api/v1/integrations/meta',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Connect a Meta pixel (dataset): its id and Conversions API access token (write-only)',
  },
  {
    method: 'PUT',
    path: '/api/v1/integrations/ghl',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary:
      'A new GoHighLevel webhook URL holding the tenant token (shown once), and which contact custom field holds consent',
  },
  {
    method: 'GET',
    path: '/api/v1/settings/consent',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'viewer',
    summary: "The tenant's consent policy",
  },
  {
    method: 'PUT',
    path: '/api/v1/settings/consent',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary:
      "Set the tenant's consent policy: explicit, or regional (consent not required outside the EEA, the UK and Switzerland)",
  },
  {
    method: 'GET',
    path: '/api/v1/settings/retention',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'viewer',
    summary: "How long the tenant's leads and conversions are kept, and its audit trail",
  },
  {
    method: 'PUT',
    path: '/api/v1/settings/retention',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary:
      "Set how long the tenant's leads and conversions are kept after their last change (90 to 1,095 days)",
  },
  {
    method: 'POST',
    path: '/api/v1/shopify/webhook',
    functionId: 'ingest',
    auth: 'signature',
    summary:
      'Shopify webhooks (X-Shopify-Hmac-Sha256 over the raw body), the mandatory compliance topics included',
  },
  {
    method: 'POST',
    path: '/api/v1/woocommerce/webhook',
    functionId: 'ingest',
    auth: 'signature',
    summary: 'WooCommerce webhooks (X-WC-Webhook-Signature over the raw body)',
  },
  {
    method: 'POST',
    path: '/api/v1/ghl/webhook/{webhookToken}',
    functionId: 'ingest',
    auth: 'signature',
    summary: 'GoHighLevel webhooks to the per-tenant URL, signed by HighLevel (X-GHL-Signature, Ed25519)',
  },
  {
    method: 'GET',
    path: '/api/v1/billing',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'viewer',
    summary: "The tenant's subscription status, as last confirmed with Stripe",
  },
  {
    method: 'POST',
    path: '/api/v1/billing/portal',
    functionId: 'api',
    auth: 'jwt',
    minRole: 'admin',
    summary:
      "A Stripe billing portal session for the tenant's customer: {url} (503 while Stripe is unavailable)",
  },
  {
    method: 'POST',
    path: '/api/v1/billing/webhooks/stripe',
    functionId: 'ingest',
    auth: 'signature',
    summary: 'Stripe subscription and invoice events (Stripe-Signature)',
  },
  {
    method: 'POST',
    path: '/api/v1/leads',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'member',
    summary: 'Capture one lead or up to 100; only leads with valid consent are stored',
  },
  {
    method: 'GET',
    path: '/api/v1/leads',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'viewer',
    summary: 'List leads, newest first (cursor, status, created-at range)',
  },
  {
    method: 'GET',
    path: '/api/v1/leads/{id}',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'viewer',
    summary: 'Read a lead',
  },
  {
    method: 'PATCH',
    path: '/api/v1/leads/{id}',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'member',
    summary: 'Change a lead status; won queues its conversions',
  },
  {
    method: 'GET',
    path: '/api/v1/conversions',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'viewer',
    summary:
      'The conversion log (cursor; ?status= newest conversion time first): status, attempts, last error',
  },
  {
    method: 'GET',
    path: '/api/v1/conversions/{id}',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'viewer',
    summary:
      'Read a conversion: status, attempts, last error, Google request id and processing outcome, adjustments',
  },
  {
    method: 'POST',
    path: '/api/v1/conversions',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'member',
    summary:
      'Queue a conversion for a lead or a raw click id (202); the same lead or order again answers 200 with it',
  },
  {
    method: 'POST',
    path: '/api/v1/conversions/{id}/adjustments',
    functionId: 'leads',
    auth: 'jwt',
    minRole: 'member',
    summary:
      'Retract or restate an uploaded Google Ads conversion (202); the same adjustment again answers 200',
  },
  {
    method: 'POST',
    path: '/api/v1/gdpr/subjects',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'member',
    summary: "The tenant's opaque subject id of an email (alike whether or not data is held)",
  },
  {
    method: 'GET',
    path: '/api/v1/gdpr/subjects/{subject_id}',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Export everything held for a data subject (Art. 15/20)',
  },
  {
    method: 'DELETE',
    path: '/api/v1/gdpr/subjects/{subject_id}',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'admin',
    summary: "Erase a data subject's personal data (Art. 17)",
  },
  {
    method: 'PATCH',
    path: '/api/v1/gdpr/subjects/{subject_id}',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'Rectify (Art. 16) or restrict processing of (Art. 18) a data subject',
  },
  {
    method: 'POST',
    path: '/api/v1/gdpr/subjects/{subject_id}/consent',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'member',
    summary: "Record a data subject's consent change (grant or withdraw)",
  },
  {
    method: 'GET',
    path: '/api/v1/gdpr/audit',
    functionId: 'gdpr',
    auth: 'jwt',
    minRole: 'admin',
    summary: 'The consent and data-subject-request audit trail, by subject id or for the tenant',
  },
  {
    method: 'GET',
    path: '/api/v1/admin/dlq',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Dead-lettered messages: reason, attempts, when (never the payload)',
  },
  {
    method: 'POST',
    path: '/api/v1/admin/dlq/redrive',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Move dead-lettered messages back to their queue',
  },
  {
    method: 'POST',
    path: '/api/v1/admin/tenants',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Create a tenant',
  },
  {
    method: 'GET',
    path: '/api/v1/admin/tenants',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'List tenants',
  },
  {
    method: 'GET',
    path: '/api/v1/admin/tenants/{id}',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Read a tenant',
  },
  {
    method: 'PATCH',
    path: '/api/v1/admin/tenants/{id}',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: "Suspend or reactivate a tenant: a suspended tenant's keys and tokens stop working",
  },
  {
    method: 'POST',
    path: '/api/v1/admin/tenants/{id}/api-keys',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Create an API key for a tenant; the key is shown once',
  },
  {
    method: 'DELETE',
    path: '/api/v1/admin/tenants/{id}/api-keys/{keyId}',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: "Revoke a tenant's API key",
  },
  {
    method: 'POST',
    path: '/api/v1/admin/backups',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Start an encrypted backup of every table; 202 with the job id',
  },
  {
    method: 'GET',
    path: '/api/v1/admin/backups',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'List backup jobs, newest first',
  },
  {
    method: 'GET',
    path: '/api/v1/admin/backups/{id}',
    functionId: 'admin',
    auth: 'platformAdmin',
    summary: 'Progress of a backup job; when done its object key, item counts, size and SHA-256',
  },
];

export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

export function findRoute(method: string, resourcePath: string): RouteDefinition | undefined {
  const key = routeKey(method, resourcePath);
  return ROUTES.find((r) => routeKey(r.method, r.path) === key);
}

export function routesOf(functionId: FunctionId): RouteDefinition[] {
  return ROUTES.filter((r) => r.functionId === functionId);
}

/** Splits a template into segments; `{name}` segments are parameters. */
export function matchPath(template: string, actual: string): Record<string, string> | undefined {
  const t = template.split('/').filter(Boolean);
  const a = actual.split('/').filter(Boolean);
  if (t.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] as string;
    const val = a[i] as string;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(val);
      } catch {
        return undefined;
      }
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}
