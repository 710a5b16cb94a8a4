/**
 * The stores' conditional writes and refusals against the emulator: what makes a second write of
 * the same thing harmless, what a stale write runs into, and that a page cursor only continues
 * the listing (tenant, status) it came from.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoConversionLog } from '../../functions/shared/features/conversions/dynamo-log';
import type { Adjustment, Conversion } from '../../functions/shared/features/conversions/model';
import { orderConversionIds } from '../../functions/shared/features/conversions/rules/plan';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import type { StoredLead } from '../../functions/shared/features/leads/model';
import { WriteConflict } from '../../functions/shared/features/leads/ports';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { documentClient } from '../../functions/shared/platform/aws/clients';
import { tableName } from '../../functions/shared/platform/config/resources';
import { DomainValidationError } from '../../functions/shared/platform/errors/domain';
import { emulatorUrl, freshResources } from '../support/emulator';
import { API_CALL_CONSENT, conversion, lead } from '../support/fixtures';

const scopeOf = (tenantId: string) => ({ tenantId }) as TenantScope;

/** A lead not yet won, with the consent of an API call. */
const newLead = (extra: Partial<StoredLead> = {}): StoredLead =>
  lead({
    email: 'person@example.com',
    email_hash: 'a'.repeat(64),
    status: 'new',
    consent: API_CALL_CONSENT,
    ...extra,
  });

