import type { Conversion } from '../../functions/shared/features/conversions/model';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { allowsUpload } from '../../functions/shared/features/leads/rules/consent';
import {
  CONSENT_REQUIRED_COUNTRIES,
  decideConsent,
  hasConsentSignal,
  leadCountry,
} from '../../functions/shared/features/leads/rules/consent-policy';
import { conversionsForWon } from '../../functions/shared/features/leads/service-won';
import { cachedConsentPolicy } from '../../functions/shared/features/tenancy/dynamo-consent-policy';
import { consentPolicyBody } from '../../functions/shared/features/tenancy/schema';
import { extractWooCommerce } from '../../functions/shared/features/webhooks/rules/extract';
import { BoundedCache } from '../../functions/shared/platform/cache';
import { ingestEvent } from '../../functions/shared/providers/google-ads/data-manager/request';
import { clickConversion } from '../../functions/shared/providers/google-ads/google-ads-api/request';
import { adUserData } from '../../functions/shared/providers/google-ads/identifiers';
import { buildMetaEvent } from '../../functions/shared/providers/meta/events';
// WooCommerce's published order (REST API v3, "Retrieve an order"), verbatim; an order webhook
// delivers the same representation: https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
import wooSampleOrder from '../fixtures/webhooks/woocommerce-sample-order.json';
import { gclid } from '../support/click-ids';
import { storedConversion, storedLead } from '../support/fixtures';
import { sha } from '../support/hashing';

const NOT_REQUIRED = (country: string) => ({
  stored: true,
  consent: { status: 'not_required', basis: 'regional_policy', country },
});
const REFUSED = { stored: false, reason: 'consent_required' };

