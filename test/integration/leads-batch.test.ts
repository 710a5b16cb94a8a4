/**
 * A batch of leads against the emulator: the dedup keys of the whole batch are read together,
 * then each lead is written once; a lead already stored is updated, and two leads of one person
 * in the same batch still make one lead.
 */
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import { captureLeads, normaliseLeads } from '../../functions/shared/features/leads/service';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { freshResources } from '../support/emulator';
import { leadInput } from '../support/fixtures';

const hash = hasherFor('k'.repeat(32));
const scope = { tenantId: 'ten_batch' } as TenantScope;
const actor = { subject: 'user:ten_batch:member', ip: '127.0.0.1', request_id: 'req-batch' };

describe('a batch of leads', () => {
  const leads = new DynamoLeadStore();
  const audit = new DynamoAuditTrail();

  beforeAll(async () => {
    await freshResources();
  });

  it('finds the dedup keys of many leads in one read: a lead id, null for none', async () => {
    const [first] = (
      await captureLeads(
        { leads, audit, hash },
        scope,
        normaliseLeads(scope, [leadInput('known@example.com', { external_id: 'k-1' })], hash, true),
        actor,
      )
    ).lead_ids;
    const many = await leads.findManyByDedupKeys(scope, [
      ['EXT#k-1'],
      ['EXT#nobody'],
      [],
      ['EXT#nobody', 'EXT#k-1'],
    ]);
    expect(many).toEqual([first, null, null, first]);
    // Beyond one BatchGetItem's 100 keys, with the known key last.
    const keys = Array.from({ length: 150 }, (_, i) => [`EXT#none-${i}`]);
    keys.push(['EXT#k-1']);
    const wide = await leads.findManyByDedupKeys(scope, keys);
    expect(wide.slice(0, 150).every((id) => id === null)).toBe(true);
    expect(wide[150]).toBe(first);
  });

  it('stores 100 new leads, updates one already stored, and makes one lead of a person twice in the batch', async () => {
    const existing = await captureLeads(
      { leads, audit, hash },
      scope,
      normaliseLeads(scope, [leadInput('already@example.com', { external_id: 'b-0' })], hash, true),
      actor,
    );
    const batch = [
      ...Array.from({ length: 100 }, (_, i) =>
        leadInput(`batch-${i}@example.com`, { external_id: `b-${i + 1}` }),
      ),
      leadInput('already@example.com', { external_id: 'b-0', utm_source: 'newsletter' }),
      leadInput('twice@example.com', { external_id: 'b-twice' }),
      leadInput('twice@example.com', { external_id: 'b-twice', utm_campaign: 'again' }),
    ];
    const result = await captureLeads(
      { leads, audit, hash },
      scope,
      normaliseLeads(scope, batch, hash, false),
      actor,
    );
    expect(result).toMatchObject({ success: true, processed: 103, stored: 103, denied: 0 });
    expect(new Set(result.lead_ids).size).toBe(102);
    expect(result.lead_ids[100]).toBe(existing.lead_ids[0]);
    expect(result.lead_ids[101]).toBe(result.lead_ids[102]);
    expect(await leads.get(scope, existing.lead_ids[0] as string)).toMatchObject({
      utm_source: 'newsletter',
      version: 2,
    });
    const twice = await leads.get(scope, result.lead_ids[101] as string);
    expect(twice?.external_id).toBe('b-twice');
    // Every captured lead has its audit entry.
    const entries = await audit.list(scope, undefined, 200);
    expect(entries.items.filter((e) => e.action === 'consent_recorded').length).toBeGreaterThanOrEqual(104);
  });
});
