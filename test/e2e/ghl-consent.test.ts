/**
 * GoHighLevel as HighLevel delivers today (Ed25519 X-GHL-Signature, custom fields by id,
 * opportunities by contactId) and the tenant consent policy, over HTTP against the local stack.
 */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { LocalStack } from '../../local/stack';
// HighLevel's published samples, verbatim: marketplace.gohighlevel.com/docs/webhook/ContactCreate and
// /OpportunityStatusUpdate (GoHighLevel/highlevel-api-docs, docs/webhook events/*.md).
import ghlSampleContactCreate from '../fixtures/webhooks/ghl-sample-contact-create.json';
import ghlSampleOpportunityStatusUpdate from '../fixtures/webhooks/ghl-sample-opportunity-status-update.json';
// WooCommerce's published order (what an order webhook delivers), verbatim:
// https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
import wooSampleOrder from '../fixtures/webhooks/woocommerce-sample-order.json';
import { gclid } from '../support/click-ids';
import { subjectId } from '../support/gdpr';
import { request, send } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { createTenant, type TestTenant } from '../support/tenants';

const FIELD = 'BcdmQEsNgz6AVpgLVUJ0';
const STORE = 'https://us-store.example.com';
const WOO_SECRET = 'woocommerce-secret-of-us-0123456';

let stack: LocalStack;
let crm: TestTenant;
let shop: TestTenant;
let ghlPath: string;
const highLevel = generateKeyPairSync('ed25519');

const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);
const signed = (body: string, key: KeyObject = highLevel.privateKey) =>
  sign(null, Buffer.from(body, 'utf8'), key).toString('base64');
const deliver = (body: string, headers: Record<string, string>) =>
  send(stack.url, 'POST', ghlPath, body, { 'Content-Type': 'application/json', ...headers });

let wooDelivery = 0;
const woo = (order: unknown) => {
  const body = JSON.stringify(order);
  return send(stack.url, 'POST', '/api/v1/woocommerce/webhook', body, {
    'Content-Type': 'application/json',
    'X-WC-Webhook-Source': `${STORE}/`,
    'X-WC-Webhook-Topic': 'order.created',
    'X-WC-Webhook-Delivery-ID': `e2e-consent-${++wooDelivery}`,
    'X-WC-Webhook-Signature': createHmac('sha256', WOO_SECRET).update(body, 'utf8').digest('base64'),
  });
};

async function exportOf(tenant: TestTenant, email: string) {
  const res = await call('GET', `/api/v1/gdpr/subjects/${await subjectId(stack.url, tenant.admin, email)}`, {
    token: tenant.admin,
  });
  return res.body as {
    leads: Array<Record<string, unknown>>;
    conversions: Array<Record<string, unknown>>;
    audit: Array<{ action: string; details: Record<string, unknown> }>;
  };
}

/** The subject's export once its delivery was handled: a lead stored, or the refusal audited. */
const handled = (tenant: TestTenant, email: string) =>
  eventually(async () => {
    const exported = await exportOf(tenant, email);
    return exported.leads.length || exported.audit.some((a) => a.action === 'consent_refused')
      ? exported
      : undefined;
  }, `the delivery for ${email}`);

beforeAll(async () => {
  // A HighLevel of our own: the stack verifies with its public key, as base64 DER SPKI.
  process.env.GHL_WEBHOOK_PUBLIC_KEY = highLevel.publicKey
    .export({ type: 'spki', format: 'der' })
    .toString('base64');
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '0';
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  stack = await startTestStack('ghlc', { retryDelaySeconds: 0 });
  crm = await createTenant(stack.url, 'CRM Agency');
  shop = await createTenant(stack.url, 'US Storefront');
  const ghl = await call('PUT', '/api/v1/integrations/ghl', {
    token: crm.admin,
    body: { consent_field_id: ` ${FIELD} `, granted_values: ['Yes', 'opt-in', 'yes'] },
  });
  expect(ghl.status).toBe(200);
  expect(ghl.body).toEqual({
    consent_field_id: FIELD,
    granted_values: ['yes', 'opt-in'],
    updated_at: expect.any(String),
    webhook_url: expect.stringMatching(/\/api\/v1\/ghl\/webhook\/[A-Za-z0-9_-]{43}$/),
  });
  ghlPath = new URL(ghl.body.webhook_url as string).pathname;
  const store = await call('PUT', '/api/v1/integrations/woocommerce', {
    token: shop.admin,
    body: { store_url: STORE, webhook_secret: WOO_SECRET },
  });
  expect(store.status).toBe(200);
});

