/**
 * Retention against the emulator: every write of a lead, a conversion or an audit entry carries
 * its expiry (last change plus the tenant's days), reads ignore what has expired before
 * DynamoDB's TTL removes it, an expired dedup key can be claimed again, and the sweep deletes
 * exactly what has expired.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../../functions/shared/features/conversions/dynamo-log';
import type { Conversion } from '../../functions/shared/features/conversions/model';
import { orderConversionIds } from '../../functions/shared/features/conversions/rules/plan';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { CLAIM_GRACE_SECONDS, DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import {
  AUDIT_RETENTION_DAYS,
  DEFAULT_RETENTION,
  expiryOf,
} from '../../functions/shared/features/retention/rules';
import { cachedRetention, RetentionStore } from '../../functions/shared/features/tenancy/dynamo-retention';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { backfillExpiry, sweepExpired } from '../../ops/retention';
import { queryAll } from '../support/dynamo';
import { freshResources } from '../support/emulator';
import { API_CALL_CONSENT, conversion, danglingClaim, lead } from '../support/fixtures';

const DAY_MS = 86_400_000;
const scopeOf = (tenantId: string) => ({ tenantId }) as TenantScope;
const a = scopeOf('ten_retention_a');
const actor = { subject: 'user:ten_retention_a:admin', ip: '198.51.100.23', request_id: 'req-r' };

/** A lead not yet won, written at `at`, with the consent of an API call. */
const leadAt = (at: Date, extra: Partial<StoredLead> = {}): StoredLead =>
  lead(
    {
      email: 'kept@example.com',
      email_hash: 'b'.repeat(64),
      status: 'new',
      consent: API_CALL_CONSENT,
      ...extra,
    },
    at,
  );

/** A Google Ads conversion of 10 EUR queued at `at`. */
const conversionAt = (at: Date, extra: Partial<Conversion> = {}): Conversion =>
  conversion({ value: 10, currency: 'EUR', ...extra }, at);

async function rawItem(table: 'leads' | 'conversions', key: Record<string, string>) {
  const out = await documentClient().send(new GetCommand({ TableName: tableName(table), Key: key }));
  return out.Item;
}

