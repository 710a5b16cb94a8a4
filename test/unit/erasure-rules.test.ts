import { personOfDelivery } from '../../functions/shared/features/gdpr/rules/deliveries';
import {
  captureCreatedAt,
  deliveryCreatedAt,
  erasureCovers,
  identitiesOf,
  identityHashes,
  latestErasure,
} from '../../functions/shared/features/gdpr/rules/erasure';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import { serializeEnvelope } from '../../functions/shared/features/webhooks/model';
// Shopify's Order webhook payload (https://shopify.dev/docs/api/webhooks?reference=toml#list-orders-create).
import shopifyOrder from '../fixtures/webhooks/shopify-order-gclid.json';
// WooCommerce's order webhook payload (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties).
import wooOrder from '../fixtures/webhooks/woocommerce-order-processing.json';

const hash = hasherFor('h'.repeat(32));
const RECEIVED = '2026-12-07T12:00:00.000Z';

describe('erasure tombstone keys', () => {
  it('the e-mail key is the subject id; phone and external id keys are of their own kind', () => {
    const [email, phone, external] = identityHashes(hash, 'ten_a', {
      email: 'a@example.com',
      phone: '+4930901820',
      externalId: 'shopify:1',
    });
    expect(email).toBe(hash('ten_a', 'a@example.com'));
    expect(phone).not.toBe(hash('ten_a', '+4930901820'));
    expect(external).not.toBe(hash('ten_a', 'shopify:1'));
    expect(identityHashes(hash, 'ten_b', { email: 'a@example.com' })).toEqual([
      hash('ten_b', 'a@example.com'),
    ]);
  });

  it('reads identities the way a capture normalises them', () => {
    expect(
      identitiesOf({ email: ' A@Example.com ', phone: '030 901820', country: 'DE', external_id: 'x' }),
    ).toEqual({ email: 'a@example.com', phone: '+4930901820', externalId: 'x' });
    expect(identitiesOf({ email: 'not an email' })).toBeUndefined();
    expect(identitiesOf({ email: 'a@example.com', phone: 42, external_id: '' })).toEqual({
      email: 'a@example.com',
      phone: undefined,
      externalId: undefined,
    });
  });
});

describe('when data was created', () => {
  it('a Shopify order: its created_at, never later than its receipt', () => {
    expect(deliveryCreatedAt('shopify', shopifyOrder, RECEIVED)).toBe('2026-03-01T09:15:02.000Z');
    expect(deliveryCreatedAt('shopify', { created_at: '2027-01-01T00:00:00Z' }, RECEIVED)).toBe(RECEIVED);
    expect(deliveryCreatedAt('shopify', { created_at: 'yesterday' }, RECEIVED)).toBe(RECEIVED);
  });

  it('a WooCommerce order: its date_created_gmt (UTC without an offset)', () => {
    expect(deliveryCreatedAt('woocommerce', wooOrder, RECEIVED)).toBe(
      new Date(`${(wooOrder as { date_created_gmt: string }).date_created_gmt}Z`).toISOString(),
    );
    expect(deliveryCreatedAt('woocommerce', { date_created_gmt: '2026-12-01' }, RECEIVED)).toBe(RECEIVED);
  });

  it('anything else: the receipt time', () => {
    expect(deliveryCreatedAt('ghl', { dateAdded: '2020-01-01T00:00:00Z' }, RECEIVED)).toBe(RECEIVED);
    expect(deliveryCreatedAt('shopify', 'not an object', RECEIVED)).toBe(RECEIVED);
  });

  it('an API capture: its consent time when earlier than now, else now', () => {
    const now = new Date(RECEIVED);
    expect(captureCreatedAt('2026-12-01T00:00:00Z', now)).toBe('2026-12-01T00:00:00.000Z');
    expect(captureCreatedAt('2027-01-01T00:00:00Z', now)).toBe(RECEIVED);
    expect(captureCreatedAt(undefined, now)).toBe(RECEIVED);
  });
});

describe('what an erasure covers', () => {
  it('data created at or before it; not data created after it; nothing without an erasure', () => {
    expect(erasureCovers('2026-12-07T12:00:00Z', '2026-12-07T11:59:59Z')).toBe(true);
    expect(erasureCovers('2026-12-07T12:00:00Z', '2026-12-07T12:00:00Z')).toBe(true);
    expect(erasureCovers('2026-12-07T12:00:00Z', '2026-12-07T12:00:01Z')).toBe(false);
    expect(erasureCovers(undefined, '2026-12-07T11:00:00Z')).toBe(false);
  });

  it('fails closed on an unreadable time', () => {
    expect(erasureCovers('garbage', '2026-12-07T11:00:00Z')).toBe(true);
    expect(erasureCovers('2026-12-07T12:00:00Z', 'garbage')).toBe(true);
  });

  it('the latest of several erasures', () => {
    expect(latestErasure([undefined, '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z', undefined])).toBe(
      '2026-06-01T00:00:00Z',
    );
    expect(latestErasure([undefined])).toBeUndefined();
  });
});

describe('the person a queued delivery names', () => {
  const envelope = (
    source: 'shopify' | 'woocommerce' | 'ghl' | 'stripe',
    payload: string,
    topic = 'orders/create',
  ) =>
    serializeEnvelope({
      version: 1,
      id: 'wh_1',
      source,
      tenant_id: 'ten_a',
      topic,
      delivery_id: 'd-1',
      received_at: RECEIVED,
      payload,
    });

  it('reads a Shopify order as the worker would', () => {
    expect(personOfDelivery(envelope('shopify', JSON.stringify(shopifyOrder)))).toEqual({
      tenantId: 'ten_a',
      source: 'shopify',
      identities: { email: 'anna.schmidt@example.com', phone: '+4930901820', externalId: expect.any(String) },
      createdAt: '2026-03-01T09:15:02.000Z',
    });
  });

  it('names nobody for what captures nobody', () => {
    expect(personOfDelivery('not json')).toBeUndefined();
    expect(personOfDelivery(envelope('shopify', 'not json'))).toBeUndefined();
    expect(
      personOfDelivery(envelope('stripe', '{"id":"evt_1"}', 'customer.subscription.updated')),
    ).toBeUndefined();
    expect(
      personOfDelivery(envelope('woocommerce', JSON.stringify({ id: 1 }), 'order.created')),
    ).toBeUndefined();
    expect(
      personOfDelivery(envelope('ghl', JSON.stringify({ type: 'ContactCreate' }), 'ContactCreate')),
    ).toBeUndefined();
  });
});
