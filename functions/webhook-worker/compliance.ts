import type { LeadConversions } from '../shared/features/conversions/ports';
import { DynamoTombstones } from '../shared/features/gdpr/dynamo-tombstones';
import type { Actor } from '../shared/features/gdpr/model';
import type { AuditTrail } from '../shared/features/gdpr/ports';
import { eraseSubject, type Subject, type SubjectDeps, subjectOf } from '../shared/features/gdpr/service';
import type { LeadRepository } from '../shared/features/leads/ports';
import type { EmailHasher } from '../shared/features/leads/rules/email-hash';
import type { TenantScope } from '../shared/features/tenancy/rules/scope';
import type { WebhookEnvelope } from '../shared/features/webhooks/model';
import {
  identifier,
  type JsonObject,
  list,
  record,
  text,
} from '../shared/features/webhooks/rules/extract/values';
import { DomainValidationError } from '../shared/platform/errors/domain';

/**
 * Shopify's mandatory compliance topics, for one tenant the delivery belongs to (one whose secret
 * verified it): `customers/redact` and `shop/redact` erase through the same erasure as
 * `DELETE /api/v1/gdpr/subjects/{id}` (audited, the tombstone left), `customers/data_request`
 * records that Shopify asked, for an admin to answer with the export route.
 * Payloads: https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
 */

export interface ComplianceDeps {
  leads: LeadRepository;
  conversions: LeadConversions;
  audit: AuditTrail;
  hash: EmailHasher;
}

export interface ComplianceResult {
  outcome: 'processed' | 'ignored';
  detail: string;
}

/** Shopify customers' leads carry `external_id` `shopify:<customer id>` (the order extractor's). */
const SHOPIFY_EXTERNAL_PREFIX = 'shopify:';
const LEADS_PAGE = 100;

function actorOf(envelope: WebhookEnvelope): Actor {
  return { subject: 'webhook:shopify', ip: 'webhook', request_id: envelope.id };
}

const tombstones = new DynamoTombstones();

/**
 * The erasure's dependencies: its tombstones stop late deliveries of the customer; dead letters
 * naming it are dropped by the redrive and the worker (this function does not sweep the DLQ).
 */
function subjectDeps(deps: ComplianceDeps): SubjectDeps {
  return { leads: deps.leads, conversions: deps.conversions, audit: deps.audit, hash: deps.hash, tombstones };
}

/**
 * The tenant's data subjects a compliance payload's `customer` names: by e-mail, and by Shopify
 * customer id (the lead captured from that customer, whatever e-mail it holds). Distinct, in order.
 */
async function subjectsOf(deps: ComplianceDeps, scope: TenantScope, customer: JsonObject | undefined) {
  const hashes = new Set<string>();
  const email = text(customer?.email);
  if (email !== undefined) {
    try {
      hashes.add(subjectOf(scope, email, deps.hash).hash);
    } catch (error) {
      if (!(error instanceof DomainValidationError)) throw error;
    }
  }
  const id = identifier(customer?.id);
  if (id !== undefined) {
    const leadId = await deps.leads.findByDedupKeys(scope, [`EXT#${SHOPIFY_EXTERNAL_PREFIX}${id}`]);
    const lead = leadId ? await deps.leads.get(scope, leadId) : undefined;
    if (lead) hashes.add(lead.email_hash);
  }
  return [...hashes].map((hash): Subject => ({ hash }));
}

/** `customers/redact`: erases the customer, by e-mail and by Shopify customer id. */
export async function redactCustomer(
  deps: ComplianceDeps,
  scope: TenantScope,
  payload: unknown,
  envelope: WebhookEnvelope,
): Promise<ComplianceResult> {
  const subjects = await subjectsOf(deps, scope, record(record(payload)?.customer));
  if (subjects.length === 0) return { outcome: 'ignored', detail: 'customers/redact names no customer' };
  let leads = 0;
  for (const subject of subjects) {
    leads += (await eraseSubject(subjectDeps(deps), scope, subject, actorOf(envelope))).leads;
  }
  return { outcome: 'processed', detail: `${subjects.length} subject(s) erased, ${leads} lead(s)` };
}

/**
 * `customers/data_request`: records `data_request_received` in the audit trail under the subject,
 * with Shopify's request id and the number of orders it names; the export route answers it.
 */
export async function recordDataRequest(
  deps: ComplianceDeps,
  scope: TenantScope,
  payload: unknown,
  envelope: WebhookEnvelope,
): Promise<ComplianceResult> {
  const body = record(payload);
  const subjects = await subjectsOf(deps, scope, record(body?.customer));
  if (subjects.length === 0)
    return { outcome: 'ignored', detail: 'customers/data_request names no customer' };
  const requestId = identifier(record(body?.data_request)?.id);
  for (const subject of subjects) {
    await deps.audit.append(scope, 'data_request_received', subject.hash, actorOf(envelope), {
      source: 'shopify',
      ...(requestId !== undefined ? { shopify_request_id: requestId } : {}),
      orders_requested: list(body?.orders_requested).length,
    });
  }
  return { outcome: 'processed', detail: `data request recorded for ${subjects.length} subject(s)` };
}

/**
 * `shop/redact` (sent 48 hours after the shop uninstalls): erases every customer received from
 * Shopify in the tenant, each through the subject erasure. The tenant holds one Shopify shop, the
 * one whose secret verified this delivery; its customers' leads are those with a Shopify customer
 * id. Erasure is idempotent, so a retry after a timeout carries on where the last attempt stopped.
 */
export async function redactShop(
  deps: ComplianceDeps,
  scope: TenantScope,
  _payload: unknown,
  envelope: WebhookEnvelope,
): Promise<ComplianceResult> {
  const hashes = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.leads.list(scope, { limit: LEADS_PAGE, ...(cursor ? { cursor } : {}) });
    for (const lead of page.items) {
      if (lead.external_id?.startsWith(SHOPIFY_EXTERNAL_PREFIX)) hashes.add(lead.email_hash);
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  let leads = 0;
  for (const hash of hashes) {
    leads += (await eraseSubject(subjectDeps(deps), scope, { hash }, actorOf(envelope))).leads;
  }
  return { outcome: 'processed', detail: `shop redacted: ${hashes.size} subject(s), ${leads} lead(s)` };
}
