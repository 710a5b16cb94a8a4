import { createHash } from 'node:crypto';
import type { StoredLead } from '../../leads/model';
import { googleClickId } from '../../leads/rules/click-ids';
import { allowsUpload } from '../../leads/rules/consent';
import { normaliseEmail, normalisePhone } from '../../leads/rules/normalise';
import type { Conversion, MatchKind, NotPlanned, Platform } from '../model';

export type { NotPlanned };

/**
 * Which conversions a won lead or a paid order becomes, and why a platform gets none: one rule
 * for the leads API, the conversions API and the webhooks. No I/O here.
 *
 * - A click id of a platform (gclid, gbraid or wbraid for Google Ads; fbclid for Meta) makes a
 *   conversion of that platform matched on it (`match: "click_id"`), connected or not yet (it
 *   waits in the conversion log until the platform is connected).
 * - Without one, a platform the tenant connected gets a conversion matched on the person's
 *   hashed e-mail and phone (`match: "user_data"`) when its integration allows it (Google Ads:
 *   `enhanced_conversions_for_leads`, off by default; Meta: `match_by_user_data`, on by
 *   default), the consent allows it (`ad_user_data` granted, or consent not required where the
 *   lead is) and the lead has an e-mail or a phone to match on.
 * - A restricted lead, or one whose consent does not allow uploading, becomes nothing.
 */

/** What the tenant's integrations say about matching; a platform absent is not connected. */
export interface MatchingRules {
  google_ads?: { enhancedConversionsForLeads: boolean };
  meta?: { matchByUserData: boolean };
}

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

export interface ConversionPlan {
  conversions: Conversion[];
  notPlanned: NotPlanned[];
}

export const NOT_PLANNED = {
  consent: "The lead's consent does not allow uploading its conversions",
  restricted: "The lead's processing is restricted",
  noIdentifiers: 'No click id, and no e-mail or phone to match on',
  googleOff:
    'No click id, and enhanced conversions for leads is off for Google Ads (enhanced_conversions_for_leads)',
  metaOff: 'No click id, and matching on user data is off for Meta (match_by_user_data)',
} as const;

/** Whether the lead has an e-mail or a phone a platform can match on. */
export function hasMatchableIdentifiers(lead: Pick<StoredLead, 'email' | 'phone'>): boolean {
  return (
    (!!lead.email && normaliseEmail(lead.email) !== undefined) ||
    (!!lead.phone && normalisePhone(lead.phone) !== undefined)
  );
}

/**
 * Conversion ids derive from what makes them unique, so a repeat finds the one it made and no
 * index is needed to find them: an order's from the order alone (`<source>:<order id>`, so a
 * refund that names only the order finds them), a lead's own from the lead id. The last letter
 * says which: `g` Google Ads, `m` Meta, `l` Meta's `Lead` event of a captured lead.
 */
const PLATFORM_LETTER: Record<Platform, string> = { google_ads: 'g', meta: 'm' };
const PLATFORM_LETTERS = Object.values(PLATFORM_LETTER);

/** The last letter of a platform's conversion ids. */
export const platformLetter = (platform: Platform): string => PLATFORM_LETTER[platform];
const orderSuffix = (uniqueBy: string) =>
  createHash('sha256').update(`order\n${uniqueBy}`).digest('hex').slice(0, 26);
const leadSuffix = (leadId: string) => leadId.slice(leadId.indexOf('_') + 1);

/** The ids the conversions of an order (`<source>:<order id>`) have, of whichever platforms. */
export function orderConversionIds(uniqueBy: string): string[] {
  return PLATFORM_LETTERS.map((letter) => `cnv_${orderSuffix(uniqueBy)}${letter}`);
}

/** The id of a captured lead's Meta `Lead` event. */
export function leadEventConversionId(leadId: string): string {
  return `cnv_${leadSuffix(leadId)}l`;
}

/**
 * Every id a conversion of this lead can have: its own (won without an order, its `Lead` event),
 * those of each order it was won with (`order_keys`), and those stored before ids derived from
 * the order alone (`conversion_ids`, recorded on the lead by `npm run ops -- migrate
 * lead-conversions`).
 */
export function conversionIdsOfLead(
  lead: Pick<StoredLead, 'id' | 'order_keys' | 'conversion_ids'>,
): string[] {
  return [
    ...PLATFORM_LETTERS.map((letter) => `cnv_${leadSuffix(lead.id)}${letter}`),
    leadEventConversionId(lead.id),
    ...(lead.order_keys ?? []).flatMap(orderConversionIds),
    ...(lead.conversion_ids ?? []),
  ];
}

