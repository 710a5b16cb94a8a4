import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../shared/features/conversions/dynamo-log';
import { integrationMatchingSources } from '../shared/features/conversions/dynamo-matching-sources';
import {
  earlierOrderConversionIds,
  matchingRules,
  type NotPlanned,
} from '../shared/features/conversions/rules/plan';
import { adjustConversion, refundPlan } from '../shared/features/conversions/service';
import { DynamoAuditTrail } from '../shared/features/gdpr/dynamo-audit';
import { coveringErasure, DynamoTombstones } from '../shared/features/gdpr/dynamo-tombstones';
import { deliveryCreatedAt } from '../shared/features/gdpr/rules/erasure';
import { DynamoSourceStore } from '../shared/features/integrations/dynamo';
import { DynamoLeadStore } from '../shared/features/leads/dynamo';
import type { StoredLead } from '../shared/features/leads/model';
import { loadEmailHasher } from '../shared/features/leads/rules/email-hash';
import { canMove } from '../shared/features/leads/schema';
import { captureLeads, modifyLead, normaliseLeads } from '../shared/features/leads/service';
import { planWon, queueWon, type WonDeps } from '../shared/features/leads/service-won';
import { DynamoTenantStore } from '../shared/features/tenancy/dynamo';
import { consentPolicyOfTenant } from '../shared/features/tenancy/dynamo-consent-policy';
import type { TenantScope } from '../shared/features/tenancy/rules/scope';
import type { WebhookEnvelope, WebhookSource } from '../shared/features/webhooks/model';
import {
  type Extraction,
  extractGhl,
  extractShopify,
  extractWooCommerce,
  type OrderFacts,
} from '../shared/features/webhooks/rules/extract';
import type { GhlConsentSettings } from '../shared/features/webhooks/rules/extract/ghl';
import type { OrderReversal } from '../shared/features/webhooks/rules/extract/types';
import { DomainValidationError } from '../shared/platform/errors/domain';
import { systemScope } from '../shared/platform/system-scope';
import { StripeClient, type StripeGateway } from '../shared/providers/stripe/client';
import { type ComplianceResult, recordDataRequest, redactCustomer, redactShop } from './compliance';

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
const conversionLog = new DynamoConversionLog();
/** How long an adjustment of a conversion still on its way waits before it looks again. */
const adjustmentWait = () => Number(process.env.ADJUSTMENT_WAIT_SECONDS ?? 900);
const tenants = new DynamoTenantStore();
const tombstones = new DynamoTombstones();
const sources = new DynamoSourceStore();
const matchingSources = integrationMatchingSources();
const wonDeps: WonDeps = {
  rules: (tenantId) => matchingRules(matchingSources, tenantId),
  queue: (scope, conversion) => conversions.queue(scope, conversion),
};

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
  return systemScope('webhook-worker', tenant.id);
}

/**
 * A lead from a shop, store or CRM: captured under the tenant's consent policy (no lead without
 * the consent it requires, the refusal audited); a paid order carrying a click id makes the lead
 * won and queues its conversions, with time and order id fixed now and unique per order.
 */
