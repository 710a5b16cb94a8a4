/**
 * The ingest function against the emulator: which tenants a delivery is queued for when several
 * connected the same shop, what counts against the sender's IP and what against the source, and
 * Shopify's compliance topics answered 200.
 */
import { createHmac } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { DynamoSourceStore } from '../../functions/shared/features/integrations/dynamo';
import { platformScope } from '../../functions/shared/features/tenancy/rules/scope';
import { parseEnvelope, type WebhookEnvelope } from '../../functions/shared/features/webhooks/model';
import { dynamoClient, kmsClient, sqsClient } from '../../functions/shared/platform/aws/clients';
import { sealCredential } from '../../functions/shared/platform/crypto/credentials';
import { scanAll } from '../support/dynamo';
import { freshResources } from '../support/emulator';
import { apiEvent, lambdaContext } from '../support/events';

const admin = { tenantId: 'platform', role: 'owner' as const, subject: 'op', method: 'jwt' as const };
const SHOP = 'two-agencies.myshopify.com';
const SECRETS = { a: 'agency-a-secret-0123456789', b: 'agency-b-secret-0123456789' };
const STRIPE_SECRET = 'whsec_ingest_test_0123456789';
const IP = '198.51.100.40';

type Handler = (
  event: ReturnType<typeof apiEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;
let handler: Handler;
let env: Record<string, string>;

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');

function shopify(body: string, secret: string, topic = 'orders/create', domain = SHOP, webhookId = 'wid-1') {
  return handler(
    apiEvent({
      method: 'POST',
      resource: '/api/v1/shopify/webhook',
      body,
      sourceIp: IP,
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': hmac(secret, body),
        'x-shopify-shop-domain': domain,
        'x-shopify-webhook-id': webhookId,
      },
    }),
    lambdaContext('ingest'),
  );
}

