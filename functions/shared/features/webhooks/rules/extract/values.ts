/**
 * Readers of untrusted JSON: each looks at one value and answers what it is, or undefined. Nothing
 * here throws, whatever the payload holds.
 */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Key-value pairs of a payload (note attributes, meta data, custom fields) by normalised key, in order. */
export type Fields = ReadonlyMap<string, readonly string[]>;

export function record(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** The values that are objects, in order. */
export function records(...values: unknown[]): JsonObject[] {
  const found: JsonObject[] = [];
  for (const value of values) {
    const item = record(value);
    if (item) found.push(item);
  }
  return found;
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty trimmed string. */
export function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A string, or a finite number as its decimal string (ids and epoch times arrive as either). */
export function scalar(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return text(value);
}

/**
 * An id: a positive safe integer or a non-empty string of at most 128 characters (Shopify and
 * WooCommerce send numbers, HighLevel strings). Zero is WooCommerce's "no customer".
 */
export function identifier(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  const found = text(value);
  return found !== undefined && found !== '0' && found.length <= 128 ? found : undefined;
}

/** A money amount: a finite non-negative number, or a decimal string such as `"199.00"`. */
export function amount(value: unknown): number | undefined {
  let parsed: number | undefined;
  if (typeof value === 'number') parsed = value;
  else {
    const found = text(value);
    if (found !== undefined && /^\d+(?:\.\d+)?$/.test(found)) parsed = Number(found);
  }
  return parsed !== undefined && Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

/**
 * One spelling for the keys of every sender: `_gclid`, `GCLID`, `utmSource`, `Consent Status` and
 * `contact.consent_status` all become `gclid`, `utm_source`, `consent_status`.
 */
export function normaliseKey(key: string): string {
  return key
    .trim()
    .replace(/^contact\./i, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s.-]+/g, '_')
    .replace(/^_+/, '');
}

function add(fields: Map<string, string[]>, key: unknown, value: unknown): void {
  if (typeof key !== 'string') return;
  const found = scalar(value);
  if (found === undefined) return;
  const name = normaliseKey(key);
  if (name === '') return;
  const values = fields.get(name);
  if (values) values.push(found);
  else fields.set(name, [found]);
}

/** Fields of a list of `{<keyName>: ..., <valueName>: ...}` entries; other entries are skipped. */
export function pairs(entries: unknown, keyNames: readonly string[], valueNames: readonly string[]): Fields {
  const fields = new Map<string, string[]>();
  for (const entry of list(entries)) {
    const item = record(entry);
    if (!item) continue;
    const key = keyNames.map((name) => item[name]).find((candidate) => typeof candidate === 'string');
    const value = valueNames.map((name) => item[name]).find((candidate) => scalar(candidate) !== undefined);
    add(fields, key, value);
  }
  return fields;
}

/** Fields of an object's own string and number properties. */
export function entries(value: unknown): Fields {
  const fields = new Map<string, string[]>();
  const item = record(value);
  if (item) for (const key of Object.keys(item)) add(fields, key, item[key]);
  return fields;
}

/** Every value under `key` in the sources, in source order. */
export function valuesOf(sources: readonly Fields[], key: string): string[] {
  return sources.flatMap((fields) => fields.get(key) ?? []);
}

/** One source of several, each key's values in source order (the first source's value first). */
export function merged(sources: readonly Fields[]): Fields {
  const fields = new Map<string, string[]>();
  for (const source of sources) {
    for (const [key, values] of source) fields.set(key, [...(fields.get(key) ?? []), ...values]);
  }
  return fields;
}