afterAll(async () => {
  await stack.stop();
  delete process.env.GHL_WEBHOOK_PUBLIC_KEY;
});

describe('GoHighLevel', () => {
  const contact = (id: string, consent: string) =>
    JSON.stringify({
      ...ghlSampleContactCreate,
      id,
      email: `${id}@example.com`,
      customFields: [
        { id: 'BcdmQEsNgz6AVpgLVUJ1', value: 'XYZ Corp' },
        { id: FIELD, value: consent },
      ],
      attributionSource: { url: `https://plumbing.example.com/?gclid=${gclid(88)}` },
      timestamp: new Date().toISOString(),
      webhookId: `wh-${id}`,
    });

  it('refuses unsigned, wrongly signed and X-WH-Signature-only deliveries with 401', async () => {
    const body = contact('refused-1', 'yes');
    const impostor = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const refusals: Record<string, string>[] = [
      {},
      { 'X-GHL-Signature': signed(body, impostor.privateKey) },
      { 'X-GHL-Signature': signed(contact('refused-2', 'yes')) },
      { 'X-GHL-Signature': 'not-a-signature' },
      { 'X-WH-Signature': sign('sha256', Buffer.from(body), rsa.privateKey).toString('base64') },
      { 'X-WH-Signature': signed(body) },
    ];
    for (const headers of refusals) {
      const res = await deliver(body, headers);
      expect([Object.keys(headers), res.status, res.body.error]).toEqual([
        Object.keys(headers),
        401,
        'invalid_signature',
      ]);
    }
  });

  it('accepts a delivery HighLevel signed; consent comes from the custom field the integration names', async () => {
    const yes = contact('ghl-yes', 'Yes');
    const no = contact('ghl-no', 'No');
    for (const body of [yes, no]) {
      const res = await deliver(body, { 'X-GHL-Signature': signed(body) });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ status: 'received', id: expect.stringMatching(/^wh_/) });
    }
    const granted = await handled(crm, 'ghl-yes@example.com');
    expect(granted.leads).toEqual([
      expect.objectContaining({
        external_id: 'ghl:ghl-yes',
        gclid: gclid(88),
        status: 'new',
        consent: expect.objectContaining({ status: 'granted', method: 'form_checkbox' }),
      }),
    ]);
    const denied = await handled(crm, 'ghl-no@example.com');
    expect(denied.leads).toEqual([]);
    expect(denied.audit).toContainEqual(
      expect.objectContaining({
        action: 'consent_refused',
        details: expect.objectContaining({ status: 'denied' }),
      }),
    );
  });

  it('an opportunity won by contactId wins the lead, with monetaryValue as its value, and its conversion', async () => {
    const body = JSON.stringify({
      ...ghlSampleOpportunityStatusUpdate,
      id: 'opp-e2e-1',
      contactId: 'ghl-yes',
      monetaryValue: 1850,
      status: 'won',
    });
    expect((await deliver(body, { 'X-GHL-Signature': signed(body) })).status).toBe(202);
    const exported = await eventually(async () => {
      const found = await exportOf(crm, 'ghl-yes@example.com');
      return found.leads[0]?.status === 'won' && found.conversions.length ? found : undefined;
    }, 'the won lead and its conversion');
    expect(exported.leads[0]).toMatchObject({ status: 'won', value: 1850 });
    expect(exported.conversions).toEqual([
      expect.objectContaining({
        platform: 'google_ads',
        order_id: 'opp-e2e-1',
        value: 1850,
        status: 'queued',
      }),
    ]);
  });
});

