/**
 * Erasure stays erased, against the emulator: the tombstones an erasure leaves, the dead letters
 * it purges, and the webhook worker, the redrive gate and the leads API dropping data created
 * before it while taking data created after it.
 */

import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoConversionStore } from '../../functions/shared/features/conversions/dynamo';
import { DynamoAuditTrail } from '../../functions/shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../../functions/shared/features/gdpr/dynamo-tombstones';
import type { Actor } from '../../functions/shared/features/gdpr/model';
import { admitUnlessErased } from '../../functions/shared/features/gdpr/rules/deliveries';
import { eraseSubject, type SubjectDeps, subjectOf } from '../../functions/shared/features/gdpr/service';
import { DynamoLeadStore } from '../../functions/shared/features/leads/dynamo';
import { hasherFor } from '../../functions/shared/features/leads/rules/email-hash';
import { captureLeads, normaliseLeads } from '../../functions/shared/features/leads/service';
import { DynamoTenantStore } from '../../functions/shared/features/tenancy/dynamo';
import type { TenantScope } from '../../functions/shared/features/tenancy/rules/scope';
import { serializeEnvelope, type WebhookEnvelope } from '../../functions/shared/features/webhooks/model';
import { purgeDeadLetters, redriveDeadLetters } from '../../functions/shared/platform/queues/dead-letters';
import { processEnvelope } from '../../functions/webhook-worker/processors';
import { run } from '../../ops/cli';
// Shopify's Order webhook payload (https://shopify.dev/docs/api/webhooks?reference=toml#list-orders-create),
// as the other webhook tests use it.
import shopifyOrder from '../fixtures/webhooks/shopify-order-gclid.json';
import { emulatorUrl, freshResources } from '../support/emulator';
import { capture } from '../support/operator';

const actor: Actor = { subject: 'user:erasure:admin', ip: '127.0.0.1', request_id: 'req-erase' };
const EMAIL = 'anna.schmidt@example.com';
let seq = 0;

