/**
 * GoHighLevel's real payloads and the tenant consent policy, through the webhook worker's
 * processors against the emulator's tables: contacts with consent in a named custom field become
 * leads, opportunities won by contactId win them, and the regional policy decides leads without a
 * consent signal by their country.
 */

import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../../functions/shared/features/conversions/dynamo-log';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoSourceStore, ghlTokenKey } from '../../functions/shared/features/integrations/dynamo';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import { ConsentPolicyStore } from '../../functions/shared/features/tenancy/dynamo-consent-policy';
import { scopeOf as scopeFor } from '../../functions/shared/features/tenancy/rules/scope';
import { processEnvelope } from '../../functions/webhook-worker/processors';
// HighLevel's published samples, verbatim (marketplace.gohighlevel.com/docs/webhook/ContactCreate and
// /OpportunityStatusUpdate; GoHighLevel/highlevel-api-docs, docs/webhook events/*.md).
import ghlSampleContactCreate from '../fixtures/webhooks/ghl-sample-contact-create.json';
import ghlSampleOpportunityStatusUpdate from '../fixtures/webhooks/ghl-sample-opportunity-status-update.json';
// WooCommerce's published order, verbatim: https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order
import wooSampleOrder from '../fixtures/webhooks/woocommerce-sample-order.json';
import { gclid } from '../support/click-ids';
import { freshResources } from '../support/emulator';
import { envelopeSeries } from '../support/envelopes';

const envelope = envelopeSeries('ghl');

const FIELD = 'BcdmQEsNgz6AVpgLVUJ0';
const leads = new DynamoLeadStore();
const conversions = new DynamoConversionStore();
const log = new DynamoConversionLog();
const scopeOf = (tenantId: string) => scopeFor({ tenantId, role: 'owner', subject: 'test', method: 'jwt' });

async function leadOfContact(tenantId: string, contactId: string) {
  const id = await leads.findByDedupKeys(scopeOf(tenantId), [`EXT#ghl:${contactId}`]);
  return id ? leads.get(scopeOf(tenantId), id) : undefined;
}

async function leadsWithEmail(tenantId: string, email: string) {
  const page = await leads.list(scopeOf(tenantId), { limit: 100 });
  return page.items.filter((l) => l.email === email);
}

describe('GoHighLevel contacts and opportunities', () => {
  let tenantId: string;
  const contact = (id: string, consent: unknown) => ({
    ...structuredClone(ghlSampleContactCreate),
    id,
    email: `${id}@example.com`,
    customFields: [
      { id: 'BcdmQEsNgz6AVpgLVUJ1', value: 'XYZ Corp' },
      { id: FIELD, value: consent },
    ],
    attributionSource: { url: `https://deo.example.com/?gclid=${gclid(41)}` },
  });
  const ghl = (payload: unknown) =>
    processEnvelope(envelope('ghl', String((payload as { type: string }).type), tenantId, payload));

  beforeAll(async () => {
    await freshResources();
    tenantId = (await new DynamoTenantStore().createTenant('GHL Agency')).id;
    await new DynamoSourceStore().save(scopeOf(tenantId), 'ghl', ghlTokenKey('t'.repeat(43)), {
      consent_field_id: FIELD,
      granted_values: ['yes', 'opt-in'],
      updated_at: new Date().toISOString(),
    });
  });

  it('a contact whose consent field says yes becomes a lead; any other value is a refusal', async () => {
    expect(await ghl(contact('c-yes', ['Yes']))).toMatchObject({ outcome: 'processed' });
    expect(await leadOfContact(tenantId, 'c-yes')).toMatchObject({
      status: 'new',
      gclid: gclid(41),
      consent: { status: 'granted', method: 'form_checkbox' },
    });
    expect(await ghl(contact('c-no', 'No thanks'))).toEqual({
      outcome: 'processed',
      detail: 'lead refused: consent_required',
    });
    expect(await leadOfContact(tenantId, 'c-no')).toBeUndefined();
  });

  it('an opportunity won by contactId wins the lead, with its monetaryValue, and queues its conversion', async () => {
    const opportunity = {
      ...structuredClone(ghlSampleOpportunityStatusUpdate),
      id: 'opp-1',
      contactId: 'c-yes',
      monetaryValue: 1850,
    };
    expect(await ghl(opportunity)).toEqual({ outcome: 'ignored', detail: 'the opportunity is not won' });
    expect((await leadOfContact(tenantId, 'c-yes'))?.status).toBe('new');

    const won = await ghl({ ...opportunity, status: 'won' });
    expect(won).toMatchObject({ outcome: 'processed', detail: expect.stringMatching(/won, 1 conversion/) });
    expect(await leadOfContact(tenantId, 'c-yes')).toMatchObject({ status: 'won', value: 1850 });
    const [conversionId] = await conversions.conversionsOfOrder(scopeOf(tenantId), 'ghl:opp-1');
    expect(await log.get(tenantId, conversionId as string)).toMatchObject({
      platform: 'google_ads',
      status: 'queued',
      value: 1850,
      order_id: 'opp-1',
      click_id: gclid(41),
    });
    // HighLevel retries: the same won opportunity again queues nothing more.
    expect(await ghl({ ...opportunity, status: 'won' })).toMatchObject({
      detail: expect.stringMatching(/won, 0 conversion/),
    });
  });

  it('an opportunity of a contact that never became a lead changes nothing', async () => {
    const stranger = { ...structuredClone(ghlSampleOpportunityStatusUpdate), status: 'won' };
    expect(await ghl(stranger)).toEqual({ outcome: 'ignored', detail: 'no lead captured from this contact' });
    expect(await ghl({ ...stranger, contactId: 'c-no' })).toMatchObject({ outcome: 'ignored' });
  });
});

