import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * Normalisation of personal data before it is stored or hashed; no I/O here.
 */
/** An email address as normaliseEmail takes it (after trimming and lower-casing). */
export const EMAIL =
  /^[^\s@"(),:;<>[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Trimmed and lower-cased; undefined when it is not a plausible address. */
export function normaliseEmail(input: string): string | undefined {
  const email = input.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) return undefined;
  const [local] = email.split('@');
  if (!local || local.length > 64) return undefined;
  return email;
}

/**
 * E.164 (`+4915112345678`). A number written with `+` needs no country; a national number needs
 * the ISO country (`DE`). Undefined when it is not a valid number.
 */
export function normalisePhone(input: string, country?: string): string | undefined {
  const trimmed = input.trim();
  if (!trimmed || trimmed.length > 40) return undefined;
  const parsed = parsePhoneNumberFromString(
    trimmed,
    country ? (country.toUpperCase() as CountryCode) : undefined,
  );
  if (!parsed?.isValid()) return undefined;
  return parsed.number;
}
