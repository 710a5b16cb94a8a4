import fc from 'fast-check';
import { isValidConsent } from '../../functions/shared/features/leads/rules/consent';
import { leadSchema } from '../../functions/shared/features/leads/schema';
import {
  type Extraction,
  extractGhl,
  extractShopify,
  extractWooCommerce,
} from '../../functions/shared/features/webhooks/rules/extract';
import { consentFrom, isoTimestamp } from '../../functions/shared/features/webhooks/rules/extract/consent';
import { guarded } from '../../functions/shared/features/webhooks/rules/extract/guard';
import { leadExtraction } from '../../functions/shared/features/webhooks/rules/extract/lead';
import { normaliseKey } from '../../functions/shared/features/webhooks/rules/extract/values';
import ghlContactCreate from '../fixtures/webhooks/ghl-contact-create.json';
import ghlOpportunityWon from '../fixtures/webhooks/ghl-opportunity-won.json';
import ghlSampleContactCreate from '../fixtures/webhooks/ghl-sample-contact-create.json';
import ghlSampleOpportunityCreate from '../fixtures/webhooks/ghl-sample-opportunity-create.json';
import ghlSampleOpportunityStatusUpdate from '../fixtures/webhooks/ghl-sample-opportunity-status-update.json';
import ghlWorkflowContact from '../fixtures/webhooks/ghl-workflow-contact.json';
import shopifyCustomerSubscribed from '../fixtures/webhooks/shopify-customer-subscribed.json';
import shopifyOrder100LineItems from '../fixtures/webhooks/shopify-order-100-line-items.json';
import shopifyOrderGclid from '../fixtures/webhooks/shopify-order-gclid.json';
import shopifyOrderIosGbraid from '../fixtures/webhooks/shopify-order-ios-gbraid.json';
import shopifyOrderNoClickId from '../fixtures/webhooks/shopify-order-no-click-id.json';
import shopifyOrderNonAscii from '../fixtures/webhooks/shopify-order-non-ascii.json';
import shopifySampleOrder from '../fixtures/webhooks/shopify-sample-order.json';
import wooOrderProcessing from '../fixtures/webhooks/woocommerce-order-processing.json';
import wooPing from '../fixtures/webhooks/woocommerce-ping.json';

type Json = Record<string, unknown>;
type Lead = Extract<Extraction, { kind: 'lead' }>;

const GCLID = 'EAIaIQobChMIq5Xb1-2JhgMVQ5KDBx0k8AHVEAAYASAAEgJX9fD_BwE';
const GCLID_2 =
  'Cj0KCQjw8--2BhCHARIsADxUqnbEhDL5qz4vLH9Q0dJ2pYcGmSU4kYt2pX1aC8M7p3YvTQ5gkqT1nZ8aArbYEALw_wcB';
const GBRAID = '0AAAAADgj5Vr4nNq3dY3cQ2x5oWQzN1x2J';
const FBCLID = 'IwAR2kV8sYgRqTcWzP0xN4bL7mD9fE1hJ3uK6oQ5aZ-yX_vC8wB2nM4lT7rS';
const MSCLKID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';

/** A fresh, mutable copy of a fixture. */
const copy = (fixture: object): Json => structuredClone(fixture) as Json;

function lead(extraction: Extraction): Lead {
  if (extraction.kind !== 'lead') throw new Error(`expected a lead, got ${JSON.stringify(extraction)}`);
  return extraction;
}

/** What every extraction must look like, whatever went in. */
function expectWellFormed(extraction: Extraction): void {
  expect(['ignored', 'invalid', 'lead', 'reversal', 'contact_order']).toContain(extraction.kind);
  if (extraction.kind === 'contact_order') {
    expect(extraction.externalId).toMatch(/^ghl:.+/);
    expect(extraction.order.id.length).toBeGreaterThan(0);
    return;
  }
  if (extraction.kind === 'reversal') {
    expect(extraction.reversal.orderId.length).toBeGreaterThan(0);
    if (extraction.reversal.refund) expect(extraction.reversal.refund.amount).toBeGreaterThan(0);
    return;
  }
  if (extraction.kind !== 'lead') {
    expect(typeof extraction.reason).toBe('string');
    expect(extraction.reason.length).toBeGreaterThan(0);
    return;
  }
  expect(leadSchema.safeParse(extraction.lead).success).toBe(true);
  const { order } = extraction;
  if (order === undefined) return;
  expect(typeof order.id).toBe('string');
  expect(order.id.length).toBeGreaterThan(0);
  expect(typeof order.paid).toBe('boolean');
  if (order.value !== undefined) expect(Number.isFinite(order.value) && order.value >= 0).toBe(true);
  if (order.currency !== undefined) expect(order.currency).toMatch(/^[A-Z]{3}$/);
  if (order.occurredAt !== undefined) expect(Number.isNaN(Date.parse(order.occurredAt))).toBe(false);
}

