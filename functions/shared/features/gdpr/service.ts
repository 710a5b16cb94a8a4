import * as z from 'zod/mini';
import { DomainValidationError } from '../../platform/errors/domain';
import type { Conversion } from '../conversions/model';
import type { LeadConversions } from '../conversions/ports';
import { type Lead, publicLead, type StoredLead } from '../leads/model';
import type { LeadRepository } from '../leads/ports';
import { primaryClickId } from '../leads/rules/click-ids';
import { allowsUpload, type ConsentChange, type ConsentInput, resolveConsent } from '../leads/rules/consent';
import type { EmailHasher } from '../leads/rules/email-hash';
import { normaliseEmail, normalisePhone } from '../leads/rules/normalise';
import { attributionShape, countryCode, emailDocumented, optionalPhone } from '../leads/schema';
import { modifyLead } from '../leads/service';
import type { TenantScope } from '../tenancy/rules/scope';
import type { DynamoTombstones } from './dynamo-tombstones';
import type { Actor, AuditRecord } from './model';
import type { AuditTrail } from './ports';
import { personOfDelivery } from './rules/deliveries';
import { identityHashes } from './rules/erasure';

/** An erasure's sweep of the webhooks' dead letters (see queues/dead-letters). */
export interface DeadLetterSweep {
  queue: string;
  scanned: number;
  purged: number;
  complete: boolean;
}

export interface SubjectDeps {
  leads: LeadRepository;
  conversions: LeadConversions;
  audit: AuditTrail;
  hash: EmailHasher;
  tombstones: Pick<DynamoTombstones, 'record'>;
  /** Deletes the dead-lettered deliveries `matches` names (erasure). */
  purgeDeadLetters?: (matches: (body: string) => boolean) => Promise<DeadLetterSweep>;
}

/**
 * A data subject, named by its `subject_id`: the tenant-bound keyed hash of the normalised email
 * (the same value the lead index and the audit trail hold). It reveals nothing of the person, so
 * it may stand in a URL or a log where an email may not.
 */
export interface Subject {
  hash: string;
}

const SUBJECT_ID = /^[0-9a-f]{64}$/;

/** `POST /gdpr/subjects {email}`: the subject id of an email, the same whether or not data is held. */
export const subjectLookupBody = z.strictObject({
  email: z.string().check(z.maxLength(254), emailDocumented),
});

/** The subject of an email in this tenant. */
export function subjectOf(scope: TenantScope, email: string, hash: EmailHasher): Subject {
  const normalised = normaliseEmail(email);
  if (!normalised) throw new DomainValidationError([{ path: 'email', message: 'Invalid email address' }]);
  return { hash: hash(scope.tenantId, normalised) };
}

/**
 * The subject a `subject_id` names; a missing id or anything but a subject id's shape is refused,
 * never echoed.
 */
export function subjectById(subjectId: string | undefined): Subject {
  if (subjectId === undefined || !SUBJECT_ID.test(subjectId)) {
    throw new DomainValidationError([{ path: 'subject_id', message: 'Invalid subject id' }]);
  }
  return { hash: subjectId };
}

const patchSubjectShape = {
  phone: optionalPhone,
  country: countryCode,
  ...attributionShape,
  restricted: z.optional(z.boolean()),
};
/** The fields that change something (`country` only qualifies `phone`). */
const RECTIFYING = Object.keys(patchSubjectShape).filter((k) => k !== 'country');

/** Art. 16 rectification of the fields a subject may correct, and Art. 18 restriction. */
export const patchSubjectBody = z.object(patchSubjectShape).check(
  z.refine((body) => RECTIFYING.some((k) => k in body), {
    message: 'Name at least one field to rectify, or restricted',
    path: [],
  }),
  // The same rule in the OpenAPI document.
  z.meta({ anyOf: RECTIFYING.map((name) => ({ required: [name] })) }),
);
export type PatchSubject = z.infer<typeof patchSubjectBody>;

const MAX_AUDIT_IN_EXPORT = 1000;

async function auditOf(deps: SubjectDeps, scope: TenantScope, subject: Subject): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.audit.list(scope, subject.hash, 100, cursor);
    records.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && records.length < MAX_AUDIT_IN_EXPORT);
  return records;
}

/** Art. 15/20: everything held for the subject in this tenant. */
export async function exportSubject(deps: SubjectDeps, scope: TenantScope, subject: Subject, actor: Actor) {
  const leads = await deps.leads.byEmailHash(scope, subject.hash);
  const conversions: Conversion[] = [];
  for (const lead of leads) conversions.push(...(await deps.conversions.ofLead(scope, lead)));
  await deps.audit.append(scope, 'export', subject.hash, actor, {
    leads: leads.length,
    conversions: conversions.length,
  });
  const audit = await auditOf(deps, scope, subject);
  return {
    subject_id: subject.hash,
    exported_at: new Date().toISOString(),
    leads: leads.map(publicLead),
    conversions,
    consent_history: leads.flatMap((lead) => lead.consent_history.map((c) => ({ lead_id: lead.id, ...c }))),
    audit,
  };
}

async function cancelQueued(
  deps: SubjectDeps,
  scope: TenantScope,
  leads: readonly StoredLead[],
  reason: NonNullable<Conversion['cancel_reason']>,
): Promise<number> {
  let cancelled = 0;
  for (const lead of leads) {
    for (const conversion of await deps.conversions.ofLead(scope, lead)) {
      if (await deps.conversions.cancel(scope, conversion.id, reason)) cancelled += 1;
    }
  }
  return cancelled;
}

function dedupKeysOfStored(lead: StoredLead): string[] {
  return [
    ...(lead.external_id ? [`EXT#${lead.external_id}`] : []),
    `EC#${lead.email_hash}#${primaryClickId(lead) ?? '-'}`,
  ];
}

