import { attributionFrom, urlFields } from './attribution';
import { consentFrom, firstConsent, isoTimestamp } from './consent';
import { guarded, topicLabel } from './guard';
import { currencyOf, leadExtraction, money } from './lead';
import { type Extraction, ignored, invalid, type OrderFacts } from './types';
import { type Fields, identifier, normaliseKey, pairs, record, text } from './values';

/**
 * WooCommerce: `order.created` and `order.updated` carry a REST API order (wc/v3). Attribution
 * comes from the order's `meta_data` (`_gclid` or `gclid`, `_utm_source` or `utm_source`, ...),
 * then from WooCommerce's own order attribution (`_wc_order_attribution_utm_*`, and the landing
 * URL `_wc_order_attribution_session_entry`). Consent from `_consent_status`, `_consent_timestamp`,
 * `_consent_method`. WooCommerce signs the body, not the `X-WC-Webhook-Topic` header: the topic
 * chooses the parser, the order's `status` says what it is. A paid order is one `processing` or
 * `completed`; a `cancelled` or `refunded` one takes its conversions back.
 */
const ORDER_TOPICS: ReadonlySet<string> = new Set(['order.created', 'order.updated']);
const PAID_STATUSES: ReadonlySet<string> = new Set(['processing', 'completed']);
const REVERSED_STATUSES: ReadonlySet<string> = new Set(['cancelled', 'refunded']);
const ATTRIBUTION_PREFIX = normaliseKey('_wc_order_attribution_');
const GMT_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** WooCommerce's order attribution meta, without its prefix: `utm_source`, `session_entry`, ... */
function wooAttribution(meta: Fields): Fields {
  const fields = new Map<string, readonly string[]>();
  for (const [key, values] of meta) {
    if (key.startsWith(ATTRIBUTION_PREFIX)) fields.set(key.slice(ATTRIBUTION_PREFIX.length), values);
  }
  return fields;
}

/** A `*_gmt` time of the REST API (`2026-03-01T09:30:00`, UTC without offset) as ISO 8601. */
function gmt(value: unknown): string | undefined {
  const found = text(value);
  if (found !== undefined && GMT_WITHOUT_OFFSET.test(found)) return isoTimestamp(`${found}Z`);
  return isoTimestamp(found);
}

function order(payload: unknown): Extraction {
  const body = record(payload);
  if (!body) return invalid('the payload is not a WooCommerce order');
  const id = identifier(body.id);
  if (id === undefined) return invalid('the order has no id');
  const status = text(body.status)?.toLowerCase() ?? '';
  if (REVERSED_STATUSES.has(status)) {
    const occurredAt = gmt(body.date_modified_gmt);
    return {
      kind: 'reversal',
      reversal: { orderId: id, cancelled: true, ...(occurredAt !== undefined ? { occurredAt } : {}) },
    };
  }
  const billing = record(body.billing);
  const shipping = record(body.shipping);
  const meta = pairs(body.meta_data, ['key'], ['value']);
  const wc = wooAttribution(meta);
  const landing = wc.get('session_entry')?.[0];
  const paid = PAID_STATUSES.has(status);
  const value = money(body.total);
  const currency = currencyOf(body.currency);
  const occurredAt = (paid ? gmt(body.date_paid_gmt) : undefined) ?? gmt(body.date_created_gmt);
  const facts: OrderFacts = {
    id,
    paid,
    ...(value !== undefined ? { value } : {}),
    ...(currency !== undefined ? { currency } : {}),
    ...(occurredAt !== undefined ? { occurredAt } : {}),
  };
  const customerId = identifier(body.customer_id);
  return leadExtraction(
    {
      emails: [billing?.email],
      phones: [
        { phone: billing?.phone, country: billing?.country },
        { phone: shipping?.phone, country: shipping?.country },
      ],
      attribution: attributionFrom([meta, wc, urlFields(landing)], [landing]),
      consent: firstConsent(consentFrom(meta)),
      browser: { userAgent: body.customer_user_agent, ip: body.customer_ip_address },
      ...(customerId !== undefined ? { externalId: `woocommerce:${customerId}` } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(currency !== undefined ? { currency } : {}),
    },
    facts,
  );
}

export function extractWooCommerce(topic: string, payload: unknown): Extraction {
  return guarded(() => {
    const body = record(payload);
    // Saving a webhook in WooCommerce sends a ping: `{"webhook_id": 12}` and nothing else.
    if (body && body.webhook_id !== undefined && body.id === undefined) return ignored('WooCommerce ping');
    if (!ORDER_TOPICS.has(topic)) return ignored(`WooCommerce topic ${topicLabel(topic)} carries no lead`);
    return order(payload);
  });
}
