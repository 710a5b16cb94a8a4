import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = (CROCKFORD[value % 32] as string) + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/**
 * A sortable unique id (ULID layout: 48-bit millisecond time, 80 random bits, Crockford
 * base32), lower-cased and prefixed with its kind, e.g. `lead_01jd...`. Ids sort by creation.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  const random = randomBytes(10);
  let bits = '';
  for (const byte of random) bits += byte.toString(2).padStart(8, '0');
  let rand = '';
  for (let i = 0; i < 80; i += 5) rand += CROCKFORD[Number.parseInt(bits.slice(i, i + 5), 2)];
  return `${prefix}_${(encodeTime(now) + rand).toLowerCase()}`;
}

/** Ids this service issues: a short kind, an underscore, 26 base32 characters. */
export const ID_PATTERN = /^[a-z]{2,12}_[0-9a-hjkmnp-tv-z]{26}$/;

/** The prefix every id of this kind created at `ms` starts with: ids sort, and range, by time. */
export function idTimePrefix(prefix: string, ms: number): string {
  return `${prefix}_${encodeTime(ms).toLowerCase()}`;
}
