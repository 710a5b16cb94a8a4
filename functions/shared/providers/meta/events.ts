import { allowsUpload, type Consent } from '../../features/leads/rules/consent';
import {
  FBC,
  fbcOf,
  hashedEmail,
  hashedExternalId,
  hashedName,
  hashedPhone,
  SHA256_HEX,
} from './identifiers';

/**
 * Meta server events for the Conversions API (`POST /{pixel}/events`, body `data[]`), built from
 * a conversion and the lead it belongs to, and checked against Meta's rules before anything is
 * sent: one invalid or stale event makes Meta reject the whole batch. No I/O here.
 */
export const META_WINDOW_DAYS = 7;
export const TOO_OLD = `Conversion is too old (must be within ${META_WINDOW_DAYS} days)`;
const WINDOW_SECONDS = META_WINDOW_DAYS * 86_400;
/** Meta refuses events stamped in the future; a minute covers clock skew. */
const FUTURE_TOLERANCE_SECONDS = 60;

export type MetaActionSource = 'website' | 'system_generated';

export interface MetaUserData {
  em?: string[];
  ph?: string[];
  fn?: string[];
  ln?: string[];
  external_id?: string[];
  client_ip_address?: string;
  client_user_agent?: string;
  fbc?: string;
  fbp?: string;
}

export interface MetaCustomData {
  value?: number;
  currency?: string;
  order_id?: string;
}

/** One element of `data` in Meta's wire format. */
export interface MetaServerEvent {
  event_name: string;
  /** Seconds since the epoch, fixed when the conversion was captured. */
  event_time: number;
  event_id: string;
  action_source: MetaActionSource;
  event_source_url?: string;
  /** Attribution only, no ads delivery optimisation: sent when ad personalisation is denied. */
  opt_out?: boolean;
  user_data: MetaUserData;
  custom_data?: MetaCustomData;
  data_processing_options: string[];
  data_processing_options_country?: number;
  data_processing_options_state?: number;
}

/** What an event is built from: the conversion, and the lead when there is one. */
export interface MetaEventInput {
  /** The conversion id: Meta deduplicates against the browser pixel by it. */
  id: string;
  eventName: string;
  /** ISO time of the conversion, fixed at capture. */
  conversionTime: string;
  /** The Meta click id; absent on a conversion matched on user data. */
  fbclid?: string;
  /** ISO time of the ad click; the lead's capture time stands in when it is unknown. */
  clickTime?: string;
  value?: number;
  currency?: string;
  orderId?: string;
  lead?: MetaLeadData;
  /** The consent signals a conversion by raw click id carries (a lead's consent wins). */
  consent?: { ad_user_data?: 'granted' | 'denied'; ad_personalization?: 'granted' | 'denied' };
}

export interface MetaLeadData {
  email?: string;
  phone?: string;
  /** ISO 3166 country of a national phone number. */
  country?: string;
  firstName?: string;
  lastName?: string;
  externalId?: string;
  /** The lead's own id: sent hashed as an external_id, the same for every event of the person. */
  leadId?: string;
  landingPage?: string;
  clientUserAgent?: string;
  clientIpAddress?: string;
  fbp?: string;
  consent: Consent;
  restricted: boolean;
  createdAt: string;
}

export interface MetaPixelOptions {
  limitedDataUse: boolean;
}

export type BuiltEvent =
  | { kind: 'event'; event: MetaServerEvent }
  /** Consent or a restriction forbids sending it: the conversion is cancelled. */
  | { kind: 'cancelled'; reason: 'consent_withdrawn' | 'restricted' }
  /** It can never be sent as it is: the conversion fails with this reason. */
  | { kind: 'invalid'; reason: string };

const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Whether the event time is too far in the past for Meta at `now`. */
export function isTooOld(eventTime: number, now: Date): boolean {
  return now.getTime() / 1000 - eventTime > WINDOW_SECONDS;
}

