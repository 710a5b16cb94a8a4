import { createHash } from 'node:crypto';
import type { Conversion } from '../conversions/model';
import { allowsUpload } from '../leads/consent';
import type { StoredLead } from '../leads/model';
import { normaliseEmail, normalisePhone } from '../leads/normalise';

/**
 * Enhanced-conversion user identifiers, normalised by Google's rules and hashed (SHA-256, hex);
 * no I/O here.
 */
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/** Trimmed, lower-cased, dots removed from the local part of gmail.com / googlemail.com addresses. */
export function googleNormalisedEmail(input: string): string | undefined {
  const email = normaliseEmail(input);
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  return GMAIL_DOMAINS.has(domain) ? `${local.replace(/\./g, '')}@${domain}` : email;
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
 */
export function adUserData(
  conversion: Pick<Conversion, 'consent'>,
  lead: StoredLead | undefined,
): 'granted' | 'denied' | undefined {
  if (lead)
    return lead.consent.ad_user_data === 'granted' && allowsUpload(lead.consent) && !lead.restricted
      ? 'granted'
      : 'denied';
  return conversion.consent?.ad_user_data;
}
