import * as z from 'zod/mini';

export const PLATFORMS = ['google_ads', 'meta'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const CONVERSION_STATUSES = ['queued', 'uploaded', 'failed', 'rescheduled', 'cancelled'] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];
/** How a conversion is matched to an ad interaction: a click id, or the person's hashed user data. */
export const MATCH_KINDS = ['click_id', 'user_data'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

/** A connected platform a won lead gave no conversion, and why (kept on the lead). */
export interface NotPlanned {
  platform: Platform;
  reason: string;
}

/** A conversion as the API shows it (the OpenAPI document's Conversion). */
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
  /** Meta's event name (`Purchase`, or `Lead` for a captured lead); Purchase when absent. */
  event_name?: string;
  /**
   * `click_id` (attributed to the click id below) or `user_data` (no click id: matched on the
   * lead's hashed e-mail and phone). Absent on conversions stored before it existed: click_id.
   */
  match?: MatchKind;
  /** The click id it is attributed to: `gclid`, `gbraid`, `wbraid` or `fbclid`. */
  click_id_type?: 'gclid' | 'gbraid' | 'wbraid' | 'fbclid';
  click_id?: string;
  /** When the click happened, if known: a conversion before it, or 90 days after it, is refused. */
  click_time?: string;
  /** A conversion by raw click id carries its own consent signals; one of a lead uses the lead's. */
  consent?: { ad_user_data?: 'granted' | 'denied'; ad_personalization?: 'granted' | 'denied' };
  /** Where it happened: `web` (a shop order), else `other` (a CRM, the API). */
  event_source?: 'web' | 'other';
  /** The order a webhook reported (`<source>:<order id>`), whose refunds adjust this conversion. */
  order_key?: string;
  created_at: string;
  updated_at: string;
  /** Why it will not be uploaded, when cancelled. */
  cancel_reason?: 'consent_withdrawn' | 'restricted' | 'erased' | 'order_cancelled';
  /**
   * Optional fields the platform accepted the conversion without, at its last upload attempt
   * (Data Manager `fieldWarnings`): the reason and the field's path in the event, never a value.
   */
  field_warnings?: ConversionFieldWarning[];
}

/** A field the platform could not use, though it accepted the conversion. */
export interface ConversionFieldWarning {
  reason: string;
  field?: string;
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

/** Read the processing outcome of an accepted request later (platforms that process asynchronously). */
export const requestStatusMessageV1 = z.object({
  version: z.literal(1),
  kind: z.literal('request_status'),
  tenant_id: z.string().check(z.minLength(1)),
  platform: z.enum(PLATFORMS),
  batch_id: z.string().check(z.minLength(1)),
  /** How many times the status was read already. */
  checks: z.number().check(z.int(), z.gte(0)),
});
export type RequestStatusMessage = z.infer<typeof requestStatusMessageV1>;

/** Send an adjustment (retraction, restatement) of an uploaded conversion. */
export const adjustmentMessageV1 = z.object({
  version: z.literal(1),
  kind: z.literal('adjustment'),
  tenant_id: z.string().check(z.minLength(1)),
  conversion_id: z.string().check(z.minLength(1)),
  adjustment_id: z.string().check(z.minLength(1)),
});
export type AdjustmentMessage = z.infer<typeof adjustmentMessageV1>;

export type QueueMessage =
  | ({ kind: 'conversion' } & ConversionMessage)
  | RequestStatusMessage
  | AdjustmentMessage;

/** A message of the conversions queue by its `kind` (a conversion message has none), or undefined. */
export function parseQueueMessage(data: unknown): QueueMessage | undefined {
  const kind = typeof data === 'object' && data !== null ? (data as { kind?: unknown }).kind : undefined;
  if (kind === 'request_status') {
    const parsed = requestStatusMessageV1.safeParse(data);
    return parsed.success ? parsed.data : undefined;
  }
  if (kind === 'adjustment') {
    const parsed = adjustmentMessageV1.safeParse(data);
    return parsed.success ? parsed.data : undefined;
  }
  if (kind !== undefined) return undefined;
  const parsed = conversionMessageV1.safeParse(data);
  return parsed.success ? { kind: 'conversion', ...parsed.data } : undefined;
}

export const ADJUSTMENT_STATUSES = ['queued', 'applied', 'failed'] as const;
export type AdjustmentStatus = (typeof ADJUSTMENT_STATUSES)[number];

/**
 * A retraction or restatement of an uploaded conversion. Its id is derived from the conversion
 * and what asked for it (a refund id, a cancellation, the request's content), so a repeat is the
 * same adjustment.
 */
export interface Adjustment {
  id: string;
  conversion_id: string;
  type: 'retraction' | 'restatement';
  /** The value that counts now (restatement). */
  value?: number;
  currency?: string;
  status: AdjustmentStatus;
  attempts: number;
  last_error?: string;
  /** What asked for it: `api`, or the webhook source (`shopify`). */
  source: string;
  /** The amount a refund took off (partial refunds add up). */
  refund_amount?: number;
  /** When it happened (sent to Google as the adjustment time). */
  adjustment_time: string;
  google_request_id?: string;
  created_at: string;
  updated_at: string;
}

/**
 * A request-level failure:
 * - `transient`: retry later (429, 5xx, timeouts, network).
 * - `configuration`: the tenant's account or settings are wrong; its uploads stop until fixed.
 * - `disconnected`: the tenant's authorisation was revoked; never retried.
 * - `needs_reconnect`: the authorisation lacks a permission the upload needs; conversions wait.
 * - `needs_configuration`: the account refuses conversions matched on user data for its own
 *   settings (not enabled, terms not accepted, data policy): conversions wait in the log, not
 *   dead-lettered, until the tenant saves the integration again.
 * - `platform`: the platform refuses this service itself (not the tenant's fault, not transient).
 * - `rejected`: the platform refused the request for a reason no retry mends.
 */
export type FailureKind =
  | 'transient'
  | 'configuration'
  | 'disconnected'
  | 'needs_reconnect'
  | 'needs_configuration'
  | 'platform'
  | 'rejected';

/** The processing outcome of an accepted request, read later. */
export interface ProcessingStatus {
  state: 'processing' | 'succeeded' | 'partially_succeeded' | 'failed' | 'unknown';
  /** Record counts by reason, as the platform reports them. */
  errors: Record<string, number>;
  warnings: Record<string, number>;
  records?: number;
}
