import { DomainValidationError } from '../../../platform/errors/domain';
import { logger } from '../../../platform/observability';

/**
 * Bounds on the webhook headers the ingest function reads, checked before anything else reads
 * them: a value longer than any its sender sends, or with characters it never uses, is refused
 * with 400 `validation_failed` and one WARN line (header name, reason and length; never the value),
 * instead of reaching the queue envelope, where it would fail on every retry.
 *
 * The shapes follow the senders' documented headers, with room to spare:
 * - Shopify (https://shopify.dev/docs/apps/build/webhooks/subscribe/https): `X-Shopify-Topic`
 *   (`orders/create`), `X-Shopify-Shop-Domain` (`{shop}.myshopify.com`), `X-Shopify-Webhook-Id`
 *   and `X-Shopify-Event-Id` (UUIDs), `X-Shopify-Triggered-At` (an RFC 3339 time),
 *   `X-Shopify-Hmac-Sha256` (base64 of 32 bytes);
 * - WooCommerce (https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks):
 *   `X-WC-Webhook-Source` (the store URL), `X-WC-Webhook-Topic` (`order.created`),
 *   `X-WC-Webhook-Delivery-ID`, `X-WC-Webhook-Signature` (base64 of 32 bytes);
 * - HighLevel: `X-GHL-Signature` (base64 Ed25519, 64 bytes) and the retired RSA `X-WH-Signature`;
 * - Stripe (https://docs.stripe.com/webhooks#verify-manually): `Stripe-Signature`
 *   (`t=<time>,v1=<hex>[,v1=...][,v0=...]`).
 *
 * A signature header of a plausible length that does not verify stays 401 `invalid_signature`;
 * only one longer than any signature is refused here.
 */
export type WebhookSender = 'shopify' | 'woocommerce' | 'ghl' | 'stripe';

interface HeaderRule {
  readonly max: number;
  /**
   * The characters the sender uses. Absent for signature headers: an empty or garbled signature
   * is the verifier's to refuse (401), only its length is bounded here.
   */
  readonly pattern?: RegExp;
}

const TOKEN = /^[A-Za-z0-9._:/-]+$/;
/** No spaces or control characters: a URL as a store sends it. */
const NO_CONTROL = /^[\x21-\x7e\u00a0-\uffff]+$/;

export const WEBHOOK_HEADER_RULES: Readonly<Record<WebhookSender, Readonly<Record<string, HeaderRule>>>> = {
  shopify: {
    'x-shopify-topic': { max: 128, pattern: /^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)+$/ },
    'x-shopify-shop-domain': { max: 255, pattern: /^[A-Za-z0-9.-]+$/ },
    'x-shopify-webhook-id': { max: 128, pattern: TOKEN },
    'x-shopify-event-id': { max: 128, pattern: TOKEN },
    'x-shopify-triggered-at': { max: 64, pattern: /^[0-9][0-9T:.+ Z-]*$/i },
    'x-shopify-hmac-sha256': { max: 256 },
  },
  woocommerce: {
    'x-wc-webhook-source': { max: 2048, pattern: NO_CONTROL },
    'x-wc-webhook-topic': { max: 128, pattern: TOKEN },
    'x-wc-webhook-delivery-id': { max: 128, pattern: TOKEN },
    'x-wc-webhook-signature': { max: 256 },
  },
  ghl: {
    'x-ghl-signature': { max: 1024 },
    'x-wh-signature': { max: 1024 },
  },
  stripe: {
    'stripe-signature': { max: 2048 },
  },
};

/**
 * Refuses a delivery whose read headers break their bounds: 400 `validation_failed` naming each
 * header (`headers.<name>`), logged once at WARN. Headers are lower-cased by the HTTP plumbing.
 */
export function guardWebhookHeaders(sender: WebhookSender, headers: Readonly<Record<string, string>>): void {
  const problems: Array<{ header: string; reason: 'too_long' | 'malformed'; length: number }> = [];
  for (const [header, rule] of Object.entries(WEBHOOK_HEADER_RULES[sender])) {
    const value = headers[header];
    if (value === undefined) continue;
    if (value.length > rule.max) problems.push({ header, reason: 'too_long', length: value.length });
    else if (rule.pattern && !rule.pattern.test(value))
      problems.push({ header, reason: 'malformed', length: value.length });
  }
  if (!problems.length) return;
  logger.warn('Webhook refused: header out of bounds', { source: sender, headers: problems });
  throw new DomainValidationError(
    problems.map(({ header, reason }) => ({
      path: `headers.${header}`,
      message:
        reason === 'too_long'
          ? `Longer than ${WEBHOOK_HEADER_RULES[sender][header]?.max} characters`
          : 'Not in the format the sender uses',
    })),
    'A webhook header is too long or malformed',
  );
}
