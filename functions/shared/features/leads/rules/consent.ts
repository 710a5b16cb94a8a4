/**
 * Consent rules; no I/O here.
 *
 * A lead may be stored only with valid consent, decided before anything is written:
 * - status `granted` is valid, whatever the method;
 * - status `pending` is valid only when the method is `cookie_banner` and a timestamp says when
 *   the visitor was shown the banner (the merchant's banner configuration implies consent);
 * - `denied` and `withdrawn` are never valid: an explicit refusal wins over every method.
 * `ad_user_data` / `ad_personalization`, when absent, follow the decision: granted when the
 * consent is valid, denied otherwise.
 */
export const CONSENT_STATUSES = ['granted', 'denied', 'pending', 'withdrawn'] as const;
export const CONSENT_METHODS = ['cookie_banner', 'form_checkbox', 'api_call'] as const;
export const SIGNALS = ['granted', 'denied'] as const;

export type ConsentStatus = (typeof CONSENT_STATUSES)[number];
export type ConsentMethod = (typeof CONSENT_METHODS)[number];
export type Signal = (typeof SIGNALS)[number];

export interface ConsentInput {
  status: ConsentStatus;
  timestamp?: string;
  method?: ConsentMethod;
  ad_user_data?: Signal;
  ad_personalization?: Signal;
}

/** Consent as stored with a lead from a signal: both ad signals resolved. */
export interface SignalledConsent {
  status: ConsentStatus;
  timestamp?: string;
  method?: ConsentMethod;
  ad_user_data: Signal;
  ad_personalization: Signal;
}

/**
 * A lead stored without any consent signal because the tenant's `regional` consent policy does not
 * require one where the lead is (consent-policy.ts). Its conversions carry no consent fields.
 */
export interface NotRequiredConsent {
  status: 'not_required';
  basis: 'regional_policy';
  /** ISO 3166 alpha-2: the country that decided it. */
  country: string;
}

/** Consent as stored with a lead. */
export type Consent = SignalledConsent | NotRequiredConsent;

export type ConsentRefusal = 'consent_required';

export function isValidConsent(consent: ConsentInput): boolean {
  if (consent.status === 'granted') return true;
  if (consent.status === 'pending') return consent.method === 'cookie_banner' && !!consent.timestamp;
  return false;
}

/** Resolves the ad signals; the caller has decided validity first. */
export function resolveConsent(consent: ConsentInput): SignalledConsent {
  const fallback: Signal = isValidConsent(consent) ? 'granted' : 'denied';
  return {
    status: consent.status,
    ...(consent.timestamp ? { timestamp: consent.timestamp } : {}),
    ...(consent.method ? { method: consent.method } : {}),
    ad_user_data: consent.ad_user_data ?? fallback,
    ad_personalization: consent.ad_personalization ?? fallback,
  };
}

/**
 * Whether this consent allows sending the person's data to an ad platform: a valid signal with
 * `ad_user_data` granted, or consent not required where the lead is.
 */
export function allowsUpload(consent: Consent): boolean {
  if (consent.status === 'not_required') return true;
  return isValidConsent(consent) && consent.ad_user_data === 'granted';
}

/** An entry of a lead's consent history. */
export type ConsentChange = Consent & {
  recorded_at: string;
  source: 'capture' | 'api' | 'webhook';
};
