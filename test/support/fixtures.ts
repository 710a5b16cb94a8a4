/**
 * Records as the tables store them, built in one place and named by each test through `overrides`:
 *
 * - `storedLead()` and `storedConversion()`: fixed ids and times, for tests without I/O (a won lead
 *   with consent granted, a queued Google Ads conversion of a gclid from that lead's order);
 * - `lead()` and `conversion()`: a new id and the time `at` (now by default), for tests that write to
 *   the emulator, where every record must be another (a won lead with consent granted; a queued
 *   Google Ads conversion with neither lead nor click id);
 * - `leadInput()`: what a client sends for one lead.
 */

import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LoggedConversion } from '../../functions/shared/features/conversions/dynamo-log';
import type { Conversion } from '../../functions/shared/features/conversions/model';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import type { LeadInput } from '../../functions/shared/features/leads/schema';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { newId } from '../../functions/shared/platform/ids';
import { gclid } from './click-ids';

/** The consent of a lead captured by an API call, every signal granted. */
export const API_CALL_CONSENT: StoredLead['consent'] = {
  status: 'granted',
  method: 'api_call',
  ad_user_data: 'granted',
  ad_personalization: 'granted',
};

export function storedLead(overrides: Partial<StoredLead> = {}): StoredLead {
  return {
    id: 'lead_1',
    email: 'jane@example.com',
    status: 'won',
    consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
    consent_history: [],
    restricted: false,
    created_at: '2026-11-24T08:00:00.000Z',
    updated_at: '2026-11-24T08:00:00.000Z',
    email_hash: 'h',
    version: 1,
    ...overrides,
  };
}

export function storedConversion(overrides: Partial<LoggedConversion> = {}): LoggedConversion {
  return {
    id: 'cnv_1',
    lead_id: 'lead_1',
    platform: 'google_ads',
    status: 'queued',
    attempts: 0,
    order_id: 'order-1',
    conversion_time: '2026-11-24T08:30:00.000Z',
    value: 19.5,
    currency: 'EUR',
    click_id_type: 'gclid',
    click_id: gclid(1),
    created_at: '2026-11-24T08:31:00.000Z',
    updated_at: '2026-11-24T08:31:00.000Z',
    ...overrides,
  };
}

/** A lead written at `at` under a new id. */
export function lead(overrides: Partial<StoredLead> = {}, at: Date = new Date()): StoredLead {
  return storedLead({
    id: newId('lead', at.getTime()),
    created_at: at.toISOString(),
    updated_at: at.toISOString(),
    ...overrides,
  });
}

/** A conversion queued at `at` under a new id, of no lead and no click. */
export function conversion(overrides: Partial<Conversion> = {}, at: Date = new Date()): Conversion {
  return {
    id: newId('cnv', at.getTime()),
    platform: 'google_ads',
    status: 'queued',
    attempts: 0,
    conversion_time: at.toISOString(),
    created_at: at.toISOString(),
    updated_at: at.toISOString(),
    ...overrides,
  };
}

/** One lead as a client sends it: an address, with consent granted by a form checkbox. */
export function leadInput(email: string, extra: Partial<LeadInput> = {}): LeadInput {
  return { email, consent: { status: 'granted', method: 'form_checkbox' }, ...extra } as LeadInput;
}

/**
 * A dedup key left pointing to a lead id nobody wrote, as a capture that stopped between claiming
 * its keys and writing its lead leaves it (written to the emulator's leads table).
 */
export async function danglingClaim(
  tenantId: string,
  key: string,
  leadId: string,
  claimedAt = Math.floor(Date.now() / 1000),
): Promise<void> {
  await documentClient().send(
    new PutCommand({
      TableName: tableName('leads'),
      Item: {
        pk: `TENANT#${tenantId}`,
        sk: `DEDUP#${key}`,
        lead_id: leadId,
        claimed_at: claimedAt,
        expires_at: Math.floor(Date.now() / 1000) + 86_400,
      },
    }),
  );
}
