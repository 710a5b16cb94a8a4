import { isIP } from 'node:net';
import * as z from 'zod/mini';
import { httpUrl, trimmedText } from '../../platform/http/schema-text';
import { FBCLID, GOOGLE_CLICK_ID, INVALID_GCLID, MSCLKID, ONE_GOOGLE_CLICK_ID } from './rules/click-ids';
import { CONSENT_METHODS, CONSENT_STATUSES, SIGNALS } from './rules/consent';
import { EMAIL } from './rules/normalise';

/** One request may carry at most this many leads. */
export const MAX_LEADS_PER_REQUEST = 100;
export const MAX_VALUE = 1_000_000_000;

/**
 * A sale value, 0 to MAX_VALUE, kept to six decimals (finer than any currency's minor unit):
 * DynamoDB takes numbers from 1e-130 up, so a valid JSON number such as 5e-324 must not reach it.
 */
export const saleValue = z.optional(
  z.number().check(
    z.gte(0),
    z.lte(MAX_VALUE),
    z.overwrite((v) => Math.round(v * 1e6) / 1e6),
  ),
);

/** An optional, trimmed, non-empty string of at most `max` characters. */
export const optionalText = (max: number) => z.optional(trimmedText(max));
const clickId = (pattern: RegExp, message: string) => z.optional(z.string().check(z.regex(pattern, message)));

/** Where the visit came from: UTM parameters and landing page (leads, and their rectification). */
export const attributionShape = {
  utm_source: optionalText(256),
  utm_medium: optionalText(256),
  utm_campaign: optionalText(256),
  utm_content: optionalText(256),
  utm_term: optionalText(256),
  landing_page: z.optional(httpUrl(2048)),
};

/**
 * The visitor's browser as the site saw it (user agent, IP address): personal data, sent only to
 * Meta with a website event and only with consent.
 */
export const browserShape = {
  client_user_agent: optionalText(512),
  /** Meta's browser id, the `_fbp` cookie: `fb.<domain index>.<creation ms>.<random>`. */
  fbp: z.optional(
    z
      .string()
      .check(
        z.trim(),
        z.regex(
          /^fb\.\d\.\d{10,13}\.[A-Za-z0-9._-]{1,128}$/,
          'fbp must be the _fbp cookie value (fb.1.<ms>.<random>)',
        ),
      ),
  ),
  client_ip_address: z.optional(
    z.string().check(
      z.trim(),
      z.refine((ip) => isIP(ip) !== 0, 'client_ip_address must be an IPv4 or IPv6 address'),
      z.meta({ anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] }),
    ),
  ),
};

/**
 * What normaliseEmail takes (the service checks it, naming every invalid lead of a request):
 * stated in the OpenAPI document with its pattern and, for what a pattern cannot say, in words.
 */
export const emailDocumented = z.meta({
  pattern: EMAIL.source,
  description: 'An email address: at most 64 characters before the @ and 254 in all',
});

/** What normalisePhone takes, stated in the OpenAPI document. */
const phoneDocumented = z.meta({
  description:
    'A phone number of the numbering plan: E.164 (+4915112345678), or a national number with its `country`',
});

/** A phone number as a lead or a rectification gives it; normalisePhone checks it. */
export const optionalPhone = z.optional(trimmedText(40).check(phoneDocumented));

/** ISO 3166 country of a national phone number. */
export const countryCode = z.optional(
  z.string().check(z.regex(/^[A-Za-z]{2}$/, 'country must be an ISO 3166 alpha-2 code')),
);

export const consentSchema = z.object({
  status: z.enum(CONSENT_STATUSES),
  timestamp: z.optional(z.iso.datetime({ offset: true })),
  method: z.optional(z.enum(CONSENT_METHODS)),
  ad_user_data: z.optional(z.enum(SIGNALS)),
  ad_personalization: z.optional(z.enum(SIGNALS)),
});

export const leadSchema = z
  .object({
    email: z.string().check(z.trim(), z.minLength(3), z.maxLength(254), emailDocumented),
    phone: optionalPhone,
    // The lead's country decides the tenant's regional consent policy (consent-policy.ts).
    country: z.optional(
      z.string().check(
        z.regex(/^[A-Za-z]{2}$/, 'country must be an ISO 3166 alpha-2 code'),
        z.meta({
          description:
            "ISO 3166 alpha-2: the lead's country, which the regional consent policy reads (else the phone number's), and the country of a national phone number",
        }),
      ),
    ),
    gclid: clickId(GOOGLE_CLICK_ID, INVALID_GCLID),
    gbraid: clickId(GOOGLE_CLICK_ID, INVALID_GCLID),
    wbraid: clickId(GOOGLE_CLICK_ID, INVALID_GCLID),
    fbclid: clickId(FBCLID, 'Invalid fbclid format'),
    msclkid: clickId(MSCLKID, 'Invalid msclkid format'),
    ...attributionShape,
    ...browserShape,
    click_time: z.optional(z.iso.datetime({ offset: true })),
    external_id: optionalText(256),
    value: saleValue,
    currency: z.optional(
      z.string().check(z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR')),
    ),
    consent: consentSchema,
  })
  .check(
    z.refine((lead) => [lead.gclid, lead.gbraid, lead.wbraid].filter(Boolean).length <= 1, {
      message: ONE_GOOGLE_CLICK_ID,
      path: ['gclid'],
    }),
  );

export type LeadInput = z.infer<typeof leadSchema>;

/** An array of 1 to 100 leads. */
export const leadArray = z
  .array(leadSchema)
  .check(
    z.minLength(1, 'Send at least one lead'),
    z.maxLength(MAX_LEADS_PER_REQUEST, `At most ${MAX_LEADS_PER_REQUEST} leads per request`),
  );

/**
 * The body of POST /api/v1/leads: one lead or an array. Which of the two is decided by the JSON
 * type first, so errors name the lead and field that is wrong.
 */
export function parseLeadsBody(
  data: unknown,
  parse: <T extends z.ZodMiniType>(schema: T, data: unknown) => z.infer<T>,
): { single: boolean; leads: LeadInput[] } {
  return Array.isArray(data)
    ? { single: false, leads: parse(leadArray, data) }
    : { single: true, leads: [parse(leadSchema, data)] };
}

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** Which status a lead may move to from each status. `won` is final. */
export const TRANSITIONS: Readonly<Record<LeadStatus, readonly LeadStatus[]>> = {
  new: ['contacted', 'qualified', 'won', 'lost'],
  contacted: ['qualified', 'won', 'lost'],
  qualified: ['won', 'lost'],
  won: [],
  lost: ['contacted', 'qualified'],
};

export function canMove(from: LeadStatus, to: LeadStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export const patchLeadBody = z.object({
  status: z.optional(z.enum(LEAD_STATUSES)),
  value: saleValue,
  currency: z.optional(
    z.string().check(z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR')),
  ),
  /** The order the won lead became; fixed on the conversion. */
  order_id: optionalText(128),
});

export const listLeadsQuery = z.object({
  status: z.optional(z.enum(LEAD_STATUSES)),
  created_from: z.optional(z.iso.datetime({ offset: true })),
  created_to: z.optional(z.iso.datetime({ offset: true })),
});
