import { request as httpRequest } from 'node:http';
import type { LocalStack } from '../../local/stack';
import { assertDescribed } from '../support/contract';
import { googleAdsSettings } from '../support/google-ads-e2e';
import { startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

/**
 * The URLs the API hands out come from PUBLIC_BASE_URL, never from the Host header: with
 * `Host: attacker.example` the OAuth redirect_uri and the webhook URLs named the attacker's host.
 */
let stack: LocalStack;
let a: TestTenant;

/** A request whose Host header is the attacker's (node:http sends it as given). */
function withHost(method: string, path: string, token: string, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const target = new URL(path, stack.url);
  return new Promise<{ status: number; headers: Record<string, string>; body: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method,
          headers: {
            Host: 'attacker.example',
            'X-Forwarded-Host': 'attacker.example',
            'X-Forwarded-Proto': 'https',
            Authorization: `Bearer ${token}`,
            ...(text === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            const headers = Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
            );
            assertDescribed(method, path, res.statusCode ?? 0, new Headers(headers), raw);
            resolve({ status: res.statusCode ?? 0, headers, body: raw ? JSON.parse(raw) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    },
  );
}

describe('URLs handed out under a forged Host header', () => {
  beforeAll(async () => {
    stack = await startTestStack('publicurl');
    a = await createTenant(stack.url, 'Host Agency');
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('answers the configured base (the gateway address locally) in every webhook URL', async () => {
    expect(stack.env.PUBLIC_BASE_URL).toBe(stack.url);
    for (const [kind, body, path] of [
      [
        'shopify',
        { shop_domain: 'host-shop.myshopify.com', webhook_secret: 'host-secret-0123456789' },
        '/api/v1/shopify/webhook',
      ],
      [
        'woocommerce',
        { store_url: 'https://host-store.example.com', webhook_secret: 'host-secret-0123456789' },
        '/api/v1/woocommerce/webhook',
      ],
      ['ghl', {}, '/api/v1/ghl/webhook/'],
    ] as const) {
      const res = await withHost('PUT', `/api/v1/integrations/${kind}`, a.admin, body);
      expect([kind, res.status]).toEqual([kind, 200]);
      const url = String(res.body.webhook_url);
      expect(url.startsWith(`${stack.url}${path}`)).toBe(true);
      expect(url).not.toContain('attacker');
    }
  });

  it('sends Google the configured callback as redirect_uri', async () => {
    const saved = await withHost('PUT', '/api/v1/integrations/google-ads', a.admin, googleAdsSettings());
    expect(saved.status).toBe(200);
    const start = await withHost('GET', '/api/v1/integrations/google-ads/oauth/start', a.admin);
    expect(start.status).toBe(302);
    const location = new URL(start.headers.location ?? '');
    expect(location.searchParams.get('redirect_uri')).toBe(
      `${stack.url}/api/v1/integrations/google-ads/oauth/callback`,
    );
    expect(start.headers.location).not.toContain('attacker');
  });
});