async function processExtraction(
  envelope: WebhookEnvelope,
  extraction: Extraction,
  payload: unknown,
  knownScope?: TenantScope,
): Promise<ProcessingResult> {
  if (extraction.kind === 'ignored') return { outcome: 'ignored', detail: extraction.reason };
  if (extraction.kind === 'invalid')
    throw new PermanentFailure(`${envelope.source} ${envelope.topic}: ${extraction.reason}`);
  if (extraction.kind === 'reversal') return processReversal(envelope, extraction.reversal);
  const scope = knownScope ?? (await tenantScope(envelope));
  if (extraction.kind === 'contact_order') return processContactOrder(envelope, scope, extraction);
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
  // Erasure is final for what was received before it: a late, retried or redriven delivery of
  // data created before the person was erased is dropped, and the drop audited.
  const person = normalised[0];
  if (person) {
    const createdAt = deliveryCreatedAt(envelope.source, payload, envelope.received_at);
    const { email, phone, external_id: externalId } = person.fields;
    const erasedAt = await coveringErasure(
      { tombstones, hash },
      scope,
      { email, phone, externalId },
      createdAt,
    );
    if (erasedAt !== undefined) {
      await audit.append(scope, 'erasure_upheld', person.emailHash, actor, {
        where: 'webhook',
        source: envelope.source,
        created_at: createdAt,
        erased_at: erasedAt,
      });
      return { outcome: 'ignored', detail: 'subject erased before this data was created' };
    }
  }
  const order = extraction.order;
  const orderKey = order?.paid ? `${envelope.source}:${order.id}` : undefined;
  const result = await captureLeads(
    { leads, audit, hash, consentPolicy: consentPolicyOfTenant() },
    scope,
    normalised,
    actor,
    'webhook',
    order?.paid ? 'won' : 'new',
    orderKey,
  );
  const leadId = result.lead_ids[0];
  if (!leadId) return { outcome: 'processed', detail: 'lead refused: consent_required' };
  if (!order?.paid || !orderKey) return { outcome: 'processed', detail: `lead ${leadId}` };
  // A lead this order created is won with it already (no second write); an existing one moves to
  // won and records the order.
  let recorded = false;
  const held = await modifyLead(leads, scope, leadId, (lead) => {
    const patch = withOrder(lead, orderKey);
    recorded = patch?.order_keys !== undefined;
    return patch;
  });
  if (!held) return { outcome: 'processed', detail: `lead ${leadId}` };
  const queued = await queueOrderConversions(scope, held, order, orderKey, envelope.source, recorded);
  return { outcome: 'processed', detail: `lead ${leadId}, ${queued} conversion(s) queued` };
}

/**
 * What a paid order changes on its lead: won (when it can move there), the order recorded, so
 * erasure finds the order's conversions from the lead. Nothing when both are so already.
 */
function withOrder(
  lead: StoredLead,
  orderKey: string,
  won: Partial<StoredLead> = { status: 'won' },
): Partial<StoredLead> | undefined {
  const moves = lead.status !== 'won' && canMove(lead.status, 'won');
  const known = lead.order_keys?.includes(orderKey) ?? false;
  if (!moves && known) return undefined;
  return { ...(moves ? won : {}), ...(known ? {} : { order_keys: [...(lead.order_keys ?? []), orderKey] }) };
}

/**
 * The conversions of a won lead's order, queued once each: their ids derive from the order, so
 * a repeat of the order, or its refund, finds them. `recorded`: the order was new on a lead held
 * before, which may have queued its conversions under their earlier ids (derived from the lead
 * and the order, before ids derived from the order alone): then nothing is queued.
 */
async function queueOrderConversions(
  scope: TenantScope,
  won: StoredLead,
  order: OrderFacts,
  orderKey: string,
  source: WebhookSource,
  recorded: boolean,
): Promise<number> {
  const plan = await planWon(
    wonDeps,
    scope,
    won,
    {
      orderId: order.id,
      uniqueBy: orderKey,
      eventSource: source === 'ghl' ? 'other' : 'web',
      ...(order.value !== undefined ? { value: order.value } : {}),
      ...(order.currency ? { currency: order.currency } : {}),
    },
    order.occurredAt && !Number.isNaN(Date.parse(order.occurredAt)) ? new Date(order.occurredAt) : new Date(),
  );
  await noteNotPlanned(scope, won, plan.notPlanned);
  if (recorded && (await conversions.anyOf(scope, earlierOrderConversionIds(won.id, orderKey)))) return 0;
  return (await queueWon(wonDeps, scope, plan.conversions)).length;
}

/** Keeps on the lead why a connected platform got no conversion from its order (one write, when it changed). */
async function noteNotPlanned(scope: TenantScope, won: StoredLead, notPlanned: NotPlanned[]): Promise<void> {
  const same = (a: readonly NotPlanned[] | undefined) =>
    JSON.stringify(a ?? []) === JSON.stringify(notPlanned);
  if (same(won.conversions_not_planned)) return;
  // Kept only while it says something (an empty note is removed, as the leads API does).
  await modifyLead(leads, scope, won.id, (lead) =>
    same(lead.conversions_not_planned)
      ? undefined
      : { conversions_not_planned: notPlanned.length ? notPlanned : undefined },
  );
}

/**
 * An order naming its lead by external id only (a GoHighLevel opportunity by `contactId`): won, it
 * makes the lead captured from that contact won, with the order's value (and currency) as the
 * lead's, and queues its conversions as any won lead's. It never creates a lead: without one (no
 * contact event yet, or the contact had no consent) it is acknowledged and ignored.
 */
