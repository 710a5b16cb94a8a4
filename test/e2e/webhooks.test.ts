import { createHmac } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { tableDefinition } from '../../contract/resources';
import { createTableInput } from '../../local/bootstrap';
import { type FakeStripe, startFakeStripe } from '../../local/fake-stripe';
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { gbraid, gclid } from '../support/click-ids';
import { emulatorUrl } from '../support/emulator';
import { subjectId } from '../support/gdpr';
import { request, send } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import {
  bannerConsent,
  connectShopify,
  deliverShopify,
  listLeads,
  paidShopifyOrder,
  waitForLead,
} from '../support/shopify';
import { createTenants, type TestTenant, tokenFor } from '../support/tenants';

const SHOP = 'agency-a-shop.myshopify.com';
const SHOP_SECRET = 'shopify-webhook-secret-of-a-0123';
const STORE = 'https://store-a.example.com';
const WOO_SECRET = 'woocommerce-secret-of-a-456789';
const STRIPE_SECRET = 'whsec_local_test_secret_0123456789';

let stack: LocalStack;
let stripe: FakeStripe;
let a: TestTenant;
let b: TestTenant;
let ghlUrl: string;
const reports: BatchReport[] = [];
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

const hmac = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('base64');

async function post(path: string, body: string, headers: Record<string, string>) {
  return send(stack.url, 'POST', path, body, { 'Content-Type': 'application/json', ...headers });
}

function shopify(topic: string, body: string, webhookId: string, secret = SHOP_SECRET, domain = SHOP) {
  return deliverShopify(stack.url, body, {
    topic,
    shop: domain,
    secret,
    webhookId,
    headers: { 'X-Shopify-Triggered-At': new Date().toISOString() },
  });
}

function shopifyOrder(id: number, email: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify(
    paidShopifyOrder(
      {
        id,
        email,
        at: '2026-11-24T09:30:00+01:00',
        landingSite: `/products/lamp?gclid=${gclid(id)}&utm_source=google&utm_campaign=winter`,
        notes: bannerConsent('2026-11-24T09:00:00Z'),
      },
      {
        name: `#${id}`,
        referring_site: 'https://www.google.com/',
        customer: { id: id + 1000, email, first_name: 'Zoë', last_name: 'Ångström' },
        line_items: Array.from({ length: 100 }, (_, i) => ({
          id: i,
          title: `Lämpchen ${i}`,
          quantity: 1,
          price: '1.49',
        })),
        ...extra,
      },
    ),
  );
}

const leadsOf = (tenant: TestTenant) => listLeads(stack.url, tenant);
const leadWithEmail = (tenant: TestTenant, email: string, status?: string) =>
  waitForLead(stack.url, tenant, email, status);

beforeAll(async () => {
  process.env.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET;
  stripe = await startFakeStripe();
  process.env.STRIPE_API_BASE_URL = stripe.baseUrl;
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '0';
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  stack = await startTestStack('wh', { retryDelaySeconds: 0 });
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  [a, b] = await createTenants(stack.url, 'Agency A', 'Agency B');
  expect((await connectShopify(stack.url, a, SHOP, SHOP_SECRET)).status).toBe(200);
  const woo = await call('PUT', '/api/v1/integrations/woocommerce', {
    token: a.admin,
    body: { store_url: STORE, webhook_secret: WOO_SECRET },
  });
  expect(woo.body).toMatchObject({
    store_url: STORE,
    webhook_url: expect.stringContaining('/api/v1/woocommerce/webhook'),
  });
  expect(JSON.stringify(woo.body)).not.toContain(WOO_SECRET);
  const ghl = await call('PUT', '/api/v1/integrations/ghl', { token: a.admin, body: {} });
  ghlUrl = new URL(ghl.body.webhook_url as string).pathname;
});

afterAll(async () => {
  await stack.stop();
  await stripe.close();
  delete process.env.STRIPE_API_BASE_URL;
});

