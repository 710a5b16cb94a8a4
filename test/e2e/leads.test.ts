import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalStack } from '../../local/stack';
import { fbclid, gbraid, gclid, wbraid } from '../support/click-ids';
import { queryAll } from '../support/dynamo';
import { emulatorUrl } from '../support/emulator';
import { subjectId } from '../support/gdpr';
import { request } from '../support/http';
import { startTestStack } from '../support/local-stack';
import { createTenant, createTenants, type TestTenant } from '../support/tenants';

let stack: LocalStack;
let a: TestTenant;
let b: TestTenant;
const call = (method: string, path: string, options?: Parameters<typeof request>[3]) =>
  request(stack.url, method, path, options);

const granted = { status: 'granted', method: 'form_checkbox', timestamp: '2026-11-20T10:00:00Z' };
let dynamo: DynamoDBDocumentClient;

/** What the leads table holds for a tenant: lead items only. */
function storedLeads(tenantId: string) {
  return queryAll(dynamo, {
    TableName: stack.env.LEADS_TABLE,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :lead)',
    ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':lead': 'LEAD#' },
  });
}

beforeAll(async () => {
  process.env.RATE_LIMIT_TENANT_PER_HOUR = '100000';
  process.env.RATE_LIMIT_IP_PER_HOUR = '100000';
  // The conversions queue is read below as a contract; the uploader would consume it.
  stack = await startTestStack('leads', { withoutConsumers: ['conversions'] });
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: emulatorUrl(), region: 'us-east-1' }));
  [a, b] = await createTenants(stack.url, 'Agency A', 'Agency B');
});

afterAll(async () => {
  dynamo.destroy();
  await stack.stop();
});

describe('consent matrix', () => {
  const statuses = ['granted', 'denied', 'pending', 'withdrawn'] as const;
  const methods = [undefined, 'cookie_banner', 'form_checkbox', 'api_call'] as const;
  const timestamps = [undefined, '2026-11-24T08:30:00Z'] as const;
  /** The documented rule, written out case by case rather than computed by the code under test. */
  const expected = (status: string, method?: string, timestamp?: string) =>
    status === 'granted' || (status === 'pending' && method === 'cookie_banner' && timestamp !== undefined);

  it('stores exactly the leads with valid consent, audits each refusal, and says why', async () => {
    const cases = statuses.flatMap((status) =>
      methods.flatMap((method) => timestamps.map((timestamp) => ({ status, method, timestamp }))),
    );
    const body = cases.map((consent, i) => ({
      email: `Matrix.${i}@Example.COM `,
      consent: {
        status: consent.status,
        ...(consent.method ? { method: consent.method } : {}),
        ...(consent.timestamp ? { timestamp: consent.timestamp } : {}),
      },
    }));
    const res = await call('POST', '/api/v1/leads', { token: a.member, body });
    expect(res.status).toBe(201);
    const valid = cases.map((c) => expected(c.status, c.method, c.timestamp));
    expect(res.body).toMatchObject({
      success: true,
      processed: cases.length,
      stored: valid.filter(Boolean).length,
      denied: valid.filter((v) => !v).length,
    });
    const denied = res.body.denied_leads as Array<{ index: number; email: string; reason: string }>;
    expect(denied.map((d) => d.index).sort((x, y) => x - y)).toEqual(valid.flatMap((v, i) => (v ? [] : [i])));
    for (const d of denied) {
      expect(d).toEqual({
        index: d.index,
        email: `matrix.${d.index}@example.com`,
        reason: 'consent_required',
      });
    }
    const stored = await storedLeads(a.id);
    const storedEmails = stored.map((item) => item.email as string).sort();
    expect(storedEmails).toEqual(valid.flatMap((v, i) => (v ? [`matrix.${i}@example.com`] : [])).sort());
    for (const item of stored) {
      const index = Number(/matrix\.(\d+)@/.exec(item.email as string)?.[1]);
      const c = cases[index];
      // A lead's consent is stored as the last entry of its history (stored apart only when not).
      const history = item.consent_history as Array<Record<string, unknown>>;
      expect(item.consent ?? history.at(-1)).toMatchObject({
        status: c?.status,
        ad_user_data: 'granted',
        ad_personalization: 'granted',
      });
      expect(history).toHaveLength(1);
    }
    const audit = await call('GET', '/api/v1/gdpr/audit?limit=100', { token: a.admin });
    const refusals = (audit.body.items as Array<{ action: string; details: Record<string, unknown> }>).filter(
      (r) => r.action === 'consent_refused',
    );
    expect(refusals).toHaveLength(denied.length);
    expect(JSON.stringify(refusals)).not.toContain('@');
  });
});

