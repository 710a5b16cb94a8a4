import { createHash } from 'node:crypto';
import type { Conversion } from '../conversions/model';
import { googleClickId } from './click-ids';
import { allowsUpload } from './consent';
import type { StoredLead } from './model';

export interface WonDetails {
  orderId?: string;
  value?: number;
  currency?: string;
  /**
   * What makes the conversion unique besides the lead, e.g. `shopify:<order id>`: each order of a
   * lead is its own conversion, each repeat of the same order is not.
   */
  uniqueBy?: string;
  /** Where it happened: `web` for a shop order. */
  eventSource?: 'web' | 'other';
}

/**
 * The conversions a won lead produces: one per ad platform it has a click id for, only with
 * consent that allows the upload and no restriction of processing. Time and order id are fixed
 * now; the ids are derived from the lead, so a repeated `won` cannot queue a second conversion.
 */
export function conversionsForWon(lead: StoredLead, details: WonDetails, now: Date): Conversion[] {
  if (lead.restricted || !allowsUpload(lead.consent)) return [];
  const at = now.toISOString();
  const base = {
    lead_id: lead.id,
    status: 'queued' as const,
    attempts: 0,
    order_id: details.orderId ?? lead.external_id ?? `lead-${lead.id}`,
    conversion_time: at,
    ...(lead.click_time ? { click_time: lead.click_time } : {}),
    ...(details.eventSource ? { event_source: details.eventSource } : {}),
    ...((details.value ?? lead.value) !== undefined ? { value: details.value ?? lead.value } : {}),
    ...((details.currency ?? lead.currency) ? { currency: details.currency ?? lead.currency } : {}),
    created_at: at,
    updated_at: at,
  };
  const suffix = details.uniqueBy
    ? createHash('sha256').update(`${lead.id}\n${details.uniqueBy}`).digest('hex').slice(0, 26)
    : lead.id.slice(lead.id.indexOf('_') + 1);
  const conversions: Conversion[] = [];
  const google = googleClickId(lead);
  if (google) {
    conversions.push({
      ...base,
      id: `cnv_${suffix}g`,
      platform: 'google_ads',
      click_id_type: google.field,
      click_id: google.value,
    });
  }
  if (lead.fbclid) {
    conversions.push({
      ...base,
      id: `cnv_${suffix}m`,
      platform: 'meta',
      click_id_type: 'fbclid',
      click_id: lead.fbclid,
    });
  }
  return conversions;
}
