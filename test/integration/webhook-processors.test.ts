/**
 * The webhook worker's processors against the emulator's tables: what each kind of delivery does
 * to leads, conversions and billing, and which deliveries are refused for good (dead-lettered)
 * rather than retried.
 */

import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../../functions/shared/features/conversions/dynamo-log';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import { loadEmailHasher } from '../../functions/shared/features/leads/rules/email-hash';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import type { WebhookSource } from '../../functions/shared/features/webhooks/model';
import {
  PermanentFailure,
  processEnvelope,
  useStripeGateway,
} from '../../functions/webhook-worker/processors';
import { type FakeStripe, startFakeStripe } from '../../local/fake-stripe';
import { gclid } from '../support/click-ids';
import { freshResources } from '../support/emulator';
import { envelopeSeries } from '../support/envelopes';

const envelope = envelopeSeries('proc');

const consent = [{ name: 'consent_status', value: 'granted' }];
const shopifyOrder = (id: number, extra: Record<string, unknown> = {}) => ({
  id,
  email: `order-${id}@example.com`,
  financial_status: 'paid',
  currency: 'EUR',
  total_price: '80.00',
  landing_site: `/?gclid=${gclid(id)}`,
  note_attributes: consent,
  ...extra,
});

describe('webhook processors', () => {
  let tenantId: string;
  const conversions = new DynamoConversionStore();
  const log = new DynamoConversionLog();
  const scope = () => ({
    tenantId,
    auth: { tenantId, role: 'owner' as const, subject: 'test', method: 'jwt' as const },
  });
  const shopify = (topic: string, payload: unknown) =>
    processEnvelope(envelope('shopify', topic, tenantId, payload));
  const conversionOf = async (orderId: number) => {
    const [id] = await conversions.conversionsOfOrder(scope() as never, `shopify:${orderId}`);
    return id ? log.get(tenantId, id) : undefined;
  };

  beforeAll(async () => {
    await freshResources({ ADJUSTMENT_WAIT_SECONDS: '60' });
    tenantId = (await new DynamoTenantStore().createTenant('Processor Agency')).id;
  });
  afterAll(() => {
    delete process.env.ADJUSTMENT_WAIT_SECONDS;
  });

  it('refuses for good a delivery for an unknown tenant, a payload that is not JSON, and an invalid one', async () => {
    await expect(
      processEnvelope(envelope('shopify', 'orders/paid', 'ten_nobody', shopifyOrder(1))),
    ).rejects.toThrow(new PermanentFailure('unknown or inactive tenant ten_nobody'));
    await expect(shopify('orders/paid', '{"id":')).rejects.toThrow(
      new PermanentFailure('shopify orders/paid: the payload is not JSON'),
    );
    await expect(shopify('refunds/create', { id: 5 })).rejects.toThrow(
      new PermanentFailure('shopify refunds/create: the refund has no id or order id'),
    );
    expect(await shopify('refunds/create', { id: 5, order_id: 6, transactions: [] })).toEqual({
      outcome: 'ignored',
      detail: 'the refund paid nothing back',
    });
    expect(await processEnvelope(envelope('shopify', 'app/uninstalled', tenantId, {}))).toEqual({
      outcome: 'ignored',
      detail: 'no processor for shopify app/uninstalled',
    });
  });

  it('moves an existing lead to won when its order is paid, and queues the conversion once', async () => {
    // A customer's e-mail marketing opt-in is no ad consent: no lead from it.
    const customer = await shopify('customers/create', {
      id: 7001,
      email: 'order-101@example.com',
      email_marketing_consent: { state: 'subscribed', consent_updated_at: '2026-03-01T10:00:00Z' },
    });
    expect(customer.detail).toBe('lead refused: consent_required');
    const created = await shopify(
      'orders/create',
      shopifyOrder(101, { financial_status: 'pending', currency: undefined, total_price: undefined }),
    );
    expect(created.detail).toMatch(/^lead lead_\w+$/);
    const paid = await shopify(
      'orders/paid',
      shopifyOrder(101, { currency: undefined, total_price: undefined }),
    );
    expect(paid.detail).toMatch(/^lead lead_\w+, 1 conversion\(s\) queued$/);
    const conversion = await conversionOf(101);
    expect(conversion).toMatchObject({ platform: 'google_ads', status: 'queued', event_source: 'web' });
    expect(conversion?.value).toBeUndefined();
    expect(conversion?.currency).toBeUndefined();
    // The same order again: the lead is won already, nothing more is queued.
    expect((await shopify('orders/paid', shopifyOrder(101))).detail).toMatch(/0 conversion\(s\) queued$/);
  });

  it('cancels a conversion not yet uploaded when its order is cancelled, and ignores an order without one', async () => {
    await shopify('orders/paid', shopifyOrder(102));
    const cancelled = await shopify('orders/cancelled', { id: 102, cancelled_at: '2026-03-02T10:00:00Z' });
    expect(cancelled.outcome).toBe('processed');
    expect(cancelled.detail).toMatch(/^cnv_\w+ cancelled$/);
    expect((await conversionOf(102))?.status).toBe('cancelled');
    // Cancelled already: a second cancellation finds nothing to do.
    expect(await shopify('orders/cancelled', { id: 102, cancelled_at: '2026-03-02T10:00:00Z' })).toEqual({
      outcome: 'ignored',
      detail: 'no uploaded conversion of this order',
    });
    expect(await shopify('orders/cancelled', { id: 99_999, cancelled_at: '2026-03-02T10:00:00Z' })).toEqual({
      outcome: 'ignored',
      detail: 'no uploaded conversion of this order',
    });
  });

  it('an unpaid order replayed as orders/paid wins nothing; replayed as orders/cancelled cancels nothing', async () => {
    const unpaid = shopifyOrder(104, { financial_status: 'pending', total_price: '499.00' });
    expect((await shopify('orders/create', unpaid)).detail).toMatch(/^lead lead_\w+$/);
    // The same signed body under another (unsigned) topic says the same: not paid, not cancelled.
    expect((await shopify('orders/paid', unpaid)).detail).toMatch(/^lead lead_\w+$/);
    expect(await conversionOf(104)).toBeUndefined();
    expect((await shopify('orders/cancelled', unpaid)).detail).toMatch(/^lead lead_\w+$/);
    // Once really paid, the conversion is queued, and a replay of the unpaid body cancels nothing.
    await shopify('orders/paid', { ...unpaid, financial_status: 'paid' });
    expect((await conversionOf(104))?.status).toBe('queued');
    await shopify('orders/cancelled', unpaid);
    expect((await conversionOf(104))?.status).toBe('queued');
  });

  it('a partial refund of a conversion still on its way waits for its upload', async () => {
    await shopify('orders/paid', shopifyOrder(103));
    const refunded = await shopify('refunds/create', {
      id: 9103,
      order_id: 103,
      processed_at: '2999-01-01T00:00:00Z',
      transactions: [{ kind: 'refund', status: 'success', amount: '30.00' }],
    });
    expect(refunded.outcome).toBe('processed');
    expect(refunded.detail).toMatch(/^cnv_\w+ restatement \w+$/);
    const conversion = await conversionOf(103);
    expect(conversion?.status).toBe('queued');
    const adjustments = await conversions.adjustments(scope() as never, conversion?.id as string);
    expect(adjustments).toHaveLength(1);
    expect(adjustments[0]).toMatchObject({ type: 'restatement' });
    // Its time is never in the future, whatever the shop says.
    expect(Date.parse(adjustments[0]?.adjustment_time as string)).toBeLessThanOrEqual(Date.now());
  });

  it('a won GoHighLevel opportunity is an offline conversion; an opportunity naming no contact is ignored', async () => {
    const won = await processEnvelope(
      envelope('ghl', 'OpportunityStatusUpdate', tenantId, {
        type: 'OpportunityStatusUpdate',
        id: 'opp-1',
        status: 'won',
        monetaryValue: 1200,
        contact: {
          id: 'c-1',
          email: 'ghl-won@example.com',
          customFields: [
            { key: 'gclid', value: gclid(301) },
            { key: 'consent_status', value: 'granted' },
          ],
        },
      }),
    );
    expect(won.detail).toMatch(/1 conversion\(s\) queued$/);
    const [id] = await conversions.conversionsOfOrder(scope() as never, 'ghl:opp-1');
    expect(await log.get(tenantId, id as string)).toMatchObject({ event_source: 'other', value: 1200 });
    expect(
      await processEnvelope(
        envelope('ghl', 'OpportunityStatusUpdate', tenantId, {
          type: 'OpportunityStatusUpdate',
          id: 'opp-2',
        }),
      ),
    ).toEqual({ outcome: 'ignored', detail: 'GoHighLevel opportunity event without a contactId' });
  });

  describe('Stripe subscriptions', () => {
    let stripe: FakeStripe;
    const event = (id: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) =>
      envelope('stripe', 'customer.subscription.updated', 'platform', {
        id,
        type: 'customer.subscription.updated',
        created,
        data: { object },
      });

    beforeAll(async () => {
      stripe = await startFakeStripe();
      process.env.STRIPE_API_BASE_URL = stripe.baseUrl;
      process.env.STRIPE_API_KEY = stripe.apiKey;
      useStripeGateway(undefined);
    });
    afterAll(async () => {
      delete process.env.STRIPE_API_BASE_URL;
      delete process.env.STRIPE_API_KEY;
      useStripeGateway(undefined);
      await stripe.close();
    });

    it('stores the subscription Stripe holds, for the tenant of its metadata, whatever order events come in', async () => {
      stripe.addSubscription({ id: 'sub_proc_1', customer: 'cus_proc_1', status: 'active' });
      const updated = await processEnvelope(
        event('evt_p1', { id: 'sub_proc_1', status: 'incomplete', metadata: { tenant_id: tenantId } }),
      );
      expect(updated).toEqual({ outcome: 'processed', detail: 'billing updated' });
      const tenant = await new DynamoTenantStore().getTenant(tenantId);
      expect(tenant?.billing).toMatchObject({ subscription_id: 'sub_proc_1', status: 'active' });
      // A late, older event still stores what Stripe holds now, not what the event says.
      (stripe.subscriptions.get('sub_proc_1') as { status: string }).status = 'canceled';
      const late = await processEnvelope(
        event(
          'evt_p0',
          { id: 'sub_proc_1', status: 'active', metadata: { tenant_id: tenantId } },
          1_000_000_000,
        ),
      );
      expect(late).toEqual({ outcome: 'processed', detail: 'billing updated' });
      expect((await new DynamoTenantStore().getTenant(tenantId))?.billing).toMatchObject({
        status: 'canceled',
        event_id: 'evt_p0',
      });
    });

    it('ignores a subscription Stripe does not know or without a tenant, and refuses an unknown tenant or a non-subscription event', async () => {
      expect(await processEnvelope(event('evt_p2', { id: 'sub_unknown' }))).toEqual({
        outcome: 'ignored',
        detail: 'subscription unknown to Stripe',
      });
      stripe.addSubscription({ id: 'sub_proc_2', customer: 'cus_proc_2', status: 'active' });
      expect(await processEnvelope(event('evt_p3', { id: 'sub_proc_2', metadata: {} }))).toEqual({
        outcome: 'ignored',
        detail: 'no tenant_id metadata',
      });
      stripe.addSubscription({
        id: 'sub_proc_3',
        customer: 'cus_proc_3',
        status: 'active',
        tenant_id: 'ten_gone',
      });
      await expect(processEnvelope(event('evt_p4', { id: 'sub_proc_3' }))).rejects.toThrow(
        new PermanentFailure('stripe customer.subscription.updated: unknown tenant ten_gone'),
      );
      await expect(processEnvelope(event('evt_p5', { id: 'cus_proc_3' }))).rejects.toThrow(
        new PermanentFailure('stripe customer.subscription.updated: not a subscription event'),
      );
    });
  });
});

