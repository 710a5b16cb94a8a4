/**
 * Erasure stays erased, over HTTP against the local stack: a subject with a dead-lettered
 * delivery, a backup taken before the erasure and a retried delivery in flight is erased; then the
 * dead letters are redriven, the backup restored, the delivery retried and the sender retries
 * too. The subject does not come back; an order placed after the erasure is new data.
 */
import { createHmac } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { serializeEnvelope } from '../../functions/shared/features/webhooks/model';
import { resetClients } from '../../functions/shared/platform/aws/clients';
import type { LocalStack } from '../../local/stack';
import { run } from '../../ops/cli';
import { gclid } from '../support/click-ids';
import { emulatorUrl } from '../support/emulator';
import { subjectId } from '../support/gdpr';
import { request, send } from '../support/http';
import { eventually, startTestStack } from '../support/local-stack';
import { capture } from '../support/operator';
import { createTenant, type TestTenant, tokenFor } from '../support/tenants';

const SHOP = 'erasure-shop.myshopify.com';
const SHOP_SECRET = 'shopify-webhook-secret-erasure-01';
const EMAIL = 'erased.person@example.com';

let stack: LocalStack;
let a: TestTenant;
let sqs: SQSClient;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

/** A paid Shopify order (fields as in Shopify's Order webhook payload). */
const order = (id: number, email: string, createdAt: string, phone = '+49 151 11112222') =>
  JSON.stringify({
    id,
    name: `#${id}`,
    email,
    created_at: createdAt,
    financial_status: 'paid',
    currency: 'EUR',
    total_price: '49.90',
    landing_site: `/?gclid=${gclid(id)}`,
    note_attributes: [
      { name: 'consent_status', value: 'granted' },
      { name: 'consent_method', value: 'cookie_banner' },
    ],
    customer: { id: 880_000 + id, email },
    billing_address: { country_code: 'DE', phone },
  });

function shopify(body: string, webhookId: string) {
  return send(stack.url, 'POST', '/api/v1/shopify/webhook', body, {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': 'orders/paid',
    'X-Shopify-Hmac-Sha256': createHmac('sha256', SHOP_SECRET).update(body, 'utf8').digest('base64'),
    'X-Shopify-Shop-Domain': SHOP,
    'X-Shopify-Webhook-Id': webhookId,
  });
}

/** The envelope ingest queues for a delivery received at `receivedAt`. */
const queued = (body: string, webhookId: string, receivedAt: string) =>
  serializeEnvelope({
    version: 1,
    id: `wh_${webhookId}`,
    source: 'shopify',
    tenant_id: a.id,
    topic: 'orders/paid',
    delivery_id: webhookId,
    received_at: receivedAt,
    payload: body,
  });

async function leadsOfSubject(): Promise<Array<Record<string, unknown>>> {
  const res = await call('GET', '/api/v1/leads?limit=100', { token: a.viewer });
  return (res.body.items as Array<Record<string, unknown>>).filter((lead) =>
    String(lead.email).startsWith('erased.person'),
  );
}

async function upheld(id: string): Promise<Array<{ details: Record<string, unknown> }>> {
  const res = await call('GET', `/api/v1/gdpr/audit?subject_id=${id}&limit=100`, { token: a.admin });
  return (res.body.items as Array<{ action: string; details: Record<string, unknown> }>).filter(
    (r) => r.action === 'erasure_upheld',
  );
}

beforeAll(async () => {
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  delete process.env.BACKUP_KMS_KEY_ID;
  stack = await startTestStack('erasure', { retryDelaySeconds: 0 });
  sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  a = await createTenant(stack.url, 'Erasure Agency');
  const connected = await call('PUT', '/api/v1/integrations/shopify', {
    token: a.admin,
    body: { shop_domain: SHOP, webhook_secret: SHOP_SECRET },
  });
  expect(connected.status).toBe(200);
});

afterAll(async () => {
  sqs.destroy();
  await stack.stop();
});

