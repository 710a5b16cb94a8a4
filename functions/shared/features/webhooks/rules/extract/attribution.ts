import { GOOGLE_CLICK_ID_FIELDS } from '../../../leads/rules/click-ids';
import { type LeadInput, leadSchema } from '../../../leads/schema';
import { type Fields, normaliseKey, scalar, text, valuesOf } from './values';

/**
 * Click ids, UTM parameters and the landing page of a lead, from the key-value sources a sender
 * offers (note attributes, meta data, custom fields, landing URLs), most explicit source first.
 * Each value is checked against the lead schema on its own: a malformed one is dropped and the
 * next candidate tried, so one bad field never costs the lead.
 */
export type Attribution = Pick<
  LeadInput,
  | 'gclid'
  | 'gbraid'
  | 'wbraid'
  | 'fbclid'
  | 'msclkid'
  | 'utm_source'
  | 'utm_medium'
  | 'utm_campaign'
  | 'utm_content'
  | 'utm_term'
  | 'landing_page'
  | 'click_time'
  | 'fbp'
>;

const OTHER_CLICK_IDS = ['fbclid', 'msclkid'] as const;
const UTM_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term'] as const;
/** Spellings seen in the wild for the same parameter (HighLevel's attribution says `msclikid`). */
const ALIASES: ReadonlyMap<string, string> = new Map([['msclikid', 'msclkid']]);

const CLICK_ID_KEYS: ReadonlySet<string> = new Set([
  ...GOOGLE_CLICK_ID_FIELDS,
  ...OTHER_CLICK_IDS,
  ...ALIASES.keys(),
]);

type AttributionField = keyof Attribution;

/** Only the click ids of a source: a referrer's own UTM parameters describe another visit. */
export function clickIdsOnly(fields: Fields): Fields {
  return new Map([...fields].filter(([key]) => CLICK_ID_KEYS.has(key)));
}

/** The first candidate the lead schema accepts for this field, as the schema leaves it (trimmed). */
function firstValid<F extends AttributionField>(field: F, candidates: readonly string[]): Attribution[F] {
  const schema = leadSchema.shape[field];
  for (const candidate of candidates) {
    const parsed = schema.safeParse(candidate);
    if (parsed.success && parsed.data !== undefined) return parsed.data as Attribution[F];
  }
  return undefined;
}

function withAliases(fields: Fields): Fields {
  const aliased = new Map<string, string[]>();
  for (const [key, values] of fields) {
    const name = ALIASES.get(key) ?? key;
    aliased.set(name, [...(aliased.get(name) ?? []), ...values]);
  }
  return aliased;
}

/**
 * The query parameters of a URL, absolute (`https://shop.example/p?gclid=...`) or relative
 * (`/products/x?gclid=...`, as Shopify's `landing_site`); empty when it does not parse.
 */
export function urlFields(value: unknown): Fields {
  const fields = new Map<string, string[]>();
  const url = text(value);
  if (url === undefined) return fields;
  let params: URLSearchParams;
  try {
    params = new URL(url, 'https://relative.invalid').searchParams;
  } catch {
    return fields;
  }
  for (const [key, paramValue] of params) {
    const name = normaliseKey(key);
    const found = text(paramValue);
    if (name === '' || found === undefined) continue;
    fields.set(name, [...(fields.get(name) ?? []), found]);
  }
  return fields;
}

/**
 * The URL itself when it is absolute http(s); a landing page must say which site it was. A path
 * (`/?fbclid=...`, as Shopify's `landing_site` usually is) is resolved against `base`, the site's
 * own origin, when one is known.
 */
export function absoluteHttpUrl(value: unknown, base?: string): string | undefined {
  const url = text(value);
  if (url === undefined) return undefined;
  if (/^https?:\/\//i.test(url)) return firstValid('landing_page', [url]);
  if (base === undefined || !url.startsWith('/') || url.startsWith('//')) return undefined;
  try {
    return firstValid('landing_page', [new URL(url, base).href]);
  } catch {
    return undefined;
  }
}

/** The origin (`https://host`) of an absolute http(s) URL, or undefined. */
export function originOf(value: unknown): string | undefined {
  const url = text(value);
  if (url === undefined || !/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * When the ad was clicked, as the lead schema wants it (RFC 3339 with offset), from the first
 * candidate that is one, or Unix seconds or milliseconds.
 */
function clickTimeOf(candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    const found = scalar(candidate);
    if (found === undefined) continue;
    let iso: string | undefined = found;
    if (/^\d{10}$/.test(found)) iso = new Date(Number(found) * 1000).toISOString();
    else if (/^\d{13}$/.test(found)) iso = new Date(Number(found)).toISOString();
    const valid = firstValid('click_time', [iso]);
    if (valid !== undefined) return valid;
  }
  return undefined;
}

export function attributionFrom(
  sources: readonly Fields[],
  landingUrls: readonly unknown[] = [],
  /** The site's origin, against which a landing URL that is a path is resolved. */
  base?: string,
): Attribution {
  const all = sources.map(withAliases);
  const attribution: Attribution = {};
  // At most one Google click id: gclid, else gbraid, else wbraid, from whichever source has it.
  for (const field of GOOGLE_CLICK_ID_FIELDS) {
    const value = firstValid(field, valuesOf(all, field));
    if (value !== undefined) {
      attribution[field] = value;
      break;
    }
  }
  for (const field of [...OTHER_CLICK_IDS, ...UTM_FIELDS]) {
    const value = firstValid(field, valuesOf(all, field));
    if (value !== undefined) attribution[field] = value;
  }
  const fbp = firstValid('fbp', valuesOf(all, 'fbp'));
  if (fbp !== undefined) attribution.fbp = fbp;
  const clickTime = clickTimeOf(valuesOf(all, 'click_time'));
  if (clickTime !== undefined) attribution.click_time = clickTime;
  for (const url of landingUrls) {
    const landing = absoluteHttpUrl(url, base);
    if (landing !== undefined) {
      attribution.landing_page = landing;
      break;
    }
  }
  return attribution;
}