describe('Shopify', () => {
  it('a paid order with a gclid in landing_site becomes a won lead of that tenant only, with its conversion', async () => {
    const res = await shopify('orders/paid', shopifyOrder(5001, 'zoe@example.com'), 'wh-5001');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'received', id: expect.stringMatching(/^wh_/) });
    const lead = await leadWithEmail(a, 'zoe@example.com', 'won');
    expect(lead).toMatchObject({
      gclid: gclid(5001),
      utm_source: 'google',
      utm_campaign: 'winter',
      status: 'won',
      consent: { status: 'granted', method: 'cookie_banner' },
    });
    expect((await leadsOf(b)).find((l) => l.email === 'zoe@example.com')).toBeUndefined();
    // Created won by the one write that created it: no second full write of the lead.
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const stored = await dynamo.send(
      new GetItemCommand({
        TableName: stack.env[tableDefinition('leads').envVar] as string,
        Key: { pk: { S: `TENANT#${a.id}` }, sk: { S: `LEAD#${lead.id as string}` } },
        ConsistentRead: true,
      }),
    );
    dynamo.destroy();
    expect(stored.Item?.status?.S).toBe('won');
    expect(stored.Item?.version?.N).toBe('1');
    const exported = await eventually(async () => {
      const res = await call(
        'GET',
        `/api/v1/gdpr/subjects/${await subjectId(stack.url, a.admin, 'zoe@example.com')}`,
        {
          token: a.admin,
        },
      );
      return (res.body.conversions as unknown[]).length ? res : undefined;
    }, 'the conversion');
    expect(exported.body.conversions).toEqual([
      expect.objectContaining({
        platform: 'google_ads',
        order_id: '5001',
        value: 149.9,
        currency: 'EUR',
        status: 'queued',
      }),
    ]);
  });

  it('the same delivery five times, and the same order under new ids, make one lead and one conversion', async () => {
    const handled = () =>
      reports
        .filter((r) => r.queue === 'webhooks')
        .reduce((n, r) => n + r.messageIds.length - r.failedIds.length, 0);
    const handledBefore = handled();
    const body = shopifyOrder(5002, 'dup@example.com', { landing_site: `/?gbraid=${gbraid(5)}` });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => shopify('orders/paid', body, 'wh-5002')),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    await shopify('orders/paid', body, 'wh-5002-retry');
    await leadWithEmail(a, 'dup@example.com');
    await eventually(
      async () => (handled() - handledBefore >= 6 ? true : undefined),
      'all deliveries processed',
    );
    expect((await leadsOf(a)).filter((l) => l.email === 'dup@example.com')).toHaveLength(1);
    const exported = await call(
      'GET',
      `/api/v1/gdpr/subjects/${await subjectId(stack.url, a.admin, 'dup@example.com')}`,
      {
        token: a.admin,
      },
    );
    expect(exported.body.conversions).toHaveLength(1);
  });

  it('an order without click id or consent stores what the consent allows', async () => {
    const noClick = shopifyOrder(5003, 'noclick@example.com', { landing_site: '/products/lamp' });
    expect((await shopify('orders/create', noClick, 'wh-5003')).status).toBe(202);
    expect(await leadWithEmail(a, 'noclick@example.com')).not.toHaveProperty('gclid');
    const noConsent = shopifyOrder(5004, 'noconsent@example.com', { note_attributes: [] });
    expect((await shopify('orders/create', noConsent, 'wh-5004')).status).toBe(202);
    await eventually(async () => {
      const audit = await call('GET', '/api/v1/gdpr/audit?email=noconsent@example.com', { token: a.admin });
      return (audit.body.items as Array<{ action: string }>).some((r) => r.action === 'consent_refused')
        ? true
        : undefined;
    }, 'the refusal audited');
    expect((await leadsOf(a)).find((l) => l.email === 'noconsent@example.com')).toBeUndefined();
  });

  it('refuses bad signatures, unknown shops, wrong content types and oversized bodies, queueing nothing', async () => {
    const body = shopifyOrder(5005, 'forged@example.com');
    for (const res of [
      await shopify('orders/paid', body, 'wh-f1', 'not-the-secret-of-this-shop'),
      await shopify('orders/paid', body, 'wh-f2', SHOP_SECRET, 'someone-else.myshopify.com'),
      await post('/api/v1/shopify/webhook', body, {
        'X-Shopify-Shop-Domain': SHOP,
        'X-Shopify-Topic': 'orders/paid',
      }),
      await post('/api/v1/shopify/webhook', body, {
        'X-Shopify-Shop-Domain': SHOP,
        'X-Shopify-Hmac-Sha256': createHmac('sha256', SHOP_SECRET).update(body).digest('hex'),
      }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_signature' });
    }
    const wrongType = await fetch(`${stack.url}/api/v1/shopify/webhook`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'X-Shopify-Shop-Domain': SHOP,
        'X-Shopify-Hmac-Sha256': hmac(SHOP_SECRET, body),
      },
      body,
    });
    expect(wrongType.status).toBe(415);
    const huge = JSON.stringify({ id: 1, email: 'big@example.com', padding: 'x'.repeat(260 * 1024) });
    expect((await shopify('orders/paid', huge, 'wh-huge')).status).toBe(413);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await leadsOf(a)).find((l) => l.email === 'forged@example.com')).toBeUndefined();
  });
});

