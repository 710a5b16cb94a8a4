import type { TenantScope } from '../../tenancy/rules/scope';
import { parseEnvelope, type WebhookEnvelope, type WebhookSource } from '../../webhooks/model';
import {
  type Extraction,
  extractGhl,
  extractShopify,
  extractWooCommerce,
} from '../../webhooks/rules/extract';
import type { DynamoAuditTrail } from '../dynamo-audit';
import { coveringErasure, type ErasureGuard } from '../dynamo-tombstones';
import type { Actor } from '../model';
import { deliveryCreatedAt, type Identities, identitiesOf } from './erasure';

/** The person a queued webhook delivery would capture, and when its data was created. */
export interface DeliveredPerson {
  readonly tenantId: string;
  readonly source: WebhookEnvelope['source'];
  readonly identities: Identities;
  readonly createdAt: string;
}

/**
 * How erasure reads whom each sender's delivery names, as the webhook worker does (a new sender
 * fails the typecheck here until it has its entry).
 */
const EXTRACTORS: Record<WebhookSource, (topic: string, payload: unknown) => Extraction | undefined> = {
  shopify: extractShopify,
  woocommerce: extractWooCommerce,
  ghl: (_topic, payload) => extractGhl(payload),
  // Stripe deliveries name a subscription, never a person.
  stripe: () => undefined,
};

const extraction = (envelope: WebhookEnvelope, payload: unknown) =>
  EXTRACTORS[envelope.source](envelope.topic, payload);

/**
 * The person a queued message (a webhook envelope) names, read the way the webhook worker reads
 * it; undefined for anything that captures nobody (not an envelope, not JSON, no lead in it).
 */
export function personOfDelivery(body: string): DeliveredPerson | undefined {
  let envelope: WebhookEnvelope;
  let payload: unknown;
  try {
    envelope = parseEnvelope(body);
    payload = JSON.parse(envelope.payload);
  } catch {
    return undefined;
  }
  const extracted = extraction(envelope, payload);
  const identities = extracted?.kind === 'lead' ? identitiesOf(extracted.lead) : undefined;
  if (!identities) return undefined;
  return {
    tenantId: envelope.tenant_id,
    source: envelope.source,
    identities,
    createdAt: deliveryCreatedAt(envelope.source, payload, envelope.received_at),
  };
}

export interface RedriveGuardDeps {
  guard: ErasureGuard;
  audit: Pick<DynamoAuditTrail, 'append'>;
  /** The scope of the tenant a dead letter belongs to, from the operator's verified context. */
  scopeFor: (tenantId: string) => TenantScope;
}

/**
 * A redrive's gate: a dead letter that would capture a person erased after its data was created
 * is refused (and the refusal audited with the subject's hash only); anything else goes back.
 */
export function admitUnlessErased(deps: RedriveGuardDeps, actor: Actor): (body: string) => Promise<boolean> {
  return async (body) => {
    const person = personOfDelivery(body);
    if (!person) return true;
    const scope = deps.scopeFor(person.tenantId);
    const erasedAt = await coveringErasure(deps.guard, scope, person.identities, person.createdAt);
    if (erasedAt === undefined) return true;
    await deps.audit.append(
      scope,
      'erasure_upheld',
      deps.guard.hash(scope.tenantId, person.identities.email),
      actor,
      {
        where: 'dlq_redrive',
        source: person.source,
        created_at: person.createdAt,
        erased_at: erasedAt,
      },
    );
    return false;
  };
}
