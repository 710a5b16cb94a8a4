import type { Conversion } from '../../features/conversions/model';
import { GOOGLE_CLICK_ID, GOOGLE_CLICK_ID_FIELDS } from '../../features/leads/rules/click-ids';

/**
 * Google's rules for a click conversion, checked before anything is sent, the same on both
 * transports (and at the door of `POST /api/v1/conversions`); no I/O here.
 */
export const TOO_OLD = 'Conversion is too old (must be within 90 days)';
export const BEFORE_CLICK = 'The conversion happened before the click';
export const WINDOW_MS = 90 * 24 * 3600 * 1000;
/** Google accepts this much clock skew for an event time in the future. */
const FUTURE_SKEW_MS = 10 * 60 * 1000;

/**
 * Why a conversion cannot be sent (it is marked failed and never retried), or undefined when it
 * may be. The 90-day window runs from the click when its time is known, else from the capture of
 * the conversion; a conversion before its click is refused too.
 */
export function rejectionReason(conversion: Conversion, now: Date, clickTime?: string): string | undefined {
  if (conversion.match === 'user_data') {
    // Enhanced conversions for leads: matched on the lead's hashed identifiers, no click id.
    if (conversion.click_id_type || conversion.click_id)
      return 'A conversion matched on user data carries no click id';
    if (!conversion.lead_id) return 'A conversion matched on user data needs its lead';
  } else if (
    !conversion.click_id_type ||
    !(GOOGLE_CLICK_ID_FIELDS as readonly string[]).includes(conversion.click_id_type)
  )
    return 'The conversion has no Google click id';
  else if (!conversion.click_id || !GOOGLE_CLICK_ID.test(conversion.click_id))
    return `Invalid ${conversion.click_id_type.toUpperCase()} format`;
  const conversionAt = Date.parse(conversion.conversion_time);
  if (Number.isNaN(conversionAt)) return 'The conversion time is not a date';
  if (conversionAt > now.getTime() + FUTURE_SKEW_MS) return 'The conversion time is in the future';
  const clickAt = Date.parse(clickTime ?? conversion.click_time ?? '');
  if (!Number.isNaN(clickAt)) {
    if (conversionAt < clickAt) return BEFORE_CLICK;
    if (conversionAt - clickAt > WINDOW_MS || now.getTime() - clickAt > WINDOW_MS) return TOO_OLD;
  } else {
    const capturedAt = Date.parse(conversion.created_at);
    const from = Number.isNaN(capturedAt) ? conversionAt : Math.min(capturedAt, conversionAt);
    if (now.getTime() - from > WINDOW_MS) return TOO_OLD;
  }
  if (conversion.value !== undefined && (!Number.isFinite(conversion.value) || conversion.value < 0))
    return 'The conversion value must not be negative';
  if (conversion.currency !== undefined && !/^[A-Z]{3}$/.test(conversion.currency))
    return 'The currency must be an ISO 4217 code';
  return undefined;
}

/** Splits into requests of at most `size` items. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
