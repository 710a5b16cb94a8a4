/**
 * Webhooks as the real senders deliver them, over HTTP against the local stack: many merchants
 * from one sender address, topic headers nobody signed, delivery ids any tenant can choose, two
 * tenants on one shop, and Shopify's mandatory compliance topics (with the payloads Shopify
 * publishes: https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance).
 */
import type { BatchReport } from '../../local/poller';
import type { LocalStack } from '../../local/stack';
import { gclid } from '../support/click-ids';
import { subjectId } from '../support/gdpr';
import { request, send } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { connectShopify, deliverShopify, listLeads, shopifyHmac, waitForLead } from '../support/shopify';
import { createTenants, type TestTenant } from '../support/tenants';

const SHARED_SHOP = 'shared-shop.myshopify.com';
const C_SHOP = 'shop-of-c.myshopify.com';
const SECRET = {
  a: 'secret-of-agency-a-0123456789',
  b: 'secret-of-agency-b-0123456789',
  c: 'secret-of-c-0123456789ab',
};

let stack: LocalStack;
let a: TestTenant;
let b: TestTenant;
let c: TestTenant;
const reports: BatchReport[] = [];
const saved = { ...process.env };

const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);
let ids = 0;
function shopify(
  topic: string,
  body: string,
  secret: string,
  domain: string,
  webhookId = `wh-senders-${++ids}`,
) {
  return deliverShopify(stack.url, body, { topic, shop: domain, secret, webhookId });
}

function order(id: number, email: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    id,
    name: `#${id}`,
    email,
    financial_status: 'paid',
    currency: 'EUR',
    total_price: '499.00',
    processed_at: '2026-11-24T09:30:00+01:00',
    landing_site: `/?gclid=${gclid(id)}`,
    note_attributes: [{ name: 'consent_status', value: 'granted' }],
    customer: { id: id + 100_000, email },
    ...extra,
  });
}

const leadsOf = (tenant: TestTenant) => listLeads(stack.url, tenant);
const leadWithEmail = (tenant: TestTenant, email: string, status?: string) =>
  waitForLead(stack.url, tenant, email, status);

/** Deliveries the worker has handled so far (successfully). */
const handled = () =>
  reports
    .filter((r) => r.queue === 'webhooks')
    .reduce((n, r) => n + r.messageIds.length - r.failedIds.length, 0);
async function settled(before: number, count: number) {
  await eventually(
    async () => (handled() - before >= count ? true : undefined),
    `${count} deliveries handled`,
  );
}

async function conversionsOf(tenant: TestTenant, email: string) {
  const res = await call('GET', `/api/v1/gdpr/subjects/${await subjectId(stack.url, tenant.admin, email)}`, {
    token: tenant.admin,
  });
  return res.body.conversions as Array<Record<string, unknown>>;
}

beforeAll(async () => {
  process.env.RATE_LIMIT_IP_PER_HOUR = '10';
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_SHOP_PER_HOUR = '1000';
  process.env.WEBHOOK_RETRY_BASE_SECONDS = '0';
  stack = await startTestStack('ws', { retryDelaySeconds: 0 });
  stack.events.on('batch', (r: BatchReport) => reports.push(r));
  [a, b, c] = await createTenants(stack.url, 'Agency A', 'Agency B', 'Merchant C');
  const connect = (tenant: TestTenant, shop: string, secret: string) =>
    connectShopify(stack.url, tenant, shop, secret);
  const first = await connect(a, SHARED_SHOP, SECRET.a);
  // The second tenant on the same shop gets the same answer as the first: nothing says it is shared.
  const second = await connect(b, SHARED_SHOP, SECRET.b);
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(Object.keys(second.body).sort()).toEqual(Object.keys(first.body).sort());
  expect(second.body.shop_domain).toBe(first.body.shop_domain);
  expect((await connect(c, C_SHOP, SECRET.c)).status).toBe(200);
});

afterAll(async () => {
  await stack.stop();
  process.env = { ...saved };
});