async function processContactOrder(
  envelope: WebhookEnvelope,
  scope: TenantScope,
  extraction: Extract<Extraction, { kind: 'contact_order' }>,
): Promise<ProcessingResult> {
  const { order } = extraction;
  if (!order.paid) return { outcome: 'ignored', detail: 'the opportunity is not won' };
  const leadId = await leads.findByDedupKeys(scope, [`EXT#${extraction.externalId}`]);
  if (!leadId) return { outcome: 'ignored', detail: 'no lead captured from this contact' };
  const orderKey = `${envelope.source}:${order.id}`;
  let recorded = false;
  const won = await modifyLead(leads, scope, leadId, (lead) => {
    if (!canMove(lead.status, 'won') && lead.status !== 'won') return undefined;
    const value = order.value ?? lead.value;
    const currency = order.currency ?? lead.currency;
    const known = lead.order_keys?.includes(orderKey) ?? false;
    recorded = !known;
    if (lead.status === 'won' && value === lead.value && currency === lead.currency && known)
      return undefined;
    return {
      status: 'won',
      ...(value !== undefined ? { value } : {}),
      ...(currency !== undefined ? { currency } : {}),
      ...(known ? {} : { order_keys: [...(lead.order_keys ?? []), orderKey] }),
    };
  });
  if (won?.status !== 'won') return { outcome: 'ignored', detail: `lead ${leadId} cannot be won` };
  const queued = await queueOrderConversions(scope, won, order, orderKey, envelope.source, recorded);
  return { outcome: 'processed', detail: `lead ${leadId} won, ${queued} conversion(s) queued` };
}

/** The GoHighLevel integration's consent settings, as saved with PUT /api/v1/integrations/ghl. */
async function ghlConsentSettings(scope: TenantScope): Promise<GhlConsentSettings> {
  const settings = await sources.settings(scope, 'ghl');
  const fieldId = settings?.consent_field_id;
  const granted = settings?.granted_values;
  return {
    ...(typeof fieldId === 'string' && fieldId !== '' ? { consentFieldId: fieldId } : {}),
    ...(Array.isArray(granted) && granted.every((v) => typeof v === 'string')
      ? { grantedValues: granted as string[] }
      : {}),
  };
}

const ghlDelivery: WebhookProcessor = async (envelope) => {
  const payload = parsePayload(envelope);
  const scope = await tenantScope(envelope);
  return processExtraction(envelope, extractGhl(payload, await ghlConsentSettings(scope)), payload, scope);
};

/**
 * A refund or cancellation: each Google Ads conversion of the order is retracted (cancelled,
 * or refunded in full, refunds adding up) or restated with what remains. A conversion not yet
 * uploaded is cancelled when nothing remains; a partial refund waits for its upload.
 */
async function processReversal(
  envelope: WebhookEnvelope,
  reversal: OrderReversal,
): Promise<ProcessingResult> {
  const scope = await tenantScope(envelope);
  const ids = await conversions.conversionsOfOrder(scope, `${envelope.source}:${reversal.orderId}`);
  const deps = {
    conversions: {
      queue: (s: typeof scope, c: Parameters<DynamoConversionStore['queue']>[1]) => conversions.queue(s, c),
      get: (tenantId: string, id: string) => conversionLog.get(tenantId, id),
      queueAdjustment: (
        s: typeof scope,
        a: Parameters<DynamoConversionStore['queueAdjustment']>[1],
        d?: number,
      ) => conversions.queueAdjustment(s, a, d),
      adjustments: (s: typeof scope, id: string) => conversions.adjustments(s, id),
    },
  };
  const done: string[] = [];
  for (const id of ids) {
    const conversion = await conversionLog.get(scope.tenantId, id);
    if (conversion?.platform !== 'google_ads') continue;
    if (conversion.status === 'failed' || conversion.status === 'cancelled') continue;
    const plan = reversal.refund
      ? refundPlan(
          conversion,
          await conversions.adjustments(scope, id),
          {
            key: `${envelope.source}:refund:${reversal.refund.id}`,
            amount: reversal.refund.amount,
            ...(reversal.refund.currency ? { currency: reversal.refund.currency } : {}),
          },
          id,
        )
      : { type: 'retraction' as const, source: envelope.source, key: `${envelope.source}:cancelled` };
    const uploaded = conversion.status === 'uploaded';
    if (!uploaded && plan.type === 'retraction' && (await conversions.cancel(scope, id, 'order_cancelled'))) {
      done.push(`${id} cancelled`);
      continue;
    }
    const at =
      reversal.occurredAt && !Number.isNaN(Date.parse(reversal.occurredAt))
        ? new Date(reversal.occurredAt)
        : new Date();
    const adjusted = await adjustConversion(
      deps,
      scope,
      id,
      plan,
      at > new Date() ? new Date() : at,
      uploaded ? 0 : adjustmentWait(),
    );
    done.push(`${id} ${plan.type} ${adjusted.kind}`);
  }
  if (done.length === 0) return { outcome: 'ignored', detail: 'no uploaded conversion of this order' };
  return { outcome: 'processed', detail: done.join(', ') };
}

