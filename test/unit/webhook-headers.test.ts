import {
  guardWebhookHeaders,
  WEBHOOK_HEADER_RULES,
} from '../../functions/shared/features/webhooks/rules/headers';
import { DomainValidationError } from '../../functions/shared/platform/errors/domain';

/** Shopify's documented delivery headers (https://shopify.dev/docs/apps/build/webhooks/subscribe/https). */
const shopify = {
  'x-shopify-topic': 'orders/create',
  'x-shopify-hmac-sha256': 'XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM=',
  'x-shopify-shop-domain': 'example.myshopify.com',
  'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  'x-shopify-triggered-at': '2023-03-29T18:00:27.877041743Z',
  'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  'x-shopify-api-version': '2025-01',
};

function refusal(sender: Parameters<typeof guardWebhookHeaders>[0], headers: Record<string, string>) {
  try {
    guardWebhookHeaders(sender, headers);
  } catch (error) {
    if (error instanceof DomainValidationError) return { status: 400, ...error.extra };
    throw error;
  }
  return undefined;
}

describe('webhook header bounds', () => {
  it("lets the senders' documented headers through, and absent ones", () => {
    expect(refusal('shopify', shopify)).toBeUndefined();
    expect(refusal('shopify', {})).toBeUndefined();
    expect(
      refusal('woocommerce', {
        'x-wc-webhook-source': 'https://example.com/',
        'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-delivery-id': '8b1a9953c4611296a827abf8c47804d7',
        'x-wc-webhook-signature': 'XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM=',
      }),
    ).toBeUndefined();
    expect(
      refusal('stripe', { 'stripe-signature': `t=1492774577,v1=${'5'.repeat(64)},v0=${'6'.repeat(64)}` }),
    ).toBeUndefined();
    // A signature's content is the verifier's to judge (401): empty passes the bounds.
    expect(refusal('ghl', { 'x-ghl-signature': '' })).toBeUndefined();
  });

  it('refuses each header past its bound or out of its format with 400 naming every one', () => {
    const refused = refusal('shopify', {
      ...shopify,
      'x-shopify-topic': `orders/${'x'.repeat(200)}`,
      'x-shopify-webhook-id': 'id with spaces',
    });
    expect(refused).toEqual({
      status: 400,
      details: [
        { path: 'headers.x-shopify-topic', message: 'Longer than 128 characters' },
        { path: 'headers.x-shopify-webhook-id', message: 'Not in the format the sender uses' },
      ],
    });
    expect(refusal('woocommerce', { 'x-wc-webhook-source': 'https://example.com/\u0000' })?.status).toBe(400);
    for (const [sender, rules] of Object.entries(WEBHOOK_HEADER_RULES)) {
      for (const [header, rule] of Object.entries(rules)) {
        expect([
          header,
          refusal(sender as 'shopify', { [header]: 'a'.repeat(rule.max + 1) })?.status,
        ]).toEqual([header, 400]);
      }
    }
  });
});