describe('many merchants from one sender address', () => {
  it("takes three tenants' 30 verified deliveries from one address with an IP limit of 10; unverified ones reach 429; a verified one after them is 202", async () => {
    const before = handled();
    const senders: Array<[TestTenant, string, string]> = [
      [a, SECRET.a, SHARED_SHOP],
      [b, SECRET.b, SHARED_SHOP],
      [c, SECRET.c, C_SHOP],
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      for (const [n, [, secret, shop]] of senders.entries()) {
        const res = await shopify(
          'orders/paid',
          order(7000 + n * 100 + i, `buyer-${n}-${i}@example.com`),
          secret,
          shop,
        );
        statuses.push(res.status);
        // A verified delivery answers with its shop's limit, never the IP's.
        expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
      }
    }
    expect(statuses).toEqual(Array(30).fill(202));

    // Unverified requests from the same address: bad signatures, an unknown shop.
    const refused: number[] = [];
    for (let i = 0; i < 12; i++) {
      const body = order(7900 + i, 'forger@example.com');
      const res = await send(stack.url, 'POST', '/api/v1/shopify/webhook', body, {
        'Content-Type': 'application/json',
        'X-Shopify-Topic': 'orders/paid',
        'X-Shopify-Hmac-Sha256': shopifyHmac('not-the-secret-0123456789', body),
        'X-Shopify-Shop-Domain': i % 2 ? SHARED_SHOP : 'unknown-shop.myshopify.com',
      });
      refused.push(res.status);
    }
    expect(refused.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(refused.slice(10)).toEqual([429, 429]);

    const after = await shopify('orders/paid', order(7999, 'after@example.com'), SECRET.a, SHARED_SHOP);
    expect(after.status).toBe(202);

    // Each delivery reached the tenant whose secret signed it, and no other.
    await settled(before, 31);
    const [ofA, ofB, ofC] = await Promise.all([leadsOf(a), leadsOf(b), leadsOf(c)]);
    const emails = (leads: Array<Record<string, unknown>>) => leads.map((l) => l.email as string);
    expect(emails(ofA).filter((e) => e.startsWith('buyer-0-'))).toHaveLength(10);
    expect(emails(ofB).filter((e) => e.startsWith('buyer-1-'))).toHaveLength(10);
    expect(emails(ofC).filter((e) => e.startsWith('buyer-2-'))).toHaveLength(10);
    expect(emails(ofA).some((e) => e.startsWith('buyer-1-') || e.startsWith('buyer-2-'))).toBe(false);
    expect(emails(ofB).some((e) => e.startsWith('buyer-0-') || e.startsWith('buyer-2-'))).toBe(false);
    expect(emails(ofA)).toContain('after@example.com');
    expect(emails(ofA).concat(emails(ofB), emails(ofC))).not.toContain('forger@example.com');
  });
});

describe('replays and delivery ids', () => {
  it('an unpaid order re-sent as orders/paid wins nothing; re-sent as orders/cancelled cancels nothing', async () => {
    const unpaid = order(8001, 'replay@example.com', { financial_status: 'pending' });
    expect((await shopify('orders/create', unpaid, SECRET.c, C_SHOP)).status).toBe(202);
    await leadWithEmail(c, 'replay@example.com', 'new');
    const before = handled();
    expect((await shopify('orders/paid', unpaid, SECRET.c, C_SHOP)).status).toBe(202);
    expect((await shopify('orders/cancelled', unpaid, SECRET.c, C_SHOP)).status).toBe(202);
    await settled(before, 2);
    expect((await leadWithEmail(c, 'replay@example.com')).status).toBe('new');
    expect(await conversionsOf(c, 'replay@example.com')).toEqual([]);

    // Paid for real: one 499 EUR conversion; the unpaid body replayed as orders/cancelled leaves it.
    await shopify('orders/paid', order(8001, 'replay@example.com'), SECRET.c, C_SHOP);
    await leadWithEmail(c, 'replay@example.com', 'won');
    const [queued] = await eventually(async () => {
      const found = await conversionsOf(c, 'replay@example.com');
      return found.length ? found : undefined;
    }, 'the conversion');
    expect(queued).toMatchObject({ value: 499, currency: 'EUR', status: 'queued' });
    const replayed = handled();
    await shopify('orders/cancelled', unpaid, SECRET.c, C_SHOP);
    await settled(replayed, 1);
    expect((await conversionsOf(c, 'replay@example.com'))[0]?.status).toBe('queued');
    // A body that says cancelled does cancel.
    await shopify(
      'orders/cancelled',
      order(8001, 'replay@example.com', { cancelled_at: '2026-11-25T10:00:00Z' }),
      SECRET.c,
      C_SHOP,
    );
    await eventually(
      async () =>
        (await conversionsOf(c, 'replay@example.com'))[0]?.status === 'cancelled' ? true : undefined,
      'the cancellation',
    );
  });

  it('the same delivery id from two tenants reaches both', async () => {
    const id = 'shared-webhook-id-1';
    expect(
      (await shopify('orders/paid', order(8101, 'first@example.com'), SECRET.a, SHARED_SHOP, id)).status,
    ).toBe(202);
    expect(
      (await shopify('orders/paid', order(8102, 'second@example.com'), SECRET.c, C_SHOP, id)).status,
    ).toBe(202);
    await leadWithEmail(a, 'first@example.com', 'won');
    await leadWithEmail(c, 'second@example.com', 'won');
  });
});

describe('Shopify compliance topics', () => {
  const customer = { id: 191167, email: 'john@example.com', phone: '555-625-1199' };
  const dataRequest = JSON.stringify({
    shop_id: 954889,
    shop_domain: SHARED_SHOP,
    orders_requested: [299938, 280263, 220458],
    customer,
    data_request: { id: 9999 },
  });
  const customerRedact = JSON.stringify({
    shop_id: 954889,
    shop_domain: SHARED_SHOP,
    customer,
    orders_to_redact: [299938, 280263, 220458],
  });

  // The address spent its unverified allowance above; these refusals are about signatures.
  beforeAll(() => {
    process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  });

  it('refuses an unsigned or wrongly signed compliance delivery with 401', async () => {
    const wrong = await shopify(
      'customers/redact',
      customerRedact,
      'wrong-secret-0123456789abcdef',
      SHARED_SHOP,
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_signature' });
    const unsigned = await send(stack.url, 'POST', '/api/v1/shopify/webhook', customerRedact, {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': 'customers/redact',
      'X-Shopify-Shop-Domain': SHARED_SHOP,
    });
    expect(unsigned.status).toBe(401);
  });

  it('customers/data_request is answered 200 and recorded in the audit trail of the tenant it belongs to', async () => {
    await shopify('orders/paid', order(299938, 'john@example.com', { customer }), SECRET.a, SHARED_SHOP);
    await leadWithEmail(a, 'john@example.com', 'won');
    const res = await shopify('customers/data_request', dataRequest, SECRET.a, SHARED_SHOP);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'received', id: expect.stringMatching(/^wh_/) });
    const subject = await subjectId(stack.url, a.admin, 'john@example.com');
    const record = await eventually(async () => {
      const audit = await call('GET', `/api/v1/gdpr/audit?subject_id=${subject}`, { token: a.admin });
      return (audit.body.items as Array<Record<string, unknown>>).find(
        (r) => r.action === 'data_request_received',
      );
    }, 'the data request in the audit trail');
    expect(record.details).toMatchObject({ source: 'shopify', shopify_request_id: '9999' });
    // Agency B, on the same shop with its own secret, did not receive A's delivery.
    const ofB = await call(
      'GET',
      `/api/v1/gdpr/audit?subject_id=${await subjectId(stack.url, b.admin, 'john@example.com')}`,
      {
        token: b.admin,
      },
    );
    expect(ofB.body.items).toEqual([]);
  });

  it('customers/redact erases the customer, audited', async () => {
    expect((await shopify('customers/redact', customerRedact, SECRET.a, SHARED_SHOP)).status).toBe(200);
    await eventually(
      async () => ((await leadsOf(a)).some((l) => l.email === 'john@example.com') ? undefined : true),
      'the erasure',
    );
    const subject = await subjectId(stack.url, a.admin, 'john@example.com');
    const audit = await call('GET', `/api/v1/gdpr/audit?subject_id=${subject}`, { token: a.admin });
    expect((audit.body.items as Array<{ action: string }>).map((r) => r.action)).toContain('erasure');
  });

  it("shop/redact erases the shop's customers in the tenant it belongs to only", async () => {
    expect((await leadsOf(c)).some((l) => l.email === 'buyer-2-0@example.com')).toBe(true);
    const res = await shopify(
      'shop/redact',
      JSON.stringify({ shop_id: 954890, shop_domain: C_SHOP }),
      SECRET.c,
      C_SHOP,
    );
    expect(res.status).toBe(200);
    await eventually(
      async () => ((await leadsOf(c)).length === 0 ? true : undefined),
      "the shop's customers erased",
    );
    expect((await leadsOf(a)).some((l) => l.email === 'buyer-0-0@example.com')).toBe(true);
  });
});
