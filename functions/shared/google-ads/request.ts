import type { Conversion } from '../conversions/model';
import { allowsUpload } from '../leads/consent';
import type { StoredLead } from '../leads/model';
import { googleDateTime } from './datetime';
import { hashedEmail, hashedPhoneNumber } from './identifiers';

/**
 * Building `uploadClickConversions` requests (lowerCamelCase proto3 JSON) and the checks made
 * before anything is sent; no I/O here.
 */
export const MAX_CONVERSIONS_PER_REQUEST = 2000;
export const TOO_OLD = 'Conversion is too old (must be within 90 days)';
const WINDOW_MS = 90 * 24 * 3600 * 1000;
const CLICK_ID = /^[A-Za-z0-9_-]{20,200}$/;
const GOOGLE_CLICK_TYPES = ['gclid', 'gbraid', 'wbraid'] as const;
type GoogleClickType = (typeof GOOGLE_CLICK_TYPES)[number];

export interface UploadTarget {
  customerId: string;
  conversionActionId: string;
  /** IANA zone of the Google Ads account; conversion times are written in it. */
  timeZone: string;
  /** Used when a conversion has a value but no currency of its own. */
  currency?: string;
}

export interface ClickConversion {
  gclid?: string;
  gbraid?: string;
  wbraid?: string;
  conversionAction: string;
  conversionDateTime: string;
  conversionValue?: number;
  currencyCode?: string;
  orderId?: string;
  consent?: { adUserData: 'GRANTED' | 'DENIED' };
  userIdentifiers?: Array<{ hashedEmail: string } | { hashedPhoneNumber: string }>;
}

export interface UploadClickConversionsRequest {
  conversions: ClickConversion[];
  partialFailure: true;
}

export const conversionActionName = (target: Pick<UploadTarget, 'customerId' | 'conversionActionId'>) =>
  `customers/${target.customerId}/conversionActions/${target.conversionActionId}`;

/**
 * Why a conversion cannot be sent (it is marked failed and never retried), or undefined when it
 * may be. The 90-day window runs from the click when its time is known, else from the capture of
 * the conversion; a conversion before its click is refused too.
 */
export function rejectionReason(conversion: Conversion, now: Date, clickTime?: string): string | undefined {
  if (
    !conversion.click_id_type ||
    !(GOOGLE_CLICK_TYPES as readonly string[]).includes(conversion.click_id_type)
  )
    return 'The conversion has no Google click id';
  if (!conversion.click_id || !CLICK_ID.test(conversion.click_id))
    return `Invalid ${conversion.click_id_type.toUpperCase()} format`;
  const conversionAt = Date.parse(conversion.conversion_time);
  if (Number.isNaN(conversionAt)) return 'The conversion time is not a date';
  const clickAt = clickTime ? Date.parse(clickTime) : Number.NaN;
  if (!Number.isNaN(clickAt)) {
    if (conversionAt < clickAt) return 'The conversion happened before the click';
    if (conversionAt - clickAt > WINDOW_MS || now.getTime() - clickAt > WINDOW_MS) return TOO_OLD;
  } else {
    const capturedAt = Date.parse(conversion.created_at);
    const from = Number.isNaN(capturedAt) ? conversionAt : Math.min(capturedAt, conversionAt);
    if (now.getTime() - from > WINDOW_MS) return TOO_OLD;
  }
  if (conversion.value !== undefined && (!Number.isFinite(conversion.value) || conversion.value < 0))
    return 'The conversion value must not be negative';
  return undefined;
}

/**
 * One conversion as Google wants it. `consent.adUserData` comes from the lead's consent; user
 * identifiers (hashed email and phone) are sent only when that consent allows it. A conversion
 * without a lead (a raw click id) carries no consent signal and no identifiers.
 */
export function clickConversion(
  conversion: Conversion,
  lead: StoredLead | undefined,
  target: UploadTarget,
): ClickConversion {
  const clickType = conversion.click_id_type as GoogleClickType;
  const currency = conversion.currency ?? target.currency;
  const out: ClickConversion = {
    [clickType]: conversion.click_id,
    conversionAction: conversionActionName(target),
    conversionDateTime: googleDateTime(new Date(conversion.conversion_time), target.timeZone),
    ...(conversion.value !== undefined ? { conversionValue: conversion.value } : {}),
    ...(conversion.value !== undefined && currency ? { currencyCode: currency } : {}),
    ...(conversion.order_id ? { orderId: conversion.order_id } : {}),
  };
  if (lead) {
    const granted = lead.consent.ad_user_data === 'granted' && allowsUpload(lead.consent) && !lead.restricted;
    out.consent = { adUserData: granted ? 'GRANTED' : 'DENIED' };
    if (granted) {
      const identifiers: NonNullable<ClickConversion['userIdentifiers']> = [];
      const email = hashedEmail(lead.email);
      if (email) identifiers.push({ hashedEmail: email });
      const phone = lead.phone ? hashedPhoneNumber(lead.phone) : undefined;
      if (phone) identifiers.push({ hashedPhoneNumber: phone });
      if (identifiers.length) out.userIdentifiers = identifiers;
    }
  }
  return out;
}

export function uploadRequest(conversions: ClickConversion[]): UploadClickConversionsRequest {
  if (conversions.length === 0 || conversions.length > MAX_CONVERSIONS_PER_REQUEST)
    throw new Error(`An upload holds 1 to ${MAX_CONVERSIONS_PER_REQUEST} conversions`);
  return { conversions, partialFailure: true };
}

/** Splits into requests of at most `size` conversions. */
export function chunks<T>(items: readonly T[], size = MAX_CONVERSIONS_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
