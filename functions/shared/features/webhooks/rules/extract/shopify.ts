import { attributionFrom, clickIdsOnly, originOf, urlFields } from './attribution';
import { consentFrom, firstConsent, isoTimestamp } from './consent';
import { guarded, topicLabel } from './guard';
import { currencyOf, leadExtraction, money, type PhoneCandidate } from './lead';
import { type Extraction, ignored, invalid, type OrderFacts } from './types';
import { identifier, type JsonObject, pairs, record, text } from './values';

/**
 * Shopify: `orders/create`, `orders/paid` and `orders/cancelled` carry an Order, `customers/create`
 * and `customers/update` a Customer, `refunds/create` a Refund (Admin REST shapes). Shopify signs
 * the body only: the topic header is not signed, so it chooses the parser and nothing more. What
 * an order is (paid, cancelled, refunded) comes from the order itself, so a body re-sent under
 * another topic says what it said the first time.
 *
 * Attribution comes from the order's `note_attributes` (cart attributes the storefront script
 * writes: click ids, `click_time`, `landing_page`), its `landing_site` (usually a path, resolved
 * against the shop's origin) and, for click ids only, its `referring_site`. Consent only from the
 * note attributes `consent_status`, `consent_timestamp`, `consent_method`, `ad_user_data`,
 * `ad_personalization`: Shopify removed `email_marketing_consent` from webhook payloads in API
 * 2025-01, and `buyer_accepts_marketing` is an e-mail opt-in, not ad consent.
 */
const ORDER_TOPICS: ReadonlySet<string> = new Set(['orders/create', 'orders/paid', 'orders/cancelled']);
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

/**
 * Money paid for the order as its body says: all of it when `paid` (or `partially_refunded`, the
 * current total after refunds), what was paid so far when `partially_paid` (the total less
 * `total_outstanding`); undefined when the order is not paid (pending, authorized, voided,
 * refunded, expired) or the amount paid is unknown.
 */
function paidAmount(body: JsonObject): { paid: boolean; value?: number } {
  const status = text(body.financial_status)?.toLowerCase();
  const total = money(body.current_total_price, body.total_price);
  if (status === 'paid' || status === 'partially_refunded')
    return { paid: true, ...(total !== undefined ? { value: total } : {}) };
  if (status === 'partially_paid') {
    const outstanding = money(body.total_outstanding);
    if (total === undefined || outstanding === undefined) return { paid: false };
    const value = Math.round((total - outstanding) * 100) / 100;
    return value > 0 ? { paid: true, value } : { paid: false };
  }
  return { paid: false };
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

function order(payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a Shopify order');
  const id = identifier(body.id) ?? text(body.name);
  if (id === undefined) return invalid('the order has no id');
  // Cancelled, or refunded in full: whatever the topic said, the order's conversions go back.
  const cancelledAt = isoTimestamp(body.cancelled_at);
  const refunded = text(body.financial_status)?.toLowerCase() === 'refunded';
  if (cancelledAt !== undefined || refunded) {
    const occurredAt = cancelledAt ?? isoTimestamp(body.updated_at);
    return {
      kind: 'reversal',
      reversal: { orderId: id, cancelled: true, ...(occurredAt !== undefined ? { occurredAt } : {}) },
    };
  }
  const customer = record(body.customer);
  const billing = record(body.billing_address);
  const shipping = record(body.shipping_address);
  const notes = pairs(body.note_attributes, ['name', 'key'], ['value']);
  const payment = paidAmount(body);
  const value = payment.paid ? payment.value : money(body.current_total_price, body.total_price);
  const currency = currencyOf(body.currency, body.presentment_currency);
  const occurredAt = isoTimestamp(body.processed_at) ?? isoTimestamp(body.created_at);
  const facts: OrderFacts = {
    id,
    paid: payment.paid,
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
        { phone: billing?.phone, country: countryOf(billing) },
        { phone: body.phone, country: nationalCountry },
        ...customerPhones(customer),
        { phone: shipping?.phone, country: countryOf(shipping) },
      ],
      attribution: attributionFrom(
        [notes, urlFields(body.landing_site), clickIdsOnly(urlFields(body.referring_site))],
        [notes.get('landing_page')?.[0], body.landing_site],
        originOf(body.order_status_url),
      ),
      consent: firstConsent(consentFrom(notes)),
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
    // A customer carries no ad consent (only cart attributes on an order do).
    consent: firstConsent(),
    ...(id !== undefined ? { externalId: id } : {}),
  });
}

export function extractShopify(topic: string, payload: unknown): Extraction {
  return guarded(() => {
    if (ORDER_TOPICS.has(topic)) return order(payload);
    if (CUSTOMER_TOPICS.has(topic)) return customer(payload);
    if (topic === 'refunds/create') return refund(payload);
    return ignored(`Shopify topic ${topicLabel(topic)} carries no lead`);
  });
}
