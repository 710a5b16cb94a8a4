import { METRICS } from '../../../../contract/metrics';
import {
  DomainConflictError,
  type DomainErrorDetail,
  DomainValidationError,
} from '../../platform/errors/domain';
import { newId } from '../../platform/ids';
import { logger, metrics } from '../../platform/observability';
import { inPool } from '../../platform/pool';
import { type LeadEventDeps, queueLeadEvent } from '../../providers/meta/lead-events';
import { coveringErasure, type ErasureGuard } from '../gdpr/dynamo-tombstones';
import type { Actor } from '../gdpr/model';
import type { AuditTrail } from '../gdpr/ports';
import { captureCreatedAt } from '../gdpr/rules/erasure';
import type { TenantScope } from '../tenancy/rules/scope';
import { LEAD_FIELD_NAMES, type LeadFields, type StoredLead } from './model';
import { type LeadRepository, WriteConflict } from './ports';
import { primaryClickId } from './rules/click-ids';
import { type Consent, type ConsentChange, resolveConsent } from './rules/consent';
import {
  type ConsentPolicy,
  DEFAULT_CONSENT_POLICY,
  decideConsent,
  leadCountry,
} from './rules/consent-policy';
import type { EmailHasher } from './rules/email-hash';
import { normaliseEmail, normalisePhone } from './rules/normalise';
import type { LeadInput } from './schema';

export interface LeadDeps {
  leads: LeadRepository;
  audit: Pick<AuditTrail, 'append'>;
  hash: EmailHasher;
  now?: () => Date;
  /** A new lead with an fbclid becomes a Meta `Lead` event when the tenant asked for them. */
  leadEvents?: LeadEventDeps;
  /** The tenant's erasures: a lead whose consent predates its subject's erasure is not captured. */
  erasure?: ErasureGuard;
  /** The tenant's consent policy (consent-policy.ts); without it, `explicit`. */
  consentPolicy?: (tenantId: string) => Promise<ConsentPolicy>;
}

export interface NormalisedLead {
  fields: LeadFields;
  input: LeadInput;
  emailHash: string;
  dedupKeys: string[];
}

export interface DeniedLead {
  index: number;
  email: string;
  /** `erased`: the subject was erased after this lead's consent was given. */
  reason: 'consent_required' | 'erased';
}

export interface CaptureResult {
  success: boolean;
  processed: number;
  stored: number;
  denied: number;
  lead_ids: string[];
  denied_leads: DeniedLead[];
}

/** Dedup keys: the external id, and the email with the visit's click id (or none). */
export function dedupKeysOf(fields: LeadFields, emailHash: string): string[] {
  const keys: string[] = [];
  if (fields.external_id) keys.push(`EXT#${fields.external_id}`);
  keys.push(`EC#${emailHash}#${primaryClickId(fields) ?? '-'}`);
  return keys;
}

/**
 * Normalises every lead of a request (email, phone) and collects what is wrong with any of
 * them; nothing is written unless all are well-formed.
 */
export function normaliseLeads(
  scope: TenantScope,
  inputs: readonly LeadInput[],
  hash: EmailHasher,
  single: boolean,
) {
  const details: DomainErrorDetail[] = [];
  const leads: NormalisedLead[] = [];
  inputs.forEach((input, index) => {
    const at = (field: string) => (single ? field : `${index}.${field}`);
    const email = normaliseEmail(input.email);
    if (!email) details.push({ path: at('email'), message: 'Invalid email address' });
    let phone: string | undefined;
    if (input.phone !== undefined) {
      phone = normalisePhone(input.phone, input.country);
      if (!phone) {
        details.push({
          path: at('phone'),
          message: 'Invalid phone number: use E.164 (+4915112345678) or give its country',
        });
      }
    }
    if (!email) return;
    const copied: Record<string, unknown> = {};
    for (const name of LEAD_FIELD_NAMES) {
      if (input[name] !== undefined) copied[name] = input[name];
    }
    const fields = { ...copied, email, ...(phone ? { phone } : {}) } as LeadFields;
    const emailHash = hash(scope.tenantId, email);
    leads.push({ fields, input, emailHash, dedupKeys: dedupKeysOf(fields, emailHash) });
  });
  if (details.length) throw new DomainValidationError(details);
  return leads;
}

const MAX_WRITE_ATTEMPTS = 6;

/**
 * Leads of one request written at once: a batch of 100 is seven rounds of a lead's writes and an
 * audit entry. More in flight would gain little: a tenant's leads share one partition, whose
 * ceiling is 1,000 write units a second (a batch of 100 new leads is 500 to 600; the SDK retries
 * what is throttled), and the local emulator serves one request at a time.
 */
export const CAPTURE_CONCURRENCY = 16;