describe('retention', () => {
  beforeAll(async () => {
    await freshResources();
  });

  it('the retention store answers the defaults until set, then what was set', async () => {
    const store = new RetentionStore();
    expect(await store.get('ten_retention_none')).toEqual(DEFAULT_RETENTION);
    const saved = await store.save(
      a,
      { leads_days: 90, conversions_days: 1_095 },
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(saved).toEqual({
      leads_days: 90,
      conversions_days: 1_095,
      updated_at: '2026-12-01T00:00:00.000Z',
    });
    expect(await store.get(a.tenantId)).toEqual(saved);
  });

  it("a lead expires the tenant's days after its last change, with its dedup keys", async () => {
    const retention = cachedRetention();
    const created = new Date();
    let clock = created;
    const store = new DynamoLeadStore(undefined, undefined, retention, () => clock);
    const stored = leadAt(created);
    await store.create(a, stored, ['EXT#r-1']);
    const item = await rawItem('leads', { pk: `TENANT#${a.tenantId}`, sk: `LEAD#${stored.id}` });
    // The tenant keeps leads 90 days (set above).
    expect(item?.expires_at).toBe(expiryOf(created, 90));
    const claim = await rawItem('leads', { pk: `TENANT#${a.tenantId}`, sk: 'DEDUP#EXT#r-1' });
    expect(claim?.expires_at).toBe(expiryOf(created, 90));
    // Neither shows in what the API returns.
    expect(await store.get(a, stored.id)).not.toHaveProperty('expires_at');

    // A change a day later moves both expiries a day on.
    const changed = new Date(created.getTime() + DAY_MS);
    clock = changed;
    await store.update(
      a,
      { ...stored, status: 'contacted', updated_at: changed.toISOString(), version: 2 },
      1,
      [],
      ['EXT#r-1'],
    );
    expect(
      (await rawItem('leads', { pk: `TENANT#${a.tenantId}`, sk: `LEAD#${stored.id}` }))?.expires_at,
    ).toBe(expiryOf(changed, 90));
    expect((await rawItem('leads', { pk: `TENANT#${a.tenantId}`, sk: 'DEDUP#EXT#r-1' }))?.expires_at).toBe(
      expiryOf(changed, 90),
    );
  });

  it('an expired lead is not read, listed or found by email or dedup key, and its key is claimed again', async () => {
    const past = new Date(Date.now() - 91 * DAY_MS);
    const old = leadAt(past, { email_hash: 'c'.repeat(64) });
    const pastStore = new DynamoLeadStore(
      undefined,
      undefined,
      async () => ({ leads_days: 90, conversions_days: 90 }),
      () => past,
    );
    // Every lead holds its email key (EC#<email hash>#<click id>), which finds it by email.
    await pastStore.create(a, old, ['EXT#r-old', `EC#${old.email_hash}#-`]);
    const store = new DynamoLeadStore(undefined, undefined, async () => ({
      leads_days: 90,
      conversions_days: 90,
    }));
    expect(await store.get(a, old.id)).toBeUndefined();
    expect(await store.get(a, old.id, { includeExpired: true })).toMatchObject({ id: old.id });
    expect(await store.findByDedupKeys(a, ['EXT#r-old'])).toBeUndefined();
    expect(await store.byEmailHash(a, old.email_hash)).toEqual([]);
    expect((await store.byEmailHash(a, old.email_hash, { includeExpired: true })).map((l) => l.id)).toEqual([
      old.id,
    ]);
    const listed = await store.list(a, { limit: 100 });
    expect(listed.items.map((l) => l.id)).not.toContain(old.id);

    // The same person again: a new lead takes over the expired key.
    const again = leadAt(new Date(), { email_hash: 'c'.repeat(64) });
    await store.create(a, again, ['EXT#r-old']);
    expect(await store.findByDedupKeys(a, ['EXT#r-old'])).toBe(again.id);
  });

  it('a key pointing to a lead id nobody wrote is taken over after its grace period, only by naming that lead', async () => {
    const store = new DynamoLeadStore(undefined, undefined, async () => ({
      leads_days: 400,
      conversions_days: 400,
    }));
    const first = leadAt(new Date(), { email_hash: 'd'.repeat(64) });
    await store.create(a, first, ['EXT#r-stale']);
    await expect(store.create(a, leadAt(new Date()), ['EXT#r-stale'], [first.id])).rejects.toThrow(
      'is held by another lead',
    );
    // A capture that stopped between claiming its keys and writing its lead.
    const now = Math.floor(Date.now() / 1000);
    const dangling = (key: string, claimedAt: number) =>
      danglingClaim(a.tenantId, key, 'lead_unwritten', claimedAt);
    await dangling('EXT#r-recent', now - 10);
    await dangling('EXT#r-old', now - CLAIM_GRACE_SECONDS - 1);
    const second = leadAt(new Date());
    await expect(store.create(a, second, ['EXT#r-old'])).rejects.toThrow('is held by another lead');
    await expect(store.create(a, second, ['EXT#r-recent'], ['lead_unwritten'])).rejects.toThrow(
      'is held by another lead',
    );
    await store.create(a, second, ['EXT#r-old'], ['lead_unwritten']);
    expect(await store.findByDedupKeys(a, ['EXT#r-old'])).toBe(second.id);
    // The lead id its keys point to is written by whoever comes first: a second writer conflicts.
    const adopted = leadAt(new Date(), { id: 'lead_unwritten' });
    await store.create(a, adopted, ['EXT#r-recent']);
    expect(await store.findByDedupKeys(a, ['EXT#r-recent'])).toBe('lead_unwritten');
    await expect(store.create(a, { ...adopted }, ['EXT#r-recent'])).rejects.toThrow('was written meanwhile');
  });

  it("conversions and their records expire the tenant's conversions_days after each change", async () => {
    const days = async () => ({ leads_days: 400, conversions_days: 120 });
    const created = new Date();
    const store = new DynamoConversionStore(undefined, days, () => created);
    const log = new DynamoConversionLog(undefined, days, () => created);
    // An order from long ago is kept as long as one from today: from the write.
    const queued = conversionAt(new Date('2017-03-22T16:28:02Z'), {
      lead_id: 'lead_r',
    } as Partial<Conversion>);
    await store.queue(a, queued);
    const key = { pk: `TENANT#${a.tenantId}`, sk: `CONV#${queued.id}` };
    expect((await rawItem('conversions', key))?.expires_at).toBe(expiryOf(created, 120));

    const attempt = new Date(created.getTime() + 2 * DAY_MS);
    expect(await log.recordAttempt(a.tenantId, queued.id, { status: 'uploaded' }, attempt)).toBe(true);
    expect((await rawItem('conversions', key))?.expires_at).toBe(expiryOf(attempt, 120));
    expect(await log.get(a.tenantId, queued.id)).not.toHaveProperty('expires_at');

    await log.recordBatch({
      id: 'batch_r',
      tenant_id: a.tenantId,
      customer_id: '1234567890',
      size: 1,
      successes: 1,
      failures: 0,
      rescheduled: 0,
      duration_ms: 5,
      outcome: 'completed',
      created_at: created.toISOString(),
    });
    expect((await rawItem('conversions', { pk: key.pk, sk: 'BATCH#batch_r' }))?.expires_at).toBe(
      expiryOf(created, 120),
    );
  });

  it('an expired conversion is not read, listed, found by its lead or its order', async () => {
    const days = async () => ({ leads_days: 400, conversions_days: 90 });
    const past = new Date(Date.now() - 100 * DAY_MS);
    const store = new DynamoConversionStore(undefined, days);
    const log = new DynamoConversionLog(undefined, days);
    const [id] = orderConversionIds('shopify:old');
    const old = conversionAt(past, { id, lead_id: 'lead_old' } as Partial<Conversion>);
    // Written 100 days ago, kept 90.
    await new DynamoConversionStore(undefined, days, () => past).queue(a, old);
    // An order index item as written before conversion ids derived from the order, as old.
    await documentClient().send(
      new PutCommand({
        TableName: tableName('conversions'),
        Item: {
          pk: `TENANT#${a.tenantId}`,
          sk: 'ORDER#shopify:old',
          conversion_ids: new Set(['cnv_earlier']),
          expires_at: Math.floor(Date.now() / 1000) - 1,
        },
      }),
    );
    expect(await log.get(a.tenantId, old.id)).toBeUndefined();
    expect((await log.list(a, { limit: 100 })).items.map((c) => c.id)).not.toContain(old.id);
    expect((await log.list(a, { limit: 100, status: 'queued' })).items.map((c) => c.id)).not.toContain(
      old.id,
    );
    const ofLead = { id: 'lead_old', order_keys: ['shopify:old'] };
    expect(await store.ofLead(a, ofLead)).toEqual([]);
    expect((await store.ofLead(a, ofLead, { includeExpired: true })).map((c) => c.id)).toEqual([old.id]);
    // Only the ids derived from the order: the expired index item names nothing.
    expect(await store.conversionsOfOrder(a, 'shopify:old')).toEqual(orderConversionIds('shopify:old'));
    expect(await store.anyOf(a, orderConversionIds('shopify:old'))).toBe(false);
  });

  it('an audit entry is kept 2,190 days, with the caller only as its network', async () => {
    const trail = new DynamoAuditTrail();
    const before = Date.now();
    const record = await trail.append(a, 'consent_recorded', 'e'.repeat(64), actor, { status: 'granted' });
    expect(record.ip).toBe('198.51.100.0');
    const page = await trail.list(a, 'e'.repeat(64), 10);
    expect(page.items).toEqual([record]);
    const items = await queryAll(documentClient(), {
      TableName: tableName('audit'),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `TENANT#${a.tenantId}#SUBJECT#${'e'.repeat(64)}` },
    });
    const expires = items[0]?.expires_at as number;
    expect(expires).toBeGreaterThanOrEqual(expiryOf(new Date(before), AUDIT_RETENTION_DAYS));
    expect(expires).toBeLessThanOrEqual(expiryOf(new Date(), AUDIT_RETENTION_DAYS));
  });

  it('the sweep deletes what has expired and nothing else, with progress', async () => {
    const lines: string[] = [];
    const swept = await sweepExpired({ progress: (line) => lines.push(line) });
    const byTable = Object.fromEntries(swept.map((t) => [t.table, t.deleted]));
    // The old lead and its key were taken over (key) and expired (lead); the old conversion and its order.
    expect(byTable.leads).toBe(1);
    expect(byTable.conversions).toBe(2);
    expect(byTable.audit).toBe(0);
    expect(lines.some((line) => /^leads: \d+ scanned, 1 expired deleted$/.test(line))).toBe(true);
    const again = await sweepExpired();
    expect(again.every((t) => t.deleted === 0)).toBe(true);
    // A sweep as of a later time removes what expires by then: every lead kept 90 days.
    const later = await sweepExpired({ now: new Date(Date.now() + 400 * DAY_MS) });
    expect(later.find((t) => t.table === 'leads')?.deleted).toBeGreaterThan(0);
    expect(later.find((t) => t.table === 'audit')?.deleted).toBe(0);
  });

  it('a backfill gives items written before retention existed their expiry, once', async () => {
    const old = scopeOf('ten_retention_old');
    await new RetentionStore().save(old, { leads_days: 100, conversions_days: 200 }, new Date());
    const put = (table: 'leads' | 'conversions' | 'audit', item: Record<string, unknown>) =>
      documentClient().send(new PutCommand({ TableName: tableName(table), Item: item }));
    const changed = '2026-01-10T00:00:00.000Z';
    const now = new Date('2026-12-01T00:00:00Z');
    await put('leads', { pk: 'TENANT#ten_retention_old', sk: 'LEAD#old', updated_at: changed });
    await put('leads', { pk: 'TENANT#ten_retention_old', sk: 'DEDUP#EXT#old', lead_id: 'old' });
    await put('conversions', { pk: 'TENANT#ten_retention_old', sk: 'CONV#old', updated_at: changed });
    await put('audit', { pk: 'TENANT#ten_retention_old#SUBJECT#f', sk: `${changed}#aud`, at: changed });
    const lines: string[] = [];
    const done = await backfillExpiry({ now, progress: (line) => lines.push(line) });
    expect(Object.fromEntries(done.map((t) => [t.table, t.updated]))).toEqual({
      leads: 2,
      conversions: 1,
      audit: 1,
    });
    expect(lines).toContain('leads: 2 scanned, 2 given an expiry');
    const expiry = async (table: 'leads' | 'conversions' | 'audit', key: Record<string, string>) =>
      (await documentClient().send(new GetCommand({ TableName: tableName(table), Key: key }))).Item
        ?.expires_at;
    expect(await expiry('leads', { pk: 'TENANT#ten_retention_old', sk: 'LEAD#old' })).toBe(
      expiryOf(changed, 100),
    );
    // A dedup key says nothing of when it changed: from now, so it never expires before its lead.
    expect(await expiry('leads', { pk: 'TENANT#ten_retention_old', sk: 'DEDUP#EXT#old' })).toBe(
      expiryOf(now, 100),
    );
    expect(await expiry('conversions', { pk: 'TENANT#ten_retention_old', sk: 'CONV#old' })).toBe(
      expiryOf(changed, 200),
    );
    expect(await expiry('audit', { pk: 'TENANT#ten_retention_old#SUBJECT#f', sk: `${changed}#aud` })).toBe(
      expiryOf(changed, AUDIT_RETENTION_DAYS),
    );
    // Again: nothing left without an expiry.
    const again = await backfillExpiry({ now });
    expect(again.every((t) => t.updated === 0)).toBe(true);
  });
});