describe('the consent rule', () => {
  const none = { status: 'pending' } as const;

  it('explicit (the default): no valid consent, no lead, wherever it is', () => {
    expect(decideConsent('explicit', none, 'US')).toEqual(REFUSED);
    expect(decideConsent('explicit', { status: 'granted' }, 'US')).toEqual({
      stored: true,
      consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'granted' },
    });
  });

  it('regional: no consent signal outside the EEA, the UK and Switzerland is not_required there', () => {
    for (const country of ['US', 'CA', 'AU', 'BR', 'JP', 'IN']) {
      expect(decideConsent('regional', none, country)).toEqual(NOT_REQUIRED(country));
    }
  });

  it('regional: inside the EEA, the UK and Switzerland consent is still required', () => {
    for (const country of ['DE', 'FR', 'IE', 'NO', 'IS', 'LI', 'GB', 'CH']) {
      expect([country, decideConsent('regional', none, country)]).toEqual([country, REFUSED]);
    }
    expect(CONSENT_REQUIRED_COUNTRIES.size).toBe(32);
  });

  it('regional: an explicit denial or withdrawal denies everywhere; a signal is never overridden', () => {
    for (const status of ['denied', 'withdrawn'] as const) {
      expect(decideConsent('regional', { status }, 'US')).toEqual(REFUSED);
    }
    // A banner shown with a method but no time is a signal, not nothing: it is not replaced.
    expect(decideConsent('regional', { status: 'pending', method: 'form_checkbox' }, 'US')).toEqual(
      NOT_REQUIRED('US'),
    );
    expect(hasConsentSignal({ status: 'pending' })).toBe(false);
    expect(hasConsentSignal({ status: 'denied' })).toBe(true);
    expect(
      hasConsentSignal({ status: 'pending', method: 'cookie_banner', timestamp: '2026-11-01T10:00:00Z' }),
    ).toBe(true);
    // Granted stays granted with its signals, in the US too.
    expect(decideConsent('regional', { status: 'granted', ad_personalization: 'denied' }, 'US')).toEqual({
      stored: true,
      consent: { status: 'granted', ad_user_data: 'granted', ad_personalization: 'denied' },
    });
  });

  it('regional: a lead whose country is unknown is treated as under explicit', () => {
    expect(decideConsent('regional', none, undefined)).toEqual(REFUSED);
  });

  it("takes the lead's country, else its phone number's", () => {
    expect(leadCountry({ country: 'us' })).toBe('US');
    expect(leadCountry({ country: 'UK' })).toBe('GB');
    expect(leadCountry({ country: 'DE', phone: '+16502530000' })).toBe('DE');
    expect(leadCountry({ phone: '+16502530000' })).toBe('US');
    expect(leadCountry({ phone: '+4915123456789' })).toBe('DE');
    expect(leadCountry({ country: 'Germany', phone: '+4915123456789' })).toBe('DE');
    expect(leadCountry({ phone: '12' })).toBeUndefined();
    expect(leadCountry({})).toBeUndefined();
  });

  it('not_required allows the upload', () => {
    expect(allowsUpload({ status: 'not_required', basis: 'regional_policy', country: 'US' })).toBe(true);
    expect(allowsUpload({ status: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' })).toBe(
      false,
    );
  });

  it('the policy body takes explicit or regional only', () => {
    expect(consentPolicyBody.safeParse({ policy: 'regional' }).success).toBe(true);
    expect(consentPolicyBody.safeParse({ policy: 'explicit' }).success).toBe(true);
    expect(consentPolicyBody.safeParse({ policy: 'none' }).success).toBe(false);
    expect(consentPolicyBody.safeParse({}).success).toBe(false);
  });

  it('lead capture reads a tenant policy once per cache period', async () => {
    let now = 0;
    const get = jest.fn(async (tenantId: string) => ({
      policy: tenantId === 'a' ? ('regional' as const) : ('explicit' as const),
    }));
    const policyOf = cachedConsentPolicy({ get }, new BoundedCache(10, 1_000, () => now));
    expect(await policyOf('a')).toBe('regional');
    expect(await policyOf('a')).toBe('regional');
    expect(await policyOf('b')).toBe('explicit');
    expect(get).toHaveBeenCalledTimes(2);
    now = 1_000;
    await policyOf('a');
    expect(get).toHaveBeenCalledTimes(3);
  });

  it('remembers a policy for 30 seconds by default', async () => {
    const get = jest.fn(async () => ({ policy: 'regional' as const }));
    const policyOf = cachedConsentPolicy({ get });
    await policyOf('a');
    await policyOf('a');
    expect(get).toHaveBeenCalledTimes(1);
  });
});

describe("WooCommerce consent from the order's meta_data", () => {
  const withMeta = (meta: Array<{ key: string; value: string }>) => ({
    ...structuredClone(wooSampleOrder),
    meta_data: [...wooSampleOrder.meta_data, ...meta.map((m, i) => ({ id: 20000 + i, ...m }))],
  });
  const consentOf = (payload: unknown) => {
    const extraction = extractWooCommerce('order.created', payload);
    if (extraction.kind !== 'lead') throw new Error(JSON.stringify(extraction));
    return extraction;
  };

  it('reads the published sample: a paid US order without consent, its country US', () => {
    const { lead, order } = consentOf(wooSampleOrder);
    expect(lead).toMatchObject({
      email: 'john.doe@example.com',
      country: 'US',
      consent: { status: 'pending' },
    });
    // (555) 555-5555 is no assigned number: left out, the lead kept.
    expect(lead.phone).toBeUndefined();
    expect(order).toEqual({
      id: '727',
      paid: true,
      value: 29.35,
      currency: 'USD',
      occurredAt: '2017-03-22T19:28:08Z',
    });
    expect(decideConsent('regional', lead.consent, leadCountry(lead))).toEqual(NOT_REQUIRED('US'));
    expect(decideConsent('explicit', lead.consent, leadCountry(lead))).toEqual(REFUSED);
  });

  it('reads _consent_status, _consent_timestamp and _consent_method', () => {
    const granted = withMeta([
      { key: '_consent_status', value: 'granted' },
      { key: '_consent_timestamp', value: '2026-11-20T09:00:00+00:00' },
      { key: '_consent_method', value: 'cookie_banner' },
    ]);
    expect(consentOf(granted).lead.consent).toEqual({
      status: 'granted',
      timestamp: '2026-11-20T09:00:00+00:00',
      method: 'cookie_banner',
    });
    const denied = withMeta([{ key: '_consent_status', value: 'denied' }]);
    expect(consentOf(denied).lead.consent).toEqual({ status: 'denied' });
    expect(decideConsent('regional', consentOf(denied).lead.consent, 'US')).toEqual(REFUSED);
  });
});

describe('conversions of a lead whose consent is not required', () => {
  const lead: StoredLead = storedLead({
    email: 'buyer@example.com',
    phone: '+16502530000',
    gclid: gclid(3),
    fbclid: 'IwAR2kV8sYgRqTcWzP0xN4bL7mD9fE1hJ3uK6oQ5aZ-yX_vC8wB2nM4lT7rS',
    consent: { status: 'not_required', basis: 'regional_policy', country: 'US' },
  });
  const conversion: Conversion = storedConversion({ currency: 'USD', click_id: gclid(3) });

  it('are planned as for any won lead', () => {
    expect(conversionsForWon(lead, {}, new Date('2026-11-24T09:00:00Z')).map((c) => c.platform)).toEqual([
      'google_ads',
      'meta',
    ]);
    expect(conversionsForWon({ ...lead, restricted: true }, {}, new Date())).toEqual([]);
  });

  it('Data Manager: no consent field, the hashed identifiers', () => {
    const event = ingestEvent(conversion, lead, { customerId: '1234567890', conversionActionId: '555' });
    expect(event).not.toHaveProperty('consent');
    expect(event.userData).toEqual({
      userIdentifiers: [{ emailAddress: sha('buyer@example.com') }, { phoneNumber: sha('+16502530000') }],
    });
  });

  it('Google Ads API: no consent field, the hashed identifiers', () => {
    const built = clickConversion(conversion, lead, {
      customerId: '1234567890',
      conversionActionId: '987654321',
      timeZone: 'UTC',
    });
    expect(built).not.toHaveProperty('consent');
    expect(built.userIdentifiers).toEqual([
      { hashedEmail: sha('buyer@example.com') },
      { hashedPhoneNumber: sha('+16502530000') },
    ]);
    expect(adUserData(conversion, { ...lead, restricted: true })).toBe('denied');
  });

  it('Meta: sent, without opt_out', () => {
    const result = buildMetaEvent(
      {
        id: 'cnv_1',
        eventName: 'Purchase',
        conversionTime: '2026-11-24T08:30:00.000Z',
        fbclid: lead.fbclid as string,
        value: 19.5,
        currency: 'USD',
        lead: { email: lead.email, consent: lead.consent, restricted: false, createdAt: lead.created_at },
      },
      { limitedDataUse: false },
      new Date('2026-11-24T09:00:00Z'),
    );
    if (result.kind !== 'event') throw new Error(JSON.stringify(result));
    expect(result.event).not.toHaveProperty('opt_out');
    expect(result.event.user_data.em).toEqual([sha('buyer@example.com')]);
  });
});