/** Jittered exponential backoff between attempts of a contended write: 10-20 ms, 20-40 ms, ... */
function backoff(attempt: number): Promise<void> {
  const base = 10 * 2 ** attempt;
  return new Promise((resolve) => setTimeout(resolve, base + Math.random() * base));
}

/**
 * Stores a lead with valid consent, or updates the lead it duplicates (same external id, or same
 * email and click id). Races with concurrent writers are retried from a fresh read.
 */
export async function upsertLead(
  deps: LeadDeps,
  scope: TenantScope,
  lead: NormalisedLead,
  source: ConsentChange['source'],
  /** The status a lead that does not exist yet is created with (a paid order's lead: `won`). */
  createAs: 'new' | 'won' = 'new',
  /** The consent decided for it (captureLeads); by default its own valid consent. */
  consent: Consent = resolveConsent(lead.input.consent),
  /**
   * What a batch lookup found for its dedup keys (`null`: no lead), used by the first attempt
   * instead of its own lookup; a retry after a lost race always looks again.
   */
  found?: string | null,
  /** The order a lead created now is won with (`<source>:<order id>`), recorded on it. */
  orderKey?: string,
): Promise<{ id: string; created: boolean }> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const change: ConsentChange = { ...consent, recorded_at: now, source };
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const claims =
      attempt === 0 && found !== undefined ? undefined : await deps.leads.claimsOf(scope, lead.dedupKeys);
    const pointedTo = claims ? claims.map((claim) => claim.leadId) : found ? [found] : [];
    // The first lead its keys point to that is held is the one it duplicates; a key pointing to a
    // lead id nobody wrote (a capture that stopped half-way, or one under way) is not a lead.
    let existing: StoredLead | undefined;
    const unwritten: string[] = [];
    for (const id of new Set(pointedTo)) {
      existing = await deps.leads.get(scope, id);
      if (existing) break;
      unwritten.push(id);
    }
    try {
      if (!existing) {
        const created: StoredLead = {
          // Under the id its keys already point to, if any: whoever writes it first wins.
          id: unwritten[0] ?? newId('lead', Date.parse(now)),
          ...lead.fields,
          email_hash: lead.emailHash,
          status: createAs,
          consent,
          consent_history: [change],
          restricted: false,
          ...(orderKey ? { order_keys: [orderKey] } : {}),
          created_at: now,
          updated_at: now,
          version: 1,
        };
        await deps.leads.create(scope, created, lead.dedupKeys, unwritten);
        if (deps.leadEvents && created.fbclid) {
          // The lead is stored: a failure to queue its Lead event must not fail the capture.
          try {
            await queueLeadEvent(deps.leadEvents, scope, created);
          } catch (error) {
            metrics.addMetric(METRICS.leadEventNotQueued, 'Count', 1);
            logger.warn('Could not queue the Meta Lead event of a captured lead', {
              lead_id: created.id,
              error,
            });
          }
        }
        return { id: created.id, created: true };
      }
      const consentChanged = JSON.stringify(existing.consent) !== JSON.stringify(consent);
      const fieldsChanged = Object.entries(lead.fields).some(
        ([name, value]) => existing[name as keyof StoredLead] !== value,
      );
      // The same capture again (a retry, a duplicate delivery) changes nothing and writes nothing,
      // unless one of its keys does not point to the lead (a concurrent change that claimed it
      // was refused and let it go).
      if (!consentChanged && !fieldsChanged) {
        const held = claims ?? (await deps.leads.claimsOf(scope, lead.dedupKeys));
        const id = existing.id;
        const missing = lead.dedupKeys.filter(
          (key) => held.find((claim) => claim.key === key)?.leadId !== id,
        );
        await deps.leads.claimFor(scope, existing.id, missing, unwritten);
        return { id: existing.id, created: false };
      }
      const updated: StoredLead = {
        ...existing,
        ...lead.fields,
        consent,
        consent_history: consentChanged ? [...existing.consent_history, change] : existing.consent_history,
        updated_at: now,
        version: existing.version + 1,
      };
      await deps.leads.update(
        scope,
        updated,
        existing.version,
        lead.dedupKeys,
        dedupKeysOf(existing, existing.email_hash),
        unwritten,
      );
      return { id: existing.id, created: false };
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      metrics.addMetric(METRICS.leadWriteConflict, 'Count', 1);
      await backoff(attempt);
    }
  }
  throw new DomainConflictError('The lead is being changed by another request; try again');
}

/**
 * Captures leads: consent is decided for each before anything is written, under the tenant's
 * consent policy (consent-policy.ts); leads it refuses are not stored, and each refusal is
 * audited with the subject's hash and the reason only.
 */
