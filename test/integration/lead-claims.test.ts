/**
 * One lead per person without a transaction, against the emulator: a capture claims the lead's
 * dedup keys with conditional puts, then writes the lead under the id they point to. Concurrent
 * captures of one person make one lead; a capture that stopped between the two is finished by the
 * next one; the email keys find every lead of an address; a lead stays under 1 KB (one write unit).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { itemSize } from '../../bench/support/dynamo-units';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import type { LeadInput } from '../../functions/shared/features/leads/schema';
import { captureLeads, normaliseLeads } from '../../functions/shared/features/leads/service';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { queryAll } from '../support/dynamo';
import { freshResources } from '../support/emulator';
import { danglingClaim, leadInput } from '../support/fixtures';

const hash = hasherFor('c'.repeat(32));
const scope = { tenantId: 'ten_claims' } as TenantScope;
const actor = { subject: 'user:ten_claims:member', ip: '127.0.0.1', request_id: 'req-claims' };

function itemsOf(prefix: string): Promise<Record<string, unknown>[]> {
  return queryAll(documentClient(), {
    TableName: tableName('leads'),
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': `TENANT#${scope.tenantId}`, ':prefix': prefix },
    ConsistentRead: true,
  });
}

describe('leads claimed by conditional puts', () => {
  const leads = new DynamoLeadStore();
  const audit = new DynamoAuditTrail();
  const capture = (lead: LeadInput, orderKey?: string) =>
    captureLeads(
      { leads, audit, hash },
      scope,
      normaliseLeads(scope, [lead], hash, true),
      actor,
      'webhook',
      orderKey ? 'won' : 'new',
      orderKey,
    );

  beforeAll(async () => {
    await freshResources();
  });

  it('twenty concurrent captures of one person make one lead, its keys pointing to it', async () => {
    const person = leadInput('race@example.com', { external_id: 'shopify:race', gclid: 'gclid-race' });
    const results = await Promise.all(Array.from({ length: 20 }, () => capture(person)));
    const ids = new Set(results.map((r) => r.lead_ids[0]));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const stored = (await itemsOf('LEAD#')).filter((item) => item.email === 'race@example.com');
    expect(stored.map((item) => item.id)).toEqual([id]);
    const keys = await itemsOf('DEDUP#EXT#shopify:race');
    expect(keys.map((item) => item.lead_id)).toEqual([id]);
  });

  it('concurrent captures of one external id under different addresses make one lead', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        capture(leadInput(`ext-${i}@example.com`, { external_id: 'crm-race' })),
      ),
    );
    expect(new Set(results.map((r) => r.lead_ids[0])).size).toBe(1);
    const stored = (await itemsOf('LEAD#')).filter((item) => item.external_id === 'crm-race');
    expect(stored).toHaveLength(1);
  });

  it('a capture that stopped after claiming its keys is finished by the next, under the same id', async () => {
    const person = leadInput('stopped@example.com', { external_id: 'shopify:stopped' });
    const [normalised] = normaliseLeads(scope, [person], hash, true);
    // Its keys claimed for a lead id, and nothing more written.
    for (const key of normalised?.dedupKeys ?? [])
      await danglingClaim(scope.tenantId, key, 'lead_01stoppedhalfway0000000000');
    const result = await capture(person);
    expect(result.lead_ids).toEqual(['lead_01stoppedhalfway0000000000']);
    expect(await leads.get(scope, 'lead_01stoppedhalfway0000000000')).toMatchObject({
      email: 'stopped@example.com',
    });
  });

  it('the email keys find every lead of an address, and erasure removes the keys no lead was written for', async () => {
    const email = 'two-clicks@example.com';
    const first = await capture(leadInput(email, { gclid: 'gclid-one' }));
    const second = await capture(leadInput(email, { gclid: 'gclid-two' }));
    expect(first.lead_ids[0]).not.toBe(second.lead_ids[0]);
    const emailHash = hash(scope.tenantId, email);
    expect((await leads.byEmailHash(scope, emailHash)).map((lead) => lead.id).sort()).toEqual(
      [first.lead_ids[0], second.lead_ids[0]].sort(),
    );
    await documentClient().send(
      new PutCommand({
        TableName: tableName('leads'),
        Item: { pk: `TENANT#${scope.tenantId}`, sk: `DEDUP#EC#${emailHash}#gclid-x`, lead_id: 'lead_never' },
      }),
    );
    expect(await leads.byEmailHash(scope, emailHash)).toHaveLength(2);
    expect(await leads.deleteEmailKeys(scope, emailHash)).toBe(3);
    expect(await itemsOf(`DEDUP#EC#${emailHash}#`)).toEqual([]);
  });

  it("a paid order's lead is written once, won, with its order, and stays under 1 KB", async () => {
    const order = leadInput('a.long.address.of.a.buyer+orders@example-shop-domain.com', {
      phone: '+4930901820',
      gclid: `EAIaIQobChMI${'x'.repeat(80)}`,
      external_id: 'shopify:7100000000004',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'winter-sale-2026-brand',
      client_ip_address: '203.0.113.7',
      landing_page: 'https://shop.example.com/products/lamp?utm_source=google&utm_medium=cpc',
      value: 129.9,
      currency: 'EUR',
      consent: { status: 'granted', method: 'cookie_banner', timestamp: '2026-03-01T10:02:11+01:00' },
    });
    const [id] = (await capture(order, 'shopify:5001')).lead_ids;
    const [item] = (await itemsOf(`LEAD#${id}`)) as Record<string, never>[];
    expect(item).toMatchObject({ status: 'won', order_keys: ['shopify:5001'], version: 1 });
    // The consent is the last entry of its history: stored once.
    expect(item).not.toHaveProperty('consent');
    expect(await leads.get(scope, id as string)).toMatchObject({
      consent: { status: 'granted', method: 'cookie_banner' },
    });
    // A consent its history does not end with is stored apart, and read as stored.
    const lead = await leads.get(scope, id as string);
    if (!lead) throw new Error('the lead is gone');
    const withdrawn = { status: 'withdrawn', ad_user_data: 'denied', ad_personalization: 'denied' } as const;
    await leads.update(scope, { ...lead, consent: withdrawn, version: 2 }, 1);
    expect((await itemsOf(`LEAD#${id}`))[0]?.consent).toEqual(withdrawn);
    expect((await leads.get(scope, id as string))?.consent).toEqual(withdrawn);
    const marshalled = Object.fromEntries(
      Object.entries(item as Record<string, unknown>).map(([k, v]) => [k, v as never]),
    );
    expect(itemSize(marshalled)).toBeLessThan(1024);
  });
});
