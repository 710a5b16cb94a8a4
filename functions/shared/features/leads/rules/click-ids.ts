/**
 * Click ids. Real ones: gclid ~90+ characters (`Cj0KCQ...`, `EAIaIQ...`), gbraid ~34 (`0AAAAA...`),
 * wbraid 115-123; all drawn from base64url characters. We accept the character rule, store the raw
 * value, and allow at most one of the three Google ids on a lead or conversion.
 */
export const GOOGLE_CLICK_ID = /^[A-Za-z0-9_-]{20,200}$/;
/** fbclid is case-sensitive and kept exactly as received. */
export const FBCLID = /^[A-Za-z0-9_-]{10,500}$/;
export const MSCLKID = /^[A-Za-z0-9_-]{10,200}$/;

export const GOOGLE_CLICK_ID_FIELDS = ['gclid', 'gbraid', 'wbraid'] as const;
export type GoogleClickIdField = (typeof GOOGLE_CLICK_ID_FIELDS)[number];

export const INVALID_GCLID = 'Invalid GCLID format';
export const ONE_GOOGLE_CLICK_ID = 'At most one of gclid, gbraid and wbraid may be given';

export interface ClickIds {
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  fbclid?: string;
  msclkid?: string;
}

/** The Google click id a lead carries, if any: which field and its value. */
export function googleClickId(ids: ClickIds): { field: GoogleClickIdField; value: string } | undefined {
  for (const field of GOOGLE_CLICK_ID_FIELDS) {
    const value = ids[field];
    if (value) return { field, value };
  }
  return undefined;
}

/** The click id that identifies a visit for deduplication: Google's first, then Meta's, then Microsoft's. */
export function primaryClickId(ids: ClickIds): string | undefined {
  return googleClickId(ids)?.value ?? ids.fbclid ?? ids.msclkid;
}
