import type { Conversion } from '../../../features/conversions/model';
import type { StoredLead } from '../../../features/leads/model';
import { googleDateTime } from '../datetime';
import { clickIdentifier, type PersonVocabulary, personOf, saleOf } from '../identifiers';

/**
 * Building `uploadClickConversions` requests (lowerCamelCase proto3 JSON) and the checks made
 * before anything is sent; no I/O here.
 */
export const MAX_CONVERSIONS_PER_REQUEST = 2000;

export interface UploadTarget {
  customerId: string;
  conversionActionId: string;
  /** IANA zone of the Google Ads account; conversion times are written in it. */
  timeZone: string;
  /** Used when a conversion has a value but no currency of its own. */
  currency?: string;
}

/** A hashed user identifier of a click conversion. */
export type UserIdentifier = { hashedEmail: string } | { hashedPhoneNumber: string };

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
  userIdentifiers?: UserIdentifier[];
}

export interface UploadClickConversionsRequest {
  conversions: ClickConversion[];
  partialFailure: true;
}

export const conversionActionName = (target: Pick<UploadTarget, 'customerId' | 'conversionActionId'>) =>
  `customers/${target.customerId}/conversionActions/${target.conversionActionId}`;

/** The Google Ads API's words for consent and user identifiers. */
const PERSON: PersonVocabulary<'GRANTED' | 'DENIED', UserIdentifier> = {
  granted: 'GRANTED',
  denied: 'DENIED',
  email: (hashedEmail) => ({ hashedEmail }),
  phone: (hashedPhoneNumber) => ({ hashedPhoneNumber }),
};

/**
 * One conversion as Google wants it. `consent.adUserData` comes from the lead's consent; user
 * identifiers (hashed email and phone) are sent only when that consent allows it. A conversion
 * without a lead (a raw click id) carries the consent it was posted with, if any, and never
 * identifiers.
 */
export function clickConversion(
  conversion: Conversion,
  lead: StoredLead | undefined,
  target: UploadTarget,
): ClickConversion {
  const sale = saleOf(conversion, target.currency);
  const { consent, identifiers } = personOf(conversion, lead, PERSON);
  const out: ClickConversion = {
    // Matched on user data (enhanced conversions for leads): no click id, userIdentifiers only.
    ...clickIdentifier(conversion),
    conversionAction: conversionActionName(target),
    conversionDateTime: googleDateTime(new Date(conversion.conversion_time), target.timeZone),
    ...(sale.value !== undefined ? { conversionValue: sale.value } : {}),
    ...(sale.currency ? { currencyCode: sale.currency } : {}),
    ...(conversion.order_id ? { orderId: conversion.order_id } : {}),
    ...(consent ? { consent: { adUserData: consent } } : {}),
    ...(identifiers.length ? { userIdentifiers: identifiers } : {}),
  };
  return out;
}

export function uploadRequest(conversions: ClickConversion[]): UploadClickConversionsRequest {
  if (conversions.length === 0 || conversions.length > MAX_CONVERSIONS_PER_REQUEST)
    throw new Error(`An upload holds 1 to ${MAX_CONVERSIONS_PER_REQUEST} conversions`);
  return { conversions, partialFailure: true };
}

export type AdjustmentType = 'RETRACTION' | 'RESTATEMENT';

/** A `ConversionAdjustment` of `uploadConversionAdjustments`, found by the conversion's order id. */
export interface ConversionAdjustment {
  conversionAction: string;
  adjustmentType: AdjustmentType;
  adjustmentDateTime: string;
  orderId: string;
  restatementValue?: { adjustedValue: number; currencyCode?: string };
}

export interface UploadConversionAdjustmentsRequest {
  conversionAdjustments: ConversionAdjustment[];
  partialFailure: true;
}

/** A retraction, or a restatement to `value`: the order id identifies the conversion. */
export function conversionAdjustment(
  adjustment: { type: AdjustmentType; orderId: string; at: Date; value?: number; currency?: string },
  target: UploadTarget,
): ConversionAdjustment {
  const currency = adjustment.currency ?? target.currency;
  return {
    conversionAction: conversionActionName(target),
    adjustmentType: adjustment.type,
    adjustmentDateTime: googleDateTime(adjustment.at, target.timeZone),
    orderId: adjustment.orderId,
    ...(adjustment.type === 'RESTATEMENT'
      ? {
          restatementValue: {
            adjustedValue: adjustment.value ?? 0,
            ...(currency ? { currencyCode: currency } : {}),
          },
        }
      : {}),
  };
}
