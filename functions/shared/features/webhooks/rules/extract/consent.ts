import {
  CONSENT_METHODS,
  CONSENT_STATUSES,
  type ConsentInput,
  type ConsentMethod,
  type ConsentStatus,
  SIGNALS,
  type Signal,
} from '../../../leads/rules/consent';
import { consentSchema } from '../../../leads/schema';
import { type Fields, scalar, text } from './values';

/**
 * Consent carried by webhooks (docs/api.md, Leads and consent; docs/consent.md): the fields `consent_status`, `consent_timestamp`,
 * `consent_method` and, where given, `ad_user_data` / `ad_personalization` (also spelt
 * `consent_ad_user_data` / `consent_ad_personalization`). Values are read case-insensitively;
 * anything the consent schema does not know is dropped. The consent rules decide afterwards.
 */

/** Consent of a payload that says nothing about consent: refused by the consent rules. */
export const NO_CONSENT: ConsentInput = { status: 'pending' };

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  const lower = value?.toLowerCase();
  return allowed.find((candidate) => candidate === lower);
}

/**
 * An ISO 8601 time with offset, as the consent schema wants it: kept when it already is one, made
 * one from Unix seconds or milliseconds; a time without offset is ambiguous and dropped.
 */
export function isoTimestamp(value: unknown): string | undefined {
  const found = scalar(value);
  if (found === undefined) return undefined;
  if (consentSchema.shape.timestamp.safeParse(found).success) return found;
  if (/^\d{10}$/.test(found)) return new Date(Number(found) * 1000).toISOString();
  if (/^\d{13}$/.test(found)) return new Date(Number(found)).toISOString();
  return undefined;
}

function signal(fields: Fields, name: string): Signal | undefined {
  return oneOf(SIGNALS, text(fields.get(name)?.[0] ?? fields.get(`consent_${name}`)?.[0]));
}

/**
 * The consent in one source, or undefined when the source has no `consent_status` at all. A status
 * that is present but unreadable counts as no consent (`pending` with nothing else, which the
 * rules refuse): a banner that said something we cannot read never grants, and never lets a weaker
 * source (such as a marketing opt-in) speak instead.
 */
export function consentFrom(fields: Fields): ConsentInput | undefined {
  const raw = fields.get('consent_status')?.[0];
  if (raw === undefined) return undefined;
  const status: ConsentStatus | undefined = oneOf(CONSENT_STATUSES, text(raw));
  if (status === undefined) return NO_CONSENT;
  const timestamp = isoTimestamp(fields.get('consent_timestamp')?.[0]);
  const method: ConsentMethod | undefined = oneOf(CONSENT_METHODS, text(fields.get('consent_method')?.[0]));
  const adUserData = signal(fields, 'ad_user_data');
  const adPersonalization = signal(fields, 'ad_personalization');
  return {
    status,
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(adUserData !== undefined ? { ad_user_data: adUserData } : {}),
    ...(adPersonalization !== undefined ? { ad_personalization: adPersonalization } : {}),
  };
}

/** The first source that has consent information, else {@link NO_CONSENT}. */
export function firstConsent(...candidates: (ConsentInput | undefined)[]): ConsentInput {
  return candidates.find((candidate) => candidate !== undefined) ?? NO_CONSENT;
}
