import type { ConsentInput } from '../../leads/consent';
import { attributionFrom, clickIdsOnly, urlFields } from './attribution';
import { consentFrom, firstConsent, isoTimestamp } from './consent';
import { guarded, topicLabel } from './guard';
import { currencyOf, leadExtraction, money, type PhoneCandidate } from './lead';
import { type Extraction, ignored, invalid, type OrderFacts } from './types';
import { identifier, type JsonObject, pairs, record, text } from './values';

/**
 * Shopify: `orders/create` and `orders/paid` carry an Order, `customers/create` and
 * `customers/update` a Customer (Admin REST shapes). Attribution comes from the order's
 * `note_attributes` (written by the storefront), its `landing_site` (a path and query, or a full
 * URL) and, for click ids only, its `referring_site`.
 */
const ORDER_TOPICS: ReadonlySet<string> = new Set(['orders/create', 'orders/paid']);
const CUSTOMER_TOPICS: ReadonlySet<string> = new Set(['customers/create', 'customers/update']);

/**
 * `refunds/create` carries a Refund: what was paid back is the sum of its successful `refund`
 * transactions (else of its refund line items and order adjustments). `orders/cancelled` carries
 * the cancelled Order.
 */
function refund(payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a Shopify refund');
  const id = identifier(body.id);
  const orderId = identifier(body.order_id);
  if (id === undefined || orderId === undefined) return invalid('the refund has no id or order id');
  const transactions = Array.isArray(body.transactions) ? body.transactions.map(record) : [];
  const paidBack = transactions.filter(
    (t) => text(t?.kind)?.toLowerCase() === 'refund' && text(t?.status)?.toLowerCase() === 'success',
  );
  let amount = paidBack.reduce((sum, t) => sum + (money(t?.amount) ?? 0), 0);
  if (paidBack.length === 0) {
    const lines = Array.isArray(body.refund_line_items) ? body.refund_line_items.map(record) : [];
    amount = lines.reduce((sum, l) => sum + (money(l?.subtotal) ?? 0) + (money(l?.total_tax) ?? 0), 0);
  }
  amount = Math.round(amount * 100) / 100;
  if (!(amount > 0)) return ignored('the refund paid nothing back');
  const currency = currencyOf(paidBack[0]?.currency, body.currency);
  const occurredAt = isoTimestamp(body.processed_at) ?? isoTimestamp(body.created_at);
  return {
    kind: 'reversal',
    reversal: {
      orderId,
      refund: { id, amount, ...(currency !== undefined ? { currency } : {}) },
      ...(occurredAt !== undefined ? { occurredAt } : {}),
    },
  };
}

function cancellation(payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a Shopify order');
  const orderId = identifier(body.id);
  if (orderId === undefined) return invalid('the order has no id');
  const occurredAt = isoTimestamp(body.cancelled_at) ?? isoTimestamp(body.updated_at);
  return {
    kind: 'reversal',
    reversal: { orderId, cancelled: true, ...(occurredAt !== undefined ? { occurredAt } : {}) },
  };
}

/**
 * `email_marketing_consent.state === 'subscribed'` counts as granted, by form checkbox, at
 * `consent_updated_at` (CONTRACT §8). Any other state says nothing about consent.
 */
function marketingConsent(customer: JsonObject | undefined): ConsentInput | undefined {
  const marketing = record(customer?.email_marketing_consent);
  if (text(marketing?.state)?.toLowerCase() !== 'subscribed') return undefined;
  const timestamp = isoTimestamp(marketing?.consent_updated_at);
  return { status: 'granted', method: 'form_checkbox', ...(timestamp !== undefined ? { timestamp } : {}) };
}

const countryOf = (address: JsonObject | undefined): unknown => address?.country_code ?? address?.country;

function customerPhones(customer: JsonObject | undefined): PhoneCandidate[] {
  const address = record(customer?.default_address);
  return [
    { phone: customer?.phone, country: countryOf(address) },
    { phone: address?.phone, country: countryOf(address) },
  ];
}

function externalId(customer: JsonObject | undefined): string | undefined {
  const id = identifier(customer?.id);
  return id !== undefined ? `shopify:${id}` : undefined;
}

function order(topic: string, payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a Shopify order');
  const id = identifier(body.id) ?? text(body.name);
  if (id === undefined) return invalid('the order has no id');
  const customer = record(body.customer);
  const billing = record(body.billing_address);
  const shipping = record(body.shipping_address);
  const notes = pairs(body.note_attributes, ['name', 'key'], ['value']);
  const value = money(body.current_total_price, body.total_price);
  const currency = currencyOf(body.currency, body.presentment_currency);
  const occurredAt = isoTimestamp(body.processed_at) ?? isoTimestamp(body.created_at);
  const facts: OrderFacts = {
    id,
    paid: topic === 'orders/paid' || text(body.financial_status)?.toLowerCase() === 'paid',
    ...(value !== undefined ? { value } : {}),
    ...(currency !== undefined ? { currency } : {}),
    ...(occurredAt !== undefined ? { occurredAt } : {}),
  };
  const external = externalId(customer);
  const nationalCountry =
    countryOf(billing) ?? countryOf(shipping) ?? countryOf(record(customer?.default_address));
  return leadExtraction(
    {
      emails: [body.email, body.contact_email, customer?.email],
      phones: [
        { phone: body.phone, country: nationalCountry },
        { phone: billing?.phone, country: countryOf(billing) },
        { phone: shipping?.phone, country: countryOf(shipping) },
        ...customerPhones(customer),
      ],
      attribution: attributionFrom(
        [notes, urlFields(body.landing_site), clickIdsOnly(urlFields(body.referring_site))],
        [body.landing_site, notes.get('landing_page')?.[0]],
      ),
      consent: firstConsent(consentFrom(notes), marketingConsent(customer)),
      browser: {
        userAgent: record(body.client_details)?.user_agent,
        ip: record(body.client_details)?.browser_ip ?? body.browser_ip,
      },
      ...(external !== undefined ? { externalId: external } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(currency !== undefined ? { currency } : {}),
    },
    facts,
  );
}

function customer(payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a Shopify customer');
  const id = externalId(body);
  return leadExtraction({
    emails: [body.email],
    phones: customerPhones(body),
    attribution: {},
    consent: firstConsent(marketingConsent(body)),
    ...(id !== undefined ? { externalId: id } : {}),
  });
}

export function extractShopify(topic: string, payload: unknown): Extraction {
  return guarded(() => {
    if (ORDER_TOPICS.has(topic)) return order(topic, payload);
    if (CUSTOMER_TOPICS.has(topic)) return customer(payload);
    if (topic === 'refunds/create') return refund(payload);
    if (topic === 'orders/cancelled') return cancellation(payload);
    return ignored(`Shopify topic ${topicLabel(topic)} carries no lead`);
  });
}