describe('the consent policy', () => {
  const order = (id: number, country: string, meta: Array<{ key: string; value: string }> = []) => ({
    ...wooSampleOrder,
    id,
    billing: { ...wooSampleOrder.billing, country, email: `buyer-${id}@example.com` },
    shipping: { ...wooSampleOrder.shipping, country },
    meta_data: [
      ...wooSampleOrder.meta_data,
      { id: 1, key: '_gclid', value: gclid(id) },
      ...meta.map((m, i) => ({ id: 2 + i, ...m })),
    ],
  });

  it('is explicit until an admin sets it; viewers read it, members cannot change it', async () => {
    expect((await call('GET', '/api/v1/settings/consent', { token: shop.viewer })).body).toEqual({
      policy: 'explicit',
    });
    const member = await call('PUT', '/api/v1/settings/consent', {
      token: shop.member,
      body: { policy: 'regional' },
    });
    expect(member.status).toBe(403);
    const invalid = await call('PUT', '/api/v1/settings/consent', {
      token: shop.admin,
      body: { policy: 'lax' },
    });
    expect(invalid.status).toBe(400);
    const set = await call('PUT', '/api/v1/settings/consent', {
      token: shop.admin,
      body: { policy: 'regional' },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ policy: 'regional', updated_at: expect.any(String) });
    expect((await call('GET', '/api/v1/settings/consent', { token: shop.viewer })).body).toEqual(set.body);
  });

  it('regional: a US order without consent becomes a lead not_required, with its conversion, shown in the export', async () => {
    expect((await woo(order(7001, 'US'))).status).toBe(202);
    const exported = await eventually(async () => {
      const found = await exportOf(shop, 'buyer-7001@example.com');
      return found.conversions.length ? found : undefined;
    }, 'the US lead and its conversion');
    expect(exported.leads).toEqual([
      expect.objectContaining({
        status: 'won',
        consent: { status: 'not_required', basis: 'regional_policy', country: 'US' },
      }),
    ]);
    expect(exported.conversions).toEqual([
      expect.objectContaining({ platform: 'google_ads', order_id: '7001', value: 29.35, currency: 'USD' }),
    ]);
  });

  it('regional: the leads API decides by the same rule, the country from the lead or its phone', async () => {
    const res = await call('POST', '/api/v1/leads', {
      token: shop.member,
      body: [
        { email: 'api-us@example.com', phone: '+1 650 253 0000', consent: { status: 'pending' } },
        { email: 'api-de@example.com', country: 'DE', consent: { status: 'pending' } },
        { email: 'api-nowhere@example.com', consent: { status: 'pending' } },
        { email: 'api-denied@example.com', country: 'US', consent: { status: 'denied' } },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ stored: 1, denied: 3 });
    expect((res.body.denied_leads as Array<{ index: number }>).map((d) => d.index)).toEqual([1, 2, 3]);
    const lead = await call('GET', `/api/v1/leads/${(res.body.lead_ids as string[])[0]}`, {
      token: shop.viewer,
    });
    expect(lead.body.consent).toEqual({ status: 'not_required', basis: 'regional_policy', country: 'US' });
  });

  it('regional: a DE order without consent and an explicitly denied US order are denied', async () => {
    expect((await woo(order(7002, 'DE'))).status).toBe(202);
    expect((await woo(order(7003, 'US', [{ key: '_consent_status', value: 'denied' }]))).status).toBe(202);
    for (const email of ['buyer-7002@example.com', 'buyer-7003@example.com']) {
      const exported = await handled(shop, email);
      expect([email, exported.leads, exported.conversions]).toEqual([email, [], []]);
      expect(exported.audit.map((a) => a.action)).toContain('consent_refused');
    }
  });
});