/** Every envelope queued since the last call (the queue is emptied). */
async function queued(): Promise<WebhookEnvelope[]> {
  const found: WebhookEnvelope[] = [];
  for (;;) {
    const out = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: env.WEBHOOKS_QUEUE_URL,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (!out.Messages?.length) return found;
    for (const message of out.Messages) {
      found.push(parseEnvelope(message.Body as string));
      await sqsClient().send(
        new DeleteMessageCommand({ QueueUrl: env.WEBHOOKS_QUEUE_URL, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

/** The rate-limit counters by scope and key, without their window. */
async function counters(): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const item of await scanAll(dynamoClient(), { TableName: env.RATE_LIMIT_TABLE })) {
    const key = (item.pk?.S ?? '').replace(/#\d+$/, '');
    found[key] = Number(item.count?.N);
  }
  return found;
}

describe('ingest', () => {
  beforeAll(async () => {
    env = await freshResources({ PLATFORM_ORG_ID: 'platform', STRIPE_WEBHOOK_SECRET: STRIPE_SECRET });
    const sources = new DynamoSourceStore();
    const connect = async (tenant: string, shop: string, secret: string) => {
      const scope = platformScope(admin, tenant);
      await sources.save(
        scope,
        'shopify',
        shop,
        { shop_domain: shop },
        await sealCredential(scope, 'shopify.webhook_secret', secret),
      );
    };
    await connect('ten_a', SHOP, SECRETS.a);
    await connect('ten_b', SHOP, SECRETS.b);
    const shared = 'shared-shop.myshopify.com';
    await connect('ten_c', shared, SECRETS.a);
    await connect('ten_d', shared, SECRETS.a);
    ({ handler } = (await import('../../functions/ingest/handler')) as unknown as { handler: Handler });
    await queued();
  });

  it('queues a delivery for the tenant whose secret verifies it, and for no other tenant of the shop', async () => {
    const body = JSON.stringify({ id: 1, email: 'a@example.com' });
    const byA = await shopify(body, SECRETS.a);
    expect(byA.statusCode).toBe(202);
    expect((await queued()).map((e) => e.tenant_id)).toEqual(['ten_a']);
    const byB = await shopify(body, SECRETS.b, 'orders/create', SHOP, 'wid-2');
    expect(byB.statusCode).toBe(202);
    const [forB] = await queued();
    expect(forB).toMatchObject({
      tenant_id: 'ten_b',
      source: 'shopify',
      topic: 'orders/create',
      delivery_id: 'wid-2',
    });
    expect(Object.keys(JSON.parse(byB.body)).sort()).toEqual(['id', 'status']);
    // Neither tenant's secret: refused, nothing queued.
    expect((await shopify(body, 'neither-secret-0123456789')).statusCode).toBe(401);
    expect(await queued()).toEqual([]);
  });

  it('queues a delivery once for each tenant whose secret verifies it, answering as for one', async () => {
    const body = JSON.stringify({ id: 2, email: 'b@example.com' });
    const res = await shopify(body, SECRETS.a, 'orders/paid', 'shared-shop.myshopify.com', 'wid-3');
    expect(res.statusCode).toBe(202);
    const envelopes = await queued();
    expect(envelopes.map((e) => e.tenant_id).sort()).toEqual(['ten_c', 'ten_d']);
    expect(new Set(envelopes.map((e) => e.delivery_id))).toEqual(new Set(['wid-3']));
    expect(envelopes.map((e) => e.id)).toContain(JSON.parse(res.body).id);
  });

  it('refuses a delivery whose topic and webhook id headers are longer than Shopify sends with 400, queueing nothing', async () => {
    const long = 'x'.repeat(300);
    await queued();
    const res = await shopify(JSON.stringify({ id: 9 }), SECRETS.a, `orders/${long}`, SHOP, long);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).details.map((d: { path: string }) => d.path)).toEqual([
      'headers.x-shopify-topic',
      'headers.x-shopify-webhook-id',
    ]);
    expect(await queued()).toEqual([]);
  });

  it('answers 200 to the compliance topics, 202 to the others', async () => {
    const body = JSON.stringify({ shop_id: 954889, shop_domain: SHOP });
    for (const [topic, status] of [
      ['customers/data_request', 200],
      ['customers/redact', 200],
      ['shop/redact', 200],
      ['app/uninstalled', 202],
    ] as const) {
      const res = await shopify(body, SECRETS.a, topic, SHOP, `wid-${topic}`);
      expect([topic, res.statusCode]).toEqual([topic, status]);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'received' });
    }
    expect((await queued()).map((e) => e.topic).sort()).toEqual(
      ['app/uninstalled', 'customers/data_request', 'customers/redact', 'shop/redact'].sort(),
    );
  });

  it('counts verified deliveries against their source and the rest against the IP', async () => {
    const before = await counters();
    const body = JSON.stringify({ id: 3 });
    await shopify(body, SECRETS.a, 'orders/create', SHOP, 'wid-4');
    await shopify(body, 'forged-secret-0123456789');
    await shopify(body, SECRETS.a, 'orders/create', 'unknown-shop.myshopify.com');
    await shopify(body, SECRETS.a, 'orders/create', 'unknown-shop.myshopify.com');
    const after = await counters();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect(delta(`source#shopify:${SHOP}`)).toBe(1);
    expect(delta(`ip#${IP}`)).toBe(3);
    await queued();
  });

  it("counts a Stripe event against its account, and WooCommerce's unsigned ping against the IP", async () => {
    const before = await counters();
    const event = JSON.stringify({ id: 'evt_1', type: 'customer.subscription.updated', account: 'acct_123' });
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', STRIPE_SECRET).update(`${t}.${event}`).digest('hex');
    const stripe = await handler(
      apiEvent({
        method: 'POST',
        resource: '/api/v1/billing/webhooks/stripe',
        body: event,
        sourceIp: IP,
        headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${signature}` },
      }),
      lambdaContext('ingest'),
    );
    expect(stripe.statusCode).toBe(202);
    const ping = await handler(
      apiEvent({
        method: 'POST',
        resource: '/api/v1/woocommerce/webhook',
        body: 'webhook_id=12',
        sourceIp: IP,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      lambdaContext('ingest'),
    );
    expect(ping.statusCode).toBe(200);
    expect(ping.headers?.['X-RateLimit-Limit']).toBeDefined();
    const after = await counters();
    expect((after['source#stripe:acct_123'] ?? 0) - (before['source#stripe:acct_123'] ?? 0)).toBe(1);
    expect((after[`ip#${IP}`] ?? 0) - (before[`ip#${IP}`] ?? 0)).toBe(1);
    await queued();
  });

  it("opens a source's secret with KMS once while it is unchanged, though the source is read again; a new secret at once", async () => {
    const shop = 'rotating.myshopify.com';
    const scope = platformScope(admin, 'ten_e');
    const sources = new DynamoSourceStore();
    const save = async (secret: string) =>
      sources.save(
        scope,
        'shopify',
        shop,
        { shop_domain: shop },
        await sealCredential(scope, 'shopify.webhook_secret', secret),
      );
    await save('rotating-secret-one-0123456789');
    let decrypts = 0;
    kmsClient().middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DecryptCommand') decrypts += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countDecrypts' },
    );
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      const body = JSON.stringify({ id: 2, email: 'r@example.com' });
      const deliver = (secret: string, id: string) => shopify(body, secret, 'orders/create', shop, id);
      expect((await deliver('rotating-secret-one-0123456789', 'r-1')).statusCode).toBe(202);
      expect(decrypts).toBe(1);
      // Past the source cache's 5 minutes: the source is read again, its secret not opened again.
      clock.mockReturnValue(start + 6 * 60_000);
      expect((await deliver('rotating-secret-one-0123456789', 'r-2')).statusCode).toBe(202);
      expect(decrypts).toBe(1);
      // A new secret is another sealed value: opened at the next read, the old one refused.
      await save('rotating-secret-two-0123456789');
      clock.mockReturnValue(start + 12 * 60_000);
      expect((await deliver('rotating-secret-one-0123456789', 'r-3')).statusCode).toBe(401);
      expect(decrypts).toBe(2);
      expect((await deliver('rotating-secret-two-0123456789', 'r-4')).statusCode).toBe(202);
      expect(decrypts).toBe(2);
      expect((await queued()).map((e) => e.delivery_id)).toEqual(['r-1', 'r-2', 'r-4']);
    } finally {
      clock.mockRestore();
      kmsClient().middlewareStack.remove('countDecrypts');
    }
  });
});
