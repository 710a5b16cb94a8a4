import { platformOrgId } from '../shared/auth/context';
import { DynamoConversionStore } from '../shared/conversions/store';
import { DomainValidationError } from '../shared/domain-errors';
import type { WebhookEnvelope, WebhookSource } from '../shared/envelope';
import { DynamoAuditTrail } from '../shared/gdpr/audit';
import { loadEmailHasher } from '../shared/leads/email-hash';
import { canMove } from '../shared/leads/schema';
import { captureLeads, modifyLead, normaliseLeads } from '../shared/leads/service';
import { DynamoLeadStore } from '../shared/leads/store';
import { conversionsForWon } from '../shared/leads/won';
import { DynamoTenantStore } from '../shared/tenancy/dynamo-store';
import { platformScope } from '../shared/tenancy/scope';
import { type Extraction, extractGhl, extractShopify, extractWooCommerce } from '../shared/webhooks/extract';

/** What processing one delivery came to; stored with its idempotency record. */
export interface ProcessingResult {
  outcome: 'processed' | 'ignored';
  detail?: string;
}

/** A delivery no retry can mend: it goes to the dead-letter queue at once, with this reason. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

export type WebhookProcessor = (envelope: WebhookEnvelope) => Promise<ProcessingResult>;

/**
 * Processors by source and topic; `*` catches every topic of a source. A topic without a
 * processor is acknowledged and ignored.
 */
export type ProcessorRegistry = Partial<Record<WebhookSource, Readonly<Record<string, WebhookProcessor>>>>;

const leads = new DynamoLeadStore();
const audit = new DynamoAuditTrail();
const conversions = new DynamoConversionStore();
const tenants = new DynamoTenantStore();

function parsePayload(envelope: WebhookEnvelope): unknown {
  try {
    return JSON.parse(envelope.payload);
  } catch {
    throw new PermanentFailure(`${envelope.source} ${envelope.topic}: the payload is not JSON`);
  }
}

/** The tenant the delivery was verified for; it must still exist. */
async function tenantScope(envelope: WebhookEnvelope) {
  const tenant = await tenants.getTenant(envelope.tenant_id);
  if (tenant?.status !== 'active')
    throw new PermanentFailure(`unknown or inactive tenant ${envelope.tenant_id}`);
  const system = {
    tenantId: platformOrgId(),
    role: 'owner' as const,
    subject: 'webhook-worker',
    method: 'jwt' as const,
  };
  return platformScope(system, tenant.id);
}

/**
 * A lead from a shop, store or CRM: captured under the consent rules (no valid consent, no lead,
 * the refusal audited); a paid order carrying a click id makes the lead won and queues its
 * conversions, with time and order id fixed now and unique per order.
 */
async function processExtraction(
  envelope: WebhookEnvelope,
  extraction: Extraction,
): Promise<ProcessingResult> {
  if (extraction.kind === 'ignored') return { outcome: 'ignored', detail: extraction.reason };
  if (extraction.kind === 'invalid')
    throw new PermanentFailure(`${envelope.source} ${envelope.topic}: ${extraction.reason}`);
  const scope = await tenantScope(envelope);
  const hash = await loadEmailHasher();
  let normalised: ReturnType<typeof normaliseLeads>;
  try {
    normalised = normaliseLeads(scope, [extraction.lead], hash, true);
  } catch (error) {
    if (error instanceof DomainValidationError) {
      throw new PermanentFailure(`${envelope.source} ${envelope.topic}: the lead does not validate`);
    }
    throw error;
  }
  const actor = { subject: `webhook:${envelope.source}`, ip: 'webhook', request_id: envelope.id };
  const result = await captureLeads({ leads, audit, hash }, scope, normalised, actor, 'webhook');
  const leadId = result.lead_ids[0];
  if (!leadId) return { outcome: 'processed', detail: 'lead refused: consent_required' };
  const order = extraction.order;
  if (!order?.paid) return { outcome: 'processed', detail: `lead ${leadId}` };
  const won = await modifyLead(leads, scope, leadId, (lead) =>
    lead.status === 'won' || !canMove(lead.status, 'won') ? undefined : { status: 'won' },
  );
  if (!won) return { outcome: 'processed', detail: `lead ${leadId}` };
  const planned = conversionsForWon(
    won,
    {
      orderId: order.id,
      uniqueBy: `${envelope.source}:${order.id}`,
      ...(order.value !== undefined ? { value: order.value } : {}),
      ...(order.currency ? { currency: order.currency } : {}),
    },
    order.occurredAt && !Number.isNaN(Date.parse(order.occurredAt)) ? new Date(order.occurredAt) : new Date(),
  );
  let queued = 0;
  for (const conversion of planned) {
    if ((await conversions.queue(scope, conversion)) === 'queued') queued += 1;
  }
  return { outcome: 'processed', detail: `lead ${leadId}, ${queued} conversion(s) queued` };
}