/**
 * Shopify's mandatory compliance topics, with the payloads Shopify publishes
 * (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance): customer 191167,
 * john@example.com, shop 954889.
 */
describe('Shopify compliance topics', () => {
  let tenantId: string;
  let other: string;
  const leads = new DynamoLeadStore();
  const audit = new DynamoAuditTrail();
  const scopeOf = (id: string) =>
    ({ tenantId: id, auth: { tenantId: id, role: 'owner', subject: 'test', method: 'jwt' } }) as never;
  const deliver = (tenant: string, topic: string, payload: unknown, source: WebhookSource = 'shopify') =>
    processEnvelope(envelope(source, topic, tenant, payload));
  const hashOf = async (tenant: string, email: string) => (await loadEmailHasher())(tenant, email);
  const leadsOf = async (tenant: string, email: string) =>
    leads.byEmailHash(scopeOf(tenant), await hashOf(tenant, email));
  const actions = async (tenant: string, email: string) =>
    (await audit.list(scopeOf(tenant), await hashOf(tenant, email), 50)).items.map((r) => r.action);
  const order = (id: number, email: string, customerId?: number) =>
    shopifyOrder(id, {
      email,
      ...(customerId !== undefined ? { customer: { id: customerId, email } } : {}),
    });
  const dataRequest = {
    shop_id: 954889,
    shop_domain: '{shop}.myshopify.com',
    orders_requested: [299938, 280263, 220458],
    customer: { id: 191167, email: 'john@example.com', phone: '555-625-1199' },
    data_request: { id: 9999 },
  };
  const customerRedact = {
    shop_id: 954889,
    shop_domain: '{shop}.myshopify.com',
    customer: { id: 191167, email: 'john@example.com', phone: '555-625-1199' },
    orders_to_redact: [299938, 280263, 220458],
  };
  const shopRedact = { shop_id: 954889, shop_domain: '{shop}.myshopify.com' };

  beforeAll(async () => {
    await freshResources();
    const tenants = new DynamoTenantStore();
    tenantId = (await tenants.createTenant('Compliance Agency')).id;
    other = (await tenants.createTenant('Other Agency')).id;
  });

  it('customers/data_request records the request under the subject, for the tenant it belongs to only', async () => {
    await deliver(tenantId, 'orders/paid', order(299938, 'john@example.com', 191167));
    expect(await deliver(tenantId, 'customers/data_request', dataRequest)).toEqual({
      outcome: 'processed',
      detail: 'data request recorded for 1 subject(s)',
    });
    const [record] = (await audit.list(scopeOf(tenantId), await hashOf(tenantId, 'john@example.com'), 5))
      .items;
    expect(record).toMatchObject({
      action: 'data_request_received',
      actor: 'webhook:shopify',
      details: { source: 'shopify', shopify_request_id: '9999', orders_requested: 3 },
    });
    expect(await actions(other, 'john@example.com')).toEqual([]);
    // Nothing to name: acknowledged, nothing recorded.
    expect(await deliver(tenantId, 'customers/data_request', { shop_id: 954889 })).toMatchObject({
      outcome: 'ignored',
    });
  });

  it('customers/redact erases the customer by e-mail and by Shopify customer id, with the erasure audited', async () => {
    // The same e-mail in another tenant.
    await deliver(other, 'orders/paid', order(280263, 'john@example.com', 191167));
    expect((await leadsOf(tenantId, 'john@example.com')).length).toBe(1);
    const result = await deliver(tenantId, 'customers/redact', customerRedact);
    expect(result).toEqual({ outcome: 'processed', detail: '1 subject(s) erased, 1 lead(s)' });
    expect(await leadsOf(tenantId, 'john@example.com')).toEqual([]);
    expect(await actions(tenantId, 'john@example.com')).toContain('erasure');
    // The other tenant's data is its own: untouched.
    expect((await leadsOf(other, 'john@example.com')).length).toBe(1);
    // Redacting again finds nothing more, and still answers.
    expect((await deliver(tenantId, 'customers/redact', customerRedact)).outcome).toBe('processed');
    // A late delivery of an order placed before the redaction does not bring the customer back.
    const placedBefore = { ...order(280265, 'john@example.com', 191167), created_at: '2026-01-05T10:00:00Z' };
    expect((await deliver(tenantId, 'orders/paid', placedBefore)).outcome).toBe('ignored');
    expect(await leadsOf(tenantId, 'john@example.com')).toEqual([]);
    expect(await actions(tenantId, 'john@example.com')).toContain('erasure_upheld');
  });

  it('customers/redact naming the customer by Shopify id only erases the lead captured from that customer', async () => {
    await deliver(tenantId, 'orders/paid', order(280264, 'carl@example.com', 191170));
    const byId = { ...customerRedact, customer: { id: 191170, email: null, phone: null } };
    expect(await deliver(tenantId, 'customers/redact', byId)).toEqual({
      outcome: 'processed',
      detail: '1 subject(s) erased, 1 lead(s)',
    });
    expect(await leadsOf(tenantId, 'carl@example.com')).toEqual([]);
    expect(await actions(tenantId, 'carl@example.com')).toContain('erasure');
    expect(await deliver(tenantId, 'customers/redact', { shop_id: 954889, customer: {} })).toMatchObject({
      outcome: 'ignored',
    });
  });

  it("shop/redact erases every customer received from Shopify in the tenant, and nobody else's data", async () => {
    await deliver(tenantId, 'orders/paid', order(220458, 'anna@example.com', 191168));
    await deliver(tenantId, 'orders/paid', order(220459, 'ben@example.com', 191169));
    await deliver(
      tenantId,
      'order.created',
      {
        id: 727,
        status: 'processing',
        customer_id: 12,
        billing: { email: 'woo@example.com' },
        meta_data: [{ key: '_consent_status', value: 'granted' }],
      },
      'woocommerce',
    );
    expect(await deliver(tenantId, 'shop/redact', shopRedact)).toEqual({
      outcome: 'processed',
      detail: 'shop redacted: 2 subject(s), 2 lead(s)',
    });
    expect(await leadsOf(tenantId, 'anna@example.com')).toEqual([]);
    expect(await leadsOf(tenantId, 'ben@example.com')).toEqual([]);
    expect(await actions(tenantId, 'anna@example.com')).toContain('erasure');
    expect((await leadsOf(tenantId, 'woo@example.com')).length).toBe(1);
    expect((await leadsOf(other, 'john@example.com')).length).toBe(1);
  });
});
