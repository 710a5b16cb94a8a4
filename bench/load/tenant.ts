import { randomBytes } from 'node:crypto';

/**
 * A tenant ready to receive load: a token of its admin key, and its webhook sources connected
 * with secrets the load tool signs with. Works the same against the local stack and a deployed
 * stage (the key must be an admin key of a tenant kept for load tests: its Shopify, WooCommerce
 * and GoHighLevel connections are replaced).
 */
export interface LoadTenant {
  readonly baseUrl: string;
  readonly token: string;
  readonly shopify: { readonly domain: string; readonly secret: string };
  readonly woocommerce: { readonly store: string; readonly secret: string };
  /** Path of the tenant's GoHighLevel webhook URL (it holds the tenant's token). */
  readonly ghlPath: string;
}

export interface CallResult {
  status: number;
  body: Record<string, unknown>;
}

export async function callJson(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.authorization) headers.Authorization = options.authorization;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

function expectStatus(what: string, result: CallResult, ...statuses: number[]): CallResult {
  if (!statuses.includes(result.status)) {
    throw new Error(
      `${what} answered ${result.status} ${String(result.body.error ?? '')}: ${String(result.body.message ?? '')}`,
    );
  }
  return result;
}

/** Exchanges an API key for a 15-minute token. */
export async function exchangeKey(baseUrl: string, apiKey: string): Promise<string> {
  const out = expectStatus(
    'The API-key exchange',
    await callJson(baseUrl, 'POST', '/api/v1/auth/token', { authorization: `ApiKey ${apiKey}` }),
    200,
  );
  return out.body.access_token as string;
}

/** Connects the tenant's webhook sources under names unique to this run. */
export async function prepareTenant(baseUrl: string, apiKey: string, runId: string): Promise<LoadTenant> {
  const token = await exchangeKey(baseUrl, apiKey);
  const shopify = {
    domain: `load-${runId}.myshopify.com`,
    secret: randomBytes(24).toString('base64url'),
  };
  const woocommerce = {
    store: `https://load-${runId}.example.com`,
    secret: randomBytes(24).toString('base64url'),
  };
  const connect = async (what: string, integration: string, body: Record<string, string>) =>
    expectStatus(
      `Connecting ${what}`,
      await callJson(baseUrl, 'PUT', `/api/v1/integrations/${integration}`, { token, body }),
      200,
    );
  await connect('Shopify', 'shopify', { shop_domain: shopify.domain, webhook_secret: shopify.secret });
  await connect('WooCommerce', 'woocommerce', {
    store_url: woocommerce.store,
    webhook_secret: woocommerce.secret,
  });
  const ghl = await connect('GoHighLevel', 'ghl', {});
  return {
    baseUrl,
    token,
    shopify,
    woocommerce,
    ghlPath: new URL(ghl.body.webhook_url as string).pathname,
  };
}

/** Creates a tenant and an admin API key for it with a platform token (local stack only). */
export async function createTenantWithKey(
  baseUrl: string,
  platformToken: string,
  name: string,
): Promise<{ tenantId: string; apiKey: string }> {
  const tenant = expectStatus(
    'Creating a tenant',
    await callJson(baseUrl, 'POST', '/api/v1/admin/tenants', { token: platformToken, body: { name } }),
    201,
  );
  const tenantId = tenant.body.id as string;
  const key = expectStatus(
    'Creating an API key',
    await callJson(baseUrl, 'POST', `/api/v1/admin/tenants/${tenantId}/api-keys`, {
      token: platformToken,
      body: { name: 'load', role: 'admin' },
    }),
    201,
  );
  return { tenantId, apiKey: key.body.key as string };
}