function webPage(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The event for a conversion, or why none is sent. Nothing is sent for a restricted subject or
 * consent that is not valid (denied, withdrawn, pending without a banner); personal data goes
 * only with `ad_user_data` granted, so without it nothing is sent either (the click id is personal
 * data too). `website` needs the page and the browser's user agent, as Meta requires for web
 * events; otherwise the event is `system_generated`.
 */
export function buildMetaEvent(input: MetaEventInput, options: MetaPixelOptions, now: Date): BuiltEvent {
  const lead = input.lead;
  if (lead?.restricted) return { kind: 'cancelled', reason: 'restricted' };
  if (lead && !allowsUpload(lead.consent)) return { kind: 'cancelled', reason: 'consent_withdrawn' };
  if (!lead && input.consent?.ad_user_data === 'denied')
    return { kind: 'cancelled', reason: 'consent_withdrawn' };
  // Consent not required where the lead is (regional policy): no consent field, so no opt_out.
  const personalisation = lead
    ? lead.consent.status === 'not_required'
      ? undefined
      : lead.consent.ad_personalization
    : input.consent?.ad_personalization;

  const eventTime = epochSeconds(input.conversionTime);
  if (!Number.isFinite(eventTime)) return { kind: 'invalid', reason: 'The conversion time is not a time' };
  let fbc: string | undefined;
  if (input.fbclid !== undefined) {
    const clickMs = Date.parse(input.clickTime ?? lead?.createdAt ?? input.conversionTime);
    fbc = fbcOf(input.fbclid, clickMs);
    if (!fbc) return { kind: 'invalid', reason: 'The fbclid is not a Meta click id' };
  }

  const user: MetaUserData = {};
  const add = (key: 'em' | 'ph' | 'fn' | 'ln', hash: string | undefined) => {
    if (hash) user[key] = [hash];
  };
  if (lead) {
    if (lead.email) add('em', hashedEmail(lead.email));
    if (lead.phone) add('ph', hashedPhone(lead.phone, lead.country));
    if (lead.firstName) add('fn', hashedName(lead.firstName));
    if (lead.lastName) add('ln', hashedName(lead.lastName));
    // The lead's id, and the advertiser's own id for the person when it has one.
    const externalIds = [lead.leadId, lead.externalId]
      .map((id) => (id ? hashedExternalId(id) : undefined))
      .filter((hash): hash is string => hash !== undefined);
    if (externalIds.length) user.external_id = [...new Set(externalIds)];
    if (lead.clientIpAddress) user.client_ip_address = lead.clientIpAddress;
    if (lead.clientUserAgent) user.client_user_agent = lead.clientUserAgent;
    if (lead.fbp) user.fbp = lead.fbp;
  }
  if (fbc) user.fbc = fbc;
  // Matched on user data: Meta needs the person's e-mail or phone to find them.
  else if (!user.em && !user.ph)
    return { kind: 'invalid', reason: 'No click id, and no e-mail or phone to match on' };

  const page = webPage(lead?.landingPage);
  const website = !!page && !!user.client_user_agent;
  const custom: MetaCustomData = {
    ...(input.value !== undefined ? { value: input.value } : {}),
    ...(input.currency ? { currency: input.currency } : {}),
    ...(input.orderId ? { order_id: input.orderId } : {}),
  };
  const event: MetaServerEvent = {
    event_name: input.eventName,
    event_time: eventTime,
    event_id: input.id,
    action_source: website ? 'website' : 'system_generated',
    ...(website ? { event_source_url: page } : {}),
    ...(personalisation === 'denied' ? { opt_out: true } : {}),
    user_data: user,
    ...(Object.keys(custom).length ? { custom_data: custom } : {}),
    ...(options.limitedDataUse
      ? // Meta decides from the event's location whether a US state's law applies.
        {
          data_processing_options: ['LDU'],
          data_processing_options_country: 0,
          data_processing_options_state: 0,
        }
      : { data_processing_options: [] }),
  };
  const problem = eventProblem(event, now);
  return problem ? { kind: 'invalid', reason: problem } : { kind: 'event', event };
}

/**
 * Why Meta would refuse this event at `now` (and with it the whole batch), or undefined. Checked
 * again right before sending, since an event can go stale while it waits.
 */
export function eventProblem(event: MetaServerEvent, now: Date): string | undefined {
  if (!event.event_name) return 'event_name is required';
  if (!Number.isInteger(event.event_time)) return 'event_time must be whole seconds';
  if (isTooOld(event.event_time, now)) return TOO_OLD;
  if (event.event_time > now.getTime() / 1000 + FUTURE_TOLERANCE_SECONDS)
    return 'The conversion time is in the future';
  if (!event.event_id) return 'event_id is required';
  if (event.action_source === 'website' && (!event.event_source_url || !event.user_data.client_user_agent))
    return 'A website event needs event_source_url and client_user_agent';
  if (event.user_data.fbc !== undefined && !FBC.test(event.user_data.fbc))
    return 'fbc is not fb.1.<ms>.<fbclid>';
  for (const key of ['em', 'ph', 'fn', 'ln', 'external_id'] as const)
    if (event.user_data[key]?.some((hash) => !SHA256_HEX.test(hash)))
      return `user_data.${key} must be SHA-256 hex`;
  const custom = event.custom_data;
  if (event.event_name === 'Purchase' && (custom?.value === undefined || !custom.currency))
    return 'Meta needs a value and a currency for a Purchase';
  if (custom?.value !== undefined && (!Number.isFinite(custom.value) || custom.value < 0))
    return 'The value must be a positive number';
  if (custom?.currency !== undefined && !/^[A-Za-z]{3}$/.test(custom.currency))
    return 'The currency must be an ISO 4217 code';
  return undefined;
}