// The extractions expected from the senders' samples are spelled out in full on purpose, as the
// oracle of each sender's mapping: they repeat one another's shape, never the code under test.
describe('Shopify orders', () => {
  it("takes the browser's user agent and IP from client_details, dropping a malformed one", () => {
    const extraction = extractShopify('orders/paid', shopifyOrderIosGbraid);
    expect(extraction).toMatchObject({
      kind: 'lead',
      lead: {
        client_user_agent: expect.stringMatching(/^Mozilla\/5\.0 \(iPhone/),
        client_ip_address: '198.51.100.23',
      },
    });
    const broken = extractShopify('orders/paid', {
      ...shopifyOrderIosGbraid,
      client_details: { user_agent: 'x'.repeat(600), browser_ip: 'not-an-ip' },
      browser_ip: undefined,
    });
    expect(broken.kind).toBe('lead');
    expect((broken as { lead: Record<string, unknown> }).lead).not.toHaveProperty('client_user_agent');
    expect((broken as { lead: Record<string, unknown> }).lead).not.toHaveProperty('client_ip_address');
  });

  it('reads a paid order with a gclid in landing_site and consent from note attributes', () => {
    expect(extractShopify('orders/paid', shopifyOrderGclid)).toEqual({
      kind: 'lead',
      lead: {
        email: 'anna.schmidt@example.com',
        phone: '+4930901820',
        country: 'DE',
        gclid: GCLID,
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'spring_sale',
        utm_term: 'linen shirt',
        client_ip_address: '203.0.113.7',
        external_id: 'shopify:7012345678901',
        value: 129.9,
        currency: 'EUR',
        consent: {
          status: 'granted',
          timestamp: '2026-03-01T10:02:11+01:00',
          method: 'cookie_banner',
          ad_user_data: 'granted',
          ad_personalization: 'denied',
        },
      },
      order: {
        id: '5678901234567',
        paid: true,
        value: 129.9,
        currency: 'EUR',
        occurredAt: '2026-03-01T10:15:00+01:00',
      },
    });
  });

  it('takes paid from financial_status, never from the unsigned topic', () => {
    const pending = { ...copy(shopifyOrderGclid), financial_status: 'pending' };
    for (const topic of ['orders/create', 'orders/paid', 'orders/cancelled']) {
      expect(lead(extractShopify(topic, pending)).order?.paid).toBe(false);
      expect(lead(extractShopify(topic, shopifyOrderGclid)).order?.paid).toBe(true);
    }
  });

  it('reads an iOS order: gbraid from an absolute landing URL, which becomes the landing page', () => {
    const { lead: found, order } = lead(extractShopify('orders/create', shopifyOrderIosGbraid));
    expect(found).toMatchObject({
      email: 'liam.oconnor@example.ie',
      phone: '+353871234567',
      gbraid: GBRAID,
      utm_campaign: 'pmax_ios',
      landing_page: `https://shop.example.com/collections/sale?gbraid=${GBRAID}&utm_source=google&utm_medium=cpc&utm_campaign=pmax_ios`,
      consent: { status: 'pending', method: 'cookie_banner', timestamp: '2026-03-02T21:31:00Z' },
    });
    expect(found.gclid).toBeUndefined();
    expect(found.wbraid).toBeUndefined();
    expect(found.external_id).toBeUndefined();
    // Pending with the banner's method and time is valid consent under the consent rules.
    expect(isValidConsent(found.consent)).toBe(true);
    expect(order).toEqual({
      id: '5678901234600',
      paid: false,
      value: 49,
      currency: 'EUR',
      occurredAt: '2026-03-02T21:40:10+00:00',
    });
  });

  it('reads an order without any click id, and without consent information answers pending', () => {
    const { lead: found } = lead(extractShopify('orders/create', shopifyOrderNoClickId));
    // Named here on purpose, as the oracle of what this sample lacks (not read from the lead model).
    for (const field of [
      'gclid',
      'gbraid',
      'wbraid',
      'fbclid',
      'msclkid',
      'utm_source',
      'landing_page',
    ] as const) {
      expect(found[field]).toBeUndefined();
    }
    expect(found.consent).toEqual({ status: 'pending' });
    expect(isValidConsent(found.consent)).toBe(false);
  });

  it('is unmoved by non-ASCII names and notes; keeps fbclid exactly and decodes UTM values', () => {
    const { lead: found } = lead(extractShopify('orders/create', shopifyOrderNonAscii));
    expect(found).toMatchObject({
      email: 'zoe@example.de',
      phone: '+49891234567',
      fbclid: FBCLID,
      utm_source: 'facebook',
      utm_campaign: 'été_🌞',
      // `Granted` read case-insensitively, Unix seconds made ISO 8601.
      consent: { status: 'granted', method: 'cookie_banner', timestamp: '2026-03-01T09:00:00.000Z' },
    });
  });

  it('reads an order of 100 line items: gclid wins over gbraid, the current total is the value', () => {
    expect(shopifyOrder100LineItems.line_items).toHaveLength(100);
    const { lead: found, order } = lead(extractShopify('orders/paid', shopifyOrder100LineItems));
    expect(found.gclid).toBe(GCLID_2);
    expect(found.gbraid).toBeUndefined();
    expect(order).toMatchObject({ id: '5678901234900', paid: true, value: 950 });
  });

  it('prefers gbraid over wbraid, from whichever source has it', () => {
    const order = {
      ...copy(shopifyOrderNoClickId),
      landing_site: `/?wbraid=${'W'.repeat(120)}`,
      note_attributes: [{ name: 'gbraid', value: GBRAID }],
    };
    const { lead: found } = lead(extractShopify('orders/create', order));
    expect(found.gbraid).toBe(GBRAID);
    expect(found.wbraid).toBeUndefined();
    const onlyWbraid = { ...order, note_attributes: [] };
    expect(lead(extractShopify('orders/create', onlyWbraid)).lead.wbraid).toBe('W'.repeat(120));
  });

  it('drops a malformed click id and keeps the lead, using the next valid candidate', () => {
    const order = {
      ...copy(shopifyOrderGclid),
      note_attributes: [
        { name: 'gclid', value: 'GCLID with spaces!' },
        { name: 'fbclid', value: 'short' },
        { name: 'msclkid', value: MSCLKID },
        { name: 'utm_source', value: '   ' },
        { name: 'consent_status', value: 'granted' },
      ],
    };
    const { lead: found } = lead(extractShopify('orders/paid', order));
    expect(found.gclid).toBe(GCLID);
    expect(found.fbclid).toBeUndefined();
    expect(found.msclkid).toBe(MSCLKID);
    expect(found.utm_source).toBe('google');
    const noValid = { ...order, landing_site: '/?gclid=bad!' };
    const second = lead(extractShopify('orders/paid', noValid)).lead;
    expect(second.gclid).toBeUndefined();
    expect(second.consent.status).toBe('granted');
  });

  it('is unmoved by keys that name Object.prototype members', () => {
    const order = {
      ...copy(shopifyOrderGclid),
      note_attributes: [
        { name: 'constructor', value: 'x' },
        { name: '__proto__', value: 'y' },
        { name: 'toString', value: 'z' },
        { name: 'consent_status', value: 'granted' },
      ],
      landing_site: `/?constructor=1&hasOwnProperty=2&gclid=${GCLID}`,
    };
    expect(lead(extractShopify('orders/paid', order)).lead).toMatchObject({
      gclid: GCLID,
      consent: { status: 'granted' },
    });
  });

  it('takes click ids but not UTM parameters from referring_site', () => {
    const order = {
      ...copy(shopifyOrderNoClickId),
      referring_site: `https://www.example-news.com/article?utm_source=newsletter&gclid=${GCLID}`,
    };
    const { lead: found } = lead(extractShopify('orders/create', order));
    expect(found.gclid).toBe(GCLID);
    expect(found.utm_source).toBeUndefined();
    expect(found.landing_page).toBeUndefined();
  });

  it('copes with landing sites that are null, a bare path, a fragment, unparseable or not http', () => {
    for (const landing_site of [null, '/', '/cart#top', 'http://[::1', 'javascript:alert(1)', 42, { a: 1 }]) {
      const extraction = extractShopify('orders/create', { ...copy(shopifyOrderNoClickId), landing_site });
      expect(lead(extraction).lead.landing_page).toBeUndefined();
    }
    const withFragment = {
      ...copy(shopifyOrderNoClickId),
      landing_site: `https://shop.example.com/?gclid=${GCLID}#x`,
    };
    expect(lead(extractShopify('orders/create', withFragment)).lead).toMatchObject({
      gclid: GCLID,
      landing_page: `https://shop.example.com/?gclid=${GCLID}#x`,
    });
  });

  it('takes the landing page from a note attribute when landing_site is relative', () => {
    const order = {
      ...copy(shopifyOrderGclid),
      note_attributes: [{ name: 'landing_page', value: 'https://shop.example.com/products/linen-shirt' }],
    };
    expect(lead(extractShopify('orders/paid', order)).lead.landing_page).toBe(
      'https://shop.example.com/products/linen-shirt',
    );
  });

  it('takes consent from the note attributes only: a marketing opt-in is not ad consent', () => {
    const subscribed = {
      state: 'subscribed',
      opt_in_level: 'single_opt_in',
      consent_updated_at: '2026-02-01T08:00:00-05:00',
    };
    const base = copy(shopifyOrderNoClickId);
    const customer = { ...(base.customer as Json), email_marketing_consent: subscribed };
    const optedIn = { ...base, customer, buyer_accepts_marketing: true };
    expect(lead(extractShopify('orders/create', optedIn)).lead.consent).toEqual({ status: 'pending' });
    const refused = { ...optedIn, note_attributes: [{ name: 'consent_status', value: 'denied' }] };
    expect(lead(extractShopify('orders/create', refused)).lead.consent).toEqual({ status: 'denied' });
    // A status nobody can read grants nothing.
    const unreadable = {
      ...optedIn,
      note_attributes: [
        { name: 'consent_status', value: 'yes' },
        { name: 'consent_method', value: 'cookie_banner' },
        { name: 'consent_timestamp', value: '2026-03-01T10:00:00Z' },
      ],
    };
    const consent = lead(extractShopify('orders/create', unreadable)).lead.consent;
    expect(consent).toEqual({ status: 'pending' });
    expect(isValidConsent(consent)).toBe(false);
  });

  it('reads the email from contact_email or the customer when the order has none', () => {
    const base = copy(shopifyOrderGclid);
    expect(
      lead(extractShopify('orders/paid', { ...base, email: '', contact_email: 'C@Example.com' })).lead.email,
    ).toBe('c@example.com');
    expect(
      lead(extractShopify('orders/paid', { ...base, email: null, contact_email: null })).lead.email,
    ).toBe('anna.schmidt@example.com');
    expect(
      lead(extractShopify('orders/paid', { ...base, email: 'not-an-email', contact_email: 'ok@example.com' }))
        .lead.email,
    ).toBe('ok@example.com');
  });

  it('is invalid without a usable email', () => {
    const base = copy(shopifyOrderGclid);
    const none = { ...base, email: null, contact_email: undefined, customer: null };
    expect(extractShopify('orders/paid', none)).toEqual({
      kind: 'invalid',
      reason: 'the payload has no email address',
    });
    const malformed = { ...none, email: 'anna@' };
    expect(extractShopify('orders/paid', malformed)).toEqual({
      kind: 'invalid',
      reason: 'the email address is not valid',
    });
  });

  it('uses the order name when the id is missing, and is invalid with neither', () => {
    const { id: _id, ...withoutId } = copy(shopifyOrderGclid);
    expect(lead(extractShopify('orders/paid', withoutId)).order?.id).toBe('#1042');
    const { name: _name, ...neither } = withoutId;
    expect(extractShopify('orders/paid', neither)).toEqual({
      kind: 'invalid',
      reason: 'the order has no id',
    });
  });

  it('drops what does not validate: a phone that is no number, an odd currency, a price that is no amount', () => {
    const order = {
      ...copy(shopifyOrderGclid),
      phone: '12',
      billing_address: { country_code: 'DE', phone: 'call me' },
      shipping_address: null,
      customer: null,
      currency: 'EURO',
      presentment_currency: 'eur',
      current_total_price: 'abc',
      total_price: '-5',
      processed_at: 'yesterday',
      created_at: '2026-03-01T10:15:02',
    };
    const { lead: found, order: facts } = lead(extractShopify('orders/paid', order));
    expect(found.phone).toBeUndefined();
    // The billing country stays the lead's country (its consent policy) without a usable phone.
    expect(found.country).toBe('DE');
    expect(found.value).toBeUndefined();
    expect(found.currency).toBe('EUR');
    expect(facts).toEqual({ id: '5678901234567', paid: true, currency: 'EUR' });
    const huge = { ...order, current_total_price: '1000000000.01', total_price: '12.50' };
    expect(lead(extractShopify('orders/paid', huge)).order?.value).toBe(12.5);
  });

  it('ignores other topics and is invalid for a payload that is not an object', () => {
    expect(extractShopify('orders/fulfilled', shopifyOrderGclid)).toEqual({
      kind: 'ignored',
      reason: 'Shopify topic orders/fulfilled carries no lead',
    });
    expect(extractShopify('app/uninstalled', {}).kind).toBe('ignored');
    for (const payload of [null, [], 'refund', 42]) {
      expect(extractShopify('refunds/create', payload).kind).toBe('invalid');
      expect(extractShopify('orders/cancelled', payload).kind).toBe('invalid');
    }
    for (const payload of [null, [], 'order', 42]) {
      expect(extractShopify('orders/create', payload).kind).toBe('invalid');
      expect(extractShopify('customers/create', payload).kind).toBe('invalid');
    }
  });
});

describe('Shopify customers', () => {
  it('reads a customer; its email marketing opt-in is not ad consent, so consent is pending', () => {
    expect(extractShopify('customers/create', shopifyCustomerSubscribed)).toEqual({
      kind: 'lead',
      lead: {
        email: 'marie.dupont@example.fr',
        phone: '+33612345678',
        country: 'FR',
        external_id: 'shopify:7012345679100',
        consent: { status: 'pending' },
      },
    });
    const noId = { ...copy(shopifyCustomerSubscribed), id: null };
    expect(lead(extractShopify('customers/update', noId)).lead.external_id).toBeUndefined();
  });
});

describe('WooCommerce orders', () => {
  it('reads a processing order with _gclid, consent meta and WooCommerce order attribution', () => {
    expect(extractWooCommerce('order.created', wooOrderProcessing)).toEqual({
      kind: 'lead',
      lead: {
        email: 'jan.devries@example.nl',
        phone: '+31612345678',
        country: 'NL',
        gclid: GCLID_2,
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'lente_2026',
        landing_page: `https://winkel.example.nl/shop/?gclid=${GCLID_2}&utm_campaign=lente_2026`,
        client_user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
        client_ip_address: '203.0.113.40',
        external_id: 'woocommerce:31',
        value: 84.9,
        currency: 'EUR',
        consent: { status: 'granted', timestamp: '2026-03-01T10:40:00+00:00', method: 'form_checkbox' },
      },
      order: { id: '727', paid: true, value: 84.9, currency: 'EUR', occurredAt: '2026-03-01T10:45:14Z' },
    });
  });

  it.each([
    ['processing', true],
    ['completed', true],
    ['pending', false],
    ['on-hold', false],
    ['failed', false],
  ])('status %s is paid: %s', (status, paid) => {
    const extraction = lead(extractWooCommerce('order.updated', { ...copy(wooOrderProcessing), status }));
    expect(extraction.order?.paid).toBe(paid);
    expect(extraction.order?.occurredAt).toBe(paid ? '2026-03-01T10:45:14Z' : '2026-03-01T10:45:12Z');
  });

  it('ignores the ping sent when a webhook is saved, and topics other than orders', () => {
    expect(extractWooCommerce('', wooPing)).toEqual({ kind: 'ignored', reason: 'WooCommerce ping' });
    expect(extractWooCommerce('order.created', wooPing)).toEqual({
      kind: 'ignored',
      reason: 'WooCommerce ping',
    });
    expect(extractWooCommerce('product.updated', wooOrderProcessing)).toEqual({
      kind: 'ignored',
      reason: 'WooCommerce topic product.updated carries no lead',
    });
    expect(extractWooCommerce(undefined as unknown as string, wooOrderProcessing)).toEqual({
      kind: 'ignored',
      reason: 'WooCommerce topic (none) carries no lead',
    });
  });

  it('reads meta keys with or without the underscore, and the landing URL alone', () => {
    const order = {
      ...copy(wooOrderProcessing),
      customer_id: 0,
      date_paid_gmt: null,
      meta_data: [
        { id: 1, key: 'fbclid', value: FBCLID },
        { id: 2, key: '_msclkid', value: MSCLKID },
        { id: 3, key: 'consent_status', value: 'pending' },
        { id: 4, key: '_consent_method', value: 'cookie_banner' },
        { id: 5, key: '_consent_timestamp', value: '1772357100000' },
        {
          id: 6,
          key: '_wc_order_attribution_session_entry',
          value: `https://winkel.example.nl/?gbraid=${GBRAID}`,
        },
      ],
    };
    const { lead: found, order: facts } = lead(extractWooCommerce('order.created', order));
    expect(found).toMatchObject({
      fbclid: FBCLID,
      msclkid: MSCLKID,
      gbraid: GBRAID,
      landing_page: `https://winkel.example.nl/?gbraid=${GBRAID}`,
      consent: { status: 'pending', method: 'cookie_banner', timestamp: '2026-03-01T09:25:00.000Z' },
    });
    expect(found.external_id).toBeUndefined();
    expect(facts?.occurredAt).toBe('2026-03-01T10:45:12Z');
  });

  it('answers pending consent and no attribution when meta_data is missing or not a list', () => {
    for (const meta_data of [undefined, null, 'x', { _gclid: GCLID }, [null, 1, { key: 5, value: 'x' }]]) {
      const { lead: found } = lead(
        extractWooCommerce('order.created', { ...copy(wooOrderProcessing), meta_data }),
      );
      expect(found.consent).toEqual({ status: 'pending' });
      expect(found.gclid).toBeUndefined();
    }
  });

  it('accepts gmt times that already carry an offset, and drops unreadable ones', () => {
    const order = {
      ...copy(wooOrderProcessing),
      date_paid_gmt: '2026-03-01T10:45:14+00:00',
      date_created_gmt: 7,
    };
    expect(lead(extractWooCommerce('order.created', order)).order?.occurredAt).toBe(
      '2026-03-01T10:45:14+00:00',
    );
    const unreadable = { ...order, date_paid_gmt: 'soon', status: 'pending' };
    expect(lead(extractWooCommerce('order.created', unreadable)).order?.occurredAt).toBeUndefined();
  });

  it('is invalid without an id, without a billing email or for a payload that is not an object', () => {
    const { id: _id, ...withoutId } = copy(wooOrderProcessing);
    expect(extractWooCommerce('order.created', withoutId)).toEqual({
      kind: 'invalid',
      reason: 'the order has no id',
    });
    const noEmail = { ...copy(wooOrderProcessing), billing: { email: '' } };
    expect(extractWooCommerce('order.created', noEmail).kind).toBe('invalid');
    for (const payload of [null, [], 'order']) {
      expect(extractWooCommerce('order.created', payload).kind).toBe('invalid');
    }
  });
});

describe('GoHighLevel', () => {
  it('reads a ContactCreate with custom fields by key and HighLevel attribution', () => {
    expect(extractGhl(ghlContactCreate)).toEqual({
      kind: 'lead',
      lead: {
        email: 'john.deo@example.com',
        phone: '+19165550142',
        country: 'US',
        gclid: GCLID,
        utm_source: 'google',
        utm_medium: 'cpc',
        utm_campaign: 'emergency_plumber',
        landing_page: 'https://deo-plumbing.example.com/emergency?utm_medium=cpc',
        external_id: 'ghl:nmFmQEsNgz6AVpgLVUJ0',
        consent: { status: 'granted', timestamp: '2026-03-03T12:40:55.000Z', method: 'form_checkbox' },
      },
    });
    expect(lead(extractGhl({ ...copy(ghlContactCreate), type: 'ContactUpdate' })).lead.gclid).toBe(GCLID);
  });

  it('reads a workflow webhook: fields by name, custom data, last touch before first touch', () => {
    expect(extractGhl(ghlWorkflowContact)).toEqual({
      kind: 'lead',
      lead: {
        email: 'sofia.nunez@example.es',
        phone: '+34612345678',
        country: 'ES',
        wbraid: expect.stringMatching(/^Cl9Lp2/),
        fbclid: FBCLID,
        utm_source: 'facebook',
        utm_medium: 'paid',
        utm_content: 'video_a',
        landing_page: 'https://clinica.example.es/cita',
        external_id: 'ghl:kDk3z9Qp1LmN0oPq2RsT',
        consent: {
          status: 'granted',
          timestamp: '2026-03-04T07:59:30.000Z',
          method: 'cookie_banner',
          ad_user_data: 'granted',
        },
      },
    });
  });

  it('reads a won opportunity with its embedded contact as a paid order', () => {
    expect(extractGhl(ghlOpportunityWon)).toEqual({
      kind: 'lead',
      lead: {
        email: 'john.deo@example.com',
        phone: '+19165550142',
        gclid: GCLID,
        external_id: 'ghl:nmFmQEsNgz6AVpgLVUJ0',
        value: 1850,
        consent: { status: 'granted' },
      },
      order: { id: 'opp_7Yt6Rf5Ed4Ws3Qa2', paid: true, value: 1850, occurredAt: '2026-03-10T16:20:00.000Z' },
    });
    const open = { ...copy(ghlOpportunityWon), status: 'open', monetaryValue: '99.50', currency: 'usd' };
    expect(lead(extractGhl(open)).order).toMatchObject({ paid: false, value: 99.5, currency: 'USD' });
    const { id: _id, ...withoutId } = copy(ghlOpportunityWon);
    expect(lead(extractGhl(withoutId)).order).toBeUndefined();
  });

  it('reads an opportunity naming its contact by contactId only as an order of that contact', () => {
    const { contact: _contact, ...bare } = copy(ghlOpportunityWon);
    expect(extractGhl(bare)).toEqual({
      kind: 'contact_order',
      externalId: 'ghl:nmFmQEsNgz6AVpgLVUJ0',
      order: { id: 'opp_7Yt6Rf5Ed4Ws3Qa2', paid: true, value: 1850, occurredAt: '2026-03-10T16:20:00.000Z' },
    });
    const { contactId: _id, ...anonymous } = bare;
    expect(extractGhl(anonymous)).toEqual({
      kind: 'ignored',
      reason: 'GoHighLevel opportunity event without a contactId',
    });
    const { id: _oppId, ...noId } = bare;
    expect(extractGhl(noId)).toEqual({ kind: 'invalid', reason: 'the GoHighLevel opportunity has no id' });
  });

  // HighLevel's published samples, verbatim:
  // https://marketplace.gohighlevel.com/docs/webhook/OpportunityStatusUpdate
  // https://marketplace.gohighlevel.com/docs/webhook/OpportunityCreate
  // (GoHighLevel/highlevel-api-docs, docs/webhook events/Opportunity{StatusUpdate,Create}.md)
  it("reads HighLevel's published OpportunityStatusUpdate and OpportunityCreate samples", () => {
    const order = { id: 'wWhVuzqpRuOA1ZVWi4FC', value: 40, occurredAt: undefined };
    expect(extractGhl(ghlSampleOpportunityStatusUpdate)).toEqual({
      kind: 'contact_order',
      externalId: 'ghl:cJAWDskpkJHbRbhAT7bs',
      order: { id: order.id, paid: false, value: order.value },
    });
    const won = {
      ...copy(ghlSampleOpportunityStatusUpdate),
      status: 'won',
      timestamp: '2026-11-20T10:00:00Z',
    };
    expect(extractGhl(won)).toEqual({
      kind: 'contact_order',
      externalId: 'ghl:cJAWDskpkJHbRbhAT7bs',
      order: { id: order.id, paid: true, value: 40, occurredAt: '2026-11-20T10:00:00Z' },
    });
    expect(extractGhl(ghlSampleOpportunityCreate)).toMatchObject({
      kind: 'contact_order',
      externalId: 'ghl:cJAWDskpkJHbRbhAT7bs',
      order: { id: order.id, paid: false },
    });
    expect(extractGhl({ ...copy(ghlSampleOpportunityStatusUpdate), type: 'OpportunityUpdate' }).kind).toBe(
      'contact_order',
    );
  });

  it('ignores other events and payloads with no contact', () => {
    expect(extractGhl({ ...copy(ghlContactCreate), type: 'ContactDelete' })).toEqual({
      kind: 'ignored',
      reason: 'GoHighLevel event ContactDelete carries no lead',
    });
    expect(extractGhl({ type: 'InboundMessage', body: 'hi' }).kind).toBe('ignored');
    expect(extractGhl({ locationId: 'x', workflow: { id: 'w' } })).toEqual({
      kind: 'ignored',
      reason: 'GoHighLevel payload without an event type or a contact',
    });
  });

  // HighLevel's published ContactCreate sample, verbatim: custom fields arrive as {id, value} only.
  // https://marketplace.gohighlevel.com/docs/webhook/ContactCreate
  // (GoHighLevel/highlevel-api-docs, docs/webhook events/ContactCreate.md)
  describe('consent in the custom field the integration names', () => {
    const FIELD = 'BcdmQEsNgz6AVpgLVUJ0';
    const withField = (value: unknown) => ({
      ...copy(ghlSampleContactCreate),
      customFields: [
        { id: 'other', value: 'yes' },
        { id: FIELD, value },
      ],
    });

    it('reads the published sample: its contact, its country, and no consent unless a field is named', () => {
      expect(extractGhl(ghlSampleContactCreate)).toEqual({
        kind: 'lead',
        lead: {
          email: 'johndeo@gmail.comm',
          phone: '+919509597501',
          country: 'DE',
          external_id: 'ghl:nmFmQEsNgz6AVpgLVUJ0',
          consent: { status: 'pending' },
        },
      });
    });

    it('is granted for a granted value, whatever its case, and denied for any other value', () => {
      const settings = { consentFieldId: FIELD };
      for (const value of [
        'yes',
        'YES',
        ' true ',
        'Granted',
        '1',
        1,
        true,
        'Opt-In',
        ['Yes'],
        ['no', 'yes'],
      ]) {
        expect([value, lead(extractGhl(withField(value), settings)).lead.consent]).toEqual([
          value,
          { status: 'granted', method: 'form_checkbox' },
        ]);
      }
      for (const value of ['no', 'XYZ Corp', 0, false, ['No'], 'yes please']) {
        expect([value, lead(extractGhl(withField(value), settings)).lead.consent]).toEqual([
          value,
          { status: 'denied', method: 'form_checkbox' },
        ]);
      }
      // The sample's own field, with the values this integration says mean granted.
      expect(
        lead(extractGhl(ghlSampleContactCreate, { consentFieldId: FIELD, grantedValues: ['XYZ corp'] })).lead
          .consent,
      ).toEqual({ status: 'granted', method: 'form_checkbox' });
      expect(
        lead(extractGhl(withField('yes'), { consentFieldId: FIELD, grantedValues: ['si'] })).lead.consent
          .status,
      ).toBe('denied');
    });

    it('lets custom data speak when the field is absent or empty, and ignores fields of other ids', () => {
      const settings = { consentFieldId: FIELD };
      const customData = { consent_status: 'granted', consent_method: 'form_checkbox' };
      for (const value of ['', null, [], '   ']) {
        expect(lead(extractGhl({ ...withField(value), customData }, settings)).lead.consent).toEqual({
          status: 'granted',
          method: 'form_checkbox',
        });
      }
      expect(lead(extractGhl(withField('yes'), { consentFieldId: 'another' })).lead.consent).toEqual({
        status: 'pending',
      });
      // A workflow webhook's custom data, the contact's consent in it.
      const workflow = {
        contact_id: 'w1',
        email: 'w@example.com',
        customData: { consent_status: 'denied', consent_timestamp: '2026-11-01T10:00:00Z' },
      };
      expect(lead(extractGhl(workflow, settings)).lead.consent).toEqual({
        status: 'denied',
        timestamp: '2026-11-01T10:00:00Z',
      });
    });
  });

  it('reads attributions lists (last touch first), custom fields as a map and the msclikid spelling', () => {
    const contact = {
      type: 'ContactCreate',
      id: 'c1',
      email: 'a@example.com',
      customFields: { 'Consent Status': 'denied', utm_term: 'boiler' },
      attributions: [
        { isFirst: true, gclid: GCLID_2, utmSource: 'bing' },
        { isLast: true, gclid: GCLID, msclikid: MSCLKID },
      ],
    };
    expect(lead(extractGhl(contact)).lead).toMatchObject({
      gclid: GCLID,
      msclkid: MSCLKID,
      utm_source: 'bing',
      utm_term: 'boiler',
      consent: { status: 'denied' },
    });
  });

  it('reads contacts nested under contact or data, and a workflow opportunity object', () => {
    const nested = {
      type: 'ContactCreate',
      data: { id: 'c2', email: 'n@example.com', phone: '+4915112345678' },
    };
    expect(lead(extractGhl(nested)).lead).toMatchObject({
      email: 'n@example.com',
      phone: '+4915112345678',
      external_id: 'ghl:c2',
    });
    const workflow = {
      ...copy(ghlWorkflowContact),
      contact_id: undefined,
      contact: { id: 'c3' },
      opportunity: { id: 'o1', status: 'won', monetaryValue: 300, dateUpdated: '2026-03-05T10:00:00Z' },
    };
    expect(lead(extractGhl(workflow))).toMatchObject({
      lead: { external_id: 'ghl:c3', value: 300 },
      order: { id: 'o1', paid: true, value: 300, occurredAt: '2026-03-05T10:00:00Z' },
    });
  });

  it('is invalid for a payload that is not an object, or a contact without an email', () => {
    for (const payload of [null, [], 'x', 1, true]) expect(extractGhl(payload).kind).toBe('invalid');
    const { email: _email, ...phoneOnly } = copy(ghlContactCreate);
    expect(extractGhl(phoneOnly)).toEqual({ kind: 'invalid', reason: 'the payload has no email address' });
  });
});

describe('consent fields', () => {
  const fields = (entries: Record<string, string>) =>
    new Map(Object.entries(entries).map(([k, v]) => [k, [v]]));

  it('keeps known values case-insensitively and drops unknown ones', () => {
    expect(
      consentFrom(
        fields({
          consent_status: 'WITHDRAWN',
          consent_method: 'carrier_pigeon',
          consent_timestamp: '2026-03-01 10:00:00',
          consent_ad_user_data: 'Denied',
          ad_personalization: 'maybe',
        }),
      ),
    ).toEqual({ status: 'withdrawn', ad_user_data: 'denied' });
    expect(consentFrom(fields({ consent_method: 'cookie_banner' }))).toBeUndefined();
  });

  it.each([
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'],
    ['2026-03-01T10:00:00.123+02:00', '2026-03-01T10:00:00.123+02:00'],
    ['1772359200', '2026-03-01T10:00:00.000Z'],
    ['1772359200000', '2026-03-01T10:00:00.000Z'],
    ['2026-03-01T10:00:00', undefined],
    ['March 1st', undefined],
    ['', undefined],
  ])('reads the time %j as %j', (value, expected) => {
    expect(isoTimestamp(value)).toBe(expected);
  });
});

describe('building blocks', () => {
  it.each([
    ['_gclid', 'gclid'],
    ['GCLID', 'gclid'],
    ['utmSource', 'utm_source'],
    ['Consent Status', 'consent_status'],
    ['contact.consent_status', 'consent_status'],
    ['__utm-medium', 'utm_medium'],
  ])('spells the key %j as %j', (key, expected) => {
    expect(normaliseKey(key)).toBe(expected);
  });

  it('refuses a lead the schema refuses as a whole', () => {
    const extraction = leadExtraction({
      emails: ['a@example.com'],
      phones: [],
      attribution: { gclid: GCLID, gbraid: GBRAID },
      consent: { status: 'granted' },
    });
    expect(extraction).toEqual({ kind: 'invalid', reason: 'the lead does not validate (gclid)' });
  });

  it('turns anything thrown while reading into a permanent failure', () => {
    const hostile = Object.defineProperty({ id: 1 }, 'email', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(extractShopify('orders/create', hostile)).toEqual({
      kind: 'invalid',
      reason: 'the payload could not be read',
    });
    const hostileContact = Object.defineProperty({ type: 'ContactCreate' }, 'email', {
      get() {
        throw new Error('boom');
      },
    });
    expect(extractGhl(hostileContact).kind).toBe('invalid');
    expect(
      guarded(() => {
        throw new Error('x');
      }).kind,
    ).toBe('invalid');
  });
});

describe('never throws', () => {
  const shopifyTopics = fc.constantFrom(
    'orders/create',
    'orders/paid',
    'customers/create',
    'customers/update',
  );
  const wooTopics = fc.constantFrom('order.created', 'order.updated', '', 'coupon.created');
  const topic = fc.oneof(shopifyTopics, wooTopics, fc.string());

  /** Strings a payload plausibly holds, so the property reaches past the first type check. */
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom(
      GCLID,
      GBRAID,
      FBCLID,
      MSCLKID,
      'granted',
      'pending',
      'cookie_banner',
      'DE',
      'a@example.com',
    ),
    fc.constantFrom(
      `/?gclid=${GCLID}`,
      `https://x.example/?gbraid=${GBRAID}`,
      '+4930901820',
      '2026-03-01T10:00:00Z',
    ),
    fc.integer(),
    fc.double(),
    fc.constant(null),
  );
  const pairsOf = (keyName: string) =>
    fc.array(
      fc.record({
        [keyName]: fc.constantFrom(
          'gclid',
          '_gclid',
          'consent_status',
          'consent_method',
          'utm_source',
          'fbclid',
        ),
        value,
      }),
      { maxLength: 6 },
    );
  const address = fc.record({ phone: value, country_code: value, country: value }, { requiredKeys: [] });
  const commerce = fc.record(
    {
      id: value,
      name: value,
      email: value,
      contact_email: value,
      phone: value,
      status: fc.constantFrom('processing', 'completed', 'pending', 'won', 'open'),
      financial_status: value,
      landing_site: value,
      referring_site: value,
      note_attributes: fc.oneof(pairsOf('name'), fc.anything()),
      meta_data: fc.oneof(pairsOf('key'), fc.anything()),
      customer: fc.oneof(
        fc.record({ id: value, email: value, email_marketing_consent: fc.anything() }),
        fc.anything(),
      ),
      billing: fc.record({ email: value, phone: value, country: value }, { requiredKeys: [] }),
      billing_address: address,
      shipping_address: address,
      total: value,
      current_total_price: value,
      currency: value,
      customer_id: value,
      date_created_gmt: value,
    },
    { requiredKeys: [] },
  );
  const ghl = fc.record(
    {
      type: fc.constantFrom('ContactCreate', 'ContactUpdate', 'OpportunityStatusUpdate', 'ContactDelete'),
      id: value,
      contact_id: value,
      email: value,
      phone: value,
      country: value,
      customFields: fc.oneof(pairsOf('key'), fc.dictionary(fc.string(), value), fc.anything()),
      customData: fc.anything(),
      contact: fc.oneof(
        fc.record({ id: value, email: value, attributionSource: fc.anything() }),
        fc.anything(),
      ),
      opportunity: fc.anything(),
      attributionSource: fc.anything(),
      lastAttributionSource: fc.anything(),
      attributions: fc.anything(),
    },
    { requiredKeys: [] },
  );

  function everyExtractor(t: string, payload: unknown): void {
    expectWellFormed(extractShopify(t, payload));
    expectWellFormed(extractWooCommerce(t, payload));
    expectWellFormed(extractGhl(payload));
  }

  it('answers a well-formed extraction for anything', () => {
    fc.assert(fc.property(topic, fc.anything(), everyExtractor), { numRuns: 500 });
  });

  it('answers a well-formed extraction for any JSON document', () => {
    fc.assert(
      fc.property(topic, fc.json(), (t, text) => everyExtractor(t, JSON.parse(text))),
      { numRuns: 300 },
    );
  });

  it('answers a well-formed extraction for payloads shaped like the real ones', () => {
    fc.assert(fc.property(topic, fc.oneof(commerce, ghl), everyExtractor), { numRuns: 500 });
  });

  it('answers a well-formed extraction for fixtures with any one field replaced', () => {
    const fixtures = [
      shopifyOrderGclid,
      shopifyCustomerSubscribed,
      wooOrderProcessing,
      ghlContactCreate,
      ghlWorkflowContact,
      ghlSampleContactCreate,
      ghlSampleOpportunityStatusUpdate,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.string(),
        fc.anything(),
        topic,
        (fixture, key, replacement, t) => {
          const payload = copy(fixture);
          const keys = Object.keys(payload);
          payload[keys[key.length % keys.length] as string] = replacement;
          everyExtractor(t, payload);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Shopify refunds and cancellations', () => {
  it('a refund pays back the sum of its successful refund transactions', () => {
    expect(
      extractShopify('refunds/create', {
        id: 509562969,
        order_id: 450789469,
        created_at: '2026-11-25T10:00:00-05:00',
        processed_at: '2026-11-25T10:00:02-05:00',
        transactions: [
          { id: 1, kind: 'refund', status: 'success', amount: '41.94', currency: 'eur' },
          { id: 2, kind: 'refund', status: 'success', amount: '8.06', currency: 'EUR' },
          { id: 3, kind: 'refund', status: 'failure', amount: '100.00', currency: 'EUR' },
          { id: 4, kind: 'capture', status: 'success', amount: '5.00' },
        ],
      }),
    ).toEqual({
      kind: 'reversal',
      reversal: {
        orderId: '450789469',
        refund: { id: '509562969', amount: 50, currency: 'EUR' },
        occurredAt: '2026-11-25T10:00:02-05:00',
      },
    });
  });

  it('without transactions, the refund line items (subtotal and tax) count; nothing paid back is ignored', () => {
    const extraction = extractShopify('refunds/create', {
      id: 7,
      order_id: 8,
      refund_line_items: [
        { subtotal: 10, total_tax: 1.9 },
        { subtotal: '5.00', total_tax: '0.95' },
      ],
    });
    expect(extraction).toEqual({
      kind: 'reversal',
      reversal: { orderId: '8', refund: { id: '7', amount: 17.85 } },
    });
    expect(extractShopify('refunds/create', { id: 7, order_id: 8, transactions: [] }).kind).toBe('ignored');
    expect(extractShopify('refunds/create', { id: 7 }).kind).toBe('invalid');
  });

  it('a cancelled order is a cancellation of that order', () => {
    expect(
      extractShopify('orders/cancelled', { ...shopifyOrderGclid, cancelled_at: '2026-11-25T12:00:00Z' }),
    ).toEqual({
      kind: 'reversal',
      reversal: {
        orderId: String((shopifyOrderGclid as { id: number }).id),
        cancelled: true,
        occurredAt: '2026-11-25T12:00:00Z',
      },
    });
    expect(extractShopify('orders/cancelled', { name: '#1001' }).kind).toBe('invalid');
  });
});

/**
 * Shopify's published sample Order, as its webhook reference shows it for the orders topics
 * (https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-orders/cancelled;
 * the money `*_set` objects and staff attributions left out): cancelled, voided, no landing site,
 * no browser IP, billing phone `555-555-SHIP`.
 */
describe("Shopify's sample order: state from the signed body", () => {
  const sample = () => copy(shopifySampleOrder);
  // The sample's ids exceed JavaScript's safe integers, as no real id does: the order is named by
  // its name, and the customer has no usable id.
  const ORDER = '#9999';
  const unpaid = (): Json => ({
    ...sample(),
    cancelled_at: null,
    cancel_reason: null,
    financial_status: 'pending',
  });
  const withNotes = (body: Json, notes: Record<string, string>) => ({
    ...body,
    note_attributes: Object.entries(notes).map(([name, value]) => ({ name, value })),
  });
  const GRANTED = {
    consent_status: 'granted',
    consent_timestamp: '2026-03-01T10:02:11+01:00',
    consent_method: 'cookie_banner',
    ad_user_data: 'granted',
    ad_personalization: 'denied',
  };

  it('is a cancellation whatever the topic, because the body says cancelled_at', () => {
    for (const topic of ['orders/create', 'orders/paid', 'orders/cancelled']) {
      expect(extractShopify(topic, sample())).toEqual({
        kind: 'reversal',
        reversal: { orderId: ORDER, cancelled: true, occurredAt: '2021-12-31T19:00:00-05:00' },
      });
    }
  });

  it('an unpaid order stays unpaid and uncancelled when re-sent as orders/paid or orders/cancelled', () => {
    for (const topic of ['orders/create', 'orders/paid', 'orders/cancelled']) {
      const found = lead(extractShopify(topic, unpaid()));
      expect(found.order).toEqual({
        id: ORDER,
        paid: false,
        value: 398,
        currency: 'USD',
        occurredAt: '2021-12-31T19:00:00-05:00',
      });
      expect(found.lead.email).toBe('jon@example.com');
      expect(found.lead).not.toHaveProperty('external_id');
    }
  });

  it.each([
    ['paid', {}, { paid: true, value: 398 }],
    ['partially_paid', { total_outstanding: '148.00' }, { paid: true, value: 250 }],
    ['partially_paid', { total_outstanding: '398.00' }, { paid: false }],
    ['partially_paid', { total_outstanding: null }, { paid: false }],
    ['partially_refunded', { current_total_price: '199.00' }, { paid: true, value: 199 }],
    ['authorized', {}, { paid: false }],
    ['voided', {}, { paid: false }],
  ])('financial_status %s (%j) is %j', (status, fields, expected) => {
    const body = { ...unpaid(), financial_status: status, ...fields };
    expect(lead(extractShopify('orders/paid', body)).order).toMatchObject(expected);
  });

  it('a refunded order takes its conversions back, whatever the topic', () => {
    const refunded = { ...unpaid(), financial_status: 'refunded', updated_at: '2022-01-05T10:00:00-05:00' };
    expect(extractShopify('orders/paid', refunded)).toEqual({
      kind: 'reversal',
      reversal: { orderId: ORDER, cancelled: true, occurredAt: '2022-01-05T10:00:00-05:00' },
    });
  });

  it('reads click ids, click time, landing page and consent from the cart attributes', () => {
    const body = withNotes(
      { ...unpaid(), financial_status: 'paid' },
      {
        ...GRANTED,
        gclid: GCLID,
        fbclid: FBCLID,
        fbp: 'fb.1.1709283600000.1234567890',
        click_time: '2026-03-01T09:58:00+01:00',
        landing_page: 'https://jsmith.myshopify.com/products/ipod-nano',
      },
    );
    const found = lead(extractShopify('orders/paid', body)).lead;
    expect(found).toMatchObject({
      gclid: GCLID,
      fbclid: FBCLID,
      fbp: 'fb.1.1709283600000.1234567890',
      click_time: '2026-03-01T09:58:00+01:00',
      landing_page: 'https://jsmith.myshopify.com/products/ipod-nano',
      consent: {
        status: 'granted',
        timestamp: '2026-03-01T10:02:11+01:00',
        method: 'cookie_banner',
        ad_user_data: 'granted',
        ad_personalization: 'denied',
      },
    });
    // Unix milliseconds are read too; an unreadable click time is left out, never the lead.
    expect(
      lead(extractShopify('orders/paid', withNotes(body, { click_time: '1709283480000' }))).lead.click_time,
    ).toBe('2024-03-01T08:58:00.000Z');
    expect(
      lead(extractShopify('orders/paid', withNotes(body, { click_time: 'yesterday' }))).lead,
    ).not.toHaveProperty('click_time');
    // A cookie that is not Meta's browser id is left out too.
    expect(
      lead(extractShopify('orders/paid', withNotes(body, { fbp: 'tracking-me' }))).lead,
    ).not.toHaveProperty('fbp');
  });

  it('keeps the click id and the landing page of a relative landing_site, resolved against the shop', () => {
    const body = { ...withNotes(unpaid(), GRANTED), landing_site: `/?fbclid=${FBCLID}&utm_source=facebook` };
    const found = lead(extractShopify('orders/create', body)).lead;
    expect(found.fbclid).toBe(FBCLID);
    expect(found.utm_source).toBe('facebook');
    expect(found.landing_page).toBe(`https://jsmith.myshopify.com/?fbclid=${FBCLID}&utm_source=facebook`);
    // Without the order's status URL there is no shop origin: the click id stays, the page cannot.
    const noOrigin = { ...body, order_status_url: null };
    const bare = lead(extractShopify('orders/create', noOrigin)).lead;
    expect(bare.fbclid).toBe(FBCLID);
    expect(bare).not.toHaveProperty('landing_page');
    // A protocol-relative path names another host: never taken as the shop's page.
    const other = { ...body, landing_site: `//evil.example/?fbclid=${FBCLID}` };
    expect(lead(extractShopify('orders/create', other)).lead).not.toHaveProperty('landing_page');
  });

  it('captures the billing phone, else the customer phone, else the shipping phone', () => {
    const base = unpaid();
    const billing = base.billing_address as Json;
    const shipping = base.shipping_address as Json;
    const customer = base.customer as Json;
    const withPhones = (b: unknown, c: unknown, sh: unknown) => ({
      ...base,
      billing_address: { ...billing, phone: b },
      shipping_address: { ...shipping, phone: sh },
      customer: { ...customer, phone: c, default_address: null },
    });
    // The sample's own billing phone (555-555-SHIP) is no number: nothing is captured from it.
    expect(lead(extractShopify('orders/create', base)).lead).not.toHaveProperty('phone');
    expect(
      lead(extractShopify('orders/create', withPhones('(502) 555-0143', '+16135550123', '+15025550199')))
        .lead,
    ).toMatchObject({ phone: '+15025550143', country: 'US' });
    expect(
      lead(extractShopify('orders/create', withPhones(null, '+16135550123', '+15025550199'))).lead.phone,
    ).toBe('+16135550123');
    expect(lead(extractShopify('orders/create', withPhones(null, null, '+15025550199'))).lead.phone).toBe(
      '+15025550199',
    );
  });

  it.each([
    '0.0.0.0',
    '::',
    '127.0.0.1',
    '10.1.2.3',
    '172.16.5.4',
    '192.168.1.20',
    '100.64.0.1',
    '169.254.1.1',
    'fe80::1',
    'fd00::1',
    '::ffff:192.168.1.1',
  ])('does not store %s as the client IP', (ip) => {
    const body = {
      ...unpaid(),
      browser_ip: ip,
      client_details: { browser_ip: ip, user_agent: 'Mozilla/5.0' },
    };
    const found = lead(extractShopify('orders/create', body)).lead;
    expect(found).not.toHaveProperty('client_ip_address');
    expect(found.client_user_agent).toBe('Mozilla/5.0');
  });

  it.each(['198.51.100.23', '2a02:8070:a181:bc00::1', '::ffff:198.51.100.23'])(
    'stores the public address %s',
    (ip) => {
      const body = { ...unpaid(), client_details: { browser_ip: ip } };
      expect(lead(extractShopify('orders/create', body)).lead.client_ip_address).toBe(ip);
    },
  );
});

describe('WooCommerce: status from the body', () => {
  it.each(['cancelled', 'refunded'])(
    'a %s order takes its conversions back under any order topic',
    (status) => {
      for (const topic of ['order.created', 'order.updated']) {
        const body = { ...copy(wooOrderProcessing), status, date_modified_gmt: '2026-03-02T08:00:00' };
        expect(extractWooCommerce(topic, body)).toEqual({
          kind: 'reversal',
          reversal: {
            orderId: String((wooOrderProcessing as { id: number }).id),
            cancelled: true,
            occurredAt: '2026-03-02T08:00:00Z',
          },
        });
      }
    },
  );

  it('a pending order is not paid, whatever the topic says', () => {
    const pending = { ...copy(wooOrderProcessing), status: 'pending' };
    expect(lead(extractWooCommerce('order.updated', pending)).order?.paid).toBe(false);
  });
});