/**
 * The ids an order's conversions had when they were derived from the lead and the order together
 * (before ids derived from the order alone): a paid order of a lead held before is looked up under
 * them too, so it is not queued a second time.
 */
export function earlierOrderConversionIds(leadId: string, uniqueBy: string): string[] {
  const suffix = createHash('sha256').update(`${leadId}\n${uniqueBy}`).digest('hex').slice(0, 26);
  return PLATFORM_LETTERS.map((letter) => `cnv_${suffix}${letter}`);
}

/** How a conversion is matched; conversions stored before `match` existed all carry a click id. */
export const matchOf = (conversion: Pick<Conversion, 'match' | 'click_id_type'>): MatchKind =>
  conversion.match ?? (conversion.click_id_type ? 'click_id' : 'user_data');

export function planConversions(
  lead: StoredLead,
  details: WonDetails,
  now: Date,
  rules: MatchingRules = {},
): ConversionPlan {
  const connected = (Object.keys(rules) as Platform[]).filter((p) => rules[p] !== undefined);
  if (lead.restricted || !allowsUpload(lead.consent)) {
    const reason = lead.restricted ? NOT_PLANNED.restricted : NOT_PLANNED.consent;
    return { conversions: [], notPlanned: connected.map((platform) => ({ platform, reason })) };
  }
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
  const suffix = details.uniqueBy ? orderSuffix(details.uniqueBy) : leadSuffix(lead.id);
  const conversions: Conversion[] = [];
  const notPlanned: NotPlanned[] = [];
  /**
   * Why user data may not stand in for a missing click id on this platform, or undefined. The
   * consent was checked above: `allowsUpload` is the user-data condition itself (docs/conversions.md, Which orders reach which platform) (a valid signal with
   * `ad_user_data` granted, or consent not required where the lead is).
   */
  const userDataRefusal = (enabled: boolean, off: string): string | undefined => {
    if (!enabled) return off;
    if (!hasMatchableIdentifiers(lead)) return NOT_PLANNED.noIdentifiers;
    return undefined;
  };

  const google = googleClickId(lead);
  if (google) {
    conversions.push({
      ...base,
      id: `cnv_${suffix}g`,
      platform: 'google_ads',
      match: 'click_id',
      click_id_type: google.field,
      click_id: google.value,
    });
  } else if (rules.google_ads) {
    const refusal = userDataRefusal(rules.google_ads.enhancedConversionsForLeads, NOT_PLANNED.googleOff);
    if (refusal) notPlanned.push({ platform: 'google_ads', reason: refusal });
    else conversions.push({ ...base, id: `cnv_${suffix}g`, platform: 'google_ads', match: 'user_data' });
  }

  if (lead.fbclid) {
    conversions.push({
      ...base,
      id: `cnv_${suffix}m`,
      platform: 'meta',
      match: 'click_id',
      click_id_type: 'fbclid',
      click_id: lead.fbclid,
    });
  } else if (rules.meta) {
    const refusal = userDataRefusal(rules.meta.matchByUserData, NOT_PLANNED.metaOff);
    if (refusal) notPlanned.push({ platform: 'meta', reason: refusal });
    else conversions.push({ ...base, id: `cnv_${suffix}m`, platform: 'meta', match: 'user_data' });
  }
  return { conversions, notPlanned };
}

/** Where the matching rules come from: the tenant's Google Ads and Meta integrations, as saved. */
export interface MatchingSources {
  googleAds(tenantId: string): Promise<{ enhanced_conversions_for_leads?: boolean } | undefined>;
  meta(tenantId: string): Promise<{ match_by_user_data?: boolean } | undefined>;
}

/** The tenant's matching rules: each setting at its default when the integration predates it. */
export async function matchingRules(sources: MatchingSources, tenantId: string): Promise<MatchingRules> {
  const [google, meta] = await Promise.all([sources.googleAds(tenantId), sources.meta(tenantId)]);
  return {
    ...(google
      ? { google_ads: { enhancedConversionsForLeads: google.enhanced_conversions_for_leads === true } }
      : {}),
    ...(meta ? { meta: { matchByUserData: meta.match_by_user_data !== false } } : {}),
  };
}
