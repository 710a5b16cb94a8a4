import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import { serializeEnvelope, type WebhookEnvelope } from '../../functions/shared/features/webhooks/model';
import { handler } from '../../functions/webhook-worker/handler';
import { PROCESSORS } from '../../functions/webhook-worker/processors';
import { scanAll } from '../support/dynamo';
import { emulatorUrl, freshResources } from '../support/emulator';
import { lambdaContext, sqsRecord } from '../support/events';
import { captureSingleMetrics } from '../support/metrics';

const envelope = (deliveryId: string, topic = 'orders/create', tenantId = 'tenant-a'): WebhookEnvelope => ({
  version: 1,
  id: `wh_${deliveryId}`,
  source: 'shopify',
  tenant_id: tenantId,
  topic,
  delivery_id: deliveryId,
  received_at: new Date().toISOString(),
  payload: '{"id":1}',
});

const record = (messageId: string, body: string) => sqsRecord(messageId, body, 'test-webhooks');

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const realShopify = PROCESSORS.shopify;

describe('webhook worker', () => {
  let env: Record<string, string>;
  let processed: string[];

  beforeAll(async () => {
    env = await freshResources();
  });

  beforeEach(() => {
    processed = [];
    PROCESSORS.shopify = {
      'orders/create': async (e) => {
        processed.push(e.tenant_id === 'tenant-a' ? e.delivery_id : `${e.tenant_id}:${e.delivery_id}`);
        return { outcome: 'processed' };
      },
      'orders/paid': async () => {
        throw new Error('downstream unavailable');
      },
    };
  });

  afterAll(() => {
    delete PROCESSORS.shopify;
  });

  it('processes the same delivery once however often it arrives', async () => {
    const body = serializeEnvelope(envelope('dup-1'));
    for (let i = 0; i < 5; i++) {
      const result = await handler(batch(record(`m${i}`, body)), lambdaContext('worker'));
      expect(result.batchItemFailures).toEqual([]);
    }
    expect(processed).toEqual(['dup-1']);
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const items = await scanAll(dynamo, { TableName: env.DEDUP_TABLE });
    dynamo.destroy();
    expect(items.filter((i) => i.pk?.S?.startsWith('WEBHOOK#'))).toHaveLength(1);
  });

  it("processes the same delivery id once per tenant: one tenant's id never hides another's delivery", async () => {
    const first = serializeEnvelope(envelope('shared-1', 'orders/create', 'tenant-a'));
    const second = serializeEnvelope(envelope('shared-1', 'orders/create', 'tenant-b'));
    for (const [i, body] of [first, second, first, second].entries()) {
      expect(
        (await handler(batch(record(`s${i}`, body)), lambdaContext('worker'))).batchItemFailures,
      ).toEqual([]);
    }
    expect(processed).toEqual(['shared-1', 'tenant-b:shared-1']);
  });

  it('reports only the failed records of a batch', async () => {
    const result = await handler(
      batch(
        record('ok', serializeEnvelope(envelope('b-1'))),
        record('bad-json', 'not json'),
        record('bad-shape', JSON.stringify({ version: 1 })),
        record('throws', serializeEnvelope(envelope('b-2', 'orders/paid'))),
        record('ignored', serializeEnvelope(envelope('b-3', 'app/uninstalled'))),
      ),
      lambdaContext('worker'),
    );
    // Messages that are not envelopes are dead-lettered at once, not retried.
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['throws']);
    expect(processed).toEqual(['b-1']);
    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.WEBHOOKS_DLQ_URL,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    sqs.destroy();
    expect((dead.Messages ?? []).map((m) => m.Body).sort()).toEqual(
      ['not json', JSON.stringify({ version: 1 })].sort(),
    );
    for (const m of dead.Messages ?? []) expect(m.MessageAttributes?.reason?.StringValue).toBeTruthy();
  });

  it('retries a delivery whose processing failed', async () => {
    const body = serializeEnvelope(envelope('retry-1', 'orders/paid'));
    const first = await handler(batch(record('r1', body)), lambdaContext('worker'));
    expect(first.batchItemFailures).toHaveLength(1);
    PROCESSORS.shopify = {
      'orders/paid': async (e) => {
        processed.push(e.delivery_id);
        return { outcome: 'processed' };
      },
    };
    const second = await handler(batch(record('r2', body)), lambdaContext('worker'));
    expect(second.batchItemFailures).toEqual([]);
    expect(processed).toEqual(['retry-1']);
  });

  it('a delivery failing twice and then succeeding makes one lead, and repeats make no more', async () => {
    const tenant = await new DynamoTenantStore().createTenant('Retry Agency');
    let calls = 0;
    PROCESSORS.shopify = {
      'orders/paid': async (e) => {
        calls += 1;
        if (calls <= 2) throw new Error('DynamoDB throttled');
        const real = realShopify?.['orders/paid'];
        if (!real) throw new Error('the shopify orders/paid processor is missing');
        return real(e);
      },
    };
    const order = {
      id: 9001,
      email: 'retry@example.com',
      financial_status: 'paid',
      currency: 'EUR',
      total_price: '10.00',
      landing_site: `/?gclid=${'C'.repeat(40)}`,
      note_attributes: [{ name: 'consent_status', value: 'granted' }],
    };
    const body = serializeEnvelope({
      ...envelope('retry-twice', 'orders/paid'),
      tenant_id: tenant.id,
      payload: JSON.stringify(order),
    });
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        (await handler(batch(record(`rt${i}`, body)), lambdaContext('worker'))).batchItemFailures.length,
      );
    }
    expect(outcomes).toEqual([1, 1, 0, 0, 0]);
    expect(calls).toBe(3);
    const dynamo = new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const items = await scanAll(dynamo, { TableName: env.LEADS_TABLE });
    dynamo.destroy();
    const leads = items.filter((i) => i.email?.S === 'retry@example.com' && i.sk?.S?.startsWith('LEAD#'));
    expect(leads).toHaveLength(1);
    expect(leads[0]?.status?.S).toBe('won');
  });

  it('counts dead letters in a metric that pages on-call', async () => {
    const { emitted, spy } = captureSingleMetrics();
    await handler(batch(record('poison', 'not json at all')), lambdaContext('worker'));
    spy.mockRestore();
    // Not even an envelope: its sender is unknown, so the dimension says `other`, never a value from the body.
    expect(emitted).toContainEqual({
      name: 'WebhookDeadLettered',
      value: 1,
      dimensions: { sender: 'other' },
    });
  });
});
