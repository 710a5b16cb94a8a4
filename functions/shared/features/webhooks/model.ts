import * as z from 'zod/mini';
import { parseMessage } from '../../platform/queues/message';

/**
 * The webhook envelope: the contract between the ingest function and the webhook worker on the
 * webhooks queue. Versioned: a change that is not backwards compatible gets a new version, and the
 * worker accepts every version still in flight.
 */
export const WEBHOOK_SOURCES = ['shopify', 'woocommerce', 'ghl', 'stripe'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export const webhookEnvelopeV1 = z.object({
  version: z.literal(1),
  /** Id answered to the sender in `{status: "received", id}`. */
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  source: z.enum(WEBHOOK_SOURCES),
  tenant_id: z.string().check(z.minLength(1), z.maxLength(128)),
  topic: z.string().check(z.minLength(1), z.maxLength(256)),
  /** The sender's delivery id; with `source` it makes processing idempotent. */
  delivery_id: z.string().check(z.minLength(1), z.maxLength(256)),
  received_at: z.iso.datetime(),
  /** When the sender says the event happened, where it says so. */
  triggered_at: z.optional(z.string().check(z.maxLength(64))),
  /** The body exactly as received (UTF-8), verified before it was queued. */
  payload: z.string(),
});

export type WebhookEnvelope = z.infer<typeof webhookEnvelopeV1>;

/** A message of the webhooks queue; InvalidMessageError (naming the wrong fields) otherwise. */
export const parseEnvelope = (body: string): WebhookEnvelope =>
  parseMessage(body, webhookEnvelopeV1, 'a webhook envelope v1');

export function serializeEnvelope(envelope: WebhookEnvelope): string {
  return JSON.stringify(webhookEnvelopeV1.parse(envelope));
}