/**
 * Art. 17, final for what was received before it. First the tombstones: a keyed hash of every
 * identity the subject was known by here (the e-mail, each phone, each external id) with the
 * erasure time, so that nothing created before it (a retried or late delivery, a redriven dead
 * letter, a restored backup) brings the person back. Then the subject's leads (and their dedup
 * keys) go, their conversions lose their personal data and whatever was still queued is
 * cancelled, and the webhooks' dead letters naming the subject are deleted. The report says what
 * was removed where; the audit trail keeps only the keyed hash.
 */
export async function eraseSubject(deps: SubjectDeps, scope: TenantScope, subject: Subject, actor: Actor) {
  const erasedAt = new Date().toISOString();
  // Expired leads DynamoDB has not deleted yet are still held: they go now too.
  const leads = await deps.leads.byEmailHash(scope, subject.hash, { includeExpired: true });
  const hashes = new Set([subject.hash]);
  for (const lead of leads) {
    const identities = { email: lead.email, phone: lead.phone, externalId: lead.external_id };
    for (const hash of identityHashes(deps.hash, scope.tenantId, identities)) hashes.add(hash);
  }
  await deps.tombstones.record(scope, [...hashes], erasedAt);
  let conversions = 0;
  for (const lead of leads) {
    for (const conversion of await deps.conversions.ofLead(scope, lead, { includeExpired: true })) {
      await deps.conversions.erase(scope, conversion);
      conversions += 1;
    }
    await deps.leads.delete(scope, lead, dedupKeysOfStored(lead));
  }
  // Keys of the address left by a capture that stopped before writing its lead go too.
  await deps.leads.deleteEmailKeys(scope, subject.hash);
  const deadLetters = deps.purgeDeadLetters
    ? await deps.purgeDeadLetters((body) => {
        const person = personOfDelivery(body);
        return (
          person?.tenantId === scope.tenantId &&
          identityHashes(deps.hash, scope.tenantId, person.identities).some((hash) => hashes.has(hash))
        );
      })
    : undefined;
  await deps.audit.append(scope, 'erasure', subject.hash, actor, {
    leads: leads.length,
    conversions,
    identities: hashes.size,
    ...(deadLetters
      ? { dead_letters_purged: deadLetters.purged, dead_letters_complete: deadLetters.complete }
      : {}),
  });
  return {
    erased: true as const,
    subject_id: subject.hash,
    erased_at: erasedAt,
    leads: leads.length,
    conversions,
    removed: {
      leads: leads.length,
      conversions_stripped: conversions,
      dead_letters: deadLetters?.purged ?? 0,
    },
    identities_tombstoned: hashes.size,
    ...(deadLetters ? { dead_letters: deadLetters } : {}),
    kept: {
      audit_trail: 'keyed hash of the subject only',
      tombstones: 'keyed hashes of the erased identities and the erasure time',
      backups:
        'encrypted and immutable until they expire; a restore drops this subject and anything created before this erasure',
    },
  };
}

/** Art. 16 and 18: corrects fields on every lead of the subject, or restricts / lifts processing. */
export async function patchSubject(
  deps: SubjectDeps,
  scope: TenantScope,
  subject: Subject,
  body: PatchSubject,
  actor: Actor,
) {
  let phone: string | undefined;
  if (body.phone !== undefined) {
    phone = normalisePhone(body.phone, body.country);
    if (!phone) throw new DomainValidationError([{ path: 'phone', message: 'Invalid phone number' }]);
  }
  const { country: _country, restricted, phone: _phone, ...rest } = body;
  const fields: Partial<Lead> = { ...rest, ...(phone ? { phone } : {}) };
  const rectified = Object.keys(fields);
  const leads = await deps.leads.byEmailHash(scope, subject.hash);
  const updated: StoredLead[] = [];
  for (const lead of leads) {
    const result = await modifyLead(deps.leads, scope, lead.id, () => ({
      ...fields,
      ...(restricted !== undefined ? { restricted } : {}),
    }));
    if (result) updated.push(result);
  }
  const cancelled = restricted ? await cancelQueued(deps, scope, updated, 'restricted') : 0;
  if (rectified.length) {
    await deps.audit.append(scope, 'rectification', subject.hash, actor, {
      fields: rectified.join(','),
      leads: updated.length,
    });
  }
  if (restricted !== undefined) {
    await deps.audit.append(scope, 'restriction', subject.hash, actor, {
      restricted,
      leads: updated.length,
      cancelled,
    });
  }
  return { leads: updated.length, restricted: restricted ?? null, rectified, cancelled_uploads: cancelled };
}

/** Records a consent change on every lead of the subject; a withdrawal stops uploads at once. */
export async function changeConsent(
  deps: SubjectDeps,
  scope: TenantScope,
  subject: Subject,
  input: ConsentInput,
  actor: Actor,
) {
  const consent = resolveConsent(input);
  const change: ConsentChange = { ...consent, recorded_at: new Date().toISOString(), source: 'api' };
  const leads = await deps.leads.byEmailHash(scope, subject.hash);
  const updated: StoredLead[] = [];
  for (const lead of leads) {
    const result = await modifyLead(deps.leads, scope, lead.id, (current) => ({
      consent,
      consent_history: [...current.consent_history, change],
    }));
    if (result) updated.push(result);
  }
  const cancelled = allowsUpload(consent) ? 0 : await cancelQueued(deps, scope, updated, 'consent_withdrawn');
  await deps.audit.append(scope, 'consent_changed', subject.hash, actor, {
    status: consent.status,
    ...(consent.method ? { method: consent.method } : {}),
    leads: updated.length,
    cancelled,
  });
  return { leads: updated.length, consent, cancelled_uploads: cancelled };
}
