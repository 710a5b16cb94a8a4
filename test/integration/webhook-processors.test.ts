/**
 * The webhook worker's processors against the emulator's tables: what each kind of delivery does
 * to leads, conversions and billing, and which deliveries are refused for good (dead-lettered)
 * rather than retried.
 */

import { DynamoConversionLog } from '../../functions/shared/conversions/log';
import { DynamoConversionStore } from '../../functions/shared/conversions/store';
import type { WebhookEnvelope, WebhookSource } from '../../functions/shared/envelope';
import { DynamoTenantStore } from '../../functions/shared/tenancy/dynamo-store';
import {
  PermanentFailure,
  processEnvelope,
  useStripeGateway,
} from '../../functions/webhook-worker/processors';
import { type FakeStripe, startFakeStripe } from '../../lib/local/fake-stripe';
import { gclid } from '../support/click-ids';
import { freshResources } from '../support/emulator';

let delivery = 0;
const envelope = (
  source: WebhookSource,
  topic: string,
  tenantId: string,
  payload: unknown,
): WebhookEnvelope => ({
  version: 1,
  id: `wh_proc_${++delivery}`,
  source,
  tenant_id: tenantId,
  topic,
  delivery_id: `proc-${delivery}`,
  received_at: new Date().toISOString(),
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

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
    const customer = await shopify('customers/create', {
      id: 7001,
      email: 'order-101@example.com',
      email_marketing_consent: { state: 'subscribed', consent_updated_at: '2026-03-01T10:00:00Z' },
    });
    expect(customer.detail).toMatch(/^lead lead_\w+$/);
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
    expect(await shopify('orders/cancelled', { id: 102 })).toEqual({
      outcome: 'ignored',
      detail: 'no uploaded conversion of this order',
    });
    expect(await shopify('orders/cancelled', { id: 99_999 })).toEqual({
      outcome: 'ignored',
      detail: 'no uploaded conversion of this order',
    });
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
