/**
 * Stored records for tests without I/O: a won lead with consent granted, and a queued Google Ads
 * conversion of a gclid. Each test file names what its cases are about through `overrides`.
 */
import type { LoggedConversion } from '../../functions/shared/conversions/log';
import type { StoredLead } from '../../functions/shared/leads/model';
import { gclid } from './click-ids';

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