const commerce =
  (extract: (topic: string, payload: unknown) => Extraction): WebhookProcessor =>
  async (envelope) => {
    const payload = parsePayload(envelope);
    return processExtraction(envelope, extract(envelope.topic, payload), payload);
  };

/** A Shopify compliance topic, for the tenant the delivery was verified for. */
const compliance =
  (
    handle: (
      deps: Parameters<typeof redactShop>[0],
      scope: Awaited<ReturnType<typeof tenantScope>>,
      payload: unknown,
      envelope: WebhookEnvelope,
    ) => Promise<ComplianceResult>,
  ): WebhookProcessor =>
  async (envelope) => {
    const payload = parsePayload(envelope);
    const scope = await tenantScope(envelope);
    return handle({ leads, conversions, audit, hash: await loadEmailHasher() }, scope, payload, envelope);
  };

interface StripeEvent {
  id?: unknown;
  created?: unknown;
  data?: { object?: Record<string, unknown> };
}

let stripeGateway: StripeGateway | undefined;
const stripe = () => {
  stripeGateway ??= new StripeClient();
  return stripeGateway;
};

/** Replaces the Stripe gateway (tests). */
export function useStripeGateway(gateway: StripeGateway | undefined): void {
  stripeGateway = gateway;
}

/**
 * Subscription status per tenant. Events can arrive late or out of order, so the event only says
 * which subscription changed: its current state is retrieved from Stripe (through the `stripe`
 * circuit breaker; while it is open the delivery waits) and stored, with the tenant from the
 * subscription's `tenant_id` metadata.
 */
async function stripeSubscription(envelope: WebhookEnvelope): Promise<ProcessingResult> {
  const event = parsePayload(envelope) as StripeEvent;
  const object = event.data?.object ?? {};
  if (typeof object.id !== 'string' || !object.id.startsWith('sub_') || typeof event.created !== 'number') {
    throw new PermanentFailure(`stripe ${envelope.topic}: not a subscription event`);
  }
  const current = await stripe().retrieveSubscription(object.id);
  if (!current) return { outcome: 'ignored', detail: 'subscription unknown to Stripe' };
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const tenantId =
    current.tenant_id ?? (typeof metadata.tenant_id === 'string' ? metadata.tenant_id : undefined);
  if (!tenantId) return { outcome: 'ignored', detail: 'no tenant_id metadata' };
  const now = new Date();
  const outcome = await tenants.updateBilling(tenantId, {
    subscription_id: current.subscription_id,
    customer_id: current.customer_id,
    status: current.status,
    ...(current.current_period_end !== undefined ? { current_period_end: current.current_period_end } : {}),
    cancel_at_period_end: current.cancel_at_period_end,
    event_created: event.created,
    event_id: typeof event.id === 'string' ? event.id : envelope.delivery_id,
    synced_at: now.getTime(),
    updated_at: now.toISOString(),
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
    'refunds/create': commerce(extractShopify),
    'orders/cancelled': commerce(extractShopify),
    'customers/data_request': compliance(recordDataRequest),
    'customers/redact': compliance(redactCustomer),
    'shop/redact': compliance(redactShop),
  },
  woocommerce: {
    'order.created': commerce(extractWooCommerce),
    'order.updated': commerce(extractWooCommerce),
  },
  ghl: { '*': ghlDelivery },
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