describe('erasure stays erased', () => {
  let env: Record<string, string>;
  let tenantId: string;
  let scope: TenantScope;
  const hash = () => hasherFor(process.env.EMAIL_HASH_KEY ?? 'k'.repeat(32));
  const leads = new DynamoLeadStore();
  const audit = new DynamoAuditTrail();
  const tombstones = new DynamoTombstones();
  let sqs: SQSClient;

  const envelope = (
    payload: unknown,
    receivedAt = new Date().toISOString(),
    tenant = tenantId,
  ): WebhookEnvelope => ({
    version: 1,
    id: `wh_erase_${++seq}`,
    source: 'shopify',
    tenant_id: tenant,
    topic: 'orders/create',
    delivery_id: `erase-${seq}`,
    received_at: receivedAt,
    payload: JSON.stringify(payload),
  });
  const order = (overrides: Record<string, unknown>) => ({ ...shopifyOrder, ...overrides });
  const leadsOfSubject = async () => leads.byEmailHash(scope, subjectOf(scope, EMAIL, hash()).hash);
  const deps = (): SubjectDeps => ({
    leads,
    conversions: new DynamoConversionStore(),
    audit,
    hash: hash(),
    tombstones,
    purgeDeadLetters: (matches) => purgeDeadLetters('webhooks', matches),
  });
  const deadLetter = (body: string) =>
    sqs.send(new SendMessageCommand({ QueueUrl: env.WEBHOOKS_DLQ_URL, MessageBody: body }));
  /** Every message of a queue; left in place when `release`. */
  const drain = async (url: string, release = false) => {
    const bodies: string[] = [];
    const handles: string[] = [];
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
      );
      if (!out.Messages?.length) break;
      bodies.push(...out.Messages.map((m) => m.Body ?? ''));
      handles.push(...out.Messages.map((m) => m.ReceiptHandle ?? ''));
    }
    if (release) {
      for (const handle of handles) {
        await sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }),
        );
      }
    }
    return bodies;
  };
  /** Another person: another e-mail, no customer, no addresses (the sample's phone is the subject's). */
  const someoneElse = (id: number, email: string) =>
    order({ id, email, contact_email: null, customer: null, billing_address: null, shipping_address: null });

  beforeAll(async () => {
    env = await freshResources({ EMAIL_HASH_KEY: 'e'.repeat(40) });
    tenantId = (await new DynamoTenantStore().createTenant('Erasure Agency')).id;
    scope = { tenantId } as TenantScope;
    sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
  });
  afterAll(() => {
    sqs.destroy();
    delete process.env.EMAIL_HASH_KEY;
  });

  it('erases with tombstones, purges only the dead letters naming the subject, and reports where', async () => {
    // Prepare: the subject's paid order made a lead; one of its deliveries and another person's
    // are dead-lettered; another tenant's delivery for the same address is dead-lettered too.
    const before = new Date(Date.now() - 60_000).toISOString();
    await processEnvelope(envelope(order({ id: 1001, created_at: before })));
    expect(await leadsOfSubject()).toHaveLength(1);
    const subjectLetter = serializeEnvelope(envelope(order({ id: 1002, created_at: before })));
    const otherLetter = serializeEnvelope(envelope(someoneElse(1003, 'someone.else@example.com')));
    const otherTenantLetter = serializeEnvelope(envelope(order({ id: 1004 }), undefined, 'ten_other'));
    await deadLetter(subjectLetter);
    await deadLetter(otherLetter);
    await deadLetter(otherTenantLetter);
    await deadLetter('not an envelope');

    // Act
    const report = await eraseSubject(deps(), scope, subjectOf(scope, EMAIL, hash()), actor);

    // Assess
    expect(report).toMatchObject({
      erased: true,
      leads: 1,
      removed: { leads: 1, dead_letters: 1 },
      dead_letters: { queue: 'webhooks', scanned: 4, purged: 1, complete: true },
    });
    // The e-mail, the billing phone and the Shopify customer id.
    expect(report.identities_tombstoned).toBe(3);
    expect(await leadsOfSubject()).toHaveLength(0);
    const left = await drain(env.WEBHOOKS_DLQ_URL as string, true);
    expect(left.sort()).toEqual([otherLetter, otherTenantLetter, 'not an envelope'].sort());
    const erasure = (await audit.list(scope, report.subject_id, 10)).items.find(
      (r) => r.action === 'erasure',
    );
    expect(erasure?.details).toMatchObject({ leads: 1, identities: 3, dead_letters_purged: 1 });
  });

  it('drops a late or retried delivery of data created before the erasure, and audits the drop', async () => {
    // created_at before the erasure, received now: a late delivery.
    const late = await processEnvelope(
      envelope(order({ id: 1005, created_at: new Date(Date.now() - 3_600_000).toISOString() })),
    );
    expect(late).toEqual({ outcome: 'ignored', detail: 'subject erased before this data was created' });
    // No created_at: the receipt time counts, and a retry keeps its first receipt time.
    const retried = await processEnvelope(
      envelope(order({ id: 1006, created_at: undefined }), new Date(Date.now() - 3_600_000).toISOString()),
    );
    expect(retried.outcome).toBe('ignored');
    // The same person under a new e-mail, named by the erased Shopify customer id.
    const renamed = await processEnvelope(
      envelope(
        order({
          id: 1007,
          email: 'anna.new@example.com',
          contact_email: null,
          created_at: new Date(Date.now() - 3_600_000).toISOString(),
        }),
      ),
    );
    expect(renamed.outcome).toBe('ignored');
    expect(await leadsOfSubject()).toHaveLength(0);
    const upheld = (await audit.list(scope, subjectOf(scope, EMAIL, hash()).hash, 20)).items.filter(
      (r) => r.action === 'erasure_upheld',
    );
    expect(upheld.length).toBeGreaterThanOrEqual(2);
    expect(upheld[0]?.details).toMatchObject({ where: 'webhook', source: 'shopify' });
    expect(JSON.stringify(upheld)).not.toContain(EMAIL);
  });

  it('a redrive drops dead letters of the erased subject and moves the others', async () => {
    const old = new Date(Date.now() - 3_600_000).toISOString();
    await deadLetter(serializeEnvelope(envelope(order({ id: 1008, created_at: old }))));
    await deadLetter(serializeEnvelope(envelope(someoneElse(1009, 'third@example.com'))));
    const admit = admitUnlessErased(
      { guard: { tombstones, hash: hash() }, audit, scopeFor: (id) => ({ tenantId: id }) as TenantScope },
      actor,
    );
    const result = await redriveDeadLetters('webhooks', { admit });
    // The three left by the first test (other person, other tenant, not an envelope) move too.
    expect(result).toEqual({ queue: 'webhooks', moved: 4, dropped: 1 });
    const moved = await drain(env.WEBHOOKS_QUEUE_URL as string);
    expect(moved.some((body) => body.includes('"id\\":1008'))).toBe(false);
    expect(moved.some((body) => body.includes('third@example.com'))).toBe(true);
  });

  it("the operator's redrive drops them too, and says so", async () => {
    await deadLetter(
      serializeEnvelope(
        envelope(order({ id: 1011, created_at: new Date(Date.now() - 3_600_000).toISOString() })),
      ),
    );
    const io = capture();
    expect(await run(['dlq', 'redrive', '--queue', 'webhooks'], io)).toBe(0);
    expect(io.stdout).toEqual([
      'Redrove 0 message(s) to webhooks.',
      'Dropped 1 delivery(ies) of persons erased since.',
    ]);
    const upheld = (await audit.list(scope, subjectOf(scope, EMAIL, hash()).hash, 50)).items.filter(
      (r) => r.action === 'erasure_upheld' && r.details.where === 'dlq_redrive',
    );
    expect(upheld.map((r) => r.actor)).toContain('operator:cli');
  });

  it('the leads API refuses a capture under consent given before the erasure, and takes new consent', async () => {
    const h = hash();
    const capture = (timestamp?: string) =>
      captureLeads(
        { leads, audit, hash: h, erasure: { tombstones, hash: h } },
        scope,
        normaliseLeads(
          scope,
          [
            {
              email: EMAIL,
              consent: { status: 'granted', method: 'form_checkbox', ...(timestamp ? { timestamp } : {}) },
            },
          ],
          h,
          true,
        ),
        actor,
      );
    const refused = await capture(new Date(Date.now() - 3_600_000).toISOString());
    expect(refused).toMatchObject({ stored: 0, denied: 1, denied_leads: [{ index: 0, reason: 'erased' }] });
    expect(await leadsOfSubject()).toHaveLength(0);
    const fresh = await capture();
    expect(fresh.stored).toBe(1);
    expect(await leadsOfSubject()).toHaveLength(1);
  });

  it('an order created after the erasure is new data', async () => {
    const after = await processEnvelope(
      envelope(order({ id: 1010, created_at: new Date(Date.now() + 1_000).toISOString() })),
    );
    expect(after.outcome).toBe('processed');
  });

  it('a second erasure moves the tombstones forward; an older time never replaces a newer one', async () => {
    const hashOf = subjectOf(scope, EMAIL, hash()).hash;
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect(await tombstones.record(scope, [hashOf], later)).toBe(1);
    expect(await tombstones.record(scope, [hashOf], new Date().toISOString())).toBe(0);
    expect(await tombstones.erasedAt(scope, [hashOf, 'f'.repeat(64)])).toBe(later);
    expect(await tombstones.erasedAt({ tenantId: 'ten_nobody' } as TenantScope, [hashOf])).toBeUndefined();
  });
});