describe('WooCommerce, GoHighLevel and Stripe', () => {
  it('answers the WooCommerce ping and turns a processing order into a lead', async () => {
    const ping = await fetch(`${stack.url}/api/v1/woocommerce/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'webhook_id=17',
    });
    expect(ping.status).toBe(200);
    const order = JSON.stringify({
      id: 801,
      status: 'processing',
      currency: 'EUR',
      total: '59.00',
      date_created_gmt: '2026-11-24T10:00:00',
      customer_id: 44,
      billing: { email: 'woo@example.com', phone: '030 1234567', country: 'DE', first_name: 'Jörg' },
      meta_data: [
        { id: 1, key: '_gclid', value: gclid(801) },
        { id: 2, key: '_consent_status', value: 'granted' },
        { id: 3, key: '_consent_method', value: 'form_checkbox' },
        { id: 4, key: '_consent_timestamp', value: '2026-11-24T09:59:00Z' },
      ],
    });
    const headers = {
      'X-WC-Webhook-Source': `${STORE}/`,
      'X-WC-Webhook-Topic': 'order.created',
      'X-WC-Webhook-Delivery-ID': 'woo-1',
      'X-WC-Webhook-Signature': hmac(WOO_SECRET, order),
    };
    expect((await post('/api/v1/woocommerce/webhook', order, headers)).status).toBe(202);
    expect(await leadWithEmail(a, 'woo@example.com', 'won')).toMatchObject({ gclid: gclid(801) });
    const forged = await post('/api/v1/woocommerce/webhook', order, {
      ...headers,
      'X-WC-Webhook-Signature': hmac('x', order),
    });
    expect(forged.status).toBe(401);
  });

  it('takes GoHighLevel contacts on the tenant URL, and refuses an unknown token', async () => {
    const contact = JSON.stringify({
      type: 'ContactCreate',
      webhookId: 'ghl-1',
      id: 'c-77',
      email: 'ghl@example.com',
      customFields: [
        { id: 'f1', key: 'gclid', value: gclid(77) },
        { id: 'f2', key: 'consent_status', value: 'granted' },
        { id: 'f3', key: 'consent_method', value: 'form_checkbox' },
      ],
    });
    expect((await post(ghlUrl, contact, {})).status).toBe(202);
    expect(await leadWithEmail(a, 'ghl@example.com')).toMatchObject({ gclid: gclid(77) });
    const unknown = await post(`/api/v1/ghl/webhook/${'A'.repeat(43)}`, contact, {});
    expect(unknown.status).toBe(401);
  });

  it('queues a signed delivery whose JSON is not an object (the worker refuses it) instead of answering 500', async () => {
    for (const body of ['null', '[1,2]', '7', '"text"']) {
      expect([body, (await post(ghlUrl, body, {})).status]).toEqual([body, 202]);
      const t = Math.floor(Date.now() / 1000);
      const v1 = createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest('hex');
      const signed = await post('/api/v1/billing/webhooks/stripe', body, {
        'Stripe-Signature': `t=${t},v1=${v1}`,
      });
      expect([body, signed.status]).toEqual([body, 202]);
    }
  });

  it('keeps the subscription status Stripe holds when a signed event arrives, and refuses a bad signature', async () => {
    stripe.addSubscription({
      id: 'sub_1',
      customer: 'cus_1',
      status: 'active',
      tenant_id: a.id,
      current_period_end: 1800000000,
    });
    // A late event still says `incomplete`: the subscription retrieved from Stripe is the truth.
    const event = JSON.stringify({
      id: 'evt_1',
      type: 'customer.subscription.updated',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'sub_1', status: 'incomplete', metadata: { tenant_id: a.id } } },
    });
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', STRIPE_SECRET).update(`${t}.${event}`).digest('hex');
    const ok = await post('/api/v1/billing/webhooks/stripe', event, {
      'Stripe-Signature': `t=${t},v1=${'0'.repeat(64)},v1=${v1}`,
    });
    expect(ok.status).toBe(202);
    const platform = await tokenFor('platform', 'owner');
    const tenant = await eventually(async () => {
      const res = await call('GET', `/api/v1/admin/tenants/${a.id}`, { token: platform });
      return res.body.billing ? res.body : undefined;
    }, 'billing status');
    expect(tenant.billing).toMatchObject({
      subscription_id: 'sub_1',
      customer_id: 'cus_1',
      status: 'active',
      current_period_end: 1800000000,
      event_id: 'evt_1',
    });
    expect(stripe.requests.filter((r) => r.path === '/v1/subscriptions/sub_1')).toHaveLength(1);
    const old = await post('/api/v1/billing/webhooks/stripe', event, {
      'Stripe-Signature': `t=${t - 301},v1=${createHmac('sha256', STRIPE_SECRET)
        .update(`${t - 301}.${event}`)
        .digest('hex')}`,
    });
    expect(old.status).toBe(401);
  });
});

describe('failures', () => {
  it('dead-letters a permanent failure at once with its reason; redrive moves it back', async () => {
    const body = 'this is not json';
    expect((await shopify('orders/paid', body, 'wh-broken')).status).toBe(202);
    const platform = await tokenFor('platform', 'owner');
    const dead = await eventually(async () => {
      const res = await call('GET', '/api/v1/admin/dlq?queue=webhooks', { token: platform });
      return (res.body.items as Array<Record<string, unknown>>).find((m) =>
        String(m.reason).includes('the payload is not JSON'),
      );
    }, 'the dead letter');
    expect(dead).toMatchObject({ queue: 'webhooks', source: 'shopify', attempts: 1 });
    expect(JSON.stringify(dead)).not.toContain(body);
  });

  it('retries a transient failure 3 times, then the dead-letter queue keeps it until a redrive restores it', async () => {
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await dynamo.send(new DeleteTableCommand({ TableName: stack.env.LEADS_TABLE }));
    const before = reports.length;
    expect((await shopify('orders/paid', shopifyOrder(5009, 'later@example.com'), 'wh-5009')).status).toBe(
      202,
    );
    const platform = await tokenFor('platform', 'owner');
    await eventually(async () => {
      const res = await call('GET', '/api/v1/admin/dlq?queue=webhooks', { token: platform });
      const items = res.body.items as Array<Record<string, unknown>>;
      return items.find((m) => m.attempts === 3);
    }, 'the message dead-lettered after 3 attempts');
    const failures = reports.slice(before).filter((r) => r.queue === 'webhooks' && r.failedIds.length > 0);
    expect(failures).toHaveLength(3);
    await dynamo.send(
      new CreateTableCommand(createTableInput(tableDefinition('leads'), stack.env.LEADS_TABLE as string)),
    );
    dynamo.destroy();
    const redrive = await call('POST', '/api/v1/admin/dlq/redrive', {
      token: platform,
      body: { queue: 'webhooks' },
    });
    expect(redrive.status).toBe(200);
    expect(redrive.body.moved).toBeGreaterThanOrEqual(1);
    expect(await leadWithEmail(a, 'later@example.com', 'won')).toMatchObject({ gclid: gclid(5009) });
  });

  it('answers 503 when the queue cannot take the delivery, so the sender retries', async () => {
    // The worker's poller fails on the deleted queue until the stack stops: expected here.
    const pollerErrors: unknown[] = [];
    stack.events.on('error', (error: unknown) => pollerErrors.push(error));
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    await sqs.send(new DeleteQueueCommand({ QueueUrl: stack.env.WEBHOOKS_QUEUE_URL }));
    sqs.destroy();
    const res = await shopify('orders/paid', shopifyOrder(5010, 'lost@example.com'), 'wh-5010');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'service_unavailable' });
  });
});
