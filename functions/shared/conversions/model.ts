import * as z from 'zod/mini';

export const PLATFORMS = ['google_ads', 'meta'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const CONVERSION_STATUSES = ['queued', 'uploaded', 'failed', 'rescheduled', 'cancelled'] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];

/** A conversion as the API shows it (CONTRACT.md §8). */
export interface Conversion {
  id: string;
  lead_id?: string;
  platform: Platform;
  status: ConversionStatus;
  attempts: number;
  last_error?: string;
  order_id?: string;
  /** Fixed when the conversion is captured, so every retry uploads the same thing. */
  conversion_time: string;
  value?: number;
  currency?: string;
  /** The click id it is attributed to: `gclid`, `gbraid`, `wbraid` or `fbclid`. */
  click_id_type?: 'gclid' | 'gbraid' | 'wbraid' | 'fbclid';
  click_id?: string;
  created_at: string;
  updated_at: string;
  /** Why it will not be uploaded, when cancelled. */
  cancel_reason?: 'consent_withdrawn' | 'restricted' | 'erased';
}

/**
 * The message on the conversions queue: only ids, so no personal data sits in the queue and an
 * erased or cancelled conversion is seen as such by the uploader. Versioned like the webhook
 * envelope.
 */
export const conversionMessageV1 = z.object({
  version: z.literal(1),
  tenant_id: z.string().check(z.minLength(1)),
  conversion_id: z.string().check(z.minLength(1)),
});
export type ConversionMessage = z.infer<typeof conversionMessageV1>;
