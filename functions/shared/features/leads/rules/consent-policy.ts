import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { type Consent, type ConsentInput, isValidConsent, resolveConsent } from './consent';

/**
 * The tenant's consent policy and the one rule that applies it to every lead, whoever sends it
 * (the leads API, Shopify, WooCommerce, GoHighLevel); no I/O here.
 * - `explicit` (the default): no valid consent signal, no lead.
 * - `regional`: a lead whose country is outside the EEA, the UK and Switzerland and which carries
 *   no consent signal at all is stored with consent `not_required` (basis `regional_policy`, the
 *   country); its conversions are sent without consent fields. An explicit denial or withdrawal
 *   still refuses the lead everywhere, a lead inside those countries still needs consent, and a
 *   lead whose country is unknown is treated as under `explicit`.
 */
export const CONSENT_POLICIES = ['explicit', 'regional'] as const;
export type ConsentPolicy = (typeof CONSENT_POLICIES)[number];
export const DEFAULT_CONSENT_POLICY: ConsentPolicy = 'explicit';

/**
 * Where consent is required whatever the policy: the EU's 27 members, the other EEA states
 * (Iceland, Liechtenstein, Norway), the United Kingdom and Switzerland.
 */
export const CONSENT_REQUIRED_COUNTRIES: ReadonlySet<string> = new Set([
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
  'GB',
  'CH',
]);

const ALPHA_2 = /^[A-Za-z]{2}$/;

/**
 * The lead's country: the one it gives (its billing, else shipping address, as the sender
 * extracted it), else the country of its phone number when written in international form; else
 * unknown. `UK` is read as `GB`.
 */
export function leadCountry(lead: {
  country?: string | undefined;
  phone?: string | undefined;
}): string | undefined {
  if (lead.country !== undefined && ALPHA_2.test(lead.country.trim())) {
    const code = lead.country.trim().toUpperCase();
    return code === 'UK' ? 'GB' : code;
  }
  if (!lead.phone) return undefined;
  const parsed = parsePhoneNumberFromString(lead.phone.trim());
  return parsed?.isValid() ? (parsed.country as CountryCode | undefined) : undefined;
}

/** Whether the lead says anything about consent: a status other than `pending`, or a valid `pending`. */
export function hasConsentSignal(consent: ConsentInput): boolean {
  return consent.status !== 'pending' || isValidConsent(consent);
}

export type ConsentDecision =
  | { stored: true; consent: Consent }
  | { stored: false; reason: 'consent_required' };

/** What happens to a lead with this consent, in this country, under this policy. */
export function decideConsent(
  policy: ConsentPolicy,
  consent: ConsentInput,
  country: string | undefined,
): ConsentDecision {
  if (isValidConsent(consent)) return { stored: true, consent: resolveConsent(consent) };
  if (
    policy === 'regional' &&
    country !== undefined &&
    !CONSENT_REQUIRED_COUNTRIES.has(country) &&
    !hasConsentSignal(consent)
  ) {
    return { stored: true, consent: { status: 'not_required', basis: 'regional_policy', country } };
  }
  return { stored: false, reason: 'consent_required' };
}
