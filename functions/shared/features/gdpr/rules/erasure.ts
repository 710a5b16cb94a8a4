import type { EmailHasher } from '../../leads/rules/email-hash';
import { normaliseEmail, normalisePhone } from '../../leads/rules/normalise';

/**
 * Erasure is final for what was received before it. An erasure leaves a tombstone for each
 * identity the erased person was known by in the tenant (the e-mail, each phone number, each
 * external id), as a keyed hash under the e-mail hash key, bound to the tenant, with the time of
 * the erasure. Data that names a tombstoned identity and was created at or before that time (a
 * late or retried delivery, a redriven dead letter, a restored backup, an API capture under an
 * older consent) is dropped; data created after it, with its own consent, is new data.
 *
 * Pure rules: no I/O.
 */

/** The identities a lead or a delivery names, normalised (e-mail lower case, phone E.164). */
export interface Identities {
  readonly email: string;
  readonly phone?: string | undefined;
  readonly externalId?: string | undefined;
}

/**
 * The tombstone keys of a person's identities. The e-mail's is the subject id itself (the hash
 * the lead index and the audit trail hold); the phone's and the external id's are prefixed with a
 * line break, which no normalised e-mail starts with, so no two kinds can collide.
 */
export function identityHashes(hash: EmailHasher, tenantId: string, identities: Identities): string[] {
  const hashes = [hash(tenantId, identities.email)];
  if (identities.phone) hashes.push(hash(tenantId, `\nphone\n${identities.phone}`));
  if (identities.externalId) hashes.push(hash(tenantId, `\nexternal_id\n${identities.externalId}`));
  return hashes;
}

/** The identities of a lead as a capture describes it (raw e-mail, phone and country). */
export function identitiesOf(input: {
  email?: unknown;
  phone?: unknown;
  country?: unknown;
  external_id?: unknown;
}): Identities | undefined {
  const email = typeof input.email === 'string' ? normaliseEmail(input.email) : undefined;
  if (!email) return undefined;
  const phone =
    typeof input.phone === 'string'
      ? normalisePhone(input.phone, typeof input.country === 'string' ? input.country : undefined)
      : undefined;
  const externalId =
    typeof input.external_id === 'string' && input.external_id ? input.external_id : undefined;
  return { email, phone, externalId };
}

const millis = (value: unknown): number | undefined => {
  if (typeof value !== 'string' || value === '') return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
};

/** WooCommerce's `date_created_gmt` carries no offset: it is UTC. */
const gmt = (value: unknown) =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(value) ? `${value}Z` : undefined;

/**
 * When the data a delivery carries was created: a Shopify order's (or customer's) `created_at`,
 * a WooCommerce order's `date_created_gmt`, else the time the delivery was received. Never later
 * than its receipt: a retry or a redrive keeps the envelope's first receipt time.
 */
export function deliveryCreatedAt(source: string, payload: unknown, receivedAt: string): string {
  const received = millis(receivedAt) ?? Date.now();
  const body = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  let created: number | undefined;
  if (source === 'shopify') created = millis(body.created_at);
  else if (source === 'woocommerce') created = millis(gmt(body.date_created_gmt));
  return new Date(created !== undefined && created < received ? created : received).toISOString();
}

/**
 * When a lead sent to the API was created, for erasure: the time its consent says it was given
 * when that is earlier than now (a consent from before an erasure does not outlive it), else now.
 */
export function captureCreatedAt(consentTimestamp: string | undefined, now: Date): string {
  const given = millis(consentTimestamp);
  return new Date(given !== undefined && given < now.getTime() ? given : now.getTime()).toISOString();
}

/** Whether an erasure at `erasedAt` covers data created at `createdAt` (at or before it). */
export function erasureCovers(erasedAt: string | undefined, createdAt: string): boolean {
  if (erasedAt === undefined) return false;
  const erased = millis(erasedAt);
  const created = millis(createdAt);
  // An unreadable time on either side is treated as covered: erasure fails closed.
  if (erased === undefined || created === undefined) return true;
  return created <= erased;
}

/** The latest of several erasure times (ISO 8601), or undefined. */
export function latestErasure(times: readonly (string | undefined)[]): string | undefined {
  let latest: string | undefined;
  for (const at of times) {
    if (at !== undefined && (latest === undefined || (millis(at) ?? 0) > (millis(latest) ?? 0))) latest = at;
  }
  return latest;
}