export async function captureLeads(
  deps: LeadDeps,
  scope: TenantScope,
  leads: readonly NormalisedLead[],
  actor: Actor,
  source: ConsentChange['source'] = 'capture',
  /**
   * The status new leads are created with. A webhook's paid order creates its lead `won` in the
   * one write that creates it, instead of a second full write moments later.
   */
  createAs: 'new' | 'won' = 'new',
  /** The order new leads are won with (`<source>:<order id>`): its conversions' ids derive from it. */
  orderKey?: string,
): Promise<CaptureResult> {
  type Outcome = { id: string } | { denied: DeniedLead };
  const policy = deps.consentPolicy ? await deps.consentPolicy(scope.tenantId) : DEFAULT_CONSENT_POLICY;
  // The dedup keys of a batch are read together (one BatchGetItem per 100 keys), so a new lead
  // costs one write round trip (and its audit entry), not a lookup first.
  const found =
    leads.length > 1
      ? await deps.leads.findManyByDedupKeys(
          scope,
          leads.map((lead) => lead.dedupKeys),
        )
      : [];
  const outcomes = await inPool<NormalisedLead, Outcome>(leads, CAPTURE_CONCURRENCY, async (lead, index) => {
    const country = leadCountry({ country: lead.input.country, phone: lead.fields.phone });
    const decision = decideConsent(policy, lead.input.consent, country);
    if (!decision.stored) {
      await deps.audit.append(scope, 'consent_refused', lead.emailHash, actor, {
        index,
        reason: 'consent_required',
        status: lead.input.consent.status,
        ...(lead.input.consent.method ? { method: lead.input.consent.method } : {}),
      });
      return { denied: { index, email: lead.fields.email, reason: 'consent_required' } };
    }
    if (deps.erasure) {
      const createdAt = captureCreatedAt(lead.input.consent.timestamp, (deps.now ?? (() => new Date()))());
      const { email, phone, external_id: externalId } = lead.fields;
      const erasedAt = await coveringErasure(deps.erasure, scope, { email, phone, externalId }, createdAt);
      if (erasedAt !== undefined) {
        await deps.audit.append(scope, 'erasure_upheld', lead.emailHash, actor, {
          where: 'api',
          index,
          created_at: createdAt,
          erased_at: erasedAt,
        });
        return { denied: { index, email: lead.fields.email, reason: 'erased' } };
      }
    }
    const { id, created } = await upsertLead(
      deps,
      scope,
      lead,
      source,
      createAs,
      decision.consent,
      found[index],
      orderKey,
    );
    await deps.audit.append(scope, 'consent_recorded', lead.emailHash, actor, {
      lead_id: id,
      status: decision.consent.status,
      created,
      ...(lead.input.consent.method ? { method: lead.input.consent.method } : {}),
      ...(decision.consent.status === 'not_required'
        ? { basis: decision.consent.basis, country: decision.consent.country }
        : {}),
    });
    return { id };
  });
  const lead_ids = outcomes.flatMap((o) => ('id' in o ? [o.id] : []));
  const denied_leads = outcomes.flatMap((o) => ('denied' in o ? [o.denied] : []));
  metrics.addMetric(METRICS.leadsStored, 'Count', lead_ids.length);
  metrics.addMetric(METRICS.leadsDeniedConsent, 'Count', denied_leads.length);
  return {
    success: true,
    processed: leads.length,
    stored: lead_ids.length,
    denied: denied_leads.length,
    lead_ids,
    denied_leads,
  };
}

/**
 * Read-modify-write of one lead, retried from a fresh read when another writer got there first.
 * `change` returns the new fields, or undefined to leave the lead as it is.
 */
export async function modifyLead(
  leads: LeadRepository,
  scope: TenantScope,
  id: string,
  change: (lead: StoredLead) => Partial<StoredLead> | undefined,
): Promise<StoredLead | undefined> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const lead = await leads.get(scope, id);
    if (!lead) return undefined;
    const patch = change(lead);
    if (!patch) return lead;
    const updated: StoredLead = {
      ...lead,
      ...patch,
      updated_at: new Date().toISOString(),
      version: lead.version + 1,
    };
    try {
      // The lead's dedup keys expire with it: a change keeps them as long as the lead.
      await leads.update(scope, updated, lead.version, [], dedupKeysOf(updated, updated.email_hash));
      return updated;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      await backoff(attempt);
    }
  }
  throw new DomainConflictError('The lead is being changed by another request; try again');
}

/**
 * Records an order (`<source>:<order id>`) on the lead, which the ids of the order's conversions
 * derive from, so erasure finds them from the lead; whether it was new on the lead (undefined: no
 * such lead).
 */
export async function recordOrder(
  leads: LeadRepository,
  scope: TenantScope,
  id: string,
  orderKey: string,
): Promise<boolean | undefined> {
  let added = false;
  const lead = await modifyLead(leads, scope, id, (current) => {
    added = !(current.order_keys ?? []).includes(orderKey);
    return added ? { order_keys: [...(current.order_keys ?? []), orderKey] } : undefined;
  });
  return lead ? added : undefined;
}
