import { BlockList, isIP } from 'node:net';
import type { ConsentInput } from '../../../leads/rules/consent';
import { normaliseEmail, normalisePhone } from '../../../leads/rules/normalise';
import { type LeadInput, leadSchema } from '../../../leads/schema';
import type { Attribution } from './attribution';
import { type Extraction, invalid, type OrderFacts } from './types';
import { amount, text } from './values';

/**
 * A phone number as a sender gives it, with the country of its address for national numbers. The
 * first address country among the candidates is also the lead's country (its consent policy).
 */
export interface PhoneCandidate {
  phone: unknown;
  country?: unknown;
}

export interface LeadParts {
  /** Where the email may be, most authoritative first. */
  emails: readonly unknown[];
  phones: readonly PhoneCandidate[];
  attribution: Attribution;
  consent: ConsentInput;
  /** The visitor's browser as the shop saw it (user agent, IP address), where the sender gives it. */
  browser?: { userAgent?: unknown; ip?: unknown };
  externalId?: string;
  value?: number;
  currency?: string;
}

const COUNTRY = /^[A-Za-z]{2}$/;

/** The first candidate that is a plausible address, normalised; or why there is none. */
function emailOf(
  candidates: readonly unknown[],
): { email: string } | { missing: true } | { malformed: true } {
  let seen = false;
  for (const candidate of candidates) {
    const found = text(candidate);
    if (found === undefined) continue;
    seen = true;
    const email = normaliseEmail(found);
    if (email !== undefined) return { email };
  }
  return seen ? { malformed: true } : { missing: true };
}

/**
 * The lead's country: the first candidate's address country that is an ISO 3166 code (the sender
 * lists billing before shipping), whether or not that address has a phone number.
 */
function addressCountry(candidates: readonly PhoneCandidate[]): string | undefined {
  for (const candidate of candidates) {
    const code = text(candidate.country);
    if (code !== undefined && COUNTRY.test(code)) return code.toUpperCase();
  }
  return undefined;
}

/** The first candidate that is a valid number, in E.164, with its country when known. */
function phoneOf(candidates: readonly PhoneCandidate[]): Pick<LeadInput, 'phone' | 'country'> {
  for (const candidate of candidates) {
    const found = text(candidate.phone);
    if (found === undefined) continue;
    const code = text(candidate.country);
    const country = code !== undefined && COUNTRY.test(code) ? code.toUpperCase() : undefined;
    const phone = normalisePhone(found, country);
    if (phone !== undefined) return { phone, ...(country !== undefined ? { country } : {}) };
  }
  return {};
}

/** A money amount the lead schema accepts (a number from 0 to its maximum), from a number or a decimal string. */
export function money(...values: unknown[]): number | undefined {
  for (const value of values) {
    const found = amount(value);
    if (found !== undefined && leadSchema.shape.value.safeParse(found).success) return found;
  }
  return undefined;
}

/** A currency code as the schema wants it: three letters, upper case. */
export function currencyOf(...values: unknown[]): string | undefined {
  for (const value of values) {
    const code = text(value)?.toUpperCase();
    if (code !== undefined && /^[A-Z]{3}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Addresses that say nothing about the visitor: unspecified (`0.0.0.0`, `::`, which Shopify sends
 * when it has none), loopback, private, shared (carrier-grade NAT), link-local and unique-local.
 * Sent to Meta they would only spoil the match.
 */
const UNUSABLE_IPS = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  UNUSABLE_IPS.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  UNUSABLE_IPS.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address may stand for the visitor: a public address, not one of the above. */
export function isUsableClientIp(ip: string): boolean {
  const version = isIP(ip);
  if (version === 0) return false;
  const mapped = version === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] : undefined;
  if (mapped !== undefined) return !UNUSABLE_IPS.check(mapped, 'ipv4');
  return !UNUSABLE_IPS.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/** The browser fields the lead schema accepts; a malformed or unusable one is left out, never the lead. */
function browserOf(
  browser: LeadParts['browser'],
): Pick<LeadInput, 'client_user_agent' | 'client_ip_address'> {
  const out: Pick<LeadInput, 'client_user_agent' | 'client_ip_address'> = {};
  const userAgent = leadSchema.shape.client_user_agent.safeParse(text(browser?.userAgent));
  if (userAgent.success && userAgent.data) out.client_user_agent = userAgent.data;
  const ip = leadSchema.shape.client_ip_address.safeParse(text(browser?.ip));
  if (ip.success && ip.data && isUsableClientIp(ip.data)) out.client_ip_address = ip.data;
  return out;
}

/**
 * The lead of a payload, checked against the lead schema as a whole. The parts were checked field
 * by field before (a malformed one left out), so only a lead without a usable email is `invalid`
 * here, short of a bug upstream.
 */
export function leadExtraction(parts: LeadParts, order?: OrderFacts): Extraction {
  const email = emailOf(parts.emails);
  if ('missing' in email) return invalid('the payload has no email address');
  if ('malformed' in email) return invalid('the email address is not valid');
  const phone = phoneOf(parts.phones);
  const country = addressCountry(parts.phones) ?? phone.country;
  const candidate: LeadInput = {
    email: email.email,
    ...(phone.phone !== undefined ? { phone: phone.phone } : {}),
    ...(country !== undefined ? { country } : {}),
    ...parts.attribution,
    ...browserOf(parts.browser),
    ...(parts.externalId !== undefined ? { external_id: parts.externalId } : {}),
    ...(parts.value !== undefined ? { value: parts.value } : {}),
    ...(parts.currency !== undefined ? { currency: parts.currency } : {}),
    consent: parts.consent,
  };
  const parsed = leadSchema.safeParse(candidate);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(lead)').join(', ');
    return invalid(`the lead does not validate (${where})`);
  }
  return { kind: 'lead', lead: parsed.data, ...(order !== undefined ? { order } : {}) };
}