describe('lead store conditions', () => {
  const store = new DynamoLeadStore();
  const a = scopeOf('ten_store_a');
  const b = scopeOf('ten_store_b');

  beforeAll(async () => {
    await freshResources();
  });

  it('a dedup key claimed first refuses the second lead; an empty key list finds nothing', async () => {
    const first = newLead();
    await store.create(a, first, ['email:aaa']);
    await expect(store.create(a, newLead(), ['email:aaa'])).rejects.toThrow(WriteConflict);
    expect(await store.findByDedupKeys(a, ['email:zzz', 'email:aaa'])).toBe(first.id);
    expect(await store.findByDedupKeys(a, [])).toBeUndefined();
    // The same key in another tenant is another person.
    expect(await store.findByDedupKeys(b, ['email:aaa'])).toBeUndefined();
  });

  it('an update from a stale version is a conflict, with or without new dedup keys', async () => {
    const stored = newLead();
    await store.create(a, stored, []);
    await store.update(a, { ...stored, status: 'contacted', version: 2 }, 1);
    for (const keys of [[], ['ext:shop-1']]) {
      await expect(store.update(a, { ...stored, status: 'won', version: 2 }, 1, keys)).rejects.toThrow(
        WriteConflict,
      );
    }
    expect(await store.get(a, stored.id)).toMatchObject({ status: 'contacted', version: 2 });
    // The key of the refused update was not claimed.
    expect(await store.findByDedupKeys(a, ['ext:shop-1'])).toBeUndefined();
  });

  it('a page cursor continues only the listing it came from', async () => {
    for (let i = 0; i < 3; i++) await store.create(a, newLead({ status: 'won' }), []);
    const first = await store.list(a, { status: 'won', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await store.list(a, { status: 'won', limit: 2, cursor: first.next_cursor as string });
    expect(second.items.length).toBeGreaterThanOrEqual(1);
    expect(second.items.map((l) => l.id)).not.toContain(first.items[0]?.id);
    for (const [scope, status] of [
      [a, 'new'],
      [b, 'won'],
    ] as const) {
      await expect(
        store.list(scope, { status, limit: 2, cursor: first.next_cursor as string }),
      ).rejects.toThrow(DomainValidationError);
    }
    const byTime = await store.list(a, { limit: 1 });
    await expect(store.list(b, { limit: 1, cursor: byTime.next_cursor as string })).rejects.toThrow(
      DomainValidationError,
    );
  });
});

describe('conversion store conditions', () => {
  const store = new DynamoConversionStore();
  const scope = scopeOf('ten_store_c');
  let env: Record<string, string>;
  let sqs: SQSClient;

  /** A Google Ads conversion of a gclid. */
  const clickConversion = (extra: Partial<Conversion> = {}): Conversion =>
    conversion({ click_id_type: 'gclid', click_id: 'gclid-store', ...extra });
  const drain = async () => {
    const bodies: string[] = [];
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: env.CONVERSIONS_QUEUE_URL, MaxNumberOfMessages: 10 }),
      );
      if (!out.Messages?.length) return bodies;
      bodies.push(...out.Messages.map((m) => m.Body as string));
    }
  };

  beforeAll(async () => {
    env = await freshResources();
    sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  });
  afterAll(() => sqs.destroy());
  beforeEach(async () => {
    await drain();
  });

  it('queues a conversion once however often it is queued', async () => {
    const c = clickConversion();
    expect(await store.queue(scope, c)).toBe('queued');
    expect(await store.queue(scope, { ...c, value: 5 })).toBe('exists');
    expect((await drain()).map((b) => JSON.parse(b).conversion_id)).toEqual([c.id]);
  });

  it('queues every waiting conversion of a platform again, in batches of ten', async () => {
    const google = Array.from({ length: 12 }, () => clickConversion());
    for (const c of google) await store.queue(scope, c);
    await store.queue(scope, clickConversion({ platform: 'meta', click_id_type: 'fbclid' }));
    await drain();
    expect(await store.requeueWaiting(scope, 'google_ads')).toBeGreaterThanOrEqual(12);
    const again = (await drain()).map((b) => JSON.parse(b).conversion_id);
    expect(again).toEqual(expect.arrayContaining(google.map((c) => c.id)));
  });

  it('stores an adjustment once, and queues it only the first time', async () => {
    const c = clickConversion();
    await store.queue(scope, c);
    await drain();
    const now = new Date().toISOString();
    const adjustment: Adjustment = {
      id: 'adj-1',
      conversion_id: c.id,
      type: 'retraction',
      status: 'queued',
      attempts: 0,
      source: 'api',
      adjustment_time: now,
      created_at: now,
      updated_at: now,
    };
    expect(await store.queueAdjustment(scope, adjustment)).toBe('queued');
    expect(await store.queueAdjustment(scope, adjustment)).toBe('exists');
    expect((await drain()).map((b) => JSON.parse(b))).toEqual([
      {
        version: 1,
        kind: 'adjustment',
        tenant_id: scope.tenantId,
        conversion_id: c.id,
        adjustment_id: 'adj-1',
      },
    ]);
    expect(await store.adjustments(scope, c.id)).toEqual([adjustment]);
  });

  it('cancels only what has not left the queue; erasure removes the order index with the click id', async () => {
    expect(await store.cancel(scope, 'cnv_missing', 'erased')).toBe(false);
    const c = clickConversion({ order_key: 'shopify:store-1', order_id: 'store-1' });
    await store.queue(scope, c);
    // The order's index item, as written before conversion ids derived from the order alone.
    await documentClient().send(
      new PutCommand({
        TableName: tableName('conversions'),
        Item: {
          pk: `TENANT#${scope.tenantId}`,
          sk: 'ORDER#shopify:store-1',
          conversion_ids: new Set([c.id]),
        },
      }),
    );
    const derived = orderConversionIds('shopify:store-1');
    expect(await store.conversionsOfOrder(scope, 'shopify:store-1')).toEqual([...derived, c.id]);
    await store.erase(scope, c);
    expect(await store.conversionsOfOrder(scope, 'shopify:store-1')).toEqual(derived);
    const erased = await new DynamoConversionLog().get(scope.tenantId, c.id);
    expect(erased).toMatchObject({ status: 'cancelled', cancel_reason: 'erased' });
    expect(erased).not.toHaveProperty('click_id');
    expect(erased).not.toHaveProperty('order_key');
    // Cancelled by the erasure: a second cancellation finds it gone from the queue.
    expect(await store.cancel(scope, c.id, 'order_cancelled')).toBe(false);
  });
});
