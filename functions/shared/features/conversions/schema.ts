import * as z from 'zod/mini';
import { FBCLID, GOOGLE_CLICK_ID, INVALID_GCLID, ONE_GOOGLE_CLICK_ID } from '../leads/rules/click-ids';
import { SIGNALS } from '../leads/rules/consent';
import { optionalText, saleValue } from '../leads/schema';
import { CONVERSION_STATUSES } from './model';

/**
 * Request bodies of the conversion routes (as the OpenAPI document states them), one zod schema each, used to
 * validate and to document. `POST /api/v1/conversions` has one form per way of naming the
 * click; `CONVERSION_FORMS` lists them with the field that selects each, so a platform adds
 * its form (e.g. Meta's `fbclid`) by adding an entry.
 */
const currency = z.optional(
  z.string().check(z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as EUR')),
);
const value = saleValue;
const time = z.iso.datetime({ offset: true });
const googleClickId = z.optional(z.string().check(z.regex(GOOGLE_CLICK_ID, INVALID_GCLID)));

/** What every form shares: the sale. */
export const saleShape = {
  value,
  currency,
  /** The order the conversion is; the same order again is the same conversion. */
  order_id: optionalText(128),
};

/** `{lead_id}`: a conversion for each ad platform the lead has a click id for, its consent applies. */
export const conversionByLeadBody = z.object({
  lead_id: z.string().check(z.minLength(1), z.maxLength(128)),
  conversion_time: z.optional(time),
  ...saleShape,
});

/** The consent signals posted with a raw click id (a lead's conversion uses the lead's). */
const postedConsent = z.optional(
  z.object({
    ad_user_data: z.optional(z.enum(SIGNALS)),
    ad_personalization: z.optional(z.enum(SIGNALS)),
  }),
);

/** A raw Google click id; it carries its own consent (without it nothing personal is sent). */
export const conversionByGoogleClickBody = z
  .object({
    gclid: googleClickId,
    gbraid: googleClickId,
    wbraid: googleClickId,
    conversion_time: time,
    click_time: z.optional(time),
    ...saleShape,
    consent: postedConsent,
  })
  .check(
    z.refine((body) => [body.gclid, body.gbraid, body.wbraid].filter(Boolean).length === 1, {
      message: ONE_GOOGLE_CLICK_ID.replace('At most', 'Exactly'),
      path: ['gclid'],
    }),
    // For the OpenAPI document: at least one of them (exactly one is stated in words).
    z.meta({ anyOf: [{ required: ['gclid'] }, { required: ['gbraid'] }, { required: ['wbraid'] }] }),
  );

/**
 * A raw Meta click id (fbclid, kept byte for byte): an offline sale a CRM reports to Meta. It
 * carries its own consent signals like a raw Google click.
 */
export const conversionByFbclidBody = z.object({
  fbclid: z.string().check(z.regex(FBCLID, 'Invalid fbclid format')),
  /** A Meta standard event (`Purchase`, the default; `Lead`, ...) or a custom event name. */
  event_name: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z][A-Za-z0-9_]{0,49}$/, 'event_name must be a Meta event name such as Purchase'),
      ),
  ),
  conversion_time: time,
  click_time: z.optional(time),
  ...saleShape,
  consent: postedConsent,
});

export type ConversionByLead = z.infer<typeof conversionByLeadBody>;
export type ConversionByGoogleClick = z.infer<typeof conversionByGoogleClickBody>;
export type ConversionByFbclid = z.infer<typeof conversionByFbclidBody>;

/** The forms of `POST /api/v1/conversions`, each selected by the presence of one of its fields. */
export const CONVERSION_FORMS = [
  { form: 'lead', selectedBy: ['lead_id'], schema: conversionByLeadBody },
  { form: 'google_click', selectedBy: ['gclid', 'gbraid', 'wbraid'], schema: conversionByGoogleClickBody },
  { form: 'meta_click', selectedBy: ['fbclid'], schema: conversionByFbclidBody },
] as const;

/** Every form, for the API document. */
export const createConversionBody = z.union([
  conversionByLeadBody,
  conversionByGoogleClickBody,
  conversionByFbclidBody,
]);

export type ConversionRequest =
  | { form: 'lead'; body: ConversionByLead }
  | { form: 'google_click'; body: ConversionByGoogleClick }
  | { form: 'meta_click'; body: ConversionByFbclid };

/** Which form a body is, by the field that selects it (the first listed wins); undefined if none. */
export function conversionFormOf(data: unknown): (typeof CONVERSION_FORMS)[number] | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  return CONVERSION_FORMS.find((form) =>
    form.selectedBy.some((field) => (data as Record<string, unknown>)[field] !== undefined),
  );
}

/** `202 {id, status: "queued"}` (and the other platforms' conversions queued with it). */
export const conversionQueuedResponse = z.object({
  id: z.string(),
  status: z.literal('queued'),
  platform: z.string(),
  conversions: z.optional(z.array(z.object({ id: z.string(), platform: z.string(), status: z.string() }))),
});

export const ADJUSTMENT_TYPES = ['retraction', 'restatement'] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];

/** `POST /api/v1/conversions/{id}/adjustments`. */
export const adjustmentBody = z
  .object({
    type: z.enum(ADJUSTMENT_TYPES),
    /** The value that counts now (restatement only). */
    value,
    currency,
  })
  .check(
    z.refine((body) => body.type !== 'restatement' || body.value !== undefined, {
      message: 'A restatement needs the value that counts now',
      path: ['value'],
    }),
    z.refine((body) => body.type !== 'retraction' || body.value === undefined, {
      message: 'A retraction takes no value',
      path: ['value'],
    }),
  );
export type AdjustmentBody = z.infer<typeof adjustmentBody>;

export const adjustmentResponse = z.object({
  id: z.string(),
  conversion_id: z.string(),
  type: z.enum(ADJUSTMENT_TYPES),
  status: z.enum(['queued', 'applied', 'failed']),
  value: z.optional(z.number()),
  currency: z.optional(z.string()),
  last_error: z.optional(z.string()),
  created_at: z.string(),
});

/** `GET /api/v1/conversions?status=`: the conversion log, by conversion time with a status. */
export const listConversionsQuery = z.object({ status: z.optional(z.enum(CONVERSION_STATUSES)) });
