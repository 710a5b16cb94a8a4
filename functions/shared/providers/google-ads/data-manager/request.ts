import type { Conversion } from '../../../features/conversions/model';
import type { StoredLead } from '../../../features/leads/model';
import { clickIdentifier, type PersonVocabulary, personOf, saleOf } from '../identifiers';

/**
 * Building Data Manager API `events:ingest` requests (proto3 JSON, lowerCamelCase) for Google Ads
 * offline click conversions, and the checks Google applies to each event, made before sending:
 * the API has no partial failure, one bad event rejects the whole request. No I/O here.
 */
export const MAX_EVENTS_PER_REQUEST = 2000;
export const MAX_USER_IDENTIFIERS = 10;

export interface DataManagerTarget {
  customerId: string;
  conversionActionId: string;
  /** The manager account the credential works through, when there is one. */
  loginCustomerId?: string;
  /** Used when a conversion has a value but no currency of its own. */
  currency?: string;
}

export interface ProductAccount {
  accountType: 'GOOGLE_ADS';
  accountId: string;
}

export interface Destination {
  operatingAccount: ProductAccount;
  loginAccount?: ProductAccount;
  /** The conversion action id. */
  productDestinationId: string;
}

export type ConsentStatus = 'CONSENT_GRANTED' | 'CONSENT_DENIED';
export const EVENT_SOURCES = ['WEB', 'APP', 'IN_STORE', 'PHONE', 'OTHER'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export type UserIdentifier = { emailAddress: string } | { phoneNumber: string };

export interface IngestEvent {
  /** The click; absent on an enhanced conversion for leads, which `userData` alone matches. */
  adIdentifiers?: { gclid?: string; gbraid?: string; wbraid?: string };
  /** The order id: Google deduplicates by it, and a later event with it restates the value. */
  transactionId: string;
  /** RFC 3339. */
  eventTimestamp: string;
  lastUpdatedTimestamp?: string;
  eventSource: EventSource;
  conversionValue?: number;
  currency?: string;
  consent?: { adUserData: ConsentStatus };
  userData?: { userIdentifiers: UserIdentifier[] };
}

export interface IngestEventsRequest {
  destinations: Destination[];
  events: IngestEvent[];
  /** How the hashed user identifiers are encoded. */
  encoding: 'HEX';
  validateOnly?: boolean;
}

export function destination(target: DataManagerTarget): Destination {
  return {
    operatingAccount: { accountType: 'GOOGLE_ADS', accountId: target.customerId },
    ...(target.loginCustomerId
      ? { loginAccount: { accountType: 'GOOGLE_ADS' as const, accountId: target.loginCustomerId } }
      : {}),
    productDestinationId: target.conversionActionId,
  };
}

/** The transaction id of a conversion: its order id, else its own id (both fixed at capture). */
export const transactionIdOf = (conversion: Pick<Conversion, 'id' | 'order_id'>) =>
  conversion.order_id ?? conversion.id;

/** The Data Manager API's words for consent and user identifiers. */
const PERSON: PersonVocabulary<'CONSENT_GRANTED' | 'CONSENT_DENIED', UserIdentifier> = {
  granted: 'CONSENT_GRANTED',
  denied: 'CONSENT_DENIED',
  email: (emailAddress) => ({ emailAddress }),
  phone: (phoneNumber) => ({ phoneNumber }),
};

/**
 * One conversion as an event. `consent.adUserData` comes from the lead's consent (or, by raw
 * click id, the consent posted with it); hashed email and phone go in `userData` only when that
 * consent is granted (or not required). A conversion matched on user data (enhanced conversions
 * for leads) has no `adIdentifiers`: its `userData` is what Google matches on.
 */
export function ingestEvent(
  conversion: Conversion,
  lead: StoredLead | undefined,
  target: DataManagerTarget,
): IngestEvent {
  const sale = saleOf(conversion, target.currency);
  const { consent, identifiers } = personOf(conversion, lead, PERSON);
  const event: IngestEvent = {
    ...(conversion.match !== 'user_data' ? { adIdentifiers: clickIdentifier(conversion) } : {}),
    transactionId: transactionIdOf(conversion),
    eventTimestamp: new Date(conversion.conversion_time).toISOString(),
    eventSource: conversion.event_source === 'web' ? 'WEB' : 'OTHER',
    ...(sale.value !== undefined ? { conversionValue: sale.value } : {}),
    ...(sale.currency ? { currency: sale.currency } : {}),
    ...(consent ? { consent: { adUserData: consent } } : {}),
    ...(identifiers.length ? { userData: { userIdentifiers: identifiers } } : {}),
  };
  return event;
}

/**
 * A restatement: the same transaction id, destination and identifiers as the original event,
 * with the value that now counts. Google overwrites `conversionValue` and `currency`.
 */
export function restatementEvent(
  conversion: Conversion,
  lead: StoredLead | undefined,
  target: DataManagerTarget,
  value: number,
  currency: string | undefined,
  at: Date,
): IngestEvent {
  const original = ingestEvent({ ...conversion, value }, lead, target);
  const restated = currency ?? conversion.currency ?? target.currency;
  return {
    ...original,
    ...(restated ? { currency: restated } : {}),
    lastUpdatedTimestamp: at.toISOString(),
  };
}

export function ingestRequest(events: IngestEvent[], target: DataManagerTarget): IngestEventsRequest {
  if (events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST)
    throw new Error(`A request holds 1 to ${MAX_EVENTS_PER_REQUEST} events`);
  return { destinations: [destination(target)], events, encoding: 'HEX' };
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What Google would refuse in this event (the request would be rejected whole), or undefined.
 * The same rules the local fake enforces.
 */
export function eventProblem(event: IngestEvent): string | undefined {
  if (event.adIdentifiers === undefined) {
    // Enhanced conversions for leads: the hashed user data is the only identifier.
    if (!event.userData?.userIdentifiers.length)
      return 'a conversion without a click id needs a hashed e-mail or phone (userData)';
  } else {
    const clicks = event.adIdentifiers;
    const ids = (['gclid', 'gbraid', 'wbraid'] as const).filter((k) => clicks[k] !== undefined);
    if (ids.length !== 1) return 'exactly one of gclid, gbraid and wbraid is required';
    const id = clicks[ids[0] as 'gclid'];
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,500}$/.test(id)) return `the ${ids[0]} is malformed`;
  }
  if (!event.transactionId || event.transactionId.length > 256)
    return 'transactionId must have 1 to 256 characters';
  if (!RFC3339.test(event.eventTimestamp) || Number.isNaN(Date.parse(event.eventTimestamp)))
    return 'eventTimestamp must be an RFC 3339 time';
  if (!(EVENT_SOURCES as readonly string[]).includes(event.eventSource)) return 'eventSource is not valid';
  if (
    event.conversionValue !== undefined &&
    (!Number.isFinite(event.conversionValue) || event.conversionValue < 0)
  )
    return 'conversionValue must be a number of at least 0';
  if (event.currency !== undefined && !/^[A-Z]{3}$/.test(event.currency))
    return 'currency must be an ISO 4217 code';
  const identifiers = event.userData?.userIdentifiers ?? [];
  if (identifiers.length > MAX_USER_IDENTIFIERS)
    return `at most ${MAX_USER_IDENTIFIERS} user identifiers per event`;
  for (const identifier of identifiers) {
    const value = 'emailAddress' in identifier ? identifier.emailAddress : identifier.phoneNumber;
    if (!HEX_SHA256.test(value)) return 'user identifiers must be SHA-256 hashes in lower-case hex';
  }
  return undefined;
}