const commerce =
  (extract: (topic: string, payload: unknown) => Extraction): WebhookProcessor =>
  async (envelope) =>
    processExtraction(envelope, extract(envelope.topic, parsePayload(envelope)));

interface StripeEvent {
  id?: unknown;
  created?: unknown;
  data?: { object?: Record<string, unknown> };
}

/** Subscription status per tenant, from the `tenant_id` metadata the platform sets on subscriptions. */
async function stripeSubscription(envelope: WebhookEnvelope): Promise<ProcessingResult> {
  const event = parsePayload(envelope) as StripeEvent;
  const object = event.data?.object ?? {};
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const tenantId = metadata.tenant_id;
  if (typeof tenantId !== 'string' || !tenantId)
    return { outcome: 'ignored', detail: 'no tenant_id metadata' };
  if (
    typeof object.id !== 'string' ||
    typeof object.status !== 'string' ||
    typeof event.created !== 'number'
  ) {
    throw new PermanentFailure(`stripe ${envelope.topic}: not a subscription event`);
  }
  const outcome = await tenants.updateBilling(tenantId, {
    subscription_id: object.id,
    status: envelope.topic === 'customer.subscription.deleted' ? 'canceled' : object.status,
    ...(typeof object.current_period_end === 'number'
      ? { current_period_end: object.current_period_end }
      : {}),
    event_created: event.created,
    event_id: typeof event.id === 'string' ? event.id : envelope.delivery_id,
    updated_at: new Date().toISOString(),
  });
  if (outcome === 'unknown_tenant')
    throw new PermanentFailure(`stripe ${envelope.topic}: unknown tenant ${tenantId}`);
  return { outcome: outcome === 'updated' ? 'processed' : 'ignored', detail: `billing ${outcome}` };
}

export const PROCESSORS: ProcessorRegistry = {
  shopify: {
    'orders/create': commerce(extractShopify),
    'orders/paid': commerce(extractShopify),
    'customers/create': commerce(extractShopify),
    'customers/update': commerce(extractShopify),
  },
  woocommerce: {
    'order.created': commerce(extractWooCommerce),
    'order.updated': commerce(extractWooCommerce),
  },
  ghl: { '*': async (envelope) => processExtraction(envelope, extractGhl(parsePayload(envelope))) },
  stripe: {
    'customer.subscription.created': stripeSubscription,
    'customer.subscription.updated': stripeSubscription,
    'customer.subscription.deleted': stripeSubscription,
  },
};

export async function processEnvelope(
  envelope: WebhookEnvelope,
  registry: ProcessorRegistry = PROCESSORS,
): Promise<ProcessingResult> {
  const processors = registry[envelope.source];
  const processor = processors?.[envelope.topic] ?? processors?.['*'];
  if (!processor)
    return { outcome: 'ignored', detail: `no processor for ${envelope.source} ${envelope.topic}` };
  return processor(envelope);
}