describe('capturing leads', () => {
  it('accepts real-shaped click ids and refuses bad ones with details', async () => {
    for (const [field, value] of [
      ['gclid', gclid()],
      ['gbraid', gbraid()],
      ['wbraid', wbraid()],
      ['gclid', `GCLID_${'x'.repeat(30)}`],
    ] as const) {
      const res = await call('POST', '/api/v1/leads', {
        token: a.member,
        body: { email: `click-${field}-${value.length}@example.com`, [field]: value, consent: granted },
      });
      expect(res.status).toBe(201);
    }
    for (const [body, path, message] of [
      [{ gclid: 'too-short' }, 'gclid', 'Invalid GCLID format'],
      [{ gclid: `${'a'.repeat(40)}!` }, 'gclid', 'Invalid GCLID format'],
      [{ gclid: gclid(), gbraid: gbraid() }, 'gclid', 'At most one of gclid, gbraid and wbraid may be given'],
      [{ wbraid: 'w'.repeat(201) }, 'wbraid', 'Invalid GCLID format'],
    ] as const) {
      const res = await call('POST', '/api/v1/leads', {
        token: a.member,
        body: { email: 'bad-click@example.com', ...body, consent: granted },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed' });
      expect(res.body.details).toContainEqual({ path, message });
    }
    expect((await storedLeads(a.id)).find((l) => l.email === 'bad-click@example.com')).toBeUndefined();
  });

  it('takes 100 leads with mixed consent, and refuses 101 without writing', async () => {
    const hundred = Array.from({ length: 100 }, (_, i) => ({
      email: `batch-${i}@example.com`,
      phone: i % 10 === 0 ? '+49 151 23456789' : undefined,
      consent: i % 3 === 0 ? { status: 'denied' } : granted,
    }));
    const res = await call('POST', '/api/v1/leads', { token: a.member, body: hundred });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ processed: 100, stored: 66, denied: 34 });
    expect(res.body.lead_ids).toHaveLength(66);
    const before = (await storedLeads(a.id)).length;
    const tooMany = Array.from({ length: 101 }, (_, i) => ({
      email: `over-${i}@example.com`,
      consent: granted,
    }));
    const refused = await call('POST', '/api/v1/leads', { token: a.member, body: tooMany });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toContainEqual({ path: '(body)', message: 'At most 100 leads per request' });
    expect((await storedLeads(a.id)).length).toBe(before);
  });

  it('answers 200 when nothing was stored, and 400 for invalid email or phone', async () => {
    const none = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: { email: 'nobody@example.com', consent: { status: 'withdrawn' } },
    });
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ stored: 0, denied: 1, lead_ids: [] });
    const bad = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: [
        { email: 'fine@example.com', consent: granted },
        { email: 'not-an-email', phone: '12', consent: granted },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([
      { path: '1.email', message: 'Invalid email address' },
      { path: '1.phone', message: 'Invalid phone number: use E.164 (+4915112345678) or give its country' },
    ]);
  });

  it('normalises email and phone, keeps fbclid as sent, and deduplicates', async () => {
    const fb = fbclid(7);
    const first = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: {
        email: ' Dedup@Example.com',
        phone: '030 1234567',
        country: 'DE',
        fbclid: fb,
        consent: granted,
      },
    });
    const second = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: {
        email: 'dedup@example.com',
        fbclid: fb,
        utm_source: 'meta',
        value: 120,
        currency: 'EUR',
        consent: granted,
      },
    });
    expect(second.body.lead_ids).toEqual(first.body.lead_ids);
    const lead = await call('GET', `/api/v1/leads/${(first.body.lead_ids as string[])[0]}`, {
      token: a.viewer,
    });
    expect(lead.body).toMatchObject({
      email: 'dedup@example.com',
      phone: '+49301234567',
      fbclid: fb,
      utm_source: 'meta',
      value: 120,
      status: 'new',
    });
    expect(lead.body).not.toHaveProperty('email_hash');
    const external = { email: 'ext-1@example.com', external_id: 'crm-42', consent: granted };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call('POST', '/api/v1/leads', { token: a.member, body: external })),
    );
    expect(results.map((r) => (r.status === 201 ? 201 : JSON.stringify(r.body)))).toEqual([
      201, 201, 201, 201, 201,
    ]);
    expect(new Set(results.map((r) => (r.body.lead_ids as string[])[0])).size).toBe(1);
    expect((await storedLeads(a.id)).filter((l) => l.external_id === 'crm-42')).toHaveLength(1);
  });
});

