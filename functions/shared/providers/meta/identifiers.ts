import { createHash } from 'node:crypto';
import { FBCLID } from '../../features/leads/rules/click-ids';
import { normaliseEmail, normalisePhone } from '../../features/leads/rules/normalise';

/**
 * Customer information for Meta's Conversions API, normalised the way Meta's "Customer
 * Information Parameters" page documents it and hashed with SHA-256 (lowercase hex); the click id
 * as Meta's "fbp and fbc Parameters" page formats it. No I/O here.
 *
 * - `em`: trimmed, lower-cased (no provider-specific rewriting: unlike Google, Meta keeps the dots
 *   of a gmail address).
 * - `ph`: digits only, with the country code, no leading zeros and no `+` (`16505551212`). A
 *   national number needs its country; without one it is left out rather than guessed.
 * - `fn` / `ln`: lower-cased, no punctuation, letters of any script kept as UTF-8 (`valéry`, `정`).
 * - `external_id`: hashing is recommended; the advertiser's id is hashed as given (trimmed), since
 *   ids are case-sensitive.
 * - `fbc`: `fb.1.<click time in ms>.<fbclid>`, the fbclid byte for byte (it is case-sensitive).
 */
export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Trimmed and lower-cased; undefined when it is not a plausible address. */
export function metaEmail(input: string): string | undefined {
  return normaliseEmail(input);
}

/**
 * Country code and number as digits (`+1 (650) 555-1212` → `16505551212`). An international
 * prefix `00` counts as `+`. A national number is read with `country` (ISO 3166 alpha-2).
 */
export function metaPhone(input: string, country?: string): string | undefined {
  const trimmed = input.trim().replace(/^00/, '+');
  const e164 = normalisePhone(trimmed, country);
  return e164 ? e164.slice(1).replace(/^0+/, '') : undefined;
}

/** Lower-cased, letters (any script, with their accents) only; undefined when nothing is left. */
export function metaName(input: string): string | undefined {
  const name = input
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}]/gu, '');
  return name === '' ? undefined : name;
}

export function metaExternalId(input: string): string | undefined {
  const id = input.trim();
  return id === '' ? undefined : id;
}

export const hashedEmail = (input: string) => hashOf(metaEmail(input));
export const hashedPhone = (input: string, country?: string) => hashOf(metaPhone(input, country));
export const hashedName = (input: string) => hashOf(metaName(input));
export const hashedExternalId = (input: string) => hashOf(metaExternalId(input));

function hashOf(normalised: string | undefined): string | undefined {
  return normalised === undefined ? undefined : sha256Hex(normalised);
}

/** Meta's formatted ClickID: version `fb`, subdomain index 1, click time in milliseconds, fbclid. */
export const FBC = /^fb\.[0-2]\.\d{13}\.[A-Za-z0-9_-]+$/;

/**
 * `fb.1.<clickTimeMs>.<fbclid>`; undefined for a value that is not an fbclid or a time that is not
 * a positive millisecond timestamp. The fbclid is never re-cased, decoded or cut.
 */
export function fbcOf(fbclid: string, clickTimeMs: number): string | undefined {
  if (!FBCLID.test(fbclid)) return undefined;
  if (!Number.isSafeInteger(clickTimeMs) || clickTimeMs < 1e12 || clickTimeMs >= 1e13) return undefined;
  return `fb.1.${clickTimeMs}.${fbclid}`;
}
