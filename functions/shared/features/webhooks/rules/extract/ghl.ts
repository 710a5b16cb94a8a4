import type { ConsentInput } from '../../../leads/rules/consent';
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
  scalar,
  text,
} from './values';

/**
 * GoHighLevel, in the shapes it sends:
 * - app webhooks `ContactCreate` / `ContactUpdate`: the contact at the top level (`id`, `email`,
 *   `phone`, `country`, `customFields: [{id, value}]`, sometimes `attributionSource`);
 * - app webhooks `OpportunityCreate` / `OpportunityStatusUpdate` / `OpportunityUpdate`: the
 *   opportunity at the top level (`id`, `status`, `monetaryValue`, `contactId`), naming the contact
 *   by `contactId` only: it moves the lead captured from that contact (`external_id`
 *   `ghl:<contactId>`), read as a `contact_order`; with a contact embedded (`contact: {...}`) the
 *   contact is read as well;
 * - workflow webhooks (no `type`): the contact's standard fields at the top level (`contact_id`,
 *   `email`, `phone`, ...), custom fields by name at the top level, the action's custom data in
 *   `customData`, attribution in `contact.attributionSource` / `contact.lastAttributionSource`, and
 *   for opportunity triggers an `opportunity` object.
 * Click ids, UTM parameters and consent (`consent_status`, `consent_timestamp`, `consent_method`)
 * are read from custom fields by key or name, then custom data, then the contact's own fields,
 * then HighLevel's attribution objects (last touch before first touch).
 */
const CONTACT_EVENTS: ReadonlySet<string> = new Set(['ContactCreate', 'ContactUpdate']);
const OPPORTUNITY_EVENTS: ReadonlySet<string> = new Set([
  'OpportunityCreate',
  'OpportunityStatusUpdate',
  'OpportunityUpdate',
]);

/** The values of the consent field that mean granted, when the integration names none. */
export const DEFAULT_GRANTED_VALUES: readonly string[] = ['yes', 'true', 'granted', '1', 'opt-in'];

/**
 * The GoHighLevel integration's consent settings: the id of the contact custom field that holds
 * consent (`consent_field_id`) and the values that mean granted (`granted_values`).
 */
export interface GhlConsentSettings {
  consentFieldId?: string;
  grantedValues?: readonly string[];
}

/** The values of a custom field value as text: a string, a number, a boolean, or a list of them (checkboxes). */
function fieldValues(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) => {
    if (typeof item === 'boolean') return [String(item)];
    const found = scalar(item);
    return found === undefined ? [] : [found.toLowerCase()];
  });
}

/**
 * Consent from the custom field the integration names, in `customFields: [{id, value}]`: granted
 * when a value is one of the granted values (case-insensitive), denied for any other value present;
 * undefined when the field is not there or empty, so other sources may speak.
 */
function consentFromField(
  layers: readonly JsonObject[],
  settings: GhlConsentSettings,
): ConsentInput | undefined {
  const id = settings.consentFieldId;
  if (id === undefined) return undefined;
  const granted = new Set(
    (settings.grantedValues ?? DEFAULT_GRANTED_VALUES).map((v) => v.trim().toLowerCase()),
  );
  for (const layer of layers) {
    for (const field of records(...list(layer.customFields ?? layer.customField))) {
      if (field.id !== id) continue;
      const values = fieldValues(field.value ?? field.field_value ?? field.fieldValue);
      if (values.length === 0) continue;
      return values.some((value) => granted.has(value))
        ? { status: 'granted', method: 'form_checkbox' }
        : { status: 'denied', method: 'form_checkbox' };
    }
  }
  return undefined;
}

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

function leadOf(
  contact: Contact,
  customData: unknown,
  settings: GhlConsentSettings,
  order?: OrderFacts,
): Extraction {
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
      // The field the integration names first; then the contact's fields as one record, however
      // HighLevel spreads them over the payload.
      consent: firstConsent(consentFromField(layers, settings), consentFrom(merged(explicit))),
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

function contactEvent(payload: JsonObject, settings: GhlConsentSettings): Extraction {
  const nested = records(payload.contact, payload.data);
  const layers = [payload, ...nested];
  const id = identifier(payload.id) ?? identifier(payload.contactId) ?? identifier(nested[0]?.id);
  return leadOf({ layers, ...(id !== undefined ? { id } : {}) }, payload.customData, settings);
}

function opportunityEvent(payload: JsonObject, settings: GhlConsentSettings): Extraction {
  const contact = record(payload.contact);
  const contactId = identifier(payload.contactId) ?? identifier(contact?.id);
  const order = opportunityFacts(payload, payload.timestamp);
  if (contact) {
    return leadOf(
      { layers: [contact], ...(contactId !== undefined ? { id: contactId } : {}) },
      payload.customData,
      settings,
      order,
    );
  }
  if (contactId === undefined) return ignored('GoHighLevel opportunity event without a contactId');
  if (order === undefined) return invalid('the GoHighLevel opportunity has no id');
  return { kind: 'contact_order', externalId: `ghl:${contactId}`, order };
}

function workflowEvent(payload: JsonObject, settings: GhlConsentSettings): Extraction {
  const contact = record(payload.contact);
  const layers = [payload, ...(contact ? [contact] : [])];
  const id = identifier(payload.contact_id) ?? identifier(contact?.id);
  const opportunity = record(payload.opportunity);
  const order = opportunity ? opportunityFacts(opportunity, payload.timestamp) : undefined;
  return leadOf({ layers, ...(id !== undefined ? { id } : {}) }, payload.customData, settings, order);
}

export function extractGhl(payload: unknown, settings: GhlConsentSettings = {}): Extraction {
  return guarded(() => {
    const body = record(payload);
    if (!body) return invalid('the payload is not a GoHighLevel event');
    const type = text(body.type);
    if (type !== undefined) {
      if (CONTACT_EVENTS.has(type)) return contactEvent(body, settings);
      if (OPPORTUNITY_EVENTS.has(type)) return opportunityEvent(body, settings);
      return ignored(`GoHighLevel event ${type.slice(0, 64)} carries no lead`);
    }
    if (body.contact_id !== undefined || body.email !== undefined) return workflowEvent(body, settings);
    return ignored('GoHighLevel payload without an event type or a contact');
  });
}
