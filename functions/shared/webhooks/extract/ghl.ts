import { attributionFrom, urlFields } from './attribution';
import { consentFrom, firstConsent, isoTimestamp } from './consent';
import { guarded } from './guard';
import { currencyOf, leadExtraction, money } from './lead';
import { type Extraction, ignored, invalid, type OrderFacts } from './types';
import {
  entries,
  type Fields,
  identifier,
  type JsonObject,
  list,
  merged,
  pairs,
  record,
  records,
  text,
} from './values';

/**
 * GoHighLevel, in the shapes it sends:
 * - app webhooks `ContactCreate` / `ContactUpdate`: the contact at the top level (`id`, `email`,
 *   `phone`, `country`, `customFields: [{id, value}]`, sometimes `attributionSource`);
 * - app webhook `OpportunityStatusUpdate`: the opportunity at the top level (`id`, `status`,
 *   `monetaryValue`, `contactId`); used only when the contact is embedded (`contact: {...}`);
 * - workflow webhooks (no `type`): the contact's standard fields at the top level (`contact_id`,
 *   `email`, `phone`, ...), custom fields by name at the top level, the action's custom data in
 *   `customData`, attribution in `contact.attributionSource` / `contact.lastAttributionSource`, and
 *   for opportunity triggers an `opportunity` object.
 * Click ids, UTM parameters and consent (`consent_status`, `consent_timestamp`, `consent_method`)
 * are read from custom fields by key or name, then custom data, then the contact's own fields,
 * then HighLevel's attribution objects (last touch before first touch).
 */
const CONTACT_EVENTS: ReadonlySet<string> = new Set(['ContactCreate', 'ContactUpdate']);
const OPPORTUNITY_EVENTS: ReadonlySet<string> = new Set(['OpportunityStatusUpdate']);

/** Custom fields as a list (`[{key | fieldKey | name, value | field_value}]`) or as a map. */
function customFields(value: unknown): Fields {
  return Array.isArray(value)
    ? pairs(value, ['key', 'fieldKey', 'name'], ['value', 'field_value', 'fieldValue'])
    : entries(value);
}

/** HighLevel's attribution objects of a contact, last touch first. */
function attributionObjects(contact: JsonObject): JsonObject[] {
  const touches = records(...list(contact.attributions));
  const last = touches.filter((touch) => touch.isLast === true);
  const others = touches.filter((touch) => touch.isLast !== true).reverse();
  return [
    ...records(contact.lastAttributionSource),
    ...last,
    ...others,
    ...records(contact.attributionSource),
  ];
}

interface Contact {
  /** The objects the contact's fields are read from, the contact itself first. */
  layers: readonly JsonObject[];
  id?: string;
}

function leadOf(contact: Contact, customData: unknown, order?: OrderFacts): Extraction {
  const { layers } = contact;
  const explicit: Fields[] = [
    ...layers.map((layer) => customFields(layer.customFields ?? layer.customField)),
    entries(customData),
    ...layers.map(entries),
  ];
  const touches = layers.flatMap(attributionObjects);
  const urls = touches.map((touch) => touch.url);
  return leadExtraction(
    {
      emails: layers.map((layer) => layer.email),
      phones: layers.map((layer) => ({ phone: layer.phone, country: layer.country })),
      attribution: attributionFrom([...explicit, ...touches.map(entries), ...urls.map(urlFields)], urls),
      // The contact's fields are one record however HighLevel spreads them over the payload.
      consent: firstConsent(consentFrom(merged(explicit))),
      ...(contact.id !== undefined ? { externalId: `ghl:${contact.id}` } : {}),
      ...(order?.value !== undefined ? { value: order.value } : {}),
      ...(order?.currency !== undefined ? { currency: order.currency } : {}),
    },
    order,
  );
}

function opportunityFacts(opportunity: JsonObject, fallbackTime: unknown): OrderFacts | undefined {
  const id = identifier(opportunity.id);
  if (id === undefined) return undefined;
  const value = money(opportunity.monetaryValue, opportunity.monetary_value, opportunity.lead_value);
  const currency = currencyOf(opportunity.currency);
  const occurredAt =
    isoTimestamp(opportunity.lastStatusChangeAt) ??
    isoTimestamp(opportunity.dateUpdated) ??
    isoTimestamp(fallbackTime);
  return {
    id,
    paid: text(opportunity.status)?.toLowerCase() === 'won',
    ...(value !== undefined ? { value } : {}),
    ...(currency !== undefined ? { currency } : {}),
    ...(occurredAt !== undefined ? { occurredAt } : {}),
  };
}

function contactEvent(payload: JsonObject): Extraction {
  const nested = records(payload.contact, payload.data);
  const layers = [payload, ...nested];
  const id = identifier(payload.id) ?? identifier(payload.contactId) ?? identifier(nested[0]?.id);
  return leadOf({ layers, ...(id !== undefined ? { id } : {}) }, payload.customData);
}

function opportunityEvent(payload: JsonObject): Extraction {
  const contact = record(payload.contact);
  if (!contact) return ignored('GoHighLevel opportunity event without an embedded contact');
  const id = identifier(contact.id) ?? identifier(payload.contactId);
  const order = opportunityFacts(payload, payload.timestamp);
  return leadOf({ layers: [contact], ...(id !== undefined ? { id } : {}) }, payload.customData, order);
}

function workflowEvent(payload: JsonObject): Extraction {
  const contact = record(payload.contact);
  const layers = [payload, ...(contact ? [contact] : [])];
  const id = identifier(payload.contact_id) ?? identifier(contact?.id);
  const opportunity = record(payload.opportunity);
  const order = opportunity ? opportunityFacts(opportunity, payload.timestamp) : undefined;
  return leadOf({ layers, ...(id !== undefined ? { id } : {}) }, payload.customData, order);
}

export function extractGhl(payload: unknown): Extraction {
  return guarded(() => {
    const body = record(payload);
    if (!body) return invalid('the payload is not a GoHighLevel event');
    const type = text(body.type);
    if (type !== undefined) {
      if (CONTACT_EVENTS.has(type)) return contactEvent(body);
      if (OPPORTUNITY_EVENTS.has(type)) return opportunityEvent(body);
      return ignored(`GoHighLevel event ${type.slice(0, 64)} carries no lead`);
    }
    if (body.contact_id !== undefined || body.email !== undefined) return workflowEvent(body);
    return ignored('GoHighLevel payload without an event type or a contact');
  });
}