test('an erased subject stays erased through a redrive, a restore, a retry in flight and a sender retry', async () => {
  const platform = await tokenFor('platform', 'owner');
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();

  // Prepare: the subject's order made a lead; a backup is taken.
  expect((await shopify(order(7001, EMAIL, hourAgo), 'wh-7001')).status).toBe(202);
  await eventually(async () => (await leadsOfSubject())[0], 'the subject as a lead');
  const started = await call('POST', '/api/v1/admin/backups', { token: platform });
  expect(started.status).toBe(202);
  const backup = await eventually(
    async () => {
      const job = await call('GET', `/api/v1/admin/backups/${started.body.id as string}`, {
        token: platform,
      });
      return job.body.status === 'succeeded' ? job.body : undefined;
    },
    'the backup',
    60_000,
  );

  // A delivery of the subject in the dead-letter queue, another retried one about to come back
  // (invisible for a few seconds, as a retry waiting out its backoff).
  const dead = order(7002, EMAIL, hourAgo);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.env.WEBHOOKS_DLQ_URL,
      MessageBody: queued(dead, 'wh-7002', hourAgo),
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'lead store unavailable' } },
    }),
  );
  // Another person's dead letter, which the erasure leaves in place.
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.env.WEBHOOKS_DLQ_URL,
      MessageBody: queued(
        order(7006, 'someone.else@example.com', hourAgo, '+49 151 33334444'),
        'wh-7006',
        hourAgo,
      ),
    }),
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.env.WEBHOOKS_QUEUE_URL,
      MessageBody: queued(order(7003, EMAIL, hourAgo), 'wh-7003', hourAgo),
      DelaySeconds: 3,
    }),
  );

  // Act: erase.
  const id = await subjectId(stack.url, a.admin, EMAIL);
  const erased = await call('DELETE', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({
    erased: true,
    subject_id: id,
    leads: 1,
    removed: { leads: 1, dead_letters: 1 },
    identities_tombstoned: 3,
    dead_letters: { queue: 'webhooks', scanned: 2, purged: 1, complete: true },
  });
  expect(await leadsOfSubject()).toEqual([]);

  // The retry in flight comes back: dropped, and the drop audited.
  await eventually(
    async () => ((await upheld(id)).some((r) => r.details.where === 'webhook') ? true : undefined),
    'the retried delivery dropped',
  );

  // A dead letter the sweep could not see (dead-lettered while it ran) is dropped by the redrive.
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.env.WEBHOOKS_DLQ_URL,
      MessageBody: queued(dead, 'wh-7004', hourAgo),
    }),
  );
  const redrive = await call('POST', '/api/v1/admin/dlq/redrive', {
    token: platform,
    body: { queue: 'webhooks' },
  });
  expect(redrive.status).toBe(200);
  expect(redrive.body).toMatchObject({ queue: 'webhooks', moved: 1, dropped: 1 });

  // The backup taken before the erasure is restored: the subject is left out.
  Object.assign(process.env, stack.env);
  resetClients();
  const io = capture();
  expect(await run(['backup', 'restore', '--job', backup.id as string, '--force'], io)).toBe(0);
  expect(io.stdout).toEqual([
    expect.stringMatching(/^Restored \d+ items of backup /),
    expect.stringMatching(/^Left out items of erased subjects: leads \d+, conversions \d+/),
  ]);
  for (const line of [...io.stdout, ...io.stderr]) expect(line).not.toContain(EMAIL);

  // Shopify retries the dead-lettered delivery itself (same order, created before the erasure).
  expect((await shopify(dead, 'wh-7002')).status).toBe(202);
  await eventually(
    async () =>
      (await upheld(id)).filter((r) => r.details.where === 'webhook').length >= 2 ? true : undefined,
    'the sender retry dropped',
  );
  expect(await leadsOfSubject()).toEqual([]);
  const exported = await call('GET', `/api/v1/gdpr/subjects/${id}`, { token: a.admin });
  expect(exported.body.leads).toEqual([]);
  expect(exported.body.conversions).toEqual([]);

  // An order placed after the erasure, with its own consent, is new data.
  expect((await shopify(order(7005, EMAIL, new Date().toISOString()), 'wh-7005')).status).toBe(202);
  await eventually(async () => (await leadsOfSubject())[0], 'the new order as a lead');
});
