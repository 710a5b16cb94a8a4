import type { WebhookEnvelope, WebhookSource } from '../../functions/shared/features/webhooks/model';

/**
 * Webhook envelopes as ingest queues them, numbered in the order a test makes them: ids
 * `wh_<prefix>_<n>` and delivery ids `<prefix>-<n>`, received now. A payload that is not a string
 * is sent as its JSON.
 */
export function envelopeSeries(prefix: string) {
  let delivery = 0;
  return (source: WebhookSource, topic: string, tenantId: string, payload: unknown): WebhookEnvelope => {
    delivery += 1;
    return {
      version: 1,
      id: `wh_${prefix}_${delivery}`,
      source,
      tenant_id: tenantId,
      topic,
      delivery_id: `${prefix}-${delivery}`,
      received_at: new Date().toISOString(),
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    };
  };
}
