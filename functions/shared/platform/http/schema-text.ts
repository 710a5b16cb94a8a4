/**
 * String schemas whose checks JSON Schema cannot read off zod, with the `pattern` that states them
 * in the OpenAPI document (zod's `meta` adds it to the generated schema; the check stays zod's).
 * An input the document calls valid is then one the handler takes.
 */
import * as z from 'zod/mini';

/** Not blank: a trimmed value of at least one character has a character that is not whitespace. */
export const NOT_BLANK = '\\S';

/** A string trimmed before its length is checked, and not blank. */
export const trimmedText = (max: number, message?: string) =>
  z.string().check(z.trim(), z.minLength(1, message), z.maxLength(max), z.meta({ pattern: NOT_BLANK }));

/** What `protocol: /^https?$/` takes (URL schemes are case-insensitive). */
export const HTTP_URL = '^[Hh][Tt][Tt][Pp][Ss]?://';

/** An absolute http(s) URL of at most `max` characters. */
export const httpUrl = (max: number, message?: string) =>
  z.url({ protocol: /^https?$/ }).check(z.maxLength(max, message), z.meta({ pattern: HTTP_URL }));
