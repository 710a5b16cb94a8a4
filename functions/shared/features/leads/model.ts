import type { NotPlanned } from '../conversions/model';
import type { ClickIds } from './rules/click-ids';
import type { Consent, ConsentChange } from './rules/consent';
import type { LeadStatus } from './schema';

export interface LeadFields extends ClickIds {
  email: string;
  phone?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_content?: string;
  utm_term?: string;
  landing_page?: string;
  /** The visitor's browser, as the site saw it (Meta website events). */
  client_user_agent?: string;
  /** Meta's browser id (the `_fbp` cookie), sent with Meta events. */
  fbp?: string;
  client_ip_address?: string;
  /** When the ad was clicked (RFC 3339): a conversion before it, or over 90 days after, is refused. */
  click_time?: string;
  external_id?: string;
  value?: number;
  currency?: string;
}

/** A lead as the API shows it. */
export interface Lead extends LeadFields {
  id: string;
  status: LeadStatus;
  consent: Consent;
  consent_history: ConsentChange[];
  /** Art. 18 restriction of processing: never uploaded while set. */
  restricted: boolean;
  /**
   * Set when the lead was last won: each connected ad platform that got no conversion from it,
   * and why (no click id and matching on user data not allowed, consent, ...).
   */
  conversions_not_planned?: NotPlanned[];
  created_at: string;
  updated_at: string;
}

/**
 * A lead as stored: its email hash, the version that guards concurrent updates, and what the ids
 * of its conversions derive from (conversions/plan.ts), so erasure finds them without an index.
 */
export interface StoredLead extends Lead {
  email_hash: string;
  version: number;
  /** Each order (`<source>:<order id>`, `api:<order id>`) the lead was won with. */
  order_keys?: string[];
  /** Ids of conversions stored before their ids derived from the order alone. */
  conversion_ids?: string[];
}

export function publicLead(lead: StoredLead): Lead {
  const {
    email_hash: _hash,
    version: _version,
    order_keys: _orders,
    conversion_ids: _conversions,
    ...rest
  } = lead;
  return rest;
}

export const LEAD_FIELD_NAMES = [
  'email',
  'phone',
  'gclid',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_term',
  'landing_page',
  'client_user_agent',
  'fbp',
  'client_ip_address',
  'click_time',
  'external_id',
  'value',
  'currency',
] as const satisfies readonly (keyof LeadFields)[];

/** Every field of a lead is copied from its input: a field left out of the list fails the typecheck here. */
export const EVERY_LEAD_FIELD: [Exclude<keyof LeadFields, (typeof LEAD_FIELD_NAMES)[number]>] extends [never]
  ? true
  : never = true;