describe('the regional consent policy for every sender', () => {
  let regional: string;
  let explicit: string;
  const order = (id: number, country: string, meta: Array<{ key: string; value: string }> = []) => ({
    ...structuredClone(wooSampleOrder),
    id,
    billing: { ...wooSampleOrder.billing, country, email: `order-${id}@example.com` },
    shipping: { ...wooSampleOrder.shipping, country },
    meta_data: [
      ...wooSampleOrder.meta_data,
      { id: 1, key: '_gclid', value: gclid(id) },
      ...meta.map((m, i) => ({ id: 2 + i, ...m })),
    ],
  });
  const woo = (tenantId: string, payload: unknown) =>
    processEnvelope(envelope('woocommerce', 'order.created', tenantId, payload));

  beforeAll(async () => {
    const tenants = new DynamoTenantStore();
    regional = (await tenants.createTenant('US Merchant')).id;
    explicit = (await tenants.createTenant('EU Merchant')).id;
    await new ConsentPolicyStore().save(scopeOf(regional), 'regional', new Date());
  });

  it('a US order without consent: a lead not_required by the regional policy, and its conversion', async () => {
    expect(await woo(regional, order(9001, 'US'))).toMatchObject({
      outcome: 'processed',
      detail: expect.stringMatching(/1 conversion\(s\) queued/),
    });
    const [lead] = await leadsWithEmail(regional, 'order-9001@example.com');
    expect(lead?.consent).toEqual({ status: 'not_required', basis: 'regional_policy', country: 'US' });
    expect(lead?.consent_history).toEqual([
      expect.objectContaining({
        status: 'not_required',
        basis: 'regional_policy',
        country: 'US',
        source: 'webhook',
      }),
    ]);
    const audit = await new DynamoAuditTrail().list(scopeOf(regional), undefined, 10);
    expect(JSON.stringify(audit)).toContain('regional_policy');
  });

  it('a DE order without consent, and an explicitly denied US order, are refused', async () => {
    expect(await woo(regional, order(9002, 'DE'))).toEqual({
      outcome: 'processed',
      detail: 'lead refused: consent_required',
    });
    expect(await woo(regional, order(9003, 'US', [{ key: '_consent_status', value: 'denied' }]))).toEqual({
      outcome: 'processed',
      detail: 'lead refused: consent_required',
    });
    expect(await leadsWithEmail(regional, 'order-9002@example.com')).toEqual([]);
    expect(await leadsWithEmail(regional, 'order-9003@example.com')).toEqual([]);
  });

  it('the same rule for Shopify orders and GoHighLevel contacts', async () => {
    const shopifyOrder = (id: number, countryCode: string) => ({
      id,
      email: `shop-${id}@example.com`,
      financial_status: 'paid',
      currency: 'USD',
      total_price: '42.00',
      landing_site: `/?gclid=${gclid(id)}`,
      billing_address: { country_code: countryCode },
    });
    const shopify = (tenantId: string, payload: unknown) =>
      processEnvelope(envelope('shopify', 'orders/paid', tenantId, payload));
    expect(await shopify(regional, shopifyOrder(9101, 'US'))).toMatchObject({
      detail: expect.stringMatching(/1 conversion\(s\) queued/),
    });
    expect((await leadsWithEmail(regional, 'shop-9101@example.com'))[0]?.consent).toEqual({
      status: 'not_required',
      basis: 'regional_policy',
      country: 'US',
    });
    expect(await shopify(regional, shopifyOrder(9102, 'CH'))).toMatchObject({
      detail: 'lead refused: consent_required',
    });
    // HighLevel's sample contact is in DE; the same contact in the US needs no consent signal.
    const contact = (country: string) => ({
      ...structuredClone(ghlSampleContactCreate),
      id: `ghl-${country}`,
      email: `ghl-${country}@example.com`,
      country,
    });
    const ghl = (payload: unknown) => processEnvelope(envelope('ghl', 'ContactCreate', regional, payload));
    expect(await ghl(contact('DE'))).toMatchObject({ detail: 'lead refused: consent_required' });
    expect(await ghl(contact('US'))).toMatchObject({
      outcome: 'processed',
      detail: expect.stringMatching(/^lead /),
    });
    expect((await leadOfContact(regional, 'ghl-US'))?.consent).toEqual({
      status: 'not_required',
      basis: 'regional_policy',
      country: 'US',
    });
  });

  it('under explicit (the default) the same US order is refused', async () => {
    expect(await woo(explicit, order(9004, 'US'))).toEqual({
      outcome: 'processed',
      detail: 'lead refused: consent_required',
    });
  });
});
