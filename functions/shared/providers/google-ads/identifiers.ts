import { createHash } from 'node:crypto';
import type { Conversion } from '../../features/conversions/model';
import type { StoredLead } from '../../features/leads/model';
import { allowsUpload } from '../../features/leads/rules/consent';
import { normaliseEmail, normalisePhone } from '../../features/leads/rules/normalise';

/**
 * Enhanced-conversion user identifiers, normalised by Google's rules and hashed (SHA-256, hex);
 * no I/O here.
 */
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * Google's formatting guide for `email_address`: trimmed and lower-cased; for gmail.com and
 * googlemail.com addresses, the dots of the local part removed and a `+` with what follows it
 * dropped (`cloudy.sanfrancisco+shopping@gmail.com` → `cloudysanfrancisco@gmail.com`); other
 * domains keep their dots and plus signs.
 */
export function googleNormalisedEmail(input: string): string | undefined {
  const email = normaliseEmail(input);
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (!GMAIL_DOMAINS.has(domain)) return email;
  const plain = local.split('+')[0]?.replace(/\./g, '') ?? '';
  return plain ? `${plain}@${domain}` : undefined;
}

export function hashedEmail(input: string): string | undefined {
  const email = googleNormalisedEmail(input);
  return email ? sha256(email) : undefined;
}

/** E.164 (`+4915123456789`), then SHA-256. A national number needs the country. */
export function hashedPhoneNumber(input: string, country?: string): string | undefined {
  const phone = normalisePhone(input, country);
  return phone ? sha256(phone) : undefined;
}

/**
 * The ad_user_data signal sent with a conversion: from the lead's consent (granted only with
 * valid consent and no restriction), or, for a conversion by raw click id, the consent it was
 * posted with; undefined when nothing was said (then no signal and nothing personal is sent).
 * `not_required`: the lead's consent is not required where it is (the tenant's regional policy):
 * the conversion goes without consent fields, with the lead's hashed identifiers.
 */
export function adUserData(
  conversion: Pick<Conversion, 'consent'>,
  lead: StoredLead | undefined,
): 'granted' | 'denied' | 'not_required' | undefined {
  if (lead) {
    if (lead.restricted) return 'denied';
    if (lead.consent.status === 'not_required') return 'not_required';
    return lead.consent.ad_user_data === 'granted' && allowsUpload(lead.consent) ? 'granted' : 'denied';
  }
  return conversion.consent?.ad_user_data;
}

/** The consent field of a Google conversion for that signal: none when nothing was said or none is required. */
export function consentField<G, D>(
  signal: ReturnType<typeof adUserData>,
  granted: G,
  denied: D,
): G | D | undefined {
  if (signal === 'granted') return granted;
  if (signal === 'denied') return denied;
  return undefined;
}

/** The lead's hashed e-mail and phone (E.164), normalised as Google's formatting guide says. */
export function hashedIdentifiers(lead: Pick<StoredLead, 'email' | 'phone'>): {
  email?: string;
  phone?: string;
} {
  const email = lead.email ? hashedEmail(lead.email) : undefined;
  const phone = lead.phone ? hashedPhoneNumber(lead.phone) : undefined;
  return { ...(email ? { email } : {}), ...(phone ? { phone } : {}) };
}

/** Whether the lead's hashed email and phone may go with the conversion. */
export const sharesUserData = (signal: ReturnType<typeof adUserData>) =>
  signal === 'granted' || signal === 'not_required';

/** How one of Google's APIs spells the consent signal and the hashed identifiers. */
export interface PersonVocabulary<Consent, Identifier> {
  granted: Consent;
  denied: Consent;
  email: (hash: string) => Identifier;
  phone: (hash: string) => Identifier;
}

/**
 * What a conversion says of its person, in an API's words: the ad_user_data consent (none when
 * nothing was said or none is required), and the lead's hashed e-mail and phone only where that
 * signal lets them go.
 */
export function personOf<Consent, Identifier>(
  conversion: Pick<Conversion, 'consent'>,
  lead: StoredLead | undefined,
  words: PersonVocabulary<Consent, Identifier>,
): { consent?: Consent; identifiers: Identifier[] } {
  const signal = adUserData(conversion, lead);
  const consent = consentField(signal, words.granted, words.denied);
  const { email, phone } = lead && sharesUserData(signal) ? hashedIdentifiers(lead) : {};
  return {
    ...(consent ? { consent } : {}),
    identifiers: [...(email ? [words.email(email)] : []), ...(phone ? [words.phone(phone)] : [])],
  };
}

/** The click id under its own field name; none for a conversion matched on user data. */
export const clickIdentifier = (conversion: Pick<Conversion, 'match' | 'click_id' | 'click_id_type'>) =>
  conversion.match !== 'user_data'
    ? { [conversion.click_id_type as 'gclid' | 'gbraid' | 'wbraid']: conversion.click_id }
    : {};

/** The sale's value and currency (the conversion's, else the destination's); neither without a value. */
export function saleOf(
  conversion: Pick<Conversion, 'value' | 'currency'>,
  fallbackCurrency: string | undefined,
): { value?: number; currency?: string } {
  if (conversion.value === undefined) return {};
  const currency = conversion.currency ?? fallbackCurrency;
  return { value: conversion.value, ...(currency ? { currency } : {}) };
}