describe('reading and changing leads', () => {
  it('lists newest first with an opaque cursor and filters by status and time', async () => {
    const c = await createTenant(stack.url, 'Agency C');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await call('POST', '/api/v1/leads', {
        token: c.member,
        body: { email: `list-${i}@example.com`, consent: granted },
      });
      ids.push((res.body.lead_ids as string[])[0] as string);
    }
    await call('PATCH', `/api/v1/leads/${ids[0]}`, { token: c.member, body: { status: 'contacted' } });
    const first = await call('GET', '/api/v1/leads?limit=5', { token: c.viewer });
    expect(first.status).toBe(200);
    expect((first.body.items as { id: string }[]).map((l) => l.id)).toEqual(ids.slice(-5).reverse());
    const next = await call('GET', `/api/v1/leads?limit=5&cursor=${first.body.next_cursor}`, {
      token: c.viewer,
    });
    expect((next.body.items as { id: string }[]).map((l) => l.id)).toEqual(ids.slice(2, 7).reverse());
    const last = await call('GET', `/api/v1/leads?limit=5&cursor=${next.body.next_cursor}`, {
      token: c.viewer,
    });
    expect((last.body.items as { id: string }[]).map((l) => l.id)).toEqual(ids.slice(0, 2).reverse());

    const contacted = await call('GET', '/api/v1/leads?status=contacted', { token: c.viewer });
    expect((contacted.body.items as { id: string }[]).map((l) => l.id)).toEqual([ids[0]]);
    const all = (await call('GET', '/api/v1/leads?limit=100', { token: c.viewer })).body.items as Array<{
      id: string;
      created_at: string;
    }>;
    const sixth = all.find((l) => l.id === ids[5]) as { created_at: string };
    const since = await call(
      'GET',
      `/api/v1/leads?limit=100&created_from=${encodeURIComponent(sixth.created_at)}`,
      {
        token: c.viewer,
      },
    );
    expect((since.body.items as { id: string }[]).map((l) => l.id)).toEqual(
      expect.arrayContaining(ids.slice(5)),
    );
    const upTo = await call(
      'GET',
      `/api/v1/leads?limit=100&created_to=${encodeURIComponent(sixth.created_at)}`,
      {
        token: c.viewer,
      },
    );
    expect((upTo.body.items as { id: string }[]).map((l) => l.id)).toEqual(
      expect.arrayContaining(ids.slice(0, 6)),
    );
    const future = await call('GET', '/api/v1/leads?created_from=2999-01-01T00:00:00Z', { token: c.viewer });
    expect(future.body).toEqual({ items: [], next_cursor: null });
    expect((await call('GET', '/api/v1/leads?status=nope', { token: c.viewer })).status).toBe(400);
    expect((await call('GET', '/api/v1/leads?limit=101', { token: c.viewer })).status).toBe(400);
    const foreignCursor = await call('GET', `/api/v1/leads?cursor=${first.body.next_cursor}`, {
      token: b.viewer,
    });
    expect(foreignCursor.status).toBe(400);
  });

  it("answers 404 for another tenant's lead and leaves it unchanged", async () => {
    const mine = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: { email: 'private@example.com', gclid: gclid(3), consent: granted },
    });
    const id = (mine.body.lead_ids as string[])[0];
    expect((await call('GET', `/api/v1/leads/${id}`, { token: b.admin })).status).toBe(404);
    expect(
      (await call('PATCH', `/api/v1/leads/${id}`, { token: b.admin, body: { status: 'won' } })).status,
    ).toBe(404);
    expect((await call('GET', `/api/v1/leads/${id}`, { token: a.viewer })).body.status).toBe('new');
  });

  it('won queues one conversion per platform with time and order id fixed, once', async () => {
    const created = await call('POST', '/api/v1/leads', {
      token: a.member,
      body: {
        email: 'buyer@example.com',
        gclid: gclid(9),
        fbclid: fbclid(9),
        value: 99.5,
        currency: 'EUR',
        consent: granted,
      },
    });
    const id = (created.body.lead_ids as string[])[0] as string;
    expect(
      (await call('PATCH', `/api/v1/leads/${id}`, { token: a.viewer, body: { status: 'won' } })).status,
    ).toBe(403);
    const won = await call('PATCH', `/api/v1/leads/${id}`, {
      token: a.member,
      body: { status: 'won', order_id: 'order-1001' },
    });
    expect(won.status).toBe(200);
    expect(won.body.status).toBe('won');
    const queued = won.body.conversions_queued as Array<{ id: string; platform: string }>;
    expect(queued.map((c) => c.platform).sort()).toEqual(['google_ads', 'meta']);
    const again = await call('PATCH', `/api/v1/leads/${id}`, { token: a.member, body: { status: 'won' } });
    expect(again.body.conversions_queued).toEqual([]);
    const back = await call('PATCH', `/api/v1/leads/${id}`, { token: a.member, body: { status: 'new' } });
    expect(back.status).toBe(409);

    const sqs = new SQSClient({ endpoint: emulatorUrl(), region: 'us-east-1' });
    const messages = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.env.CONVERSIONS_QUEUE_URL,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    sqs.destroy();
    const bodies = (messages.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
    expect(bodies).toEqual(
      expect.arrayContaining(queued.map((c) => ({ version: 1, tenant_id: a.id, conversion_id: c.id }))),
    );
    expect(JSON.stringify(bodies)).not.toContain('buyer@example.com');

    const exported = await call(
      'GET',
      `/api/v1/gdpr/subjects/${await subjectId(stack.url, a.admin, 'buyer@example.com')}`,
      {
        token: a.admin,
      },
    );
    const conversions = exported.body.conversions as Array<Record<string, unknown>>;
    expect(conversions).toHaveLength(2);
    for (const c of conversions) {
      expect(c).toMatchObject({
        status: 'queued',
        attempts: 0,
        order_id: 'order-1001',
        value: 99.5,
        currency: 'EUR',
      });
      expect(c.conversion_time).toBe(conversions[0]?.conversion_time);
    }
  });

  it('a won lead without a click id, or with denied ad data, queues nothing', async () => {
    for (const body of [
      { email: 'noclick@example.com', consent: granted },
      { email: 'nodata@example.com', gclid: gclid(11), consent: { ...granted, ad_user_data: 'denied' } },
    ]) {
      const created = await call('POST', '/api/v1/leads', { token: a.member, body });
      const id = (created.body.lead_ids as string[])[0];
      const won = await call('PATCH', `/api/v1/leads/${id}`, { token: a.member, body: { status: 'won' } });
      expect(won.body.conversions_queued).toEqual([]);
    }
  });
});
